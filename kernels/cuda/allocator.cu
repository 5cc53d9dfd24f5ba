// The caching allocator's policy (CachingAllocator) and its CUDA glue: one instance per device
// backed by cudaMalloc/cudaFree, registered as the CUDA backend's allocate/deallocate
// (core/device_backend.h); the allocator of a device is created on its first allocation.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/device.h"

#include "core/device_backend.h"

namespace mrnn::cuda {

// ---------------- policy ----------------

bool CachingAllocator::BySize::operator()(const Block* a, const Block* b) const {
  if (a->stream != b->stream) return a->stream < b->stream;
  if (a->size != b->size) return a->size < b->size;
  return a->ptr < b->ptr;
}

CachingAllocator::CachingAllocator(RawMemory raw) : raw_(std::move(raw)) {}

CachingAllocator::~CachingAllocator() {
  for (auto& [p, b] : blocks_)
    if (!b->prev) raw_.free(b->ptr);  // a segment starts at its first block
}

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes < kRound) return kRound;
  return (bytes + kRound - 1) / kRound * kRound;
}

size_t CachingAllocator::segment_size(size_t size) {
  if (size <= kSmallLimit) return kSmallSegment;
  if (size < kMidLimit) return kLargeSegment;
  return (size + kLargeRound - 1) / kLargeRound * kLargeRound;
}

CachingAllocator::Block* CachingAllocator::find_free(FreeList& pool, size_t size, uintptr_t stream) {
  Block key;
  key.size = size;
  key.stream = stream;
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* b = *it;
  pool.erase(it);
  return b;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t size, uintptr_t stream, bool small) {
  const size_t seg = segment_size(size);
  void* p = raw_.alloc(seg);
  if (!p) {  // give the cache back and try once more
    release_free_segments();
    p = raw_.alloc(seg);
    if (!p) return nullptr;
  }
  st_.system_allocs++;
  st_.bytes_reserved += seg;
  st_.peak_bytes_reserved = std::max(st_.peak_bytes_reserved, st_.bytes_reserved);
  auto b = std::make_unique<Block>();
  b->ptr = static_cast<char*>(p);
  b->size = seg;
  b->stream = stream;
  b->small = small;
  Block* raw = b.get();
  blocks_.emplace(raw->ptr, std::move(b));
  return raw;
}

void* CachingAllocator::allocate(size_t bytes, uintptr_t stream) {
  MRNN_CHECK(bytes > 0, "cuda allocator: zero-byte request");
  const size_t size = round_size(bytes);
  const bool small = size <= kSmallLimit;
  std::lock_guard<std::mutex> lock(mu_);
  st_.requests++;
  FreeList& pool = small ? small_free_ : large_free_;
  Block* b = find_free(pool, size, stream);
  if (!b) {
    b = new_segment(size, stream, small);
    if (!b) return nullptr;
  }
  const size_t rest = b->size - size;
  if (small ? rest >= kRound : rest > kSmallLimit) {  // split: the tail stays cached
    auto tail = std::make_unique<Block>();
    tail->ptr = b->ptr + size;
    tail->size = rest;
    tail->stream = stream;
    tail->small = small;
    tail->prev = b;
    tail->next = b->next;
    if (b->next) b->next->prev = tail.get();
    b->next = tail.get();
    b->size = size;
    pool.insert(tail.get());
    blocks_.emplace(tail->ptr, std::move(tail));
  }
  b->allocated = true;
  st_.bytes_in_use += b->size;
  st_.peak_bytes_in_use = std::max(st_.peak_bytes_in_use, st_.bytes_in_use);
  return b->ptr;
}

void CachingAllocator::deallocate(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blocks_.find(static_cast<char*>(p));
  MRNN_CHECK(it != blocks_.end() && it->second->allocated,
             "cuda allocator: freeing {} which is not a live block of this allocator", p);
  Block* b = it->second.get();
  b->allocated = false;
  st_.bytes_in_use -= b->size;
  FreeList& pool = b->small ? small_free_ : large_free_;
  // Merge with free neighbours (same segment, hence same stream and pool).
  if (Block* n = b->next; n && !n->allocated) {
    pool.erase(n);
    b->size += n->size;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    blocks_.erase(n->ptr);
  }
  if (Block* q = b->prev; q && !q->allocated) {
    pool.erase(q);
    q->size += b->size;
    q->next = b->next;
    if (b->next) b->next->prev = q;
    blocks_.erase(b->ptr);
    b = q;
  }
  pool.insert(b);
}

void CachingAllocator::release_free_segments() {
  for (FreeList* pool : {&small_free_, &large_free_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev || b->next) {  // part of a segment that still has live blocks
        ++it;
        continue;
      }
      it = pool->erase(it);
      raw_.free(b->ptr);
      st_.bytes_reserved -= b->size;
      raw_frees_++;
      blocks_.erase(b->ptr);
    }
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  release_free_segments();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  st_.peak_bytes_in_use = st_.bytes_in_use;
  st_.peak_bytes_reserved = st_.bytes_reserved;
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_.bytes_reserved - st_.bytes_in_use;
}

uint64_t CachingAllocator::raw_frees() const {
  std::lock_guard<std::mutex> lock(mu_);
  return raw_frees_;
}

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
    a.per_device[device] = std::make_unique<CachingAllocator>(std::move(raw));
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
