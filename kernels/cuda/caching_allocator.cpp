// The CUDA caching allocator's policy (kernels/cuda/caching_allocator.h): plain C++, compiled in
// every build so that tests/cuda_policy/ runs it on any machine. The CUDA glue (cudaMalloc,
// events, the hooks core/storage.cpp calls) is kernels/cuda/allocator.cu.
#include "kernels/cuda/caching_allocator.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace mrnn::cuda {

bool CachingAllocator::BySize::operator()(const Block* a, const Block* b) const {
  if (a->stream != b->stream) return a->stream < b->stream;
  if (a->size != b->size) return a->size < b->size;
  return a->ptr < b->ptr;
}

CachingAllocator::CachingAllocator(RawMemory raw, size_t max_split_size) : raw_(std::move(raw)), max_split_(0) {
  set_max_split_size(max_split_size);
}

CachingAllocator::~CachingAllocator() {
  for (Pending& p : pending_)
    for (uintptr_t e : p.events) raw_.destroy_event(e);
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

size_t CachingAllocator::parse_max_split_size_mb(const char* value) {
  if (value == nullptr || *value == '\0') return kDefaultMaxSplit;
  if (std::strcmp(value, "unlimited") == 0) return kNoSplitCap;
  bool digits = std::strlen(value) <= 9;  // at most 999999999 MiB: no overflow below
  for (const char* c = value; *c && digits; ++c) digits = std::isdigit(static_cast<unsigned char>(*c)) != 0;
  const unsigned long long mib = digits ? std::strtoull(value, nullptr, 10) : 0;
  MRNN_CHECK(digits && mib > kLargeSegment >> 20,
             "MRNN_CUDA_MAX_SPLIT_SIZE_MB: expected a whole number of MiB above {} (cached blocks at least this "
             "large are never split), or 'unlimited', got '{}'",
             kLargeSegment >> 20, value);
  return static_cast<size_t>(mib) << 20;
}

void CachingAllocator::set_max_split_size(size_t bytes) {
  MRNN_CHECK(bytes >= kMinMaxSplit, "cuda allocator: max_split_size must be above {} MiB (got {} bytes)",
             kLargeSegment >> 20, bytes);
  std::lock_guard<std::mutex> lock(mu_);
  max_split_ = bytes;
}

size_t CachingAllocator::max_split_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_split_;
}

CachingAllocator::Block* CachingAllocator::find_free(FreeList& pool, size_t size, uintptr_t stream) {
  Block key;
  key.size = size;
  key.stream = stream;
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* b = *it;
  // The cap: below it, never an uncuttable block (every later one in this stream is larger still);
  // at or above it, an uncut block only if little of it is wasted.
  if (size < max_split_ && b->size >= max_split_) return nullptr;
  if (size >= max_split_ && b->size >= size + kOversizeSlack) return nullptr;
  pool.erase(it);
  return b;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t size, uintptr_t stream, bool small) {
  const size_t seg = segment_size(size);
  void* p = raw_.alloc(seg);
  if (!p) {  // wait for blocks whose free waits on other streams, give the cache back, try once more
    process_pending(true);
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
  if (!pending_.empty()) process_pending(false);
  FreeList& pool = small ? small_free_ : large_free_;
  Block* b = find_free(pool, size, stream);
  if (!b) {
    b = new_segment(size, stream, small);
    if (!b) return nullptr;
  }
  const size_t rest = b->size - size;
  if (small ? rest >= kRound : (size < max_split_ && rest > kSmallLimit)) {  // split: the tail stays cached
    auto tail = std::make_unique<Block>();
    tail->ptr = b->ptr + size;
    tail->size = rest;
    tail->stream = b->stream;
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
  for (const Pending& q : pending_)
    MRNN_CHECK(q.block != b, "cuda allocator: freeing {} twice (its first free still waits on other streams)", p);
  if (!b->uses.empty()) {  // other streams may still read or write it: free once their work is done
    Pending q{b, {}};
    for (uintptr_t s : b->uses) q.events.push_back(raw_.record_event(s));
    b->uses.clear();
    pending_.push_back(std::move(q));
    return;
  }
  free_block(b);
}

void CachingAllocator::free_block(Block* b) {
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

void CachingAllocator::process_pending(bool wait) {
  for (size_t i = 0; i < pending_.size();) {
    Pending& q = pending_[i];
    bool done = true;
    for (uintptr_t e : q.events) {
      if (wait) raw_.wait_event(e);
      done = done && (wait || raw_.event_done(e));
      if (!done) break;
    }
    if (!done) {
      ++i;
      continue;
    }
    for (uintptr_t e : q.events) raw_.destroy_event(e);
    Block* b = q.block;
    pending_[i] = std::move(pending_.back());
    pending_.pop_back();
    free_block(b);
  }
}

void CachingAllocator::record_stream(void* p, uintptr_t stream) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blocks_.find(static_cast<char*>(p));
  MRNN_CHECK(it != blocks_.end() && it->second->allocated,
             "cuda allocator: record_stream on {}, which is not the start of a live block of this allocator", p);
  MRNN_CHECK(raw_.record_event && raw_.event_done && raw_.wait_event && raw_.destroy_event,
             "cuda allocator: record_stream needs stream events, and this allocator's raw memory has none");
  Block* b = it->second.get();
  if (stream == b->stream) return;
  if (std::find(b->uses.begin(), b->uses.end(), stream) == b->uses.end()) b->uses.push_back(stream);
}

void CachingAllocator::retire_stream(uintptr_t dead, uintptr_t heir) {
  if (dead == heir) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [ptr, up] : blocks_) {
    Block* b = up.get();
    b->uses.erase(std::remove(b->uses.begin(), b->uses.end(), dead), b->uses.end());
    if (b->stream != dead) continue;
    if (!b->allocated) {
      FreeList& pool = b->small ? small_free_ : large_free_;
      pool.erase(b);  // the key changes: take it out first
      b->stream = heir;
      pool.insert(b);
    } else {
      b->stream = heir;
    }
    if (std::find(b->uses.begin(), b->uses.end(), heir) != b->uses.end())
      b->uses.erase(std::remove(b->uses.begin(), b->uses.end(), heir), b->uses.end());
  }
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
  if (!pending_.empty()) process_pending(false);
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

size_t CachingAllocator::pending_frees() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace mrnn::cuda
