#include "core/random.h"

#include "core/error.h"
#include "core/philox.h"

namespace mrnn {

double Generator::uniform() {
  uint64_t i = advance(2);
  return uniform53_from_words(philox_word(seed_, i), philox_word(seed_, i + 1));
}

double Generator::normal() { return normal_at(seed_, advance(1)); }

uint64_t Generator::randint(uint64_t n) {
  MRNN_CHECK(n > 0, "Generator::randint: n must be positive");
  // Rejection sampling on 64-bit words keeps the result exactly uniform.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t i = advance(2);
    uint64_t x = (static_cast<uint64_t>(philox_word(seed_, i)) << 32) | philox_word(seed_, i + 1);
    if (x < limit) return x % n;
  }
}

Generator& default_generator() {
  static Generator g;
  return g;
}

}  // namespace mrnn
