// The in-place softmax cross entropy of the fused output layer (kernels/ops_linear_xent.cpp) on
// the GPU: one warp (rows up to 1024 logits) or one 256-thread block per row reads the row once
// for an online (max, sum of exp) pair, then once more to overwrite it with its gradient; per-row
// losses go to a device buffer that one block sums in a fixed order, so the loss is bit-identical
// run to run. exp is the shared fast_exp (kernels/common/fast_math.h), the very formula the CPU
// kernel (kernels/cpu/softmax_xent.cpp) runs: the gradients then differ from the CPU only through
// the row sum's order, and the extra arithmetic over __expf is hidden under the memory traffic.
// linear_cross_entropy uses the _acc form, which adds each row block's loss to a device
// accumulator instead of reading it back. The logits-free loss (linear_cross_entropy_loss) has its
// own chunk kernel: the same online (max, sum) per row over one vocabulary chunk, merged into
// per-row statistics with kernels/common/online_lse.h, then summed on the device.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/common/fast_math.h"
#include "kernels/common/online_lse.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace mrnn::cuda {

namespace {

constexpr int kXentWarpRows = 8;  // rows per block in the warp-per-row layout

// Online (max, sum of e^(x - max)) of a row. Special values follow the CPU's two-pass form:
// -inf adds e^-inf = 0, NaN makes the sum NaN, a +inf maximum makes it NaN (there e^(inf - inf)).
template <typename A>
struct Stat {
  A m, s;
};

template <typename A>
__device__ __forceinline__ void stat_push(Stat<A>& a, A x) {
  if (x == A(-INFINITY)) return;
  if (x > a.m) {
    a.s = a.s * fast_exp(a.m - x) + (x == A(INFINITY) ? A(NAN) : A(1));
    a.m = x;
  } else {
    a.s += fast_exp(x - a.m);
  }
}

// Symmetric in its arguments (max and + commute), so every lane of a butterfly ends with the
// same bits.
template <typename A>
__device__ __forceinline__ Stat<A> stat_merge(Stat<A> a, Stat<A> b) {
  const A m = a.m > b.m ? a.m : b.m;
  if (m == A(-INFINITY)) return {m, a.s + b.s};
  return {m, a.s * fast_exp(a.m - m) + b.s * fast_exp(b.m - m)};
}

template <typename A>
__device__ __forceinline__ Stat<A> warp_stat(Stat<A> v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const Stat<A> w{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = stat_merge(v, w);
  }
  return v;
}

// The row's pair in every thread that shares threadIdx.y. Block layout (blockDim.x > 32, one row
// per block): every thread of the block must call it, once per kernel; shm_* hold 32 values.
template <typename A>
__device__ Stat<A> row_stat(Stat<A> v, A* shm_m, A* shm_s) {
  v = warp_stat(v);
  if (blockDim.x == 32) {
    __syncwarp();  // orders the lanes' reads of the row before any lane overwrites it
    return v;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  if (lane == 0) {
    shm_m[warp] = v.m;
    shm_s[warp] = v.s;
  }
  __syncthreads();
  v = lane < nwarps ? Stat<A>{shm_m[lane], shm_s[lane]} : Stat<A>{A(-INFINITY), A(0)};
  return warp_stat(v);
}

// (max, sum of e^(z - max)) of z = row[0..n) + bias (bias may be null) in every thread that
// shares threadIdx.y: the threads of the row stride over it with four independent loads in flight
// each, then row_stat combines them (so its calling rules apply).
template <typename T>
__device__ Stat<T> row_stat_of(const T* row, const T* bias, int64_t n, T* shm_m, T* shm_s) {
  const int64_t step = blockDim.x;
  Stat<T> st{T(-INFINITY), T(0)};
  int64_t j = threadIdx.x;
  for (; j + 3 * step < n; j += 4 * step) {
    T z0 = row[j], z1 = row[j + step], z2 = row[j + 2 * step], z3 = row[j + 3 * step];
    if (bias) {
      z0 += bias[j];
      z1 += bias[j + step];
      z2 += bias[j + 2 * step];
      z3 += bias[j + 3 * step];
    }
    stat_push(st, z0);
    stat_push(st, z1);
    stat_push(st, z2);
    stat_push(st, z3);
  }
  for (; j < n; j += step) stat_push(st, bias ? row[j] + bias[j] : row[j]);
  return row_stat(st, shm_m, shm_s);
}

// Row r of x [rows, v] (+ bias [v] when not null): row_loss[r] = logsumexp(z) - z[t] with
// z = x[r] + bias and t = targets[r], 0 for an ignored row. With write_grad, x[r] :=
// scale * (softmax(z) - onehot(t)), or 0 for an ignored row. Every decision that returns early is
// uniform over the threads that synchronize together (the block in the block layout, the warp in
// the warp layout).
template <typename T, typename I>
__global__ void softmax_xent_kernel(T* x, const T* bias, const I* targets, double* row_loss, int64_t rows, int64_t v,
                                    int64_t ignore, double scale, bool write_grad) {
  __shared__ T shm_m[32], shm_s[32];
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (r >= rows) return;
  const int64_t t = static_cast<int64_t>(targets[r]);
  T* xr = x + r * v;
  const int64_t step = blockDim.x;
  if (t == ignore) {
    if (write_grad)
      for (int64_t j = threadIdx.x; j < v; j += step) xr[j] = T(0);
    if (threadIdx.x == 0) row_loss[r] = 0;
    return;
  }
  // Read by every thread before the reduction's barrier, so no thread reads it after the owner
  // of column t has overwritten it with its gradient.
  const T zt = bias ? xr[t] + bias[t] : xr[t];
  const Stat<T> st = row_stat_of(xr, bias, v, shm_m, shm_s);
  if (write_grad) {
    // The CPU's formula: e^(z - max) * (scale / sum), minus scale at the target.
    const T k = static_cast<T>(scale / static_cast<double>(st.s)), sc = static_cast<T>(scale);
    for (int64_t j = threadIdx.x; j < v; j += step) {
      const T z = bias ? xr[j] + bias[j] : xr[j];
      T g = fast_exp(z - st.m) * k;
      if (j == t) g -= sc;
      xr[j] = g;
    }
  }
  if (threadIdx.x == 0)
    row_loss[r] = static_cast<double>(st.m) + std::log(static_cast<double>(st.s)) - static_cast<double>(zt);
}

// One block of kThreads: out[0] = sum of row_loss, out[1] = number of rows whose target is not
// `ignore`. Thread i sums rows i, i + kThreads, ... in order, then a fixed tree: deterministic.
template <typename I>
__global__ void xent_total_kernel(const double* row_loss, const I* targets, int64_t rows, int64_t ignore,
                                  double* out) {
  __shared__ double s_sum[kThreads], s_count[kThreads];
  double total = 0, count = 0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    total += row_loss[r];
    count += static_cast<int64_t>(targets[r]) != ignore ? 1.0 : 0.0;
  }
  s_sum[threadIdx.x] = total;
  s_count[threadIdx.x] = count;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) {
      s_sum[threadIdx.x] += s_sum[threadIdx.x + s];
      s_count[threadIdx.x] += s_count[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[0] = s_sum[0];
    out[1] = s_count[0];
  }
}

// One block of kThreads: acc[0] += sum of row_loss over rows, in the fixed order of
// xent_total_kernel (strided partial sums, then a fixed tree). Launches on one stream are ordered,
// so the additions of successive row blocks happen in block order.
__global__ void xent_add_kernel(const double* row_loss, int64_t rows, double* acc) {
  __shared__ double s_sum[kThreads];
  double total = 0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) total += row_loss[r];
  s_sum[threadIdx.x] = total;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) s_sum[threadIdx.x] += s_sum[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) acc[0] += s_sum[0];
}

