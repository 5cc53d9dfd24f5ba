// Helpers shared by the CUDA tests: the skip rule, the per-dtype tolerances (the one place they
// live) and element-wise comparison of a CUDA result against the CPU reference.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

// First statement of every test case that needs a GPU. Without one the whole program exits with
// code 4, which tests/CMakeLists.txt declares as SKIP_RETURN_CODE: CTest reports the case skipped,
// never passed. Listing test names (--list-test-names-only) runs no test case, so it still works.
#ifdef MRNN_WITH_CUDA
#define MRNN_REQUIRE_GPU()                                \
  do {                                                    \
    if (!::mrnn::cuda::is_available()) {                  \
      std::printf("no CUDA device: skipped\n");           \
      std::fflush(stdout);                                \
      std::exit(4);                                       \
    }                                                     \
  } while (0)
#else
#define MRNN_REQUIRE_GPU()                                        \
  do {                                                            \
    std::printf("no CUDA device (backend not built): skipped\n"); \
    std::fflush(stdout);                                          \
    std::exit(4);                                                 \
  } while (0)
#endif

namespace mrnn::testing {

// |cuda - cpu| <= atol + rtol * |cpu| per element. f32: the CPU accumulates some sums and the
// softmax statistics in f64 and uses libm, the GPU accumulates in f32 and uses CUDA's math
// library (a few ulp apart); f64: only summation order and last-ulp libm differences.
struct Tolerance {
  double rtol, atol;
};
inline Tolerance tolerance(DType dt) {
  switch (dt) {
    case DType::F32: return {2e-4, 2e-5};
    case DType::F64: return {1e-10, 1e-12};
    default: return {0, 0};  // integers must match exactly
  }
}

// Empty string when `got` (any device) matches `want` (CPU) elementwise within `tol`, else a
// description of the first mismatch. A NaN on either side only matches a NaN on the other, so a
// poisoned element the kernel never wrote is reported; infinities match only the same infinity.
inline std::string compare(const Tensor& got, const Tensor& want, Tolerance tol) {
  if (got.shape() != want.shape()) return "shape " + got.desc() + " vs " + want.desc();
  if (got.dtype() != want.dtype()) return "dtype " + got.desc() + " vs " + want.desc();
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    const bool gn = std::isnan(g[i]), wn = std::isnan(w[i]);
    const bool ok = (gn || wn)                             ? (gn && wn)
                    : (std::isinf(g[i]) || std::isinf(w[i])) ? g[i] == w[i]
                    : std::fabs(g[i] - w[i]) <= tol.atol + tol.rtol * std::fabs(w[i]);
    if (!ok) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "element %zu of %zu: got %.17g, want %.17g", i, g.size(), g[i], w[i]);
      return buf;
    }
  }
  return {};
}

#ifdef MRNN_WITH_CUDA
// The device the GPU tests run on.
inline const Device kGpu = Device::cuda(0);

// While alive, every new CUDA allocation is filled with NaN, so an output element a kernel never
// wrote fails the comparison with the CPU instead of passing by luck.
struct PoisonScope {
  PoisonScope() { cuda::set_poison_allocations(true); }
  ~PoisonScope() { cuda::set_poison_allocations(false); }
};
#endif

}  // namespace mrnn::testing
