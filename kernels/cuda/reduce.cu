// Reductions (sum, max/argmax), softmax / log-softmax and the fused cross entropy. Rows are
// reduced by one warp (short rows, 8 rows per block) or one 256-thread block (long rows), with
// warp shuffles and a fixed combination order, so results are deterministic run to run. Softmax
// and cross entropy keep an online (max, sum of exp) pair per thread: one read of x for the
// statistics, one more to write the output.
#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "kernels/common/softmax.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/rows.cuh"

namespace mrnn::cuda {

namespace {

// Launch layout and the online (max, sum of exp) state: kernels/cuda/rows.cuh.

__device__ __forceinline__ int64_t row_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
}

// Sum over the blockDim.x threads that share threadIdx.y; every thread of the block must call it
// (it may synchronize the block). `shm` holds at least 256 values. Result in every thread.
template <typename A>
__device__ A row_sum(A v, A* shm) {
  v = warp_sum(v);
  if (blockDim.x == 32) return v;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  A* s = shm + threadIdx.y * 32;
  __syncthreads();  // earlier readers of shm are done
  if (lane == 0) s[warp] = v;
  __syncthreads();
  v = lane < nwarps ? s[lane] : A(0);
  return warp_sum(v);
}

// ---------------- (value, index) max: the first maximum wins; the first NaN beats everything ----
template <typename T>
__device__ __forceinline__ void arg_merge(T& v, int64_t& i, T v2, int64_t i2) {
  const bool n1 = v != v, n2 = v2 != v2;
  bool take;
  if (n1 || n2) take = n2 && (!n1 || i2 < i);
  else take = v2 > v || (v2 == v && i2 < i);
  if (take) {
    v = v2;
    i = i2;
  }
}

// ---------------- sum ----------------
// Segment s = (row r, chunk c) sums x[r*n + c*len .. min(n, (c+1)*len)) into out[s].
template <typename T>
__global__ void sum_rows_kernel(const T* x, T* out, int64_t segments, int64_t chunks, int64_t n, int64_t len) {
  __shared__ acc_t<T> shm[256];
  const int64_t s = row_index();
  acc_t<T> acc = 0;
  if (s < segments) {
    const int64_t r = s / chunks, c = s % chunks;
    const int64_t begin = c * len, end = begin + len < n ? begin + len : n;
    const T* row = x + r * n;
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) acc += row[j];
  }
  acc = row_sum(acc, shm);
  if (s < segments && threadIdx.x == 0) out[s] = static_cast<T>(acc);
}

// Columns: out[(o*chunks + c)*inner + i] = sum over j in chunk c of x[(o*n + j)*inner + i].
// Block (32, 8): threadIdx.x walks i (coalesced), threadIdx.y strides j, then 8 partials combine in order.
template <typename T>
__global__ void sum_cols_kernel(const T* x, T* out, int64_t outer, int64_t n, int64_t inner, int64_t chunks,
                                int64_t len) {
  __shared__ acc_t<T> shm[8][33];
  const int64_t iblocks = (inner + 31) / 32;
  const int64_t b = blockIdx.x;
  const int64_t ib = b % iblocks, oc = b / iblocks;
  const int64_t o = oc / chunks, c = oc % chunks;
  const int64_t i = ib * 32 + threadIdx.x;
  acc_t<T> acc = 0;
  if (i < inner) {
    const int64_t begin = c * len, end = begin + len < n ? begin + len : n;
    for (int64_t j = begin + threadIdx.y; j < end; j += blockDim.y) acc += x[(o * n + j) * inner + i];
  }
  shm[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && i < inner) {
    acc_t<T> t = 0;
    for (int k = 0; k < 8; ++k) t += shm[k][threadIdx.x];
    out[(o * chunks + c) * inner + i] = static_cast<T>(t);
  }
}

