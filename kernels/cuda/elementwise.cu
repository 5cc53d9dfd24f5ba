// Elementwise ops, fill, dtype-converting copies (device<->device, host<->device) and dropout
// masks. One generic grid-stride kernel walks any strided/broadcast layout through Indexer and
// applies a small op struct; the per-element math is kernels/common's functors, as on the CPU.
#include <atomic>
#include <cstring>
#include <mutex>

#include "core/device_backend.h"
#include "core/strided.h"
#include "core/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/host_syncs.h"

namespace mrnn::cuda {

namespace {
std::atomic<uint64_t> g_host_syncs{0};  // kernels/cuda/host_syncs.h
void note_host_sync() { g_host_syncs.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

uint64_t host_sync_count() { return g_host_syncs.load(std::memory_order_relaxed); }

namespace {

template <int N, typename Op>
__global__ void __launch_bounds__(kThreads) strided_kernel(int64_t n, Indexer<N> ix, Op op) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    ix.offsets(i, off);
    op(off);
  }
}

// Runs op over `shape`, operand k addressed with strides[k]; queued on `like`'s device stream.
template <int N, typename Op>
void launch_strided(const char* name, const Tensor& like, const Shape& shape, const Shape* const (&strides)[N],
                    const Op& op) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  Launch l(like);
  const Indexer<N> ix = make_indexer<N>(shape, strides);
  strided_kernel<N, Op><<<grid_for(n, l.device), kThreads, 0, l.stream>>>(n, ix, op);
  MRNN_CUDA_CHECK_LAUNCH(name, l.stream);
}

// ---- op structs: operand 0 is always the output ----
template <typename F, typename T>
struct UnaryOp {
  T* out;
  const T* x;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = F::f(x[o[1]]); }
};

template <typename F, typename T>
struct UnaryBackOp {
  T* gx;
  const T *x, *y, *g;
  __device__ void operator()(const int64_t (&o)[4]) const { gx[o[0]] = F::df(x[o[1]], y[o[2]], g[o[3]]); }
};

template <typename F, typename T>
struct BinaryOp {
  T* out;
  const T *a, *b;
  __device__ void operator()(const int64_t (&o)[3]) const { out[o[0]] = F::f(a[o[1]], b[o[2]]); }
};

template <typename T>
struct AffineOp {
  T* out;
  const T* x;
  T m, a;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = x[o[1]] * m + a; }
};

template <typename T>
struct ClampOp {
  T* out;
  const T* x;
  T lo, hi;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = clamp_f<T>(x[o[1]], lo, hi); }
};

template <typename T>
struct ClampBackOp {
  T* gx;
  const T *x, *g;
  T lo, hi;
  __device__ void operator()(const int64_t (&o)[3]) const { gx[o[0]] = clamp_df<T>(x[o[1]], lo, hi, g[o[2]]); }
};

template <typename T>
struct WhereOp {
  T* out;
  const T *c, *a, *b;
  __device__ void operator()(const int64_t (&o)[4]) const { out[o[0]] = where_f<T>(c[o[1]], a[o[2]], b[o[3]]); }
};

template <typename T>
struct FillOp {
  T* out;
  T v;
  __device__ void operator()(const int64_t (&o)[1]) const { out[o[0]] = v; }
};

template <typename S, typename D>
struct ConvertOp {
  D* out;
  const S* x;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = static_cast<D>(x[o[1]]); }
};

__global__ void dropout_kernel_f32(float* m, int64_t n, uint64_t seed, uint64_t offset, float p, float keep) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    m[i] = uniform_from_word(philox_word(seed, offset + static_cast<uint64_t>(i))) >= p ? keep : 0.0f;
}

__global__ void dropout_kernel_f64(double* m, int64_t n, uint64_t seed, uint64_t offset, float p, double keep) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    m[i] = uniform_from_word(philox_word(seed, offset + static_cast<uint64_t>(i))) >= p ? keep : 0.0;
}

// Every tensor in `ts` on out's device, with out's shape and dtype (the per-element ops index all
// operands with one Indexer and one element type).
void check_like(const char* op, const Tensor& out, std::initializer_list<const Tensor*> ts) {
  common_device(op, {&out});
  for (const Tensor* t : ts) {
    common_device(op, {&out, t});
    MRNN_CHECK(t->shape() == out.shape() && t->dtype() == out.dtype(), "cuda::{}: operand {} does not match output {}",
               op, t->desc(), out.desc());
  }
}

}  // namespace

// ---------------- elementwise ops ----------------

