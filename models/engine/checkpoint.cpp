#include "models/engine/checkpoint.h"

#include <fmt/format.h>

#include "data/raw_array_tensor.h"
#include "data/safetensors.h"

namespace mrnn {

namespace {
// FNV-1a 64 over names and bytes in name order: cheap, and any flipped bit changes it.
std::string checksum(const std::map<std::string, RawArray>& arrays) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  for (const auto& [name, a] : arrays) {
    mix(reinterpret_cast<const uint8_t*>(name.data()), name.size());
    mix(a.bytes.data(), a.bytes.size());
  }
  return fmt::format("fnv1a64:{:016x}", h);
}
}  // namespace

void save_tensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                  std::map<std::string, std::string> metadata) {
  std::map<std::string, RawArray> arrays;
  for (const auto& [name, t] : tensors) arrays.emplace(name, to_raw_array(t));
  metadata["mrnn_checksum"] = checksum(arrays);
  write_safetensors(path, arrays, metadata);
}

std::map<std::string, Tensor> load_tensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsFile f = read_safetensors(path);
  auto it = f.metadata.find("mrnn_checksum");
  if (it != f.metadata.end()) {
    const std::string actual = checksum(f.tensors);
    MRNN_CHECK(actual == it->second,
               "{}: checksum mismatch (file says {}, contents give {}): the file is corrupted", path, it->second,
               actual);
  }
  std::map<std::string, Tensor> out;
  for (const auto& [name, a] : f.tensors) out.emplace(name, to_tensor(a, path + ": " + name));
  if (metadata) *metadata = f.metadata;
  return out;
}

void save_module(const std::string& path, const Module& m, const std::map<std::string, std::string>& metadata) {
  save_tensors(path, m.state_dict(), metadata);
}

void load_module(const std::string& path, Module& m) {
  auto tensors = load_tensors(path);
  try {
    m.load_state_dict(tensors, true);
  } catch (const Error& e) {
    MRNN_FAIL("{}: {}", path, e.what());
  }
}

}  // namespace mrnn
