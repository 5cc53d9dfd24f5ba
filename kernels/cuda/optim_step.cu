// Multi-tensor optimizer step, sum of squares and clipping (kernels/cuda/optim_step.h). One launch
// covers up to kSlotsPerLaunch parameters: the table travels as the kernel's argument; a block
// handles whole chunks of kChunk elements, each inside one parameter (found by binary search over
// the table's chunk starts, the same for every thread of the block).
#include <algorithm>

#include "kernels/common/sgd.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/optim_step.h"

namespace mrnn::cuda {

namespace {

constexpr int64_t kChunk = 4096;  // elements per chunk (16 per thread of a 256-thread block)

struct AdamEntry {
  float *w, *m, *v;
  const float* g;
  int64_t begin, n;
  AdamStep s;
};
struct SgdEntry {
  float *w, *v;
  const float* g;
  int64_t begin, n;
  float lr, wd;
};
struct SumEntry {  // sum of squares and clipping: every element of x
  float* x;
  int64_t begin, n;
};

// The launch's table: entries and, for entry k, its first chunk chunk0[k] (chunk0[count] = total).
template <class E>
struct Table {
  int count = 0;
  int64_t chunk0[kSlotsPerLaunch + 1] = {};
  E e[kSlotsPerLaunch];
};

template <class E>
__device__ __forceinline__ int entry_of(const Table<E>& t, int64_t chunk) {
  int lo = 0, hi = t.count - 1;  // the last k with chunk0[k] <= chunk
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (t.chunk0[mid] <= chunk) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Calls f(entry, i) for every element i in [begin, n) of every entry, chunk by chunk.
template <class E, class F>
__device__ __forceinline__ void for_each_element(const Table<E>& t, F&& f) {
  const int64_t total = t.chunk0[t.count];
  for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
    const int k = entry_of(t, c);
    const E& e = t.e[k];
    const int64_t lo = e.begin + (c - t.chunk0[k]) * kChunk, hi = min(e.n, lo + kChunk);
    for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) f(e, i);
  }
}

__device__ __forceinline__ bool guard_ok(const double* guard) { return !guard || isfinite(*guard); }

__global__ void adam_kernel(const Table<AdamEntry> t, const double* guard) {
  if (!guard_ok(guard)) return;
  for_each_element(t, [](const AdamEntry& e, int64_t i) { adam_update(e.w[i], e.m[i], e.v[i], e.g[i], e.s); });
}

__global__ void sgd_kernel(const Table<SgdEntry> t, float mu, const double* guard) {
  if (!guard_ok(guard)) return;
  for_each_element(t, [mu](const SgdEntry& e, int64_t i) { sgd_update(e.w[i], e.v[i], e.g[i], e.lr, e.wd, mu); });
}

// partial[first_chunk + c] := sum of x^2 over chunk c of the table (f64, fixed tree per block).
__global__ void sum_squares_kernel(const Table<SumEntry> t, double* partial) {
  __shared__ double warp_part[kThreads / 32];
  const int64_t total = t.chunk0[t.count];
  for (int64_t c = blockIdx.x; c < total; c += gridDim.x) {
    const int k = entry_of(t, c);
    const SumEntry& e = t.e[k];
    const int64_t lo = e.begin + (c - t.chunk0[k]) * kChunk, hi = min(e.n, lo + kChunk);
    double s = 0;
    for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
      const double x = e.x[i];
      s += x * x;
    }
    s = warp_sum(s);
    if (threadIdx.x % 32 == 0) warp_part[threadIdx.x / 32] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
      double b = 0;
      for (int w = 0; w < kThreads / 32; ++w) b += warp_part[w];
      partial[c] = b;
    }
    __syncthreads();
  }
}

// *out := the sum of partial[0, n) in a fixed order (one block: strided sums, then in order).
__global__ void sum_partials_kernel(const double* partial, int64_t n, double* out) {
  __shared__ double part[kThreads];
  double s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += partial[i];
  part[threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int j = 0; j < kThreads; ++j) total += part[j];
    *out = total;
  }
}

__global__ void clip_kernel(const Table<SumEntry> t, const double* sumsq, double max_norm) {
  const double total = *sumsq;
  if (!isfinite(total)) return;
  const double norm = sqrt(total);
  if (!(max_norm > 0 && norm > max_norm)) return;
  const float scale = static_cast<float>(max_norm / (norm + 1e-6));
  const int64_t all = t.chunk0[t.count];
  for (int64_t c = blockIdx.x; c < all; c += gridDim.x) {
    const int k = entry_of(t, c);
    const SumEntry& e = t.e[k];
    const int64_t lo = e.begin + (c - t.chunk0[k]) * kChunk, hi = min(e.n, lo + kChunk);
    for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) e.x[i] *= scale;
  }
}

void check_f32(const char* op, const Tensor& t, const Tensor& like, const char* what) {
  MRNN_CHECK(t.defined() && t.dtype() == DType::F32 && t.is_contiguous() && t.shape() == like.shape(),
             "{}: {} must be a contiguous f32 tensor of shape {}, got {}", op, what, shape_str(like.shape()),
             t.defined() ? t.desc() : std::string("an undefined tensor"));
}

// Fills tables of at most kSlotsPerLaunch entries from items (make(item) -> entry, begin and n in
// it) and calls launch(table) for each non-empty one. Entries with nothing to update are left out.
template <class E, class Item, class Make, class Run>
void launch_tables(const std::vector<Item>& items, Make&& make, Run&& run) {
  Table<E> t;
  int64_t chunks = 0;
  auto flush = [&] {
    if (t.count == 0) return;
    t.chunk0[t.count] = chunks;
    run(t, chunks);
    t = Table<E>();
    chunks = 0;
  };
  for (const Item& it : items) {
    const E e = make(it);
    if (e.n <= e.begin) continue;
    t.e[t.count] = e;
    t.chunk0[t.count] = chunks;
    chunks += (e.n - e.begin + kChunk - 1) / kChunk;
    if (++t.count == kSlotsPerLaunch) flush();
  }
  flush();
}

