// Philox4x32-10 counter-based random numbers (Salmon et al., SC'11).
// Why counter-based: element i of a random tensor depends only on (seed, offset + i), so the CPU,
// every OpenMP thread and a CUDA thread all produce the same numbers for the same element, and a
// run can be resumed by restoring two integers.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace mrnn {

struct Philox4 {
  uint32_t v[4];
};

// Ensures: the 4 32-bit outputs of Philox4x32 with 10 rounds for (counter, key).
MRNN_HD Philox4 philox4x32_10(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// The i-th 32-bit random word of stream (seed, offset): word i lives in block (offset + i) / 4.
MRNN_HD uint32_t philox_word(uint64_t seed, uint64_t index) {
  Philox4 r = philox4x32_10(index >> 2, 0, seed);
  return r.v[index & 3];
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
MRNN_HD float uniform_from_word(uint32_t w) { return static_cast<float>(w >> 8) * (1.0f / 16777216.0f); }

// Uniform in [0, 1) with 53 random bits from two words.
MRNN_HD double uniform53_from_words(uint32_t a, uint32_t b) {
  uint64_t x = (static_cast<uint64_t>(a) << 21) ^ static_cast<uint64_t>(b >> 11);
  return static_cast<double>(x & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Standard normal for element i of stream `seed`: Box-Muller on the two words of the pair
// (2i, 2i+1) so each element is independent of how the work was split across threads.
MRNN_HD double normal_at(uint64_t seed, uint64_t i) {
  Philox4 r = philox4x32_10(i >> 1, 1, seed);  // counter_hi=1 keeps normals apart from uniforms
  uint32_t a = r.v[(i & 1) * 2], b = r.v[(i & 1) * 2 + 1];
  double u1 = (static_cast<double>(a) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  double u2 = static_cast<double>(b) * (1.0 / 4294967296.0);          // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace mrnn
