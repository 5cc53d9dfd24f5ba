// The CPU caching allocator. Why: a training step creates and frees the same set of tensor
// sizes every iteration; caching freed blocks by size class means the steady state makes no
// malloc/free calls at all, and the statistics prove it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mrnn {

struct AllocatorStats {
  size_t bytes_in_use = 0;      // handed out to live tensors (rounded to the size class)
  size_t peak_bytes_in_use = 0;
  size_t bytes_reserved = 0;    // in use + cached for reuse
  size_t peak_bytes_reserved = 0;
  uint64_t requests = 0;        // allocate() calls
  uint64_t bytes_requested = 0; // sum over allocate() calls of the size class handed out
  uint64_t system_allocs = 0;   // requests that had to go to the system (cache misses)
};

// Memory is 64-byte aligned. Thread-safe (data loaders allocate from other threads).
namespace cpu_allocator {
// Requires: bytes > 0. Ensures: a 64-byte aligned block of at least `bytes`; throws mrnn::Error
// with the size asked for and the bytes held when the system is out of memory.
void* allocate(size_t bytes);
// Requires: p came from allocate(bytes) with the same `bytes`. The block goes back to the cache.
void deallocate(void* p, size_t bytes);
// The size class `bytes` is rounded to (at most 12.5% larger).
size_t size_class(size_t bytes);
AllocatorStats stats();
// Resets the peak counters to the current values.
void reset_peak();
// Returns every cached (unused) block to the system.
void empty_cache();
}  // namespace cpu_allocator

}  // namespace mrnn
