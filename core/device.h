// Where a tensor's memory lives. Ops dispatch on it; mixing devices in one op is an error.
#pragma once
#include <cstdint>
#include <string>

namespace mrnn {

struct Device {
  enum class Kind : uint8_t { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int n = 0) { return {Kind::CUDA, n}; }
  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Ensures: the device named by `text`: "cpu", "cuda" (= "cuda:0") or "cuda:N" with N >= 0.
// Throws an Error quoting the text and the accepted forms otherwise. Why: every program's
// --device flag reads the same spellings and fails the same way.
Device parse_device(const std::string& text);

// Ensures: returns when `device` can be used (the CPU always can). Throws an Error naming the
// device when this build has no backend for it, or the backend finds no such device (how many there
// are). Why: a program checks its --device before any work, not at the first tensor it moves.
void require_device(Device device);

}  // namespace mrnn
