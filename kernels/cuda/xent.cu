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
#include "kernels/cuda/rows.cuh"

namespace mrnn::cuda {

namespace {

// The launch layout and the online (max, sum of e^(x - max)) state with fast_exp:
// kernels/cuda/rows.cuh, shared with reduce.cu and beam_search.cu.

// (max, sum of e^(z - max)) of z = row[0..n) + bias (bias may be null) in every thread that
// shares threadIdx.y: the threads of the row stride over it with four independent loads in flight
// each, then row_lse combines them (so its calling rules apply).
template <typename T>
__device__ LseState<T> row_stat_of(const T* row, const T* bias, int64_t n, T* shm_m, T* shm_s) {
  const int64_t step = blockDim.x;
  LseState<T> st = lse_empty<T>();
  int64_t j = threadIdx.x;
  for (; j + 3 * step < n; j += 4 * step) {
    T z0 = row[j], z1 = row[j + step], z2 = row[j + 2 * step], z3 = row[j + 3 * step];
    if (bias) {
      z0 += bias[j];
      z1 += bias[j + step];
      z2 += bias[j + 2 * step];
      z3 += bias[j + 3 * step];
    }
    lse_push<FastExp>(st, z0);
    lse_push<FastExp>(st, z1);
    lse_push<FastExp>(st, z2);
    lse_push<FastExp>(st, z3);
  }
  for (; j < n; j += step) lse_push<FastExp>(st, bias ? row[j] + bias[j] : row[j]);
  return row_lse<FastExp>(st, shm_m, shm_s);
}

// Row r of x [rows, v] (+ bias [v] when not null): row_loss[r] = logsumexp(z) - z[t] with
// z = x[r] + bias and t = targets[r], 0 for an ignored row. With write_grad, x[r] :=
// scale * (softmax(z) - onehot(t)), or 0 for an ignored row, where scale is multiplied by
// row_scale[r] when row_scale is not null (Reduction::None). Every decision that returns early is
// uniform over the threads that synchronize together (the block in the block layout, the warp in
// the warp layout).
template <typename T, typename I>
__global__ void softmax_xent_kernel(T* x, const T* bias, const I* targets, double* row_loss, int64_t rows, int64_t v,
                                    int64_t ignore, double scale, const T* row_scale, bool write_grad) {
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
  const LseState<T> st = row_stat_of(xr, bias, v, shm_m, shm_s);
  if (write_grad) {
    // The CPU's formula: e^(z - max) * (scale / sum), minus scale at the target.
    if (row_scale) scale *= static_cast<double>(row_scale[r]);
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
  const LseState<T> st = row_stat_of(zr, bias, c, shm_m, shm_s);
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
                                                                      grad_scale, nullptr, write_grad);
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
                           double grad_scale, bool write_grad, const Tensor& acc, const Tensor& row_scale,
                           const Tensor& row_loss_out) {
  const char* op = "softmax_xent_rows_acc";
  common_device(op, {&logits, &bias, &targets, &acc, &row_scale, &row_loss_out});
  check_rows(op, "logits", "V", logits, bias, targets);
  const int64_t rows = logits.size(0), v = logits.size(1);
  MRNN_CHECK(acc.defined() || row_loss_out.defined(), "cuda::{}: needs an accumulator or a row_loss output", op);
  if (acc.defined()) check_acc(op, acc);
  MRNN_CHECK(!row_scale.defined() || (row_scale.dtype() == logits.dtype() && row_scale.numel() == rows &&
                                      row_scale.is_contiguous()),
             "cuda::{}: row_scale must be a contiguous [{}] tensor like {}, got {}", op, rows, logits.desc(),
             row_scale.desc());
  MRNN_CHECK(!row_loss_out.defined() || (row_loss_out.dtype() == DType::F64 && row_loss_out.numel() == rows &&
                                         row_loss_out.is_contiguous()),
             "cuda::{}: row_loss must be a contiguous f64 [{}] tensor, got {}", op, rows, row_loss_out.desc());
  if (rows == 0) return;
  Launch l(logits);
  Tensor row_loss = row_loss_out.defined() ? row_loss_out : Tensor::empty({rows}, DType::F64, logits.device());
  const RowLayout lay = row_layout(rows, v, "softmax_xent rows");
  dispatch_float(logits.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* pb = bias.defined() ? ptr<T>(bias) : nullptr;
    const T* prs = row_scale.defined() ? ptr<T>(row_scale) : nullptr;
    auto launch = [&](auto iz) {
      using I = decltype(iz);
      softmax_xent_kernel<T, I><<<lay.grid, lay.block, 0, l.stream>>>(ptr<T>(logits), pb, ptr<I>(targets),
                                                                      ptr<double>(row_loss), rows, v, ignore_index,
                                                                      grad_scale, prs, write_grad);
      MRNN_CUDA_CHECK_LAUNCH("softmax_xent_rows_acc", l.stream);
    };
    if (targets.dtype() == DType::I64) launch(int64_t{});
    else launch(int32_t{});
  });
  if (!acc.defined()) return;
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
