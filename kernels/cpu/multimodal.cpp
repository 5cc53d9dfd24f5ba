// CPU epilogues of the fused multimodal layer (kernels/ops_fused.cpp): one pass over the [B*T, M]
// pre-activation adding the per-image term and the bias and applying the scaled tanh, and one
// backward pass giving dpre, the per-image sums over time and the bias gradient. The per-element
// math is kernels/common/multimodal.h, the same code the CUDA kernels run.
#include <algorithm>
#include <initializer_list>
#include <type_traits>

#include "kernels/common/multimodal.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"

namespace mrnn::cpu {

namespace {

constexpr int64_t kParallelMin = 32768;

template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.storage()->data()) + t.offset();
}

template <typename T>
void forward_row(T* out, const T* image, const T* bias, int64_t m) {
#pragma omp simd
  for (int64_t j = 0; j < m; ++j) out[j] = multimodal_act(out[j], image[j], bias[j]);
}
MRNN_CPU_CLONES void forward_row_f32(float* out, const float* image, const float* bias, int64_t m) {
  forward_row(out, image, bias, m);
}

template <typename T>
void backward_row(const T* y, const T* g, T* dpre, T* acc, int64_t m) {
#pragma omp simd
  for (int64_t j = 0; j < m; ++j) {
    const T d = multimodal_dpre(y[j], g[j]);
    dpre[j] = d;
    acc[j] += d;
  }
}
MRNN_CPU_CLONES void backward_row_f32(const float* y, const float* g, float* dpre, float* acc, int64_t m) {
  backward_row(y, g, dpre, acc, m);
}

void check_epilogue_args(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    MRNN_CHECK(t->is_contiguous() && t->dtype() == (*ts.begin())->dtype(),
               "{}: expected contiguous tensors of one dtype, got {}", op, t->desc());
}

}  // namespace

void multimodal_forward_epilogue(const Tensor& image_term, const Tensor& bias, int64_t steps, const Tensor& out) {
  check_epilogue_args("multimodal_forward_epilogue", {&out, &image_term, &bias});
  const int64_t rows = out.size(0), m = out.size(1);
  MRNN_CHECK(steps > 0 && image_term.size(0) * steps == rows && image_term.size(1) == m && bias.numel() == m,
             "multimodal_forward_epilogue: out {} does not match image term {} x {} steps and bias {}", out.desc(),
             image_term.desc(), steps, bias.desc());
  dispatch_float(out.dtype(), "multimodal", [&](auto z) {
    using T = decltype(z);
    T* po = ptr<T>(out);
    const T *pi = ptr<T>(image_term), *pb = ptr<T>(bias);
#pragma omp parallel for schedule(static) if (rows * m > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      if constexpr (std::is_same_v<T, float>)
        forward_row_f32(po + r * m, pi + (r / steps) * m, pb, m);
      else
        forward_row(po + r * m, pi + (r / steps) * m, pb, m);
    }
  });
}

void multimodal_backward_epilogue(const Tensor& y, const Tensor& g, int64_t steps, const Tensor& dpre,
                                  const Tensor& dimage, const Tensor& dbias) {
  check_epilogue_args("multimodal_backward_epilogue", {&y, &g, &dpre, &dimage, &dbias});
  const int64_t rows = y.size(0), m = y.size(1), b = rows / std::max<int64_t>(steps, 1);
  MRNN_CHECK(steps > 0 && b * steps == rows && g.shape() == y.shape() && dpre.shape() == y.shape() &&
                 dimage.size(0) == b && dimage.size(1) == m && dbias.numel() == m,
             "multimodal_backward_epilogue: bad shapes y {}, g {}, dpre {}, dimage {}, dbias {} for {} steps",
             y.desc(), g.desc(), dpre.desc(), dimage.desc(), dbias.desc(), steps);
  dispatch_float(y.dtype(), "multimodal backward", [&](auto z) {
    using T = decltype(z);
    const T *py = ptr<T>(y), *pg = ptr<T>(g);
    T *pd = ptr<T>(dpre), *pi = ptr<T>(dimage), *pb = ptr<T>(dbias);
#pragma omp parallel for schedule(static) if (rows * m > kParallelMin && b > 1)
    for (int64_t i = 0; i < b; ++i) {
      T* acc = pi + i * m;
      for (int64_t j = 0; j < m; ++j) acc[j] = T(0);
      for (int64_t t = 0; t < steps; ++t) {  // time ascending: a fixed order
        const int64_t off = (i * steps + t) * m;
        if constexpr (std::is_same_v<T, float>)
          backward_row_f32(py + off, pg + off, pd + off, acc, m);
        else
          backward_row(py + off, pg + off, pd + off, acc, m);
      }
    }
    for (int64_t j = 0; j < m; ++j) pb[j] = T(0);
    for (int64_t i = 0; i < b; ++i) {  // images ascending
      const T* src = pi + i * m;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) pb[j] += src[j];
    }
  });
}

}  // namespace mrnn::cpu