// How many chunks to split each reduced run into so that few, long runs still fill the device.
int64_t chunks_for(int64_t runs, int64_t n, int device) {
  const int64_t sms = sm_count(device);
  if (runs >= 2 * sms || n < 16384) return 1;
  const int64_t want = (4 * sms + runs - 1) / runs;
  return std::max<int64_t>(1, std::min<int64_t>({want, (n + 4095) / 4096, 1024}));
}

template <typename T>
void sum_rows(const T* x, T* out, int64_t rows, int64_t n, const Tensor& like, int device, cudaStream_t stream) {
  const int64_t chunks = chunks_for(rows, n, device);
  if (chunks == 1) {
    RowLayout l = row_layout(rows, n);
    sum_rows_kernel<T><<<l.grid, l.block, 0, stream>>>(x, out, rows, 1, n, n);
    MRNN_CUDA_CHECK_LAUNCH("sum_rows", stream);
    return;
  }
  const int64_t len = (n + chunks - 1) / chunks;
  Tensor part = Tensor::empty({rows, chunks}, like.dtype(), like.device());
  RowLayout l = row_layout(rows * chunks, len);
  sum_rows_kernel<T><<<l.grid, l.block, 0, stream>>>(x, ptr<T>(part), rows * chunks, chunks, n, len);
  MRNN_CUDA_CHECK_LAUNCH("sum_rows(partial)", stream);
  sum_rows<T>(ptr<T>(part), out, rows, chunks, like, device, stream);
}

template <typename T>
void sum_cols(const T* x, T* out, int64_t outer, int64_t n, int64_t inner, const Tensor& like, int device,
              cudaStream_t stream) {
  const int64_t iblocks = (inner + 31) / 32;
  const int64_t chunks = chunks_for(outer * iblocks, n, device);
  const int64_t len = (n + chunks - 1) / chunks;
  Tensor part;
  T* dst = out;
  if (chunks > 1) {
    part = Tensor::empty({outer, chunks, inner}, like.dtype(), like.device());
    dst = ptr<T>(part);
  }
  const int64_t blocks = outer * chunks * iblocks;
  MRNN_CHECK(blocks < (int64_t{1} << 31), "sum: reduction of {} blocks is too large", blocks);
  sum_cols_kernel<T><<<static_cast<unsigned>(blocks), dim3(32, 8), 0, stream>>>(x, dst, outer, n, inner, chunks, len);
  MRNN_CUDA_CHECK_LAUNCH("sum_cols", stream);
  if (chunks > 1) sum_cols<T>(dst, out, outer, chunks, inner, like, device, stream);
}

// ---------------- max ----------------
template <typename T>
__global__ void max_rows_kernel(const T* x, T* out, int64_t* arg, int64_t rows, int64_t n) {
  __shared__ T sv[256];
  __shared__ int64_t si[256];
  const int64_t r = row_index();
  T v = -INFINITY;
  int64_t i = INT64_MAX;
  if (r < rows)
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) arg_merge(v, i, x[r * n + j], j);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    arg_merge(v, i, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, i, o));
  if (blockDim.x > 32) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (lane == 0) {
      sv[warp] = v;
      si[warp] = i;
    }
    __syncthreads();
    if (threadIdx.x == 0)
      for (int w = 1; w < nwarps; ++w) arg_merge(v, i, sv[w], si[w]);
  }
  if (r < rows && threadIdx.x == 0) {
    out[r] = v;
    arg[r] = i;
  }
}

// inner > 1: one thread per output walks j in order (the CPU loop, coalesced across i).
template <typename T>
__global__ void max_cols_kernel(const T* x, T* out, int64_t* arg, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * inner, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t o = t / inner, i = t % inner;
    T v = x[o * n * inner + i];
    int64_t a = 0;
    for (int64_t j = 1; j < n; ++j) arg_merge(v, a, x[(o * n + j) * inner + i], j);
    out[t] = v;
    arg[t] = a;
  }
}

