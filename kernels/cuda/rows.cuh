// The pieces every row-wise CUDA kernel shares (softmax and cross entropy in reduce.cu, the fused
// loss in xent.cu, the beam step in beam_search.cu): the launch layout (one warp per row for rows
// up to 1024 values, 8 rows per block; one 256-thread block per row above) and the online
// (max, sum of e^(x - max)) reduction of a row, in one place so the three kernels cannot drift
// apart. Internal (.cuh).
#pragma once
#include <cmath>

#include "kernels/common/fast_math.h"
#include "kernels/cuda/common.cuh"

namespace mrnn::cuda {

// ---------------- launch layout ----------------
constexpr int kRowsPerWarpBlock = 8;

struct RowLayout {
  dim3 block;
  unsigned grid;
};

// Warp per row (block 32 x 8) for rows of n <= 1024 values, a kThreads block per row above.
inline RowLayout row_layout(int64_t rows, int64_t n, const char* what = "rows") {
  if (n <= 1024)
    return {dim3(32, kRowsPerWarpBlock), grid_dim((rows + kRowsPerWarpBlock - 1) / kRowsPerWarpBlock, what)};
  return {dim3(kThreads, 1), grid_dim(rows, what)};
}

// ---------------- online (max, sum of exp) ----------------
// Which exp the state uses: libm's (softmax, cross_entropy) or kernels/common/fast_math.h's
// fast_exp (the fused loss and beam search, the formula their CPU kernels run).
struct LibmExp {
  template <typename A> __device__ __forceinline__ static A f(A x) { return std::exp(x); }
};
struct FastExp {
  template <typename A> __device__ __forceinline__ static A f(A x) { return fast_exp(x); }
};

// (m, s): the running maximum and the sum of e^(x - m).
template <typename A>
struct LseState {
  A m, s;
};

template <typename A>
__device__ __forceinline__ LseState<A> lse_empty() {
  return {A(-INFINITY), A(0)};
}

// Adds one value. Special values follow the CPU's two-pass form: -inf adds e^-inf = 0, NaN makes
// the sum NaN, a +inf maximum makes it NaN (there e^(inf - inf)).
template <typename E, typename A>
__device__ __forceinline__ void lse_push(LseState<A>& a, A x) {
  if (x == A(-INFINITY)) return;
  if (x > a.m) {
    a.s = a.s * E::f(a.m - x) + (x == A(INFINITY) ? A(NAN) : A(1));
    a.m = x;
  } else {
    a.s += E::f(x - a.m);  // NaN x, or x == a.m == +inf, give NaN
  }
}

// Symmetric in its arguments (max and + commute), so every lane of a butterfly ends with the
// same bits.
template <typename E, typename A>
__device__ __forceinline__ LseState<A> lse_merge(LseState<A> a, LseState<A> b) {
  const A m = a.m > b.m ? a.m : b.m;
  if (m == A(-INFINITY)) return {m, a.s + b.s};
  return {m, a.s * E::f(a.m - m) + b.s * E::f(b.m - m)};
}

template <typename E, typename A>
__device__ __forceinline__ LseState<A> warp_lse(LseState<A> v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const LseState<A> w{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = lse_merge<E>(v, w);
  }
  return v;
}

// The state of the blockDim.x threads that share threadIdx.y, in every one of them. Warp layout
// (blockDim.x == 32): a warp butterfly. Block layout (blockDim.y == 1): every thread of the block
// must call it (it synchronizes the block; calling it again in one kernel is safe); shm_m / shm_s
// hold 32 values each.
template <typename E, typename A>
__device__ LseState<A> row_lse(LseState<A> v, A* shm_m, A* shm_s) {
  v = warp_lse<E>(v);
  if (blockDim.x == 32) {
    __syncwarp();  // orders the lanes' reads of the row before any lane overwrites it
    return v;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  __syncthreads();  // earlier readers of shm are done
  if (lane == 0) {
    shm_m[warp] = v.m;
    shm_s[warp] = v.s;
  }
  __syncthreads();
  v = lane < nwarps ? LseState<A>{shm_m[lane], shm_s[lane]} : lse_empty<A>();
  return warp_lse<E>(v);
}

}  // namespace mrnn::cuda