void unary(UnaryKind k, const Tensor& x, const Tensor& out) {
  check_like("unary", out, {&x});
  dispatch_float(x.dtype(), "unary", [&](auto z) {
    using T = decltype(z);
    with_unary(k, [&](auto f) {
      using F = decltype(f);
      const Shape* st[2] = {&out.strides(), &x.strides()};
      launch_strided<2>("unary", out, out.shape(), st, UnaryOp<F, T>{ptr<T>(out), ptr<T>(x)});
    });
  });
}

void unary_backward(UnaryKind k, const Tensor& x, const Tensor& y, const Tensor& g, const Tensor& gx) {
  check_like("unary_backward", gx, {&x, &y, &g});
  dispatch_float(x.dtype(), "unary_backward", [&](auto z) {
    using T = decltype(z);
    with_unary(k, [&](auto f) {
      using F = decltype(f);
      const Shape* st[4] = {&gx.strides(), &x.strides(), &y.strides(), &g.strides()};
      launch_strided<4>("unary_backward", gx, gx.shape(), st,
                        UnaryBackOp<F, T>{ptr<T>(gx), ptr<T>(x), ptr<T>(y), ptr<T>(g)});
    });
  });
}

void binary(BinaryKind k, const Tensor& a, const Tensor& b, const Tensor& out) {
  common_device("binary", {&a, &b, &out});
  check_same_dtype("cuda::binary", {&a, &b, &out});
  const Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  dispatch_float(a.dtype(), "binary", [&](auto z) {
    using T = decltype(z);
    with_binary(k, [&](auto f) {
      using F = decltype(f);
      const Shape* st[3] = {&out.strides(), &sa, &sb};
      launch_strided<3>("binary", out, out.shape(), st, BinaryOp<F, T>{ptr<T>(out), ptr<T>(a), ptr<T>(b)});
    });
  });
}

void affine(const Tensor& x, double mul, double add, const Tensor& out) {
  check_like("affine", out, {&x});
  dispatch_float(x.dtype(), "affine", [&](auto z) {
    using T = decltype(z);
    const Shape* st[2] = {&out.strides(), &x.strides()};
    launch_strided<2>("affine", out, out.shape(), st,
                      AffineOp<T>{ptr<T>(out), ptr<T>(x), static_cast<T>(mul), static_cast<T>(add)});
  });
}

void clamp(const Tensor& x, double lo, double hi, const Tensor& out) {
  check_like("clamp", out, {&x});
  dispatch_float(x.dtype(), "clamp", [&](auto z) {
    using T = decltype(z);
    const Shape* st[2] = {&out.strides(), &x.strides()};
    launch_strided<2>("clamp", out, out.shape(), st, ClampOp<T>{ptr<T>(out), ptr<T>(x), T(lo), T(hi)});
  });
}

