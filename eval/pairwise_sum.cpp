#include "eval/pairwise_sum.h"

#include "core/error.h"

namespace mrnn::eval {

double pairwise_sum(const double* x, size_t n) {
  constexpr size_t kBlock = 128;  // numpy's PW_BLOCKSIZE
  if (n < 8) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += x[i];
    return s;
  }
  if (n <= kBlock) {
    double acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = x[j];
    size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; ++i) s += x[i];
    return s;
  }
  size_t half = n / 2;
  half -= half % 8;
  return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

double numpy_mean(const std::vector<double>& x) {
  MRNN_CHECK(!x.empty(), "numpy_mean: empty input (expected at least one value)");
  return pairwise_sum(x.data(), x.size()) / static_cast<double>(x.size());
}

}  // namespace mrnn::eval