unsigned grid_for_chunks(int64_t chunks, int device) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(chunks, int64_t{sm_count(device)} * 8)));
}

const double* guard_ptr(const char* op, const Tensor& guard, int device) {
  if (!guard.defined()) return nullptr;
  MRNN_CHECK(guard.dtype() == DType::F64 && guard.numel() == 1 && guard.device().is_cuda() &&
                 guard.device().index == device,
             "{}: the guard must be one f64 value on cuda:{}, got {}", op, device, guard.desc());
  return ptr<double>(guard);
}

}  // namespace

void adam_step(const std::vector<AdamSlot>& slots, const Tensor& guard) {
  if (slots.empty()) return;
  const char* op = "cuda::adam_step";
  for (const AdamSlot& s : slots) {
    common_device(op, {&slots[0].w, &s.w, &s.g, &s.m, &s.v});
    check_f32(op, s.w, s.w, "a weight");
    check_f32(op, s.g, s.w, "a gradient");
    check_f32(op, s.m, s.w, "exp_avg");
    check_f32(op, s.v, s.w, "exp_avg_sq");
    MRNN_CHECK(s.begin >= 0 && s.begin <= s.w.numel(), "{}: begin {} outside [0, {}]", op, s.begin, s.w.numel());
  }
  Launch l(slots[0].w);
  const double* gp = guard_ptr(op, guard, l.device);
  launch_tables<AdamEntry>(
      slots,
      [](const AdamSlot& s) {
        return AdamEntry{ptr<float>(s.w), ptr<float>(s.m), ptr<float>(s.v), ptr<float>(s.g), s.begin, s.w.numel(), s.s};
      },
      [&](const Table<AdamEntry>& t, int64_t chunks) {
        adam_kernel<<<grid_for_chunks(chunks, l.device), kThreads, 0, l.stream>>>(t, gp);
        MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
      });
}

void sgd_step(const std::vector<SgdSlot>& slots, float momentum, const Tensor& guard) {
  if (slots.empty()) return;
  const char* op = "cuda::sgd_step";
  for (const SgdSlot& s : slots) {
    common_device(op, {&slots[0].w, &s.w, &s.g, &s.v});
    check_f32(op, s.w, s.w, "a weight");
    check_f32(op, s.g, s.w, "a gradient");
    check_f32(op, s.v, s.w, "a velocity");
    MRNN_CHECK(s.begin >= 0 && s.begin <= s.w.numel(), "{}: begin {} outside [0, {}]", op, s.begin, s.w.numel());
  }
  Launch l(slots[0].w);
  const double* gp = guard_ptr(op, guard, l.device);
  launch_tables<SgdEntry>(
      slots,
      [](const SgdSlot& s) {
        return SgdEntry{ptr<float>(s.w), ptr<float>(s.v), ptr<float>(s.g), s.begin, s.w.numel(), s.lr, s.wd};
      },
      [&](const Table<SgdEntry>& t, int64_t chunks) {
        sgd_kernel<<<grid_for_chunks(chunks, l.device), kThreads, 0, l.stream>>>(t, momentum, gp);
        MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
      });
}

namespace {
void check_sum_inputs(const char* op, const std::vector<Tensor>& xs, const Tensor& out) {
  for (const Tensor& x : xs) {
    common_device(op, {&out, &x});
    check_f32(op, x, x, "a gradient");
  }
  MRNN_CHECK(out.dtype() == DType::F64 && out.numel() == 1 && out.device().is_cuda(),
             "{}: the result must be one f64 value on a GPU, got {}", op, out.desc());
}
SumEntry sum_entry(const Tensor& x) { return SumEntry{ptr<float>(x), 0, x.numel()}; }
}  // namespace

void grad_sum_squares(const std::vector<Tensor>& xs, const Tensor& out) {
  const char* op = "cuda::grad_sum_squares";
  check_sum_inputs(op, xs, out);
  Launch l(out);
  int64_t chunks = 0;
  for (const Tensor& x : xs) chunks += (x.numel() + kChunk - 1) / kChunk;
  if (chunks == 0) {
    fill(out, 0.0);
    return;
  }
  // One partial per chunk of every launch, in table order: the final sum's order is fixed.
  Tensor partial = Tensor::empty({chunks}, DType::F64, out.device());
  double* pp = ptr<double>(partial);
  int64_t first = 0;
  launch_tables<SumEntry>(xs, sum_entry, [&](const Table<SumEntry>& t, int64_t n) {
    sum_squares_kernel<<<grid_for_chunks(n, l.device), kThreads, 0, l.stream>>>(t, pp + first);
    MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
    first += n;
  });
  sum_partials_kernel<<<1, kThreads, 0, l.stream>>>(pp, first, ptr<double>(out));
  MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
}

void clip_by_sum_squares(const std::vector<Tensor>& xs, const Tensor& sumsq, double max_norm) {
  const char* op = "cuda::clip_by_sum_squares";
  check_sum_inputs(op, xs, sumsq);
  if (!(max_norm > 0) || xs.empty()) return;
  Launch l(sumsq);
  const double* sp = ptr<double>(sumsq);
  launch_tables<SumEntry>(xs, sum_entry, [&](const Table<SumEntry>& t, int64_t n) {
    clip_kernel<<<grid_for_chunks(n, l.device), kThreads, 0, l.stream>>>(t, sp, max_norm);
    MRNN_CUDA_CHECK_LAUNCH(op, l.stream);
  });
}

}  // namespace mrnn::cuda
