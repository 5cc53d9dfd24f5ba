// Helpers shared by the datatext tests: fixture paths, a scratch folder, error-message capture.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace datatext_test {

inline std::string fixture(const std::string& name) {
  return std::string(MRNN_TEST_DATA_DIR) + "/datatext/" + name;
}

// A fresh folder under the build tree for files a test writes.
inline std::filesystem::path scratch_dir(const std::string& test_name) {
  auto dir = std::filesystem::path(MRNN_BINARY_DIR) / "datatext_scratch" / test_name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The message of the mrnn::Error that f throws, or "<no error>".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const mrnn::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace datatext_test