template <typename T>
__global__ void max_backward_kernel(const T* g, const int64_t* arg, T* gx, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * inner, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t o = t / inner, i = t % inner;
    gx[(o * n + arg[t]) * inner + i] = g[t];
  }
}

// ---------------- softmax ----------------
template <typename T>
__global__ void softmax_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  using A = acc_t<T>;
  __shared__ A sm[256], ss[256];
  const int64_t r = row_index();
  LseState<A> ms = lse_empty<A>();
  const T* xr = x + r * n;
  if (r < rows)
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) lse_push<LibmExp>(ms, static_cast<A>(xr[j]));
  ms = row_lse<LibmExp>(ms, sm, ss);
  if (r >= rows) return;  // after the last block-wide synchronization
  const A lse = ms.m == -INFINITY ? ms.m : ms.m + std::log(ms.s);
  T* yr = y + r * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const A v = static_cast<A>(xr[j]) - lse;
    yr[j] = static_cast<T>(log ? v : std::exp(v));
  }
}

template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, int64_t rows, int64_t n, bool log) {
  using A = acc_t<T>;
  __shared__ A shm[256];
  const int64_t r = row_index();
  const T *yr = y + r * n, *gr = g + r * n;
  A dot = 0;
  if (r < rows)
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
      dot += log ? static_cast<A>(gr[j]) : static_cast<A>(gr[j]) * static_cast<A>(yr[j]);
  dot = row_sum(dot, shm);
  if (r >= rows) return;
  T* o = gx + r * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const A yj = static_cast<A>(yr[j]), gj = static_cast<A>(gr[j]);
    o[j] = static_cast<T>(log ? gj - std::exp(yj) * dot : yj * (gj - dot));
  }
}

// ---------------- cross entropy ----------------
// State per row: 0 ignored, 1 counted, 2 target out of range.
template <typename T, typename I>
__global__ void ce_forward_kernel(const T* x, const I* targets, double* lse, double* row_loss, int32_t* state,
                                  int64_t rows, int64_t v, int64_t ignore) {
  __shared__ double sm[256], ss[256];
  const int64_t r = row_index();
  int64_t t = ignore;
  bool valid = false;
  if (r < rows) {
    t = static_cast<int64_t>(targets[r]);
    valid = t != ignore && t >= 0 && t < v;
  }
  LseState<double> ms = lse_empty<double>();
  const T* xr = x + r * v;
  if (valid)
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) lse_push<LibmExp>(ms, static_cast<double>(xr[j]));
  ms = row_lse<LibmExp>(ms, sm, ss);
  if (r >= rows || threadIdx.x != 0) return;
  if (!valid) {
    lse[r] = 0;
    row_loss[r] = 0;
    state[r] = t == ignore ? 0 : 2;
    return;
  }
  const double l = ms.m == -INFINITY ? ms.m : ms.m + std::log(ms.s);
  lse[r] = l;
  row_loss[r] = l - static_cast<double>(xr[t]);
  state[r] = 1;
}

// One block: loss = sum(row_loss) / count (0 when count is 0); info = {count, first bad row or -1}.
// With mean false, loss = sum(row_loss) (Reduction::Sum / None).
template <typename T>
__global__ void ce_finish_kernel(const double* row_loss, const int32_t* state, int64_t rows, T* loss,
                                 int64_t* info, bool mean) {
  __shared__ double shm[256];
  __shared__ long long sc[256], sb[256];
  double total = 0;
  long long count = 0, bad = LLONG_MAX;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    total += row_loss[r];
    count += state[r] == 1;
    if (state[r] == 2 && r < bad) bad = r;
  }
  shm[threadIdx.x] = total;
  sc[threadIdx.x] = count;
  sb[threadIdx.x] = bad;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      shm[threadIdx.x] += shm[threadIdx.x + s];
      sc[threadIdx.x] += sc[threadIdx.x + s];
      sb[threadIdx.x] = sb[threadIdx.x] < sb[threadIdx.x + s] ? sb[threadIdx.x] : sb[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    loss[0] = static_cast<T>(!mean ? shm[0] : sc[0] ? shm[0] / static_cast<double>(sc[0]) : 0.0);
    info[0] = sc[0];
    info[1] = sb[0] == LLONG_MAX ? -1 : sb[0];
  }
}

