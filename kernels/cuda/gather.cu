// CUDA gather and its scatter-add backward (kernels/ops_gather.cpp checks shapes and index values
// on the host). One thread per index element (grid-stride); the element's coordinates come from
// its flat position in the (contiguous) index.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace mrnn::cuda {

namespace {

// Index shape and the strides of the gathered-from (forward: x; backward: gx) tensor.
struct GatherGeom {
  int nd;
  int dim;
  int64_t size[kMaxDims];
  int64_t stride[kMaxDims];
};

template <typename I>
__device__ __forceinline__ int64_t gather_offset(const GatherGeom& gg, const I* index, int64_t e) {
  int64_t off = 0, rest = e;
  for (int d = gg.nd - 1; d >= 0; --d) {
    const int64_t c = rest % gg.size[d];
    rest /= gg.size[d];
    off += (d == gg.dim ? static_cast<int64_t>(index[e]) : c) * gg.stride[d];
  }
  return off;
}

template <typename T, typename I>
__global__ void gather_kernel(const T* x, const I* index, T* out, int64_t n, GatherGeom gg) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += step)
    out[e] = x[gather_offset(gg, index, e)];
}

template <typename T, typename I>
__global__ void gather_backward_kernel(const T* g, const I* index, T* gx, int64_t n, GatherGeom gg) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += step)
    atomicAdd(gx + gather_offset(gg, index, e), g[e]);
}

GatherGeom geom(const Tensor& index, int64_t dim, const Shape& strides, const char* op) {
  MRNN_CHECK(index.dim() <= kMaxDims, "cuda::{}: at most {} dims, got {}", op, kMaxDims, index.desc());
  GatherGeom gg{};
  gg.nd = static_cast<int>(index.dim());
  gg.dim = static_cast<int>(dim);
  for (int d = 0; d < gg.nd; ++d) {
    gg.size[d] = index.size(d);
    gg.stride[d] = strides[static_cast<size_t>(d)];
  }
  return gg;
}

template <typename Fn>
void with_gather_index(const Tensor& t, Fn&& fn) {
  if (t.dtype() == DType::I64) fn(int64_t{});
  else fn(int32_t{});
}

}  // namespace

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const char* op = "gather";
  common_device(op, {&x, &index, &out});
  MRNN_CHECK(index.is_contiguous() && out.is_contiguous(), "cuda::gather: index {} and out {} must be contiguous",
             index.desc(), out.desc());
  const int64_t n = index.numel();
  if (n == 0) return;
  Launch l(x);
  const GatherGeom gg = geom(index, dim, x.strides(), op);
  dispatch_float(x.dtype(), op, [&](auto z) {
    using T = decltype(z);
    with_gather_index(index, [&](auto iz) {
      using I = decltype(iz);
      gather_kernel<T, I><<<grid_for(n, l.device), kThreads, 0, l.stream>>>(ptr<T>(x), ptr<I>(index), ptr<T>(out),
                                                                            n, gg);
      MRNN_CUDA_CHECK_LAUNCH("gather", l.stream);
    });
  });
}

void gather_backward(const Tensor& g, int64_t dim, const Tensor& index, const Tensor& gx) {
  const char* op = "gather_backward";
  common_device(op, {&g, &index, &gx});
  MRNN_CHECK(g.is_contiguous() && index.is_contiguous() && gx.is_contiguous(),
             "cuda::gather_backward: g {}, index {} and gx {} must be contiguous", g.desc(), index.desc(), gx.desc());
  const int64_t n = index.numel();
  if (n == 0) return;
  Launch l(g);
  const GatherGeom gg = geom(index, dim, gx.strides(), op);
  dispatch_float(g.dtype(), op, [&](auto z) {
    using T = decltype(z);
    with_gather_index(index, [&](auto iz) {
      using I = decltype(iz);
      gather_backward_kernel<T, I><<<grid_for(n, l.device), kThreads, 0, l.stream>>>(ptr<T>(g), ptr<I>(index),
                                                                                     ptr<T>(gx), n, gg);
      MRNN_CUDA_CHECK_LAUNCH("gather_backward", l.stream);
    });
  });
}

}  // namespace mrnn::cuda
