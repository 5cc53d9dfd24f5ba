// The policy of the CUDA caching allocator, separated from CUDA so it can be tested anywhere.
// Why: cudaMalloc/cudaFree synchronize the device and cost tens of microseconds; a training step
// frees and re-requests the same sizes every iteration, so blocks are cached per stream, carved
// out of larger segments, split on demand and merged again when freed. The steady state of a loop
// then makes no driver calls at all, and the statistics prove it.
//
// Sizes round up to 512 bytes. Requests up to 1 MiB come from 2 MiB segments ("small pool");
// larger ones from 20 MiB segments (requests under 10 MiB) or from a segment of their own size
// rounded to 2 MiB ("large pool"). A cached block is reused only by the stream it was allocated
// on, best fit first; a block larger than needed is split (small pool: when >= 512 bytes remain;
// large pool: when > 1 MiB remains) and freed neighbours in a segment merge back together.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/allocator.h"  // AllocatorStats

namespace mrnn::cuda {

// Where segments come from: alloc returns nullptr when the memory is exhausted; free releases.
struct RawMemory {
  std::function<void*(size_t bytes)> alloc;
  std::function<void(void* p)> free;
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512;                 // every size is a multiple of this
  static constexpr size_t kSmallLimit = 1 << 20;        // requests up to this use the small pool
  static constexpr size_t kSmallSegment = 2 << 20;      // segment size of the small pool
  static constexpr size_t kMidLimit = 10 << 20;         // large requests under this share...
  static constexpr size_t kLargeSegment = 20 << 20;     // ...segments of this size
  static constexpr size_t kLargeRound = 2 << 20;        // bigger requests: own segment, this multiple

  explicit CachingAllocator(RawMemory raw);
  ~CachingAllocator();  // releases every segment (blocks still handed out become dangling)
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Requires: bytes > 0. Ensures: a block of at least `bytes` usable by `stream` (an opaque key),
  // or nullptr when the raw memory is exhausted even after releasing the whole cache.
  void* allocate(size_t bytes, uintptr_t stream);
  // Requires: p came from allocate() and was not freed since; throws mrnn::Error otherwise.
  // The block returns to its stream's cache (merged with free neighbours); no raw free happens.
  void deallocate(void* p);
  // Releases every segment that is wholly free to the raw memory.
  void empty_cache();

  AllocatorStats stats() const;
  void reset_peak();
  size_t cached_bytes() const;  // bytes_reserved - bytes_in_use
  uint64_t raw_frees() const;   // segments given back so far

  // The size a request of `bytes` is rounded to.
  static size_t round_size(size_t bytes);
  // The segment size requested from the raw memory for a rounded request of `size` bytes.
  static size_t segment_size(size_t size);

 private:
  struct Block {
    char* ptr = nullptr;
    size_t size = 0;
    uintptr_t stream = 0;
    bool small = false;
    bool allocated = false;
    Block* prev = nullptr;  // neighbours inside the same segment
    Block* next = nullptr;
  };
  struct BySize {  // free-list order: stream, then size (best fit), then address
    bool operator()(const Block* a, const Block* b) const;
  };
  using FreeList = std::set<Block*, BySize>;

  Block* find_free(FreeList& pool, size_t size, uintptr_t stream);
  Block* new_segment(size_t size, uintptr_t stream, bool small);
  void release_free_segments();  // requires mu_ held

  RawMemory raw_;
  mutable std::mutex mu_;
  FreeList small_free_, large_free_;
  std::unordered_map<char*, std::unique_ptr<Block>> blocks_;  // every block, by address
  AllocatorStats st_;
  uint64_t raw_frees_ = 0;
};

}  // namespace mrnn::cuda