// g_step 0: one upstream gradient g[0] for every row; 1: g[r] per row (Reduction::None).
template <typename T, typename I>
__global__ void ce_backward_kernel(const T* x, const I* targets, const double* lse, const T* g, int64_t g_step,
                                   double inv_count, T* d, int64_t rows, int64_t v, int64_t ignore) {
  const int64_t r = row_index();
  if (r >= rows) return;
  const int64_t t = static_cast<int64_t>(targets[r]);
  T* dr = d + r * v;
  if (t == ignore) {
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) dr[j] = T(0);
    return;
  }
  const double scale = static_cast<double>(g[r * g_step]) * inv_count, l = lse[r];
  const T* xr = x + r * v;
  for (int64_t j = threadIdx.x; j < v; j += blockDim.x) dr[j] = cross_entropy_grad<T>(xr[j], l, j == t, scale);
}

// Every tensor on one CUDA device and contiguous.
void check_contig(const char* op, std::initializer_list<const Tensor*> ts) {
  common_device(op, ts);
  for (const Tensor* t : ts)
    MRNN_CHECK(t->is_contiguous(), "cuda::{}: expected a contiguous CUDA tensor, got {}", op, t->desc());
}

}  // namespace

void sum_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out) {
  check_contig("sum_middle", {&x, &out});
  check_same_dtype("cuda::sum_middle", {&x, &out});
  MRNN_CHECK(x.numel() == outer * n * inner && out.numel() == outer * inner,
             "cuda::sum_middle: {} and {} do not match [{}, {}, {}]", x.desc(), out.desc(), outer, n, inner);
  if (out.numel() == 0) return;
  Launch l(x);
  dispatch_float(x.dtype(), "sum", [&](auto z) {
    using T = decltype(z);
    if (n == 0) {
      fill(out, 0);
    } else if (inner == 1) {
      sum_rows<T>(ptr<T>(x), ptr<T>(out), outer, n, x, l.device, l.stream);
    } else {
      sum_cols<T>(ptr<T>(x), ptr<T>(out), outer, n, inner, x, l.device, l.stream);
    }
  });
}

void max_middle(const Tensor& x, int64_t outer, int64_t n, int64_t inner, const Tensor& out, const Tensor& argmax) {
  MRNN_CHECK(n > 0, "max: cannot reduce over an empty dimension of {}", x.desc());
  check_contig("max_middle", {&x, &out, &argmax});
  check_same_dtype("cuda::max_middle", {&x, &out});
  MRNN_CHECK(argmax.dtype() == DType::I64 && x.numel() == outer * n * inner && out.numel() == outer * inner &&
                 argmax.numel() == out.numel(),
             "cuda::max_middle: {}, {} and i64 {} do not match [{}, {}, {}]", x.desc(), out.desc(), argmax.desc(),
             outer, n, inner);
  if (out.numel() == 0) return;
  Launch l(x);
  dispatch_float(x.dtype(), "max", [&](auto z) {
    using T = decltype(z);
    if (inner == 1) {
      RowLayout rl = row_layout(outer, n);
      max_rows_kernel<T><<<rl.grid, rl.block, 0, l.stream>>>(ptr<T>(x), ptr<T>(out), ptr<int64_t>(argmax), outer, n);
    } else {
      max_cols_kernel<T><<<grid_for(outer * inner, l.device), kThreads, 0, l.stream>>>(
          ptr<T>(x), ptr<T>(out), ptr<int64_t>(argmax), outer, n, inner);
    }
    MRNN_CUDA_CHECK_LAUNCH("max_middle", l.stream);
  });
}

