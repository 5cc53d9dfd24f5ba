// libFuzzer target for the .safetensors reader: any input must either parse or throw
// mrnn::Error; what parses must survive encode_safetensors -> read_safetensors unchanged.
#include <cstdint>
#include <cstdlib>

#include "data/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mrnn::SafetensorsFile f;
  try {
    f = mrnn::read_safetensors(data, size, "fuzz.safetensors");
  } catch (const mrnn::Error&) {
    return 0;
  }
  const std::vector<uint8_t> again = mrnn::encode_safetensors(f.tensors, f.metadata);
  const mrnn::SafetensorsFile g =
      mrnn::read_safetensors(again.data(), again.size(), "re-encoded.safetensors");
  if (g.metadata != f.metadata || g.tensors.size() != f.tensors.size()) std::abort();
  for (const auto& [name, a] : f.tensors) {
    const auto it = g.tensors.find(name);
    if (it == g.tensors.end() || it->second.type != a.type || it->second.shape != a.shape ||
        it->second.bytes != a.bytes)
      std::abort();
  }
  return 0;
}
