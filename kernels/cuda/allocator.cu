// The caching allocator's CUDA glue: one CachingAllocator (its policy is plain C++,
// kernels/cuda/caching_allocator.cpp) per device backed by cudaMalloc/cudaFree and CUDA events,
// registered as the CUDA backend's allocate/deallocate (core/device_backend.h); the allocator of a
// device is created on its first allocation, with max_split_size from MRNN_CUDA_MAX_SPLIT_SIZE_MB.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/device.h"

#include "core/device_backend.h"

namespace mrnn::cuda {

// ---------------- CUDA glue ----------------

namespace {

constexpr int kMaxDevices = 64;

struct DeviceAllocators {
  std::mutex mu;
  std::unique_ptr<CachingAllocator> per_device[kMaxDevices];
};

// Never destroyed: tensors may be freed during static teardown, after the CUDA runtime is gone.
DeviceAllocators& allocators() {
  static DeviceAllocators* a = new DeviceAllocators();
  return *a;
}

std::string fmt_bytes(size_t b) {
  if (b >= (size_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1 << 30));
  if (b >= (size_t{1} << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(b) / (1 << 20));
  return fmt::format("{} bytes", b);
}

// max_split_size for allocators created from now on: set_max_split_size() if it was called,
// else MRNN_CUDA_MAX_SPLIT_SIZE_MB (read once; a bad value raises its error at the first
// allocation), else the default.
std::mutex g_split_mu;
size_t g_split_set = 0;  // 0: not set by set_max_split_size
size_t max_split_setting() {
  std::lock_guard<std::mutex> lock(g_split_mu);
  if (g_split_set) return g_split_set;
  return CachingAllocator::parse_max_split_size_mb(std::getenv("MRNN_CUDA_MAX_SPLIT_SIZE_MB"));
}

CachingAllocator& allocator_for(int device) {
  check_device(device);
  MRNN_CHECK(device < kMaxDevices, "cuda allocator: device {} beyond the supported {}", device, kMaxDevices);
  DeviceAllocators& a = allocators();
  std::lock_guard<std::mutex> lock(a.mu);
  if (!a.per_device[device]) {
    RawMemory raw;
    raw.alloc = [device](size_t bytes) -> void* {
      DeviceGuard g(device);
      void* p = nullptr;
      cudaError_t e = cudaMalloc(&p, bytes);
      if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // clear the sticky-free error so later calls are not blamed
        return nullptr;
      }
      MRNN_CUDA_CHECK(e);
      return p;
    };
    raw.free = [device](void* p) {
      DeviceGuard g(device);
      // The segment may still be in use by queued kernels: cudaFree synchronizes the device.
      MRNN_CUDA_CHECK(cudaFree(p));
    };
    // record_stream's events: timing off (cheaper), one per (freed block, other stream).
    raw.record_event = [device](uintptr_t stream) -> uintptr_t {
      DeviceGuard g(device);
      cudaEvent_t e = nullptr;
      MRNN_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      MRNN_CUDA_CHECK(cudaEventRecord(e, reinterpret_cast<cudaStream_t>(stream)));
      return reinterpret_cast<uintptr_t>(e);
    };
    raw.event_done = [device](uintptr_t e) {
      DeviceGuard g(device);
      const cudaError_t r = cudaEventQuery(reinterpret_cast<cudaEvent_t>(e));
      if (r == cudaErrorNotReady) {
        if (cudaPeekAtLastError() == cudaErrorNotReady) cudaGetLastError();  // not an error: clear it
        return false;
      }
      MRNN_CUDA_CHECK(r);
      return true;
    };
    raw.wait_event = [device](uintptr_t e) {
      DeviceGuard g(device);
      MRNN_CUDA_CHECK(cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(e)));
    };
    raw.destroy_event = [device](uintptr_t e) {
      DeviceGuard g(device);
      cudaEventDestroy(reinterpret_cast<cudaEvent_t>(e));
    };
    a.per_device[device] = std::make_unique<CachingAllocator>(std::move(raw), max_split_setting());
  }
  return *a.per_device[device];
}

CachingAllocator* existing_allocator(int device) {
  if (device < 0 || device >= kMaxDevices) return nullptr;
  DeviceAllocators& a = allocators();
  std::lock_guard<std::mutex> lock(a.mu);
  return a.per_device[device].get();
}

// MRNN_CUDA_NO_CACHING=1: every allocation is its own cudaMalloc and every release a cudaFree, so
// compute-sanitizer's memcheck sees each tensor's real bounds (inside a cached segment an overrun
// lands in a neighbour's block and goes unseen). Read once: every allocation of a process takes
// the same path. The allocator's statistics stay zero in this mode.
bool no_caching() {
  static const bool on = [] {
    const char* v = std::getenv("MRNN_CUDA_NO_CACHING");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

void* uncached_allocate(size_t bytes, int device) {
  check_device(device);
  DeviceGuard g(device);
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    MRNN_FAIL("CUDA out of memory on cuda:{}: asked for {} bytes (MRNN_CUDA_NO_CACHING is set: no cache to release)",
              device, bytes);
  }
  MRNN_CUDA_CHECK(e);
  if (poison_allocations()) MRNN_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, bytes, stream_of(device)));
  return p;
}