void clamp_backward(const Tensor& x, double lo, double hi, const Tensor& g, const Tensor& gx) {
  check_like("clamp_backward", gx, {&x, &g});
  dispatch_float(x.dtype(), "clamp_backward", [&](auto z) {
    using T = decltype(z);
    const Shape* st[3] = {&gx.strides(), &x.strides(), &g.strides()};
    launch_strided<3>("clamp_backward", gx, gx.shape(), st,
                      ClampBackOp<T>{ptr<T>(gx), ptr<T>(x), ptr<T>(g), T(lo), T(hi)});
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  common_device("where", {&cond, &a, &b, &out});
  check_same_dtype("cuda::where", {&cond, &a, &b, &out});
  const Shape sc = broadcast_strides(cond.shape(), cond.strides(), out.shape());
  const Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  dispatch_float(a.dtype(), "where", [&](auto z) {
    using T = decltype(z);
    const Shape* st[4] = {&out.strides(), &sc, &sa, &sb};
    launch_strided<4>("where", out, out.shape(), st, WhereOp<T>{ptr<T>(out), ptr<T>(cond), ptr<T>(a), ptr<T>(b)});
  });
}

void dropout_mask(uint64_t seed, uint64_t offset, double p, const Tensor& mask) {
  common_device("dropout_mask", {&mask});
  MRNN_CHECK(mask.is_contiguous(), "cuda::dropout_mask: mask {} must be contiguous", mask.desc());
  const int64_t n = mask.numel();
  if (n == 0) return;
  Launch l(mask);
  const float pf = static_cast<float>(p);
  if (mask.dtype() == DType::F32) {
    dropout_kernel_f32<<<grid_for(n, l.device), kThreads, 0, l.stream>>>(ptr<float>(mask), n, seed, offset, pf,
                                                                          static_cast<float>(1.0 / (1.0 - p)));
  } else {
    MRNN_CHECK(mask.dtype() == DType::F64, "dropout: expected a floating-point tensor, got {}", mask.desc());
    dropout_kernel_f64<<<grid_for(n, l.device), kThreads, 0, l.stream>>>(ptr<double>(mask), n, seed, offset, pf,
                                                                          1.0 / (1.0 - p));
  }
  MRNN_CUDA_CHECK_LAUNCH("dropout_mask", l.stream);
}

// ---------------- fill and copies ----------------

void fill(const Tensor& t, double value) {
  common_device("fill", {&t});
  dispatch_all(t.dtype(), "fill_", [&](auto z) {
    using T = decltype(z);
    const Shape* st[1] = {&t.strides()};
    launch_strided<1>("fill", t, t.shape(), st, FillOp<T>{ptr<T>(t), static_cast<T>(value)});
  });
}

namespace {

// Same device, equal shapes, any layouts and dtypes.
void copy_on_device(const Tensor& src, const Tensor& dst) {
  dispatch_all(src.dtype(), "copy", [&](auto s) {
    using S = decltype(s);
    dispatch_all(dst.dtype(), "copy", [&](auto d) {
      using D = decltype(d);
      const Shape* st[2] = {&dst.strides(), &src.strides()};
      launch_strided<2>("copy", dst, dst.shape(), st, ConvertOp<S, D>{ptr<D>(dst), ptr<S>(src)});
    });
  });
}

// Host<->device transfers: below kDirect bytes one cudaMemcpyAsync from/to pageable memory; above,
// chunks pipelined through two pinned buffers (the host memcpy of one chunk overlaps the DMA of
// the other). The buffers are process-wide and copies through them are serialized.
constexpr size_t kDirect = size_t{1} << 20;
constexpr size_t kChunk = size_t{8} << 20;

struct Staging {
  std::mutex mu;
  void* buf[2] = {nullptr, nullptr};
};

Staging& staging() {
  static Staging* s = new Staging();  // never destroyed, like the allocator
  return *s;
}

// A timing-free event for pipelining, destroyed at scope exit.
struct SyncEvent {
  cudaEvent_t e = nullptr;
  SyncEvent() { MRNN_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming)); }
  ~SyncEvent() { cudaEventDestroy(e); }
  SyncEvent(const SyncEvent&) = delete;
  SyncEvent& operator=(const SyncEvent&) = delete;
};

// Waits for `stream` when it goes out of scope, also when an error unwinds the transfer, so no DMA
// still reads or writes a staging buffer once the lock on it is released. Never throws.
struct DrainOnExit {
  cudaStream_t stream;
  ~DrainOnExit() {
    if (cudaStreamSynchronize(stream) != cudaSuccess) cudaGetLastError();
  }
};

void ensure_staging(Staging& s) {
  for (void*& b : s.buf)
    if (!b) MRNN_CUDA_CHECK(cudaHostAlloc(&b, kChunk, cudaHostAllocPortable));
}

void upload(const void* host, void* dev, size_t bytes, int device) {
  DeviceGuard g(device);
  cudaStream_t stream = stream_of(device);
  if (bytes < kDirect) {
    // From pageable memory the call returns once the source has been staged by the driver.
    MRNN_CUDA_CHECK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream));
    return;
  }
  Staging& s = staging();
  std::lock_guard<std::mutex> lock(s.mu);
  ensure_staging(s);
  SyncEvent done[2];
  DrainOnExit drain{stream};  // declared after the events: runs before they are destroyed
  bool used[2] = {false, false};
  for (size_t off = 0, k = 0; off < bytes; off += kChunk, ++k) {
    const size_t len = std::min(kChunk, bytes - off);
    const int b = static_cast<int>(k & 1);
    if (used[b]) MRNN_CUDA_CHECK(cudaEventSynchronize(done[b].e));  // its previous DMA has finished
    std::memcpy(s.buf[b], static_cast<const char*>(host) + off, len);
    MRNN_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dev) + off, s.buf[b], len, cudaMemcpyHostToDevice, stream));
    MRNN_CUDA_CHECK(cudaEventRecord(done[b].e, stream));
    used[b] = true;
  }
  MRNN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the staging buffers are free again
  note_host_sync();
}

