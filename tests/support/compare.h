// Element-wise comparison of two tensors for the kernel tests (any dtype, compared in f64).
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/tensor.h"

namespace mrnn::testing {

// Requires (a failed REQUIRE otherwise): a and b defined, of one shape. Ensures: max |a - b|.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.defined());
  REQUIRE(b.defined());
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

}  // namespace mrnn::testing
