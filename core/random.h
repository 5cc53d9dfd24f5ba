// A seeded stream of counter-based (Philox4x32-10) random numbers.
// Why: the state is just (seed, offset), so it saves/restores exactly for resumed training, and
// element i of any random tensor is the same on every backend and thread count.
#pragma once
#include <cstdint>

namespace mrnn {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }
  // Reserves `n` consecutive counter values and returns the first; the caller uses
  // philox functions with index (returned + i) for its i-th number.
  uint64_t advance(uint64_t n) { uint64_t o = offset_; offset_ += n; return o; }

  // Scalar helpers for host-side sampling (decoding, shuffling).
  double uniform();                     // [0, 1)
  double normal();                      // N(0, 1)
  uint64_t randint(uint64_t n);         // uniform in [0, n), unbiased; requires n > 0

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (used when an op is not given one).
Generator& default_generator();

}  // namespace mrnn
