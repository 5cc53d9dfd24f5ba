// The policy of the CUDA caching allocator, separated from CUDA so it is built and tested in every
// build (kernels/cuda/caching_allocator.cpp is plain C++; tests/cuda_policy/ drives it with host
// memory and fake events). Why: cudaMalloc/cudaFree synchronize the device and cost tens of
// microseconds; a training step frees and re-requests the same sizes every iteration, so blocks
// are cached per stream, carved out of larger segments, split on demand and merged again when
// freed. The steady state of a loop then makes no driver calls at all, and the statistics prove it.
//
// Sizes round up to 512 bytes. Requests up to 1 MiB come from 2 MiB segments ("small pool");
// larger ones from 20 MiB segments (requests under 10 MiB) or from a segment of their own size
// rounded to 2 MiB ("large pool"). A cached block is reused only by the stream it was allocated
// on, best fit first; a block larger than needed is split (small pool: when >= 512 bytes remain;
// large pool: when > 1 MiB remains) and freed neighbours in a segment merge back together.
//
// Splitting is capped (max_split_size, as PyTorch's allocator has): a cached block of at least
// max_split_size bytes is never split, requests below the cap never take such a block, and a
// request at or above the cap takes a cached block only if it wastes less than kOversizeSlack.
// So one huge free block cannot be cut into ever smaller pieces that nothing can reuse.
//
// Streams: a block belongs to the stream that was current when it was allocated and returns to
// that stream's cache when freed. If other streams used it, record_stream() names them; the free
// then waits (without blocking the host) for events recorded on those streams before the block can
// be handed out again. retire_stream() hands a destroyed stream's blocks to another stream, so its
// cache is not stranded under a handle that never comes back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"  // AllocatorStats

namespace mrnn::cuda {

// Where segments come from, and the stream events record_stream needs.
struct RawMemory {
  // Returns nullptr when the memory is exhausted.
  std::function<void*(size_t bytes)> alloc;
  std::function<void(void* p)> free;
  // Optional (record_stream refuses to work without them): record an event on `stream` and
  // return it as a token; whether it has completed; block the host until it has; destroy it.
  std::function<uintptr_t(uintptr_t stream)> record_event;
  std::function<bool(uintptr_t event)> event_done;
  std::function<void(uintptr_t event)> wait_event;
  std::function<void(uintptr_t event)> destroy_event;
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512;                 // every size is a multiple of this
  static constexpr size_t kSmallLimit = 1 << 20;        // requests up to this use the small pool
  static constexpr size_t kSmallSegment = 2 << 20;      // segment size of the small pool
  static constexpr size_t kMidLimit = 10 << 20;         // large requests under this share...
  static constexpr size_t kLargeSegment = 20 << 20;     // ...segments of this size
  static constexpr size_t kLargeRound = 2 << 20;        // bigger requests: own segment, this multiple
  // max_split_size: the default, and the smallest allowed (a shared 20 MiB segment must stay
  // splittable); kNoSplitCap turns the cap off.
  static constexpr size_t kDefaultMaxSplit = size_t{256} << 20;
  static constexpr size_t kMinMaxSplit = kLargeSegment + kRound;
  static constexpr size_t kNoSplitCap = ~size_t{0};
  static constexpr size_t kOversizeSlack = 20 << 20;    // waste allowed when reusing an uncut block

  explicit CachingAllocator(RawMemory raw, size_t max_split_size = kDefaultMaxSplit);
  ~CachingAllocator();  // releases every segment (blocks still handed out become dangling)
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Requires: bytes > 0. Ensures: a block of at least `bytes` usable by `stream` (an opaque key),
  // or nullptr when the raw memory is exhausted even after releasing the whole cache (and waiting
  // for blocks whose free waits on other streams).
  void* allocate(size_t bytes, uintptr_t stream);
  // Requires: p came from allocate() and was not freed since; throws mrnn::Error otherwise.
  // The block returns to its stream's cache (merged with free neighbours); no raw free happens.
  // If record_stream() named other streams, it returns only once events recorded now on each of
  // them have completed (checked at later allocate/empty_cache calls; the host never blocks here).
  void deallocate(void* p);
  // Requires: p is a live block (the start of an allocation) and the RawMemory has the event
  // functions; throws mrnn::Error otherwise. Ensures: the block is not reused until the work
  // queued on `stream` up to its free has finished. A no-op for the block's own stream.
  void record_stream(void* p, uintptr_t stream);
  // Requires: all work queued on `dead` has finished (the caller synchronized it) and `dead` will
  // not be used again. Ensures: every block of `dead` (cached or live) belongs to `heir` from now
  // on, and `dead` is forgotten by record_stream lists.
  void retire_stream(uintptr_t dead, uintptr_t heir);
  // Releases every segment that is wholly free to the raw memory.
  void empty_cache();

  // Requires: bytes >= kMinMaxSplit (or kNoSplitCap); throws mrnn::Error otherwise. Applies to
  // later requests; blocks already split stay as they are.
  void set_max_split_size(size_t bytes);
  size_t max_split_size() const;

  AllocatorStats stats() const;
  void reset_peak();
  size_t cached_bytes() const;     // bytes_reserved - bytes_in_use
  uint64_t raw_frees() const;      // segments given back so far
  size_t pending_frees() const;    // freed blocks still waiting on other streams' events

  // The size a request of `bytes` is rounded to.
  static size_t round_size(size_t bytes);
  // The segment size requested from the raw memory for a rounded request of `size` bytes.
  static size_t segment_size(size_t size);
  // The max_split_size an MRNN_CUDA_MAX_SPLIT_SIZE_MB value names: a whole number of MiB above
  // 20, or "unlimited"; null or empty gives the default. Throws mrnn::Error naming the variable,
  // the value and what is expected otherwise.
  static size_t parse_max_split_size_mb(const char* value);

 private:
  struct Block {
    char* ptr = nullptr;
    size_t size = 0;
    uintptr_t stream = 0;
    bool small = false;
    bool allocated = false;
    Block* prev = nullptr;  // neighbours inside the same segment
    Block* next = nullptr;
    std::vector<uintptr_t> uses;  // other streams that used it (record_stream)
  };
  struct BySize {  // free-list order: stream, then size (best fit), then address
    bool operator()(const Block* a, const Block* b) const;
  };
  using FreeList = std::set<Block*, BySize>;
  struct Pending {
    Block* block;
    std::vector<uintptr_t> events;
  };

  Block* find_free(FreeList& pool, size_t size, uintptr_t stream);
  Block* new_segment(size_t size, uintptr_t stream, bool small);
  void free_block(Block* b);      // back into its pool, merged; requires mu_ held
  void process_pending(bool wait);  // requires mu_ held
  void release_free_segments();   // requires mu_ held

  RawMemory raw_;
  size_t max_split_;
  mutable std::mutex mu_;
  FreeList small_free_, large_free_;
  std::unordered_map<char*, std::unique_ptr<Block>> blocks_;  // every block, by address
  std::vector<Pending> pending_;
  AllocatorStats st_;
  uint64_t raw_frees_ = 0;
};

}  // namespace mrnn::cuda
