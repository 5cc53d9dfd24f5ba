// CPU epilogues of the fused N-input layer (kernels/ops_fused.cpp: fuse, and multimodal, its
// 3-input m-RNN instance): one pass over the [B*T, M] sum of the per-step projections adding the
// per-sequence term and the bias and applying the activation in place, and one backward pass
// giving dpre, the per-sequence sums over time and the bias gradient. The per-element math is
// kernels/common/fuse.h, the same code the CUDA kernels run.
#include <algorithm>
#include <initializer_list>
#include <type_traits>

#include "kernels/common/fuse.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/fuse_epilogue_args.h"
#include "kernels/cpu/simd.h"

namespace mrnn::cpu {

namespace {

constexpr int64_t kParallelMin = 32768;

template <typename T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.storage()->data()) + t.offset() : nullptr;
}

// The row loops, instantiated per activation (and for f32 inside each target clone).
template <typename A, typename T>
__attribute__((always_inline)) inline void forward_row(T* out, const T* seq, const T* bias, int64_t m) {
  if (seq && bias) {
#pragma omp simd
    for (int64_t j = 0; j < m; ++j) out[j] = A::f((out[j] + seq[j]) + bias[j]);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < m; ++j) out[j] = fuse_element<A>(out[j], seq, bias, j);
  }
}
// f32 clones per activation (target_clones does not apply to templates).
#define MRNN_FUSE_F32_FORWARD(A, name)                                                      \
  MRNN_CPU_CLONES void name(float* out, const float* seq, const float* bias, int64_t m) { \
    forward_row<A>(out, seq, bias, m);                                                    \
  }
MRNN_FUSE_F32_FORWARD(FuseScaledTanh, forward_row_f32_scaled_tanh)
MRNN_FUSE_F32_FORWARD(FuseTanh, forward_row_f32_tanh)
MRNN_FUSE_F32_FORWARD(FuseRelu, forward_row_f32_relu)
MRNN_FUSE_F32_FORWARD(FuseIdentity, forward_row_f32_identity)

template <typename A>
void forward_row_f32(float* out, const float* seq, const float* bias, int64_t m) {
  if constexpr (std::is_same_v<A, FuseScaledTanh>) forward_row_f32_scaled_tanh(out, seq, bias, m);
  else if constexpr (std::is_same_v<A, FuseTanh>) forward_row_f32_tanh(out, seq, bias, m);
  else if constexpr (std::is_same_v<A, FuseRelu>) forward_row_f32_relu(out, seq, bias, m);
  else forward_row_f32_identity(out, seq, bias, m);
}

template <typename A, typename T>
__attribute__((always_inline)) inline void backward_row(const T* y, const T* g, T* dpre, T* acc, int64_t m) {
#pragma omp simd
  for (int64_t j = 0; j < m; ++j) {
    const T d = A::dy(y[j], g[j]);
    dpre[j] = d;
    acc[j] += d;
  }
}
#define MRNN_FUSE_F32_BACKWARD(A, name)                                                               \
  MRNN_CPU_CLONES void name(const float* y, const float* g, float* dpre, float* acc, int64_t m) { \
    backward_row<A>(y, g, dpre, acc, m);                                                           \
  }
MRNN_FUSE_F32_BACKWARD(FuseScaledTanh, backward_row_f32_scaled_tanh)
MRNN_FUSE_F32_BACKWARD(FuseTanh, backward_row_f32_tanh)
MRNN_FUSE_F32_BACKWARD(FuseRelu, backward_row_f32_relu)
MRNN_FUSE_F32_BACKWARD(FuseIdentity, backward_row_f32_identity)

template <typename A>
void backward_row_f32(const float* y, const float* g, float* dpre, float* acc, int64_t m) {
  if constexpr (std::is_same_v<A, FuseScaledTanh>) backward_row_f32_scaled_tanh(y, g, dpre, acc, m);
  else if constexpr (std::is_same_v<A, FuseTanh>) backward_row_f32_tanh(y, g, dpre, acc, m);
  else if constexpr (std::is_same_v<A, FuseRelu>) backward_row_f32_relu(y, g, dpre, acc, m);
  else backward_row_f32_identity(y, g, dpre, acc, m);
}


}  // namespace

void fuse_forward_epilogue(const Tensor& seq_term, const Tensor& bias, int64_t steps, FuseActivation act,
                           const Tensor& out) {
  const char* op = "fuse_forward_epilogue";
  check_fuse_forward_args(op, seq_term, bias, steps, out);
  const int64_t rows = out.size(0), m = out.size(1);
  dispatch_float(out.dtype(), "fuse", [&](auto z) {
    using T = decltype(z);
    T* po = ptr<T>(out);
    const T *ps = ptr<T>(seq_term), *pb = ptr<T>(bias);
    with_fuse_activation(act, [&](auto a) {
      using A = decltype(a);
#pragma omp parallel for schedule(static) if (rows * m > kParallelMin)
      for (int64_t r = 0; r < rows; ++r) {
        const T* sr = ps ? ps + (r / steps) * m : nullptr;
        if constexpr (std::is_same_v<T, float>)
          forward_row_f32<A>(po + r * m, sr, pb, m);
        else
          forward_row<A>(po + r * m, sr, pb, m);
      }
    });
  });
}

void fuse_backward_epilogue(const Tensor& y, const Tensor& g, int64_t steps, FuseActivation act, const Tensor& dpre,
                            const Tensor& dseq, const Tensor& dbias) {
  const char* op = "fuse_backward_epilogue";
  check_fuse_backward_args(op, y, g, steps, dpre, dseq, dbias);
  const int64_t rows = y.size(0), m = y.size(1), b = rows / steps;
  dispatch_float(y.dtype(), "fuse backward", [&](auto z) {
    using T = decltype(z);
    const T *py = ptr<T>(y), *pg = ptr<T>(g);
    T *pd = ptr<T>(dpre), *pi = ptr<T>(dseq), *pb = ptr<T>(dbias);
    with_fuse_activation(act, [&](auto a) {
      using A = decltype(a);
#pragma omp parallel for schedule(static) if (rows * m > kParallelMin && b > 1)
      for (int64_t i = 0; i < b; ++i) {
        T* acc = pi + i * m;
        for (int64_t j = 0; j < m; ++j) acc[j] = T(0);
        for (int64_t t = 0; t < steps; ++t) {  // time ascending: a fixed order
          const int64_t off = (i * steps + t) * m;
          if constexpr (std::is_same_v<T, float>)
            backward_row_f32<A>(py + off, pg + off, pd + off, acc, m);
          else
            backward_row<A>(py + off, pg + off, pd + off, acc, m);
        }
      }
    });
    for (int64_t j = 0; j < m; ++j) pb[j] = T(0);
    for (int64_t i = 0; i < b; ++i) {  // sequences ascending
      const T* src = pi + i * m;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) pb[j] += src[j];
    }
  });
}

}  // namespace mrnn::cpu