void max_backward(const Tensor& g, const Tensor& argmax, int64_t outer, int64_t n, int64_t inner, const Tensor& gx) {
  check_contig("max_backward", {&g, &argmax, &gx});
  check_same_dtype("cuda::max_backward", {&g, &gx});
  MRNN_CHECK(argmax.dtype() == DType::I64 && g.numel() == outer * inner && argmax.numel() == g.numel() &&
                 gx.numel() == outer * n * inner,
             "cuda::max_backward: {}, {} and {} do not match [{}, {}, {}]", g.desc(), argmax.desc(), gx.desc(), outer,
             n, inner);
  if (g.numel() == 0) return;
  Launch l(g);
  dispatch_float(g.dtype(), "max_backward", [&](auto z) {
    using T = decltype(z);
    max_backward_kernel<T><<<grid_for(outer * inner, l.device), kThreads, 0, l.stream>>>(
        ptr<T>(g), ptr<int64_t>(argmax), ptr<T>(gx), outer, n, inner);
    MRNN_CUDA_CHECK_LAUNCH("max_backward", l.stream);
  });
}

void softmax_rows(const Tensor& x, const Tensor& out, bool log) {
  check_contig("softmax_rows", {&x, &out});
  check_same_dtype("cuda::softmax_rows", {&x, &out});
  MRNN_CHECK(x.shape() == out.shape(), "cuda::softmax_rows: {} and {} differ in shape", x.desc(), out.desc());
  const int64_t n = x.size(-1), rows = x.numel() / std::max<int64_t>(n, 1);
  if (x.numel() == 0) return;
  Launch l(x);
  dispatch_float(x.dtype(), "softmax", [&](auto z) {
    using T = decltype(z);
    RowLayout rl = row_layout(rows, n);
    softmax_kernel<T><<<rl.grid, rl.block, 0, l.stream>>>(ptr<T>(x), ptr<T>(out), rows, n, log);
    MRNN_CUDA_CHECK_LAUNCH("softmax_rows", l.stream);
  });
}

void softmax_rows_backward(const Tensor& y, const Tensor& g, const Tensor& gx, bool log) {
  check_contig("softmax_rows_backward", {&y, &g, &gx});
  check_same_dtype("cuda::softmax_rows_backward", {&y, &g, &gx});
  MRNN_CHECK(y.shape() == g.shape() && y.shape() == gx.shape(),
             "cuda::softmax_rows_backward: {}, {}, {} differ in shape", y.desc(), g.desc(), gx.desc());
  const int64_t n = y.size(-1), rows = y.numel() / std::max<int64_t>(n, 1);
  if (y.numel() == 0) return;
  Launch l(y);
  dispatch_float(y.dtype(), "softmax_backward", [&](auto z) {
    using T = decltype(z);
    RowLayout rl = row_layout(rows, n);
    softmax_backward_kernel<T><<<rl.grid, rl.block, 0, l.stream>>>(ptr<T>(y), ptr<T>(g), ptr<T>(gx), rows, n, log);
    MRNN_CUDA_CHECK_LAUNCH("softmax_rows_backward", l.stream);
  });
}