void* hook_allocate(size_t bytes, int device) {
  if (no_caching()) return uncached_allocate(bytes, device);
  CachingAllocator& alloc = allocator_for(device);
  cudaStream_t stream = stream_of(device);
  void* p = alloc.allocate(bytes, reinterpret_cast<uintptr_t>(stream));
  if (!p) {
    AllocatorStats s = alloc.stats();
    size_t free_b = 0, total_b = 0;
    {
      DeviceGuard g(device);
      if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) cudaGetLastError();
    }
    MRNN_FAIL("CUDA out of memory on cuda:{}: asked for {} bytes ({} after rounding); the allocator holds {} in "
              "use and {} reserved ({} cached, already released and retried); the device reports {} free of {}",
              device, bytes, CachingAllocator::round_size(bytes), fmt_bytes(s.bytes_in_use),
              fmt_bytes(s.bytes_reserved), fmt_bytes(s.bytes_reserved - s.bytes_in_use), fmt_bytes(free_b),
              fmt_bytes(total_b));
  }
  if (poison_allocations()) {
    DeviceGuard g(device);
    MRNN_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, bytes, stream));
  }
  return p;
}

void hook_deallocate(void* p, size_t, int device) {
  if (no_caching()) {
    DeviceGuard g(device);
    MRNN_CUDA_CHECK(cudaFree(p));  // synchronizes: queued kernels that use p finish first
    return;
  }
  if (CachingAllocator* a = existing_allocator(device)) a->deallocate(p);
}

}  // namespace

namespace {
// Registration stores two function pointers; no CUDA call runs at load time.
DeviceBackend allocator_entries() {
  DeviceBackend b;
  b.allocate = hook_allocate;
  b.deallocate = hook_deallocate;
  return b;
}
const DeviceBackendRegistrar register_allocator(Device::Kind::CUDA, allocator_entries());
}  // namespace

void set_max_split_size(size_t bytes) {
  MRNN_CHECK(bytes >= CachingAllocator::kMinMaxSplit, "cuda::set_max_split_size: must be above {} MiB (got {} bytes)",
             CachingAllocator::kLargeSegment >> 20, bytes);
  {
    std::lock_guard<std::mutex> lock(g_split_mu);
    g_split_set = bytes;
  }
  for (int d = 0; d < kMaxDevices; ++d)
    if (CachingAllocator* a = existing_allocator(d)) a->set_max_split_size(bytes);
}

size_t max_split_size() { return max_split_setting(); }

void record_stream(const Tensor& t, const Stream& s) {
  MRNN_CHECK(t.device().is_cuda() && t.device().index == s.device(),
             "cuda::record_stream: expected a tensor on cuda:{} (the stream's device), got {}", s.device(), t.desc());
  if (!t.storage() || t.storage()->bytes() == 0 || no_caching()) return;  // nothing cached to protect
  allocator_for(s.device()).record_stream(t.storage()->data(), reinterpret_cast<uintptr_t>(s.handle()));
}

void allocator_retire_stream(int device, cudaStream_t stream) noexcept {
  try {
    // The legacy default stream (handle 0) inherits: it is ordered with every stream we create.
    if (CachingAllocator* a = existing_allocator(device)) a->retire_stream(reinterpret_cast<uintptr_t>(stream), 0);
  } catch (...) {  // (only std::bad_alloc is possible) the stream's cache stays stranded, nothing worse
  }
}

AllocatorStats memory_stats(int device) {
  CachingAllocator* a = existing_allocator(device);
  return a ? a->stats() : AllocatorStats{};
}

void reset_peak_memory(int device) {
  if (CachingAllocator* a = existing_allocator(device)) a->reset_peak();
}

size_t cached_bytes(int device) {
  CachingAllocator* a = existing_allocator(device);
  return a ? a->cached_bytes() : 0;
}

void empty_cache() {
  for (int d = 0; d < kMaxDevices; ++d)
    if (CachingAllocator* a = existing_allocator(d)) a->empty_cache();
}

}  // namespace mrnn::cuda