void download(const void* dev, void* host, size_t bytes, int device) {
  note_host_sync();  // one wait for the stream, however many chunks
  DeviceGuard g(device);
  cudaStream_t stream = stream_of(device);
  if (bytes < kDirect) {
    MRNN_CUDA_CHECK(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream));
    MRNN_CUDA_CHECK(cudaStreamSynchronize(stream));
    return;
  }
  Staging& s = staging();
  std::lock_guard<std::mutex> lock(s.mu);
  ensure_staging(s);
  SyncEvent done[2];
  DrainOnExit drain{stream};
  const size_t chunks = (bytes + kChunk - 1) / kChunk;
  auto issue = [&](size_t k) {
    const size_t off = k * kChunk, len = std::min(kChunk, bytes - off);
    MRNN_CUDA_CHECK(cudaMemcpyAsync(s.buf[k & 1], static_cast<const char*>(dev) + off, len, cudaMemcpyDeviceToHost,
                                    stream));
    MRNN_CUDA_CHECK(cudaEventRecord(done[k & 1].e, stream));
  };
  issue(0);
  if (chunks > 1) issue(1);
  for (size_t k = 0; k < chunks; ++k) {
    const size_t off = k * kChunk, len = std::min(kChunk, bytes - off);
    MRNN_CUDA_CHECK(cudaEventSynchronize(done[k & 1].e));
    std::memcpy(static_cast<char*>(host) + off, s.buf[k & 1], len);
    if (k + 2 < chunks) issue(k + 2);
  }
}

size_t nbytes(const Tensor& t) { return static_cast<size_t>(t.numel()) * dtype_size(t.dtype()); }

}  // namespace

void copy(const Tensor& src, const Tensor& dst) {
  MRNN_CHECK(src.shape() == dst.shape(), "copy: source {} and destination {} differ in shape", src.desc(), dst.desc());
  if (src.numel() == 0) return;
  const bool from_cuda = src.device().is_cuda(), to_cuda = dst.device().is_cuda();
  MRNN_CHECK(from_cuda || to_cuda, "cuda::copy: neither {} nor {} is a CUDA tensor", src.desc(), dst.desc());
  const Tensor s0 = src.detach();
  if (from_cuda && to_cuda && src.device() == dst.device()) {
    copy_on_device(s0, dst);
    return;
  }
  if (!from_cuda) {  // host -> device: convert and pack on the host, then one transfer
    Tensor s = s0.to(dst.dtype()).contiguous();
    Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
    upload(s.raw_data(), d.raw_data(), nbytes(s), dst.device().index);
    if (!dst.is_contiguous()) copy_on_device(d, dst);
    return;
  }
  if (!to_cuda) {  // device -> host: pack on the device, one transfer, convert on the host
    Tensor s = s0.contiguous();
    if (dst.is_contiguous() && dst.dtype() == src.dtype()) {
      download(s.raw_data(), dst.raw_data(), nbytes(s), src.device().index);
      return;
    }
    Tensor h = Tensor::empty(src.shape(), src.dtype(), Device::cpu());
    download(s.raw_data(), h.raw_data(), nbytes(s), src.device().index);
    Tensor d = dst;
    d.copy_(h);
    return;
  }
  // Between two GPUs: pack on the source, wait for it, peer copy on the destination's stream.
  note_host_sync();
  Tensor s = s0.to(dst.dtype()).contiguous();
  {
    DeviceGuard g(src.device().index);
    MRNN_CUDA_CHECK(cudaStreamSynchronize(stream_of(src.device().index)));
  }
  Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
  {
    DeviceGuard g(dst.device().index);
    cudaStream_t stream = stream_of(dst.device().index);
    MRNN_CUDA_CHECK(cudaMemcpyPeerAsync(d.raw_data(), dst.device().index, s.raw_data(), src.device().index, nbytes(s),
                                        stream));
    MRNN_CUDA_CHECK(cudaStreamSynchronize(stream));  // `s` may be reused on its own device after return
  }
  if (!dst.is_contiguous()) copy_on_device(d, dst);
}

// core reaches these through the CUDA backend's entries (core/device_backend.h).
namespace {
// dst += src: the strided binary kernel reads dst[i] and writes dst[i] in the same thread.
void accumulate(const Tensor& dst, const Tensor& src) { binary(BinaryKind::Add, dst, src, dst); }

DeviceBackend tensor_entries() {
  DeviceBackend b;
  b.copy = copy;
  b.fill = fill;
  b.accumulate = accumulate;
  return b;
}
const DeviceBackendRegistrar register_tensor_entries(Device::Kind::CUDA, tensor_entries());
}  // namespace

}  // namespace mrnn::cuda