// One vocabulary chunk of the logits-free loss: row r of z [rows, c] (+ bias [c]) gives its
// (max, sum of e^(z - max)) pair, merged into stats[r] = (max, sum, z[target]) (or written when
// `first`); the target's logit is stored by the chunk that holds it. Ignored rows: nothing.
// Layouts as softmax_xent_kernel (warp per row for c <= 1024, else a block per row).
template <typename T, typename I>
__global__ void xent_chunk_kernel(const T* z, const T* bias, const I* targets, T* stats, int64_t rows, int64_t c,
                                  int64_t c0, int64_t ignore, bool first) {
  __shared__ T shm_m[32], shm_s[32];
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (r >= rows) return;
  const int64_t t = static_cast<int64_t>(targets[r]);
  if (t == ignore) return;
  const T* zr = z + r * c;
  const Stat<T> st = row_stat_of(zr, bias, c, shm_m, shm_s);
  if (threadIdx.x != 0) return;
  T* o = stats + 3 * r;
  if (first) {
    o[0] = st.m;
    o[1] = st.s;
  } else {
    o[1] = online_lse_merge(o[0], o[1], st.m, st.s);
    o[0] = o[0] > st.m ? o[0] : st.m;
  }
  if (t >= c0 && t < c0 + c) o[2] = bias ? zr[t - c0] + bias[t - c0] : zr[t - c0];
}

