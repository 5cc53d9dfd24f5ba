// Devices, streams, events, library handles, the backend's switches and the status checks.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/device_backend.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/device.h"

namespace mrnn::cuda {

// ---------------- status checks ----------------
namespace detail {

namespace {
[[noreturn]] void fail(const char* call, const char* file, int line, const std::string& what) {
  ::mrnn::detail::throw_error(file, line, nullptr, fmt::format("{} failed: {}", call, what));
}
}  // namespace

void check_status(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call is not blamed for it
  fail(call, file, line, fmt::format("{} ({})", cudaGetErrorName(status), cudaGetErrorString(status)));
}

void check_status(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail(call, file, line, fmt::format("cuBLAS status {} ({})", static_cast<int>(status), cublasGetStatusString(status)));
}

void check_status(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  fail(call, file, line, fmt::format("cuDNN status {} ({})", static_cast<int>(status), cudnnGetErrorString(status)));
}

namespace {
bool sync_after_launch() {
#ifndef NDEBUG
  return true;
#else
  static const bool on = [] {
    const char* v = std::getenv("MRNN_CUDA_SYNC_CHECK");
    return v && v[0] == '1';
  }();
  return on;
#endif
}
}  // namespace

void check_launch(const char* kernel, cudaStream_t stream, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    fail(kernel, file, line, fmt::format("launch error {} ({})", cudaGetErrorName(e), cudaGetErrorString(e)));
  if (sync_after_launch()) {
    e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess)
      fail(kernel, file, line, fmt::format("kernel fault {} ({})", cudaGetErrorName(e), cudaGetErrorString(e)));
  }
}

}  // namespace detail

// ---------------- devices ----------------
int device_count() {
  static const int n = [] {
    int c = 0;
    if (cudaGetDeviceCount(&c) != cudaSuccess) {
      cudaGetLastError();  // no driver / no device: the backend reports zero devices
      return 0;
    }
    return c;
  }();
  return n;
}

bool is_available() { return device_count() > 0; }

void check_device(int device) {
  const int n = device_count();
  MRNN_CHECK(device >= 0 && device < n, "cuda:{} requested but {}", device,
             n == 0 ? std::string("no CUDA device is visible (no GPU or no driver)")
                    : fmt::format("only {} CUDA device(s) are visible", n));
}

namespace {
DeviceBackend runtime_entries() {
  DeviceBackend b;
  b.check_device = check_device;
  return b;
}
const DeviceBackendRegistrar register_runtime(Device::Kind::CUDA, runtime_entries());
}  // namespace

std::string device_description(int device) {
  check_device(device);
  cudaDeviceProp p{};
  MRNN_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return fmt::format("{} (sm_{}{}, {} SMs, {:.1f} GiB)", p.name, p.major, p.minor, p.multiProcessorCount,
                     static_cast<double>(p.totalGlobalMem) / (1 << 30));
}

int sm_count(int device) {
  static std::mutex mu;
  static std::unordered_map<int, int> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(device);
  if (it != cache.end()) return it->second;
  int v = 0;
  MRNN_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, device));
  cache[device] = v;
  return v;
}

int common_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    MRNN_CHECK(t->device().is_cuda(), "cuda::{}: expected CUDA tensors, got {} (move it with .to())", op, t->desc());
    if (!first) first = t;
    MRNN_CHECK(t->device() == first->device(),
               "cuda::{}: inputs on different devices ({} and {}); move them with .to()", op, first->desc(), t->desc());
  }
  MRNN_CHECK(first, "cuda::{}: no defined tensor given", op);
  return first->device().index;
}

unsigned grid_dim(int64_t blocks, const char* what) {
  MRNN_CHECK(blocks >= 1 && blocks <= INT32_MAX, "cuda: {} needs {} blocks, outside CUDA's grid limit [1, 2^31)",
             what, blocks);
  return static_cast<unsigned>(blocks);
}

void synchronize(int device) {
  DeviceGuard g(device);
  MRNN_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceGuard::DeviceGuard(int device) {
  check_device(device);
  int cur = -1;
  MRNN_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != device) {
    MRNN_CUDA_CHECK(cudaSetDevice(device));
    previous_ = cur;
  }
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0) cudaSetDevice(previous_);  // destructors do not throw
}

// ---------------- streams ----------------
namespace {
thread_local std::unordered_map<int, cudaStream_t> t_current_stream;
}

void* current_stream(int device) {
  auto it = t_current_stream.find(device);
  return it == t_current_stream.end() ? nullptr : static_cast<void*>(it->second);
}

cudaStream_t stream_of(int device) { return static_cast<cudaStream_t>(current_stream(device)); }

Stream::Stream(int device) : device_(device) {
  DeviceGuard g(device);
  cudaStream_t s = nullptr;
  MRNN_CUDA_CHECK(cudaStreamCreate(&s));
  stream_ = s;
}

