// Shared plumbing of the CUDA translation units: device guard, the current stream, library
// handles, launch sizing, the strided/broadcast indexer and warp/block reductions.
// Internal (.cuh, needs the CUDA headers); the public API is kernels/cuda/device.h and cuda_ops.h.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <initializer_list>

#include "core/tensor.h"
#include "kernels/cuda/check.cuh"

namespace mrnn::cuda {

// Makes `device` current for the scope and restores the previous device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// current_stream(device) as a cudaStream_t.
cudaStream_t stream_of(int device);
// For ~Stream, after the stream's work has finished and before it is destroyed: its cached and
// live blocks pass to the legacy default stream (kernels/cuda/allocator.cu), so no cache is
// stranded under a handle that may never come back (or come back as another stream).
void allocator_retire_stream(int device, cudaStream_t stream) noexcept;

// One cuBLAS / cuDNN handle per (device, stream), created on first use and kept for the process
// (destroying them during static teardown races the driver's own teardown).
cublasHandle_t blas_handle(int device, cudaStream_t stream);
cudnnHandle_t dnn_handle(int device, cudaStream_t stream);

// Multiprocessor count of `device` (cached).
int sm_count(int device);

// The CUDA device every defined tensor in `ts` lives on. Throws mrnn::Error naming `op` and the
// offending tensors when one is not a CUDA tensor or two sit on different GPUs, so a kernel never
// dereferences another device's (or the host's) memory. Undefined tensors are skipped.
int common_device(const char* op, std::initializer_list<const Tensor*> ts);

// A grid dimension for `blocks` blocks. Requires: 1 <= blocks < 2^31 (CUDA's limit for gridDim.x);
// throws naming `what` otherwise, instead of silently truncating to 32 bits.
unsigned grid_dim(int64_t blocks, const char* what);

// Everything a kernel wrapper needs: the device made current and its stream.
struct Launch {
  explicit Launch(const Tensor& t) : device(t.device().index), guard(device), stream(stream_of(device)) {}
  int device;
  DeviceGuard guard;
  cudaStream_t stream;
};

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements: enough to fill the device, at most one per
// kThreads elements.
inline unsigned grid_for(int64_t n, int device) {
  const int64_t want = (n + kThreads - 1) / kThreads;
  const int64_t cap = static_cast<int64_t>(sm_count(device)) * 16;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(want, cap)));
}

template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.storage()->data()) + t.offset();
}

// Calls fn(int64_t{}) for an i64 index tensor and fn(int32_t{}) for an i32 one, so a kernel can be
// instantiated for the index type. Requires: t is i64 or i32; otherwise throws mrnn::Error
// "<op>: indices must be i64 or i32, got <t>" (never reads i64 data as i32).
template <typename Fn>
void with_index_type(const Tensor& t, Fn&& fn, const char* op = "cuda") {
  MRNN_CHECK(t.dtype() == DType::I64 || t.dtype() == DType::I32, "{}: indices must be i64 or i32, got {}", op,
             t.desc());
  if (t.dtype() == DType::I64) fn(int64_t{});
  else fn(int32_t{});
}

// ---------------- strided indexing ----------------
constexpr int kMaxDims = 8;

// Maps a row-major linear index over `size` to one element offset per operand. Built on the host
// with adjacent dims merged where every operand allows it, so contiguous tensors become 1-d and
// pay one multiply per operand.
template <int N>
struct Indexer {
  int ndim = 0;
  int64_t size[kMaxDims];
  int64_t stride[N][kMaxDims];

  __device__ __forceinline__ void offsets(int64_t i, int64_t (&off)[N]) const {
    if (ndim == 1) {
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i * stride[k][0];
      return;
    }
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t idx = i % size[d];
      i /= size[d];
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += idx * stride[k][d];
    }
  }
};

// Requires: every strides[k] has shape.size() entries (0 for broadcast dims).
template <int N>
Indexer<N> make_indexer(const Shape& shape, const Shape* const (&strides)[N]) {
  Indexer<N> ix;
  // Drop size-1 dims, then merge dim d into d+1 when every operand is contiguous across them.
  int64_t sz[64];
  int64_t st[N][64];
  int nd = 0;
  MRNN_CHECK(shape.size() <= 64, "cuda: {}-d tensors are not supported", shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (nd > 0) {
      bool merge = true;
      for (int k = 0; k < N; ++k)
        if ((*strides[k])[d] * shape[d] != st[k][nd - 1]) merge = false;
      if (merge) {
        sz[nd - 1] *= shape[d];
        for (int k = 0; k < N; ++k) st[k][nd - 1] = (*strides[k])[d];
        continue;
      }
    }
    sz[nd] = shape[d];
    for (int k = 0; k < N; ++k) st[k][nd] = (*strides[k])[d];
    ++nd;
  }
  if (nd == 0) {  // a single element
    sz[0] = 1;
    for (int k = 0; k < N; ++k) st[k][0] = 0;
    nd = 1;
  }
  MRNN_CHECK(nd <= kMaxDims, "cuda: tensors with more than {} non-mergeable dims are not supported (shape {})",
             kMaxDims, shape_str(shape));
  ix.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    ix.size[d] = sz[d];
    for (int k = 0; k < N; ++k) ix.stride[k][d] = st[k][d];
  }
  return ix;
}

// ---------------- reductions inside a warp / block ----------------
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Accumulator type: f32 data accumulates in f32 (tree order keeps the error ~log n ulp), f64 in f64.
template <typename T> struct AccOf { using type = T; };
template <typename T> using acc_t = typename AccOf<T>::type;

}  // namespace mrnn::cuda
