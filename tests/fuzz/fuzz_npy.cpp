// libFuzzer target for the .npy reader: any input must either parse or throw mrnn::Error; what
// parses must satisfy RawArray's invariants and survive encode_npy -> read_npy unchanged.
#include <cstdint>
#include <cstdlib>

#include "data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mrnn::RawArray a;
  try {
    a = mrnn::read_npy(data, size, "fuzz.npy");
  } catch (const mrnn::Error&) {
    return 0;
  }
  a.check();  // throws (and so crashes the fuzzer) if the reader broke the invariant
  const std::vector<uint8_t> again = mrnn::encode_npy(a);
  const mrnn::RawArray b = mrnn::read_npy(again.data(), again.size(), "re-encoded.npy");
  if (b.type != a.type || b.shape != a.shape || b.bytes != a.bytes) std::abort();
  return 0;
}
