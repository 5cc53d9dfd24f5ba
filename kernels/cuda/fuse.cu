// CUDA epilogues of the fused N-input layer (kernels/ops_fused.cpp: fuse, and multimodal, its
// m-RNN instance; issue 6, kernel 1). The front-end runs the cuBLAS GEMMs (every per-step input's
// projection into one [B*T, M] accumulator, every per-sequence one once per sequence into [B, M]);
// these kernels do everything elementwise: the forward adds the per-sequence term and the bias and
// applies the activation in one pass; the backward writes dpre from the saved output and, in the
// same kernel, the per-sequence sums over time and the bias gradient, in a fixed order.
// The per-element math is kernels/common/fuse.h, shared with the CPU.
#include "kernels/common/fuse.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/fuse_epilogue_args.h"

namespace mrnn::cuda {

namespace {

// Forward: block (256) over columns, grid.y over rows (grid-stride): the row's image index is one
// division per row, not per element.
// seq (the per-sequence term) and bias may be null.
template <typename A, typename T>
__global__ void fuse_forward_kernel(T* __restrict__ out, const T* __restrict__ seq, const T* __restrict__ bias,
                                    int64_t rows, int64_t steps, int64_t m) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= m) return;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    T* o = out + r * m + j;
    *o = fuse_element<A>(*o, seq ? seq + (r / steps) * m : nullptr, bias, static_cast<long>(j));
  }
}

constexpr int kTile = 32;     // columns per backward block (one warp: coalesced rows)
constexpr int kRowsMax = 8;  // threads over time per backward block

// Backward: block (32 columns x ry time steps) for image blockIdx.x and column tile blockIdx.y.
// Thread (x, y) handles steps y, y + ry, ... of its column; the ry partial sums are added in
// order y = 0..ry-1 (deterministic). Each block then counts itself done for its column tile; the
// last one sums that tile's image sums in image order into dbias (the threadfence-reduction
// pattern: writes fenced before the count, read back through L2).
template <typename A, typename T>
__global__ void fuse_backward_kernel(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ dpre,
                                           T* dimage, T* dbias, unsigned* done, int64_t steps, int64_t m,
                                           unsigned images) {
  __shared__ T part[kRowsMax][kTile + 1];
  __shared__ bool last;
  const int64_t b = blockIdx.x;
  const int64_t col = static_cast<int64_t>(blockIdx.y) * kTile + threadIdx.x;
  T acc = T(0);
  if (col < m) {
    for (int64_t t = threadIdx.y; t < steps; t += blockDim.y) {
      const int64_t i = (b * steps + t) * m + col;
      const T d = A::dy(y[i], g[i]);
      dpre[i] = d;
      acc += d;
    }
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0) {
    T s = part[0][threadIdx.x];
    for (unsigned k = 1; k < blockDim.y; ++k) s += part[k][threadIdx.x];
    if (col < m) dimage[b * m + col] = s;
    __threadfence();  // this block's image sums are visible device-wide before it is counted
  }
  __syncthreads();
  if (threadIdx.x == 0 && threadIdx.y == 0) last = atomicAdd(done + blockIdx.y, 1u) == images - 1;
  __syncthreads();
  if (last && threadIdx.y == 0 && col < m) {
    T s = T(0);
    for (unsigned k = 0; k < images; ++k) s += __ldcg(dimage + static_cast<int64_t>(k) * m + col);
    dbias[col] = s;
  }
}

}  // namespace

void fuse_forward_epilogue(const Tensor& seq_term, const Tensor& bias, int64_t steps, FuseActivation act,
                           const Tensor& out) {
  const char* op = "cuda::fuse_forward_epilogue";
  common_device(op, {&seq_term, &bias, &out});
  check_fuse_forward_args(op, seq_term, bias, steps, out);
  const int64_t rows = out.size(0), m = out.size(1);
  if (rows == 0 || m == 0) return;
  Launch l(out);
  const dim3 grid(grid_dim((m + kThreads - 1) / kThreads, op), static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
  dispatch_float(out.dtype(), "fuse", [&](auto z) {
    using T = decltype(z);
    with_fuse_activation(act, [&](auto a) {
      using A = decltype(a);
      fuse_forward_kernel<A, T><<<grid, kThreads, 0, l.stream>>>(
          ptr<T>(out), seq_term.defined() ? ptr<T>(seq_term) : nullptr, bias.defined() ? ptr<T>(bias) : nullptr,
          rows, steps, m);
    });
  });
  MRNN_CUDA_CHECK_LAUNCH("fuse_forward_kernel", l.stream);
}

void fuse_backward_epilogue(const Tensor& y, const Tensor& g, int64_t steps, FuseActivation act, const Tensor& dpre,
                            const Tensor& dimage, const Tensor& dbias) {
  const char* op = "cuda::fuse_backward_epilogue";
  common_device(op, {&y, &g, &dpre, &dimage, &dbias});
  check_fuse_backward_args(op, y, g, steps, dpre, dimage, dbias);
  const int64_t rows = y.size(0), m = y.size(1), b = rows / steps;
  if (m == 0) return;
  Launch l(y);
  if (b == 0) {
    fill(dbias, 0);
    return;
  }
  const int64_t tiles = (m + kTile - 1) / kTile;
  MRNN_CHECK(tiles <= 65535 && b <= 0xFFFFFFFFll, "{}: {} columns / {} sequences exceed the grid's limits", op, m, b);
  Tensor done = Tensor::empty({tiles}, DType::I32, y.device());
  MRNN_CUDA_CHECK(cudaMemsetAsync(ptr<int32_t>(done), 0, static_cast<size_t>(tiles) * sizeof(int32_t), l.stream));
  const int ry = static_cast<int>(std::min<int64_t>(steps, kRowsMax));
  const dim3 grid(grid_dim(b, op), static_cast<unsigned>(tiles)), block(kTile, ry);
  dispatch_float(y.dtype(), "fuse backward", [&](auto z) {
    using T = decltype(z);
    with_fuse_activation(act, [&](auto a) {
      using A = decltype(a);
      fuse_backward_kernel<A, T><<<grid, block, 0, l.stream>>>(
          ptr<T>(y), ptr<T>(g), ptr<T>(dpre), ptr<T>(dimage), ptr<T>(dbias),
          reinterpret_cast<unsigned*>(ptr<int32_t>(done)), steps, m, static_cast<unsigned>(b));
    });
  });
  MRNN_CUDA_CHECK_LAUNCH("fuse_backward_kernel", l.stream);
}

}  // namespace mrnn::cuda
