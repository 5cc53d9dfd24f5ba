#include "core/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.h"

namespace mrnn::cpu_allocator {
namespace {

struct State {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  AllocatorStats st;
};

State& state() {
  static State* s = new State();  // never destroyed: tensors may be freed during static teardown
  return *s;
}

}  // namespace

size_t size_class(size_t bytes) {
  if (bytes <= 512) return (bytes + 63) / 64 * 64;
  // 8 classes per power of two: round up to a multiple of 2^(floor(log2(bytes)) - 3).
  int lg = 63 - __builtin_clzll(static_cast<unsigned long long>(bytes));
  size_t step = size_t{1} << (lg - 3);
  return (bytes + step - 1) / step * step;
}

void* allocate(size_t bytes) {
  MRNN_CHECK(bytes > 0, "cpu allocator: zero-byte request");
  size_t cls = size_class(bytes);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.st.requests++;
  s.st.bytes_requested += cls;
  void* p = nullptr;
  auto it = s.free_blocks.find(cls);
  if (it != s.free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    p = std::aligned_alloc(64, cls);
    if (!p) {
      // Give the cache back and try once more before failing.
      for (auto& [c, v] : s.free_blocks)
        for (void* q : v) { std::free(q); s.st.bytes_reserved -= c; }
      s.free_blocks.clear();
      p = std::aligned_alloc(64, cls);
      MRNN_CHECK(p, "cpu allocator: out of memory asking for {} bytes ({} in use, {} reserved)", cls,
                 s.st.bytes_in_use, s.st.bytes_reserved);
    }
    s.st.system_allocs++;
    s.st.bytes_reserved += cls;
    if (s.st.bytes_reserved > s.st.peak_bytes_reserved) s.st.peak_bytes_reserved = s.st.bytes_reserved;
  }
  s.st.bytes_in_use += cls;
  if (s.st.bytes_in_use > s.st.peak_bytes_in_use) s.st.peak_bytes_in_use = s.st.bytes_in_use;
  return p;
}

void deallocate(void* p, size_t bytes) {
  if (!p) return;
  size_t cls = size_class(bytes);
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.st.bytes_in_use -= cls;
  s.free_blocks[cls].push_back(p);
}

AllocatorStats stats() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.st;
}

void reset_peak() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.st.peak_bytes_in_use = s.st.bytes_in_use;
  s.st.peak_bytes_reserved = s.st.bytes_reserved;
}

void empty_cache() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  for (auto& [cls, v] : s.free_blocks)
    for (void* q : v) { std::free(q); s.st.bytes_reserved -= cls; }
  s.free_blocks.clear();
}

}  // namespace mrnn::cpu_allocator
