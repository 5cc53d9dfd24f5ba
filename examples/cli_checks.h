// Command-line checks shared by the example programs. Why: CLI11's PositiveNumber/NonNegativeNumber
// answer "--beam 0" with "Value 0 not in range 0.000000 to 1797693...", and accept negative counts
// where no check was attached; these say what was expected ("--beam: 0 is not >= 1").
#pragma once
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/device.h"
#include "layers/cnn_encoder.h"

namespace mrnn::cli {

// True when all of s is a base-10 integer that fits a long long.
inline bool parse_int(const std::string& s, long long& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end == s.c_str() + s.size();
}

// True when all of s is a finite number.
inline bool parse_real(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

// An integer >= lo (the option's own type still bounds it above).
inline CLI::Validator int_at_least(long long lo, const std::string& name) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        long long v = 0;
        if (!parse_int(s, v)) return "'" + s + "' is not an integer";
        if (v < lo) return s + " is not >= " + std::to_string(lo);
        return {};
      },
      name);
}
inline const CLI::Validator positive_int = int_at_least(1, "POSITIVE");
inline const CLI::Validator nonnegative_int = int_at_least(0, "NONNEGATIVE");

// A finite number in [lo, hi] (lo_open, hi_open: the end is excluded); `expected` says it in words.
inline CLI::Validator real_in(double lo, double hi, bool lo_open, bool hi_open, const std::string& expected,
                              const std::string& name) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0;
        if (!parse_real(s, v)) return "'" + s + "' is not a finite number";
        if ((lo_open ? v <= lo : v < lo) || (hi_open ? v >= hi : v > hi)) return s + " is not " + expected;
        return {};
      },
      name);
}
inline const CLI::Validator positive_real = real_in(0, HUGE_VAL, true, true, "> 0", "POSITIVE");
inline const CLI::Validator nonnegative_real = real_in(0, HUGE_VAL, false, true, ">= 0", "NONNEGATIVE");
inline const CLI::Validator finite_real = real_in(-HUGE_VAL, HUGE_VAL, true, true, "finite", "FINITE");
inline const CLI::Validator probability_below_one = real_in(0, 1, false, true, "in [0, 1)", "[0,1)");

// A file the program will write: its folder must exist and it must not be a folder itself, so
// that the run fails before doing any work rather than after.
inline const CLI::Validator output_file = CLI::Validator(
    [](std::string& s) -> std::string {
      namespace fs = std::filesystem;
      std::error_code ec;
      const fs::path p(s);
      if (fs::is_directory(p, ec)) return "'" + s + "' is a folder, expected a file name";
      const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
      if (!fs::is_directory(dir, ec)) return "the folder '" + dir.string() + "' of '" + s + "' does not exist";
      return {};
    },
    "FILE");

// --device cpu|cuda|cuda:N on a program, default "cpu". Checked when parsed: a spelling that is no
// device, a build without CUDA and a missing GPU each fail before any work, naming the device.
inline CLI::Option* add_device_option(CLI::App& app, std::string& device) {
  return app.add_option("--device", device, "where the model runs: cpu, cuda or cuda:N")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            try {
              require_device(parse_device(s));
            } catch (const std::exception& e) {
              return e.what();
            }
            return {};
          },
          "DEVICE"));
}

// --precision fp32|bf16, default "fp32": the precision of the output layer when decoding
// (Mrnn::set_inference_precision); the program applies it after loading the model.
inline CLI::Option* add_precision_option(CLI::App& app, std::string& precision) {
  return app.add_option("--precision", precision,
                   "decoding precision of the output layer: fp32, or bf16 (weights packed once in bf16, fp32 "
                   "accumulation; needs oneDNN and a CPU with AVX512_BF16 or AMX, else fp32 with a notice)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
}

// --cnn-pool flatten|max|pyramid|max-where (layers/cnn_encoder.h CnnPool) with one help text for
// every trainer. extra: a sentence the program adds (e.g. how --cnn-from chooses), or "".
inline CLI::Option* add_cnn_pool_option(CLI::App& app, std::string& pool, const std::string& extra = "") {
  std::string help =
      "the last CNN block's map into the image feature: max (each channel's maximum over positions: objects are "
      "recognised wherever they are) | flatten (every position apart, the classic VGG head) | pyramid (max, plus "
      "the maximum over each quadrant: coarse position) | max-where (max, plus where each channel fires)";
  if (!extra.empty()) help += "; " + extra;
  return app.add_option("--cnn-pool", pool, help)->check(CLI::IsMember(cnn_pool_names()));
}

}  // namespace mrnn::cli