// One block of kThreads: acc[0] += sum over real rows of max + log(sum) - z[target] (f64, fixed
// order as xent_total_kernel).
template <typename T, typename I>
__global__ void xent_stats_loss_kernel(const T* stats, const I* targets, int64_t rows, int64_t ignore, double* acc) {
  __shared__ double s_sum[kThreads];
  double total = 0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    if (static_cast<int64_t>(targets[r]) == ignore) continue;
    const T* o = stats + 3 * r;
    total += static_cast<double>(o[0]) + std::log(static_cast<double>(o[1])) - static_cast<double>(o[2]);
  }
  s_sum[threadIdx.x] = total;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s) s_sum[threadIdx.x] += s_sum[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) acc[0] += s_sum[0];
}

// The row-kernel launch shape of softmax_xent_kernel / xent_chunk_kernel for rows of v logits.
struct RowLayout {
  dim3 block;
  unsigned grid;
};
RowLayout row_layout(int64_t rows, int64_t v, const char* what) {
  const bool warp_rows = v <= 1024;
  return {warp_rows ? dim3(32, kXentWarpRows) : dim3(kThreads, 1),
          grid_dim(warp_rows ? (rows + kXentWarpRows - 1) / kXentWarpRows : rows, what)};
}

// The checks every row-kernel entry point makes: x (named `name`) a contiguous [rows, cols] tensor,
// bias undefined or a contiguous [cols] tensor of x's dtype, targets a contiguous i64/i32 [rows].
void check_rows(const char* op, const char* name, const char* cols, const Tensor& x, const Tensor& bias,
                const Tensor& targets) {
  MRNN_CHECK(x.dim() == 2 && x.is_contiguous(), "cuda::{}: {} must be a contiguous [rows, {}] tensor, got {}", op,
             name, cols, x.desc());
  const int64_t rows = x.size(0), n = x.size(1);
  MRNN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == n && bias.is_contiguous() &&
                                 bias.dtype() == x.dtype()),
             "cuda::{}: bias must be a contiguous [{}] tensor like {}, got {}", op, n, x.desc(), bias.desc());
  MRNN_CHECK(targets.dim() == 1 && targets.size(0) == rows && targets.is_contiguous() &&
                 (targets.dtype() == DType::I64 || targets.dtype() == DType::I32),
             "cuda::{}: targets must be a contiguous i64/i32 [{}] tensor, got {}", op, rows, targets.desc());
}

void check_acc(const char* op, const Tensor& acc) {
  MRNN_CHECK(acc.dtype() == DType::F64 && acc.numel() == 1 && acc.is_contiguous(),
             "cuda::{}: the accumulator must be a contiguous f64 tensor of one element, got {}", op, acc.desc());
}

}  // namespace

int64_t softmax_xent_rows(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                          double grad_scale, bool write_grad, double* loss_sum) {
  const char* op = "softmax_xent_rows";
  common_device(op, {&logits, &bias, &targets});
  check_rows(op, "logits", "V", logits, bias, targets);
  const int64_t rows = logits.size(0), v = logits.size(1);
  *loss_sum = 0;
  if (rows == 0) return 0;
  Launch l(logits);
  Tensor row_loss = Tensor::empty({rows}, DType::F64, logits.device());
  Tensor out = Tensor::empty({2}, DType::F64, logits.device());
  const RowLayout lay = row_layout(rows, v, "softmax_xent rows");
  dispatch_float(logits.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* pb = bias.defined() ? ptr<T>(bias) : nullptr;
    auto launch = [&](auto iz) {
      using I = decltype(iz);
      softmax_xent_kernel<T, I><<<lay.grid, lay.block, 0, l.stream>>>(ptr<T>(logits), pb, ptr<I>(targets),
                                                                      ptr<double>(row_loss), rows, v, ignore_index,
                                                                      grad_scale, write_grad);
      MRNN_CUDA_CHECK_LAUNCH("softmax_xent_rows", l.stream);
      xent_total_kernel<I><<<1, kThreads, 0, l.stream>>>(ptr<double>(row_loss), ptr<I>(targets), rows, ignore_index,
                                                         ptr<double>(out));
      MRNN_CUDA_CHECK_LAUNCH("softmax_xent_rows(total)", l.stream);
    };
    if (targets.dtype() == DType::I64) launch(int64_t{});
    else launch(int32_t{});
  });
  const std::vector<double> h = out.to_vector<double>();  // the one read-back: blocks the host
  *loss_sum = h[0];
  return static_cast<int64_t>(h[1]);
}