Stream::~Stream() {
  if (!stream_) return;
  int cur = -1;
  cudaGetDevice(&cur);
  cudaSetDevice(device_);
  // Wait for the queued work first: cudaStreamDestroy alone returns at once. Then the caching
  // allocator hands this stream's blocks to the default stream (a new stream may get the same
  // handle, and must not inherit them). Errors are ignored: destructors do not throw.
  cudaStreamSynchronize(static_cast<cudaStream_t>(stream_));
  allocator_retire_stream(device_, static_cast<cudaStream_t>(stream_));
  cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
  cudaGetLastError();
  if (cur >= 0) cudaSetDevice(cur);
}

Stream::Stream(Stream&& o) noexcept : device_(o.device_), stream_(o.stream_) { o.stream_ = nullptr; }

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    std::swap(device_, o.device_);
    std::swap(stream_, o.stream_);
  }
  return *this;
}

void Stream::synchronize() const {
  DeviceGuard g(device_);
  MRNN_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
}

StreamGuard::StreamGuard(const Stream& s) : device_(s.device()), previous_(current_stream(s.device())) {
  t_current_stream[device_] = static_cast<cudaStream_t>(s.handle());
}

StreamGuard::~StreamGuard() { t_current_stream[device_] = static_cast<cudaStream_t>(previous_); }

// ---------------- events ----------------
Event::Event(int device) : device_(device) {
  DeviceGuard g(device);
  cudaEvent_t e = nullptr;
  MRNN_CUDA_CHECK(cudaEventCreate(&e));
  event_ = e;
}

Event::~Event() {
  if (event_) cudaEventDestroy(static_cast<cudaEvent_t>(event_));
}

Event::Event(Event&& o) noexcept : device_(o.device_), event_(o.event_) { o.event_ = nullptr; }

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    std::swap(device_, o.device_);
    std::swap(event_, o.event_);
  }
  return *this;
}

void Event::record() {
  DeviceGuard g(device_);
  MRNN_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), stream_of(device_)));
}

void Event::record(const Stream& s) {
  MRNN_CHECK(s.device() == device_, "Event::record: event on cuda:{} but stream on cuda:{}", device_, s.device());
  DeviceGuard g(device_);
  MRNN_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), static_cast<cudaStream_t>(s.handle())));
}

void Event::synchronize() const { MRNN_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event_))); }

bool Event::ready() const {
  cudaError_t e = cudaEventQuery(static_cast<cudaEvent_t>(event_));
  if (e == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  MRNN_CUDA_CHECK(e);
  return true;
}

void Event::wait(const Stream& s) const {
  DeviceGuard g(s.device());
  MRNN_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(s.handle()), static_cast<cudaEvent_t>(event_), 0));
}

float Event::elapsed_ms(const Event& end) const {
  float ms = 0;
  MRNN_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(event_), static_cast<cudaEvent_t>(end.event_)));
  return ms;
}

// ---------------- library handles ----------------
namespace {
struct Handles {
  std::mutex mu;
  std::map<std::pair<int, cudaStream_t>, cublasHandle_t> blas;
  std::map<std::pair<int, cudaStream_t>, cudnnHandle_t> dnn;
};
Handles& handles() {
  static Handles* h = new Handles();  // never destroyed, see common.cuh
  return *h;
}
}  // namespace

cublasHandle_t blas_handle(int device, cudaStream_t stream) {
  Handles& h = handles();
  std::lock_guard<std::mutex> lock(h.mu);
  auto& slot = h.blas[{device, stream}];
  if (!slot) {
    DeviceGuard g(device);
    MRNN_CUDA_CHECK(cublasCreate(&slot));
    MRNN_CUDA_CHECK(cublasSetStream(slot, stream));
    MRNN_CUDA_CHECK(cublasSetPointerMode(slot, CUBLAS_POINTER_MODE_HOST));
  }
  return slot;
}

cudnnHandle_t dnn_handle(int device, cudaStream_t stream) {
  Handles& h = handles();
  std::lock_guard<std::mutex> lock(h.mu);
  auto& slot = h.dnn[{device, stream}];
  if (!slot) {
    DeviceGuard g(device);
    MRNN_CUDA_CHECK(cudnnCreate(&slot));
    MRNN_CUDA_CHECK(cudnnSetStream(slot, stream));
  }
  return slot;
}

// ---------------- switches ----------------
namespace {
std::atomic<bool> g_tf32{false};
std::atomic<bool> g_deterministic{true};
std::atomic<bool> g_poison{false};
}  // namespace

void set_allow_tf32(bool on) { g_tf32 = on; }
bool allow_tf32() { return g_tf32; }
void set_deterministic(bool on) { g_deterministic = on; }
bool deterministic() { return g_deterministic; }
void set_poison_allocations(bool on) { g_poison = on; }
bool poison_allocations() { return g_poison; }

}  // namespace mrnn::cuda