int64_t cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                              const Tensor& loss, bool mean, const Tensor& row_loss_out) {
  check_contig("cross_entropy_forward", {&logits, &targets, &lse, &loss});
  if (row_loss_out.defined()) check_contig("cross_entropy_forward", {&logits, &row_loss_out});
  MRNN_CHECK(!row_loss_out.defined() || (row_loss_out.dtype() == DType::F64 && row_loss_out.numel() == logits.size(0)),
             "cuda::cross_entropy_forward: row_loss must be f64 [{}], got {}", logits.size(0), row_loss_out.desc());
  MRNN_CHECK(logits.dim() == 2 && targets.numel() == logits.size(0) && lse.dtype() == DType::F64 &&
                 lse.numel() == logits.size(0) && loss.numel() == 1 && loss.dtype() == logits.dtype() &&
                 (targets.dtype() == DType::I64 || targets.dtype() == DType::I32),
             "cuda::cross_entropy_forward: logits {}, targets {}, lse {}, loss {} do not fit together", logits.desc(),
             targets.desc(), lse.desc(), loss.desc());
  const int64_t rows = logits.size(0), v = logits.size(1);
  Launch l(logits);
  Tensor row_loss = row_loss_out.defined() ? row_loss_out : Tensor::empty({rows}, DType::F64, logits.device());
  Tensor state = Tensor::empty({rows}, DType::I32, logits.device());
  Tensor info = Tensor::empty({2}, DType::I64, logits.device());
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto z) {
    using T = decltype(z);
    if (rows > 0) {
      with_index_type(targets, [&](auto iz) {
        using I = decltype(iz);
        RowLayout rl = row_layout(rows, v);
        ce_forward_kernel<T, I><<<rl.grid, rl.block, 0, l.stream>>>(ptr<T>(logits), ptr<I>(targets), ptr<double>(lse),
                                                                    ptr<double>(row_loss), ptr<int32_t>(state), rows,
                                                                    v, ignore_index);
        MRNN_CUDA_CHECK_LAUNCH("cross_entropy_forward", l.stream);
      });
    }
    ce_finish_kernel<T><<<1, kThreads, 0, l.stream>>>(ptr<double>(row_loss), ptr<int32_t>(state), rows, ptr<T>(loss),
                                                     ptr<int64_t>(info), mean);
    MRNN_CUDA_CHECK_LAUNCH("cross_entropy_finish", l.stream);
  });
  const std::vector<int64_t> h = info.to_vector<int64_t>();  // blocks until the loss is known
  if (h[1] >= 0) {
    const int64_t t = targets.detach().to(Device::cpu()).to_vector<int64_t>()[h[1]];
    MRNN_FAIL("cross_entropy: target {} at row {} is outside [0, {})", t, h[1], v);
  }
  return h[0];
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& lse,
                            const Tensor& g, double inv_count, const Tensor& dlogits) {
  check_contig("cross_entropy_backward", {&logits, &targets, &lse, &dlogits});
  common_device("cross_entropy_backward", {&logits, &g});
  MRNN_CHECK(logits.dim() == 2 && dlogits.shape() == logits.shape() && dlogits.dtype() == logits.dtype() &&
                 lse.dtype() == DType::F64 && lse.numel() == logits.size(0) && targets.numel() == logits.size(0) &&
                 (targets.dtype() == DType::I64 || targets.dtype() == DType::I32),
             "cuda::cross_entropy_backward: logits {}, targets {}, lse {}, dlogits {} do not fit together",
             logits.desc(), targets.desc(), lse.desc(), dlogits.desc());
  MRNN_CHECK((g.numel() == 1 || (g.numel() == logits.size(0) && g.is_contiguous())) && g.dtype() == logits.dtype(),
             "cuda::cross_entropy_backward: gradient {} must be a one-element or contiguous [{}] tensor like {}",
             g.desc(), logits.size(0), logits.desc());
  const int64_t g_step = g.numel() == 1 ? 0 : 1;
  const int64_t rows = logits.size(0), v = logits.size(1);
  if (logits.numel() == 0) return;
  Launch l(logits);
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto z) {
    using T = decltype(z);
    with_index_type(targets, [&](auto iz) {
      using I = decltype(iz);
      RowLayout rl = row_layout(rows, v);
      ce_backward_kernel<T, I><<<rl.grid, rl.block, 0, l.stream>>>(ptr<T>(logits), ptr<I>(targets), ptr<double>(lse),
                                                                   ptr<T>(g), g_step, inv_count, ptr<T>(dlogits), rows, v,
                                                                   ignore_index);
      MRNN_CUDA_CHECK_LAUNCH("cross_entropy_backward", l.stream);
    });
  });
}

}  // namespace mrnn::cuda