void softmax_xent_rows_acc(const Tensor& logits, const Tensor& bias, const Tensor& targets, int64_t ignore_index,
                           double grad_scale, bool write_grad, const Tensor& acc) {
  const char* op = "softmax_xent_rows_acc";
  common_device(op, {&logits, &bias, &targets, &acc});
  check_rows(op, "logits", "V", logits, bias, targets);
  const int64_t rows = logits.size(0), v = logits.size(1);
  check_acc(op, acc);
  if (rows == 0) return;
  Launch l(logits);
  Tensor row_loss = Tensor::empty({rows}, DType::F64, logits.device());
  const RowLayout lay = row_layout(rows, v, "softmax_xent rows");
  dispatch_float(logits.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* pb = bias.defined() ? ptr<T>(bias) : nullptr;
    auto launch = [&](auto iz) {
      using I = decltype(iz);
      softmax_xent_kernel<T, I><<<lay.grid, lay.block, 0, l.stream>>>(ptr<T>(logits), pb, ptr<I>(targets),
                                                                      ptr<double>(row_loss), rows, v, ignore_index,
                                                                      grad_scale, write_grad);
      MRNN_CUDA_CHECK_LAUNCH("softmax_xent_rows_acc", l.stream);
    };
    if (targets.dtype() == DType::I64) launch(int64_t{});
    else launch(int32_t{});
  });
  xent_add_kernel<<<1, kThreads, 0, l.stream>>>(ptr<double>(row_loss), rows, ptr<double>(acc));
  MRNN_CUDA_CHECK_LAUNCH("softmax_xent_rows_acc(total)", l.stream);
}

void xent_chunk_stats(const Tensor& z, const Tensor& bias, const Tensor& targets, int64_t ignore_index, int64_t c0,
                      bool first, const Tensor& stats) {
  const char* op = "xent_chunk_stats";
  common_device(op, {&z, &bias, &targets, &stats});
  check_rows(op, "z", "c", z, bias, targets);
  const int64_t rows = z.size(0), c = z.size(1);
  MRNN_CHECK(stats.dim() == 2 && stats.size(0) == rows && stats.size(1) == 3 && stats.is_contiguous() &&
                 stats.dtype() == z.dtype(),
             "cuda::{}: stats must be a contiguous [{}, 3] tensor like {}, got {}", op, rows, z.desc(), stats.desc());
  if (rows == 0 || c == 0) return;
  Launch l(z);
  const RowLayout lay = row_layout(rows, c, "xent chunk rows");
  dispatch_float(z.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pb = bias.defined() ? ptr<T>(bias) : nullptr;
    auto launch = [&](auto iz) {
      using I = decltype(iz);
      xent_chunk_kernel<T, I><<<lay.grid, lay.block, 0, l.stream>>>(ptr<T>(z), pb, ptr<I>(targets), ptr<T>(stats),
                                                                    rows, c, c0, ignore_index, first);
      MRNN_CUDA_CHECK_LAUNCH("xent_chunk_stats", l.stream);
    };
    if (targets.dtype() == DType::I64) launch(int64_t{});
    else launch(int32_t{});
  });
}

void xent_stats_loss(const Tensor& stats, const Tensor& targets, int64_t ignore_index, const Tensor& acc) {
  const char* op = "xent_stats_loss";
  common_device(op, {&stats, &targets, &acc});
  check_acc(op, acc);
  const int64_t rows = stats.size(0);
  if (rows == 0) return;
  Launch l(stats);
  dispatch_float(stats.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto iz) {
      using I = decltype(iz);
      xent_stats_loss_kernel<T, I><<<1, kThreads, 0, l.stream>>>(ptr<T>(stats), ptr<I>(targets), rows, ignore_index,
                                                                 ptr<double>(acc));
      MRNN_CUDA_CHECK_LAUNCH("xent_stats_loss", l.stream);
    };
    if (targets.dtype() == DType::I64) launch(int64_t{});
    else launch(int32_t{});
  });
}

}  // namespace mrnn::cuda
