// The CUDA caching allocator's policy (kernels/cuda/caching_allocator.h), driven with host memory
// standing in for cudaMalloc and counters standing in for CUDA events. Plain C++: built and run in
// every build, with or without the CUDA backend (tests/cuda/test_allocator.cpp checks the installed
// allocator on a GPU).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/caching_allocator.h"

using namespace mrnn;

namespace {

using cuda::CachingAllocator;

// Host memory as the raw source, with a budget so out-of-memory can be provoked, and a log of
// every raw call.
// Events are counters: recorded on a stream, done once the test completes that stream's work.
struct FakeDevice {
  size_t budget = size_t{1} << 40, held = 0;
  std::vector<size_t> allocs, frees;
  std::map<void*, size_t> live;
  struct FakeEvent {
    uintptr_t stream;
    bool done = false;
  };
  std::map<uintptr_t, FakeEvent> events;  // live events by token
  uintptr_t next_event = 100;
  int recorded = 0, waited = 0, destroyed = 0;
  void finish(uintptr_t stream) {  // the work queued on `stream` so far has run
    for (auto& [t, e] : events)
      if (e.stream == stream) e.done = true;
  }
  cuda::RawMemory raw(bool with_events = true) {
    cuda::RawMemory r{[this](size_t n) -> void* {
                        if (held + n > budget) return nullptr;
                        void* p = std::malloc(n);  // never touched: no resident memory
                        held += n;
                        allocs.push_back(n);
                        live[p] = n;
                        return p;
                      },
                      [this](void* p) {
                        held -= live.at(p);
                        frees.push_back(live.at(p));
                        live.erase(p);
                        std::free(p);
                      }};
    if (!with_events) return r;
    r.record_event = [this](uintptr_t stream) {
      ++recorded;
      events[next_event] = {stream};
      return next_event++;
    };
    r.event_done = [this](uintptr_t e) { return events.at(e).done; };
    r.wait_event = [this](uintptr_t e) {
      ++waited;
      events.at(e).done = true;
    };
    r.destroy_event = [this](uintptr_t e) {
      ++destroyed;
      REQUIRE(events.erase(e) == 1);
    };
    return r;
  }
};

constexpr uintptr_t kStreamA = 1, kStreamB = 2;
constexpr size_t MiB = size_t{1} << 20;

}  // namespace

TEST_CASE("allocator policy: sizes round to 512 bytes and pick the segment size by pool", "[allocator]") {
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::segment_size(512) == 2 * MiB);          // small pool
  CHECK(CachingAllocator::segment_size(MiB) == 2 * MiB);
  CHECK(CachingAllocator::segment_size(MiB + 512) == 20 * MiB);   // large, under 10 MiB: shared 20 MiB
  CHECK(CachingAllocator::segment_size(10 * MiB) == 10 * MiB);    // own segment, 2 MiB multiple
  CHECK(CachingAllocator::segment_size(11 * MiB) == 12 * MiB);
}

TEST_CASE("allocator policy: small blocks are carved from one 2 MiB segment, a steady loop allocates nothing",
          "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  char* p1 = static_cast<char*>(a.allocate(1000, kStreamA));
  char* p2 = static_cast<char*>(a.allocate(1000, kStreamA));
  char* p3 = static_cast<char*>(a.allocate(3000, kStreamA));
  CHECK(dev.allocs == std::vector<size_t>{2 * MiB});
  CHECK(p2 == p1 + 1024);  // split from the front of the remainder
  CHECK(p3 == p2 + 1024);
  AllocatorStats s = a.stats();
  CHECK(s.bytes_in_use == 1024 + 1024 + 3072);
  CHECK(s.bytes_reserved == 2 * MiB);
  CHECK(s.requests == 3);
  CHECK(s.system_allocs == 1);
  for (int it = 0; it < 100; ++it) {  // a "training step" that frees and re-requests its buffers
    a.deallocate(p2);
    a.deallocate(p3);
    p2 = static_cast<char*>(a.allocate(900, kStreamA));
    p3 = static_cast<char*>(a.allocate(2600, kStreamA));
  }
  CHECK(dev.allocs.size() == 1);
  CHECK(a.stats().system_allocs == 1);
  CHECK(a.stats().bytes_in_use == 1024 + 1024 + 3072);
  a.deallocate(p1);
  a.deallocate(p2);
  a.deallocate(p3);
  CHECK(a.stats().bytes_in_use == 0);
  CHECK(a.cached_bytes() == 2 * MiB);
}

TEST_CASE("allocator policy: freed neighbours merge and empty_cache releases whole free segments",
          "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  void* big1 = a.allocate(3 * MiB, kStreamA);  // large pool: one 20 MiB segment, split
  void* big2 = a.allocate(4 * MiB, kStreamA);
  CHECK(dev.allocs == std::vector<size_t>{20 * MiB});
  CHECK(static_cast<char*>(big2) == static_cast<char*>(big1) + 3 * MiB);
  a.deallocate(big1);
  a.empty_cache();  // big2 still lives in the segment: nothing can be released
  CHECK(dev.frees.empty());
  a.deallocate(big2);  // merges with big1's block and the tail: the segment is whole again
  void* whole = a.allocate(19 * MiB, kStreamA);  // only fits if the three pieces merged
  CHECK(whole == big1);
  CHECK(dev.allocs.size() == 1);
  a.deallocate(whole);
  a.empty_cache();
  CHECK(dev.frees == std::vector<size_t>{20 * MiB});
  CHECK(a.stats().bytes_reserved == 0);
  CHECK(a.stats().peak_bytes_reserved == 20 * MiB);
  CHECK(a.stats().peak_bytes_in_use == 20 * MiB);  // 1 MiB left over is too little to split off
  CHECK(a.raw_frees() == 1);
}

TEST_CASE("allocator policy: cached blocks are reused only by the stream that freed them", "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  void* p = a.allocate(MiB, kStreamA);
  a.deallocate(p);
  void* q = a.allocate(MiB, kStreamB);  // stream B may not get A's block: a kernel may still use it
  CHECK(q != p);
  CHECK(dev.allocs.size() == 2);
  void* r = a.allocate(MiB, kStreamA);
  CHECK(r == p);
  CHECK(dev.allocs.size() == 2);
  a.deallocate(q);
  a.deallocate(r);
}

TEST_CASE("allocator policy: out of memory releases the cache, retries, then reports nullptr", "[allocator]") {
  FakeDevice dev;
  dev.budget = 24 * MiB;
  CachingAllocator a(dev.raw());
  void* p = a.allocate(3 * MiB, kStreamA);  // 20 MiB segment
  a.deallocate(p);                          // cached, not returned
  void* q = a.allocate(16 * MiB, kStreamB);  // needs its own 16 MiB: only fits after the cache goes
  REQUIRE(q != nullptr);
  CHECK(dev.frees == std::vector<size_t>{20 * MiB});
  CHECK(a.allocate(16 * MiB, kStreamB) == nullptr);  // 32 MiB > budget even with an empty cache
  a.deallocate(q);
  CHECK_THROWS_WITH(a.deallocate(q), Catch::Contains("not a live block"));
  int on_stack = 0;
  CHECK_THROWS_WITH(a.deallocate(&on_stack), Catch::Contains("not a live block"));
}

// A long random run ("fake training") on two streams with sizes from all three pools and a memory
// budget, checking after every call what the allocator promises: every block lies inside a raw
// segment that was allocated for its stream; live blocks never overlap; bytes_in_use is the sum of
// the rounded sizes (large blocks may keep a tail of at most 1 MiB); bytes_reserved is exactly
// what the raw memory holds; nullptr comes back only when even an empty cache could not make
// room; and once everything is freed, empty_cache returns every byte (so all splits merged back).
TEST_CASE("allocator policy: a random run on two streams keeps blocks disjoint, per stream and accounted",
          "[allocator]") {
  struct Segment {
    size_t size;
    uintptr_t stream;
  };
  struct Tracked {
    std::map<char*, Segment> segments;
    uintptr_t stream = 0;  // the stream of the allocate() call in progress
    size_t held = 0, budget = 300 * MiB;
    uint64_t allocs = 0, frees = 0;
  } dev;
  cuda::RawMemory raw{[&dev](size_t n) -> void* {
                        if (dev.held + n > dev.budget) return nullptr;
                        char* p = static_cast<char*>(std::malloc(n));  // never touched: no RSS
                        dev.segments[p] = {n, dev.stream};
                        dev.held += n;
                        dev.allocs++;
                        return p;
                      },
                      [&dev](void* p) {
                        auto it = dev.segments.find(static_cast<char*>(p));
                        REQUIRE(it != dev.segments.end());
                        dev.held -= it->second.size;
                        dev.frees++;
                        dev.segments.erase(it);
                        std::free(p);
                      }};
  CachingAllocator a(raw, CachingAllocator::kNoSplitCap);  // every split the pools allow

  struct Live {
    size_t rounded;
    uintptr_t stream;
  };
  std::map<char*, Live> live;  // by address
  std::vector<char*> order;    // for picking a random one to free
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state](uint64_t n) {  // splitmix64, uniform enough for picking
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) % n;
  };
  uint64_t requests = 0, nulls = 0;
  for (int step = 0; step < 6000; ++step) {
    const uint64_t what = next(100);
    if (what < 55 || live.empty()) {
      const uint64_t pool = next(10);
      const size_t bytes = pool < 7 ? 1 + next(MiB)                  // small
                           : pool < 9 ? MiB + 1 + next(9 * MiB)     // large, shared segments
                                      : 10 * MiB + next(30 * MiB);  // large, own segment
      const uintptr_t stream = next(2) ? kStreamA : kStreamB;
      dev.stream = stream;
      char* p = static_cast<char*>(a.allocate(bytes, stream));
      ++requests;
      const size_t rounded = CachingAllocator::round_size(bytes);
      if (!p) {  // only when the budget cannot fit a new segment even with every free one released
        ++nulls;
        size_t free_whole = 0;
        CHECK(dev.held + CachingAllocator::segment_size(rounded) > dev.budget);
        for (const auto& [seg, info] : dev.segments) {
          bool used = false;
          for (auto it = live.lower_bound(seg); it != live.end() && it->first < seg + info.size; ++it) used = true;
          if (!used) free_whole += info.size;
        }
        CHECK(free_whole == 0);
        continue;
      }
      // Inside one segment of the same stream...
      auto seg = dev.segments.upper_bound(p);
      REQUIRE(seg != dev.segments.begin());
      --seg;
      REQUIRE(p + rounded <= seg->first + seg->second.size);
      CHECK(seg->second.stream == stream);
      // ...and overlapping no live block.
      auto after = live.lower_bound(p);
      if (after != live.end()) CHECK(p + rounded <= after->first);
      if (after != live.begin()) {
        auto before = std::prev(after);
        CHECK(before->first + before->second.rounded <= p);
      }
      live[p] = {rounded, stream};
      order.push_back(p);
    } else if (what < 99) {
      const size_t k = next(order.size());
      char* p = order[k];
      order[k] = order.back();
      order.pop_back();
      live.erase(p);
      a.deallocate(p);
    } else {
      a.empty_cache();
    }
    const AllocatorStats st = a.stats();
    size_t want = 0, large = 0;
    for (const auto& [p, l] : live) {
      want += l.rounded;
      large += l.rounded > CachingAllocator::kSmallLimit;
    }
    REQUIRE(st.bytes_in_use >= want);
    REQUIRE(st.bytes_in_use - want <= large * CachingAllocator::kSmallLimit);
    REQUIRE(st.bytes_reserved == dev.held);
    REQUIRE(st.requests == requests);
    REQUIRE(st.system_allocs == dev.allocs);
    REQUIRE(a.raw_frees() == dev.frees);
    REQUIRE(st.peak_bytes_in_use >= st.bytes_in_use);
    REQUIRE(st.peak_bytes_reserved >= st.bytes_reserved);
  }
  CHECK(nulls > 0);              // the budget was hit: the release-and-retry path ran
  CHECK(dev.frees > 0);          // and segments went back
  CHECK(requests - nulls > 2000);
  for (char* p : order) a.deallocate(p);
  CHECK(a.stats().bytes_in_use == 0);
  a.empty_cache();
  CHECK(dev.held == 0);
  CHECK(dev.segments.empty());
  CHECK(a.stats().bytes_reserved == 0);
  a.reset_peak();
  CHECK(a.stats().peak_bytes_in_use == 0);
  CHECK(a.stats().peak_bytes_reserved == 0);
}

TEST_CASE("allocator policy: a block freed in the middle of a segment merges with both neighbours",
          "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  char* p1 = static_cast<char*>(a.allocate(4096, kStreamA));
  char* p2 = static_cast<char*>(a.allocate(4096, kStreamA));
  char* p3 = static_cast<char*>(a.allocate(4096, kStreamA));
  CHECK(p2 == p1 + 4096);
  CHECK(p3 == p2 + 4096);
  a.deallocate(p1);
  a.deallocate(p3);  // merges with the free tail of the segment
  a.deallocate(p2);  // merges with p1 before it and with p3 + tail after it
  // Two 1 MiB (small-pool) blocks fit only if the whole 2 MiB segment is one free block again, and
  // the first starts at the segment's start only if p2 merged backwards into p1.
  char* q1 = static_cast<char*>(a.allocate(MiB, kStreamA));
  char* q2 = static_cast<char*>(a.allocate(MiB, kStreamA));
  CHECK(q1 == p1);
  CHECK(q2 == p1 + MiB);
  CHECK(dev.allocs == std::vector<size_t>{2 * MiB});
  CHECK(a.stats().bytes_in_use == 2 * MiB);
  CHECK(a.cached_bytes() == 0);
  a.deallocate(q2);
  a.deallocate(q1);
}

TEST_CASE("allocator policy: max_split_size: a cached block at or above the cap is never split", "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  CHECK(a.max_split_size() == CachingAllocator::kDefaultMaxSplit);
  CHECK(CachingAllocator::kDefaultMaxSplit == 256 * MiB);
  char* big = static_cast<char*>(a.allocate(300 * MiB, kStreamA));  // a segment of its own
  a.deallocate(big);
  // Below the cap: the 300 MiB block is not cut; a segment of its own instead.
  char* mid = static_cast<char*>(a.allocate(100 * MiB, kStreamA));
  CHECK(mid != big);
  CHECK(dev.allocs == std::vector<size_t>{300 * MiB, 100 * MiB});
  // At or above the cap: taken whole if it wastes under 20 MiB...
  char* near = static_cast<char*>(a.allocate(290 * MiB, kStreamA));
  CHECK(near == big);
  CHECK(a.stats().bytes_in_use == 400 * MiB);  // 100 + 300: uncut
  a.deallocate(near);
  // ...not when it wastes more.
  char* far = static_cast<char*>(a.allocate(270 * MiB, kStreamA));
  CHECK(far != big);
  CHECK(dev.allocs.size() == 3);
  a.deallocate(far);
  a.deallocate(mid);
  // Blocks under the cap split as before: the free 100 MiB block serves several small requests.
  void* s1 = a.allocate(3 * MiB, kStreamA);
  void* s2 = a.allocate(3 * MiB, kStreamA);
  CHECK(s1 == mid);
  CHECK(static_cast<char*>(s2) == static_cast<char*>(s1) + 3 * MiB);
  CHECK(dev.allocs.size() == 3);
  a.deallocate(s1);
  a.deallocate(s2);
}

TEST_CASE("allocator policy: without the cap a large block is split", "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw(), CachingAllocator::kNoSplitCap);
  char* big = static_cast<char*>(a.allocate(300 * MiB, kStreamA));
  a.deallocate(big);
  char* mid = static_cast<char*>(a.allocate(100 * MiB, kStreamA));
  CHECK(mid == big);
  CHECK(dev.allocs.size() == 1);
  CHECK(a.stats().bytes_in_use == 100 * MiB);
  a.deallocate(mid);
  a.set_max_split_size(64 * MiB);  // from now on capped: the whole free block is 300 MiB
  char* small_req = static_cast<char*>(a.allocate(40 * MiB, kStreamA));
  CHECK(small_req != big);
  CHECK(dev.allocs.size() == 2);
  a.deallocate(small_req);
}

TEST_CASE("allocator policy: max_split_size settings and MRNN_CUDA_MAX_SPLIT_SIZE_MB values", "[allocator]") {
  using Catch::Matchers::Contains;
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  CHECK_THROWS_WITH(a.set_max_split_size(20 * MiB), Contains("max_split_size must be above 20 MiB"));
  CHECK_NOTHROW(a.set_max_split_size(20 * MiB + 512));
  CHECK_THROWS_WITH(CachingAllocator(dev.raw(), MiB), Contains("above 20 MiB"));
  CHECK(CachingAllocator::parse_max_split_size_mb(nullptr) == CachingAllocator::kDefaultMaxSplit);
  CHECK(CachingAllocator::parse_max_split_size_mb("") == CachingAllocator::kDefaultMaxSplit);
  CHECK(CachingAllocator::parse_max_split_size_mb("64") == 64 * MiB);
  CHECK(CachingAllocator::parse_max_split_size_mb("21") == 21 * MiB);
  CHECK(CachingAllocator::parse_max_split_size_mb("unlimited") == CachingAllocator::kNoSplitCap);
  for (const char* bad : {"20", "0", "-64", "64MB", "1e3", " 64", "9999999999", "Unlimited"}) {
    INFO(bad);
    CHECK_THROWS_WITH(CachingAllocator::parse_max_split_size_mb(bad),
                      Contains("MRNN_CUDA_MAX_SPLIT_SIZE_MB: expected a whole number of MiB above 20") &&
                          Contains(std::string("got '") + bad + "'"));
  }
}

TEST_CASE("allocator policy: record_stream holds a freed block until the other stream's work is done",
          "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  void* p = a.allocate(4096, kStreamA);
  a.record_stream(p, kStreamA);  // its own stream: nothing to wait for
  a.record_stream(p, kStreamB);
  a.record_stream(p, kStreamB);  // named once
  a.deallocate(p);
  CHECK(dev.recorded == 1);
  CHECK(dev.events.begin()->second.stream == kStreamB);
  CHECK(a.pending_frees() == 1);
  CHECK(a.stats().bytes_in_use == 4096);  // still in use until B is done with it
  CHECK_THROWS_WITH(a.deallocate(p), Catch::Contains("freeing") && Catch::Contains("twice"));
  void* q = a.allocate(4096, kStreamA);  // B has not finished: p may not be handed out
  CHECK(q != p);
  dev.finish(kStreamB);
  void* r = a.allocate(4096, kStreamA);  // the event is seen done at this call: p is back
  CHECK(r == p);
  CHECK(a.pending_frees() == 0);
  CHECK(dev.destroyed == 1);
  CHECK(dev.events.empty());
  a.deallocate(q);
  a.deallocate(r);  // no other stream named this time: back at once
  CHECK(a.pending_frees() == 0);
  CHECK(dev.recorded == 1);
  CHECK(a.stats().bytes_in_use == 0);
  CHECK(dev.allocs.size() == 1);
}

TEST_CASE("allocator policy: record_stream refusals, and out of memory waits for pending frees", "[allocator]") {
  using Catch::Matchers::Contains;
  {
    FakeDevice dev;
    CachingAllocator a(dev.raw(false));
    void* p = a.allocate(100, kStreamA);
    CHECK_THROWS_WITH(a.record_stream(p, kStreamB), Contains("record_stream needs stream events"));
    CHECK_THROWS_WITH(a.record_stream(static_cast<char*>(p) + 512, kStreamB), Contains("not the start of a live block"));
    a.deallocate(p);
    CHECK_THROWS_WITH(a.record_stream(p, kStreamB), Contains("not the start of a live block"));
  }
  FakeDevice dev;
  dev.budget = 24 * MiB;
  CachingAllocator a(dev.raw());
  void* p = a.allocate(3 * MiB, kStreamA);  // a 20 MiB segment
  a.record_stream(p, kStreamB);
  a.deallocate(p);  // pending on B
  CHECK(a.pending_frees() == 1);
  void* q = a.allocate(16 * MiB, kStreamB);  // fits only once p's free completes and its segment goes
  REQUIRE(q != nullptr);
  CHECK(dev.waited == 1);
  CHECK(a.pending_frees() == 0);
  CHECK(dev.frees == std::vector<size_t>{20 * MiB});
  a.deallocate(q);
}

TEST_CASE("allocator policy: a retired stream's cached and live blocks pass to its heir", "[allocator]") {
  FakeDevice dev;
  CachingAllocator a(dev.raw());
  constexpr uintptr_t kDefault = 0;
  void* p1 = a.allocate(4096, kStreamA);
  void* p2 = a.allocate(4096, kStreamA);
  a.allocate(4096, kStreamA);  // keeps p2 from merging with the segment's free tail (best fit: p2)
  void* d = a.allocate(4096, kDefault);  // the default stream's own segment
  a.record_stream(d, kStreamA);
  a.deallocate(p1);
  CHECK(dev.allocs.size() == 2);
  a.retire_stream(kStreamA, kDefault);
  void* again = a.allocate(4096, kDefault);  // A's cached block now serves the default stream
  CHECK(again == p1);
  CHECK(dev.allocs.size() == 2);
  a.deallocate(p2);  // a live block of A returns to the heir's cache
  CHECK(a.allocate(4096, kDefault) == p2);
  CHECK(a.allocate(4096, kStreamA) != nullptr);  // a handle that comes back gets fresh memory
  CHECK(dev.allocs.size() == 3);
  a.deallocate(d);  // A was forgotten by d's record_stream list: no event on a dead stream
  CHECK(dev.recorded == 0);
  CHECK(a.pending_frees() == 0);
  a.retire_stream(kStreamB, kStreamB);  // retiring into itself changes nothing
}

// A random run of everything at once on four streams: allocations from all three pools, frees,
// record_stream onto other streams, streams finishing their work (their events complete),
// retired streams (their blocks pass to the default stream), empty_cache, under a memory budget.
// After every call: a block handed out overlaps no live block and no freed block whose other
// streams' events have not completed (out of memory may wait for them), and lies in a segment
// owned by the requesting stream; each free with other streams records one event per stream; the reserved
// bytes equal what the fake device holds; the bytes in use cover every live and still-waiting
// block. At the end everything is returned.
TEST_CASE("allocator policy: a random run with record_stream, finishing and retired streams stays safe",
          "[allocator]") {
  struct Tracked {
    std::map<char*, std::pair<size_t, uintptr_t>> segments;  // start -> size, owner stream
    uintptr_t stream = 0;
    size_t held = 0, budget = 200 * MiB;
  } dev;
  std::map<uintptr_t, std::pair<uintptr_t, bool>> events;  // token -> stream, done
  uintptr_t next_event = 1;
  cuda::RawMemory raw{[&dev](size_t n) -> void* {
                        if (dev.held + n > dev.budget) return nullptr;
                        char* p = static_cast<char*>(std::malloc(n));
                        dev.segments[p] = {n, dev.stream};
                        dev.held += n;
                        return p;
                      },
                      [&dev](void* p) {
                        auto it = dev.segments.find(static_cast<char*>(p));
                        REQUIRE(it != dev.segments.end());
                        dev.held -= it->second.first;
                        dev.segments.erase(it);
                        std::free(p);
                      }};
  raw.record_event = [&](uintptr_t s) {
    events[next_event] = {s, false};
    return next_event++;
  };
  raw.event_done = [&](uintptr_t e) { return events.at(e).second; };
  int waited = 0;
  raw.wait_event = [&](uintptr_t e) {
    ++waited;
    events.at(e).second = true;
  };
  raw.destroy_event = [&](uintptr_t e) { REQUIRE(events.erase(e) == 1); };
  CachingAllocator a(raw);

  struct Block {
    size_t rounded;
    uintptr_t stream;
    std::set<uintptr_t> uses;  // other streams named by record_stream
  };
  std::map<char*, Block> live;
  std::map<char*, std::pair<size_t, std::vector<uintptr_t>>> waiting;  // freed blocks and their events
  // Whether a freed block may still be in use: one of its events is live and not done (a done
  // event may be destroyed, i.e. gone from the map, once its block is back).
  auto still_waiting = [&events](const std::vector<uintptr_t>& evs) {
    for (uintptr_t e : evs)
      if (events.count(e) && !events.at(e).second) return true;
    return false;
  };
  std::vector<uintptr_t> streams = {0, 1, 2, 3};
  uintptr_t next_stream = 4;
  uint64_t state = 12345;
  auto next = [&state](uint64_t n) {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) % n;
  };
  auto pick_live = [&]() {
    auto it = live.begin();
    std::advance(it, static_cast<long>(next(live.size())));
    return it;
  };
  uint64_t allocated = 0, recorded = 0, retired = 0, nulls = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint64_t what = next(100);
    if (what < 45 || live.empty()) {
      const uint64_t pool = next(10);
      const size_t bytes = pool < 7 ? 1 + next(MiB) : pool < 9 ? MiB + 1 + next(9 * MiB) : 10 * MiB + next(20 * MiB);
      const uintptr_t s = streams[next(streams.size())];
      dev.stream = s;
      char* p = static_cast<char*>(a.allocate(bytes, s));
      if (!p) {  // the budget (the other random run checks when nullptr may come back)
        ++nulls;
        continue;
      }
      ++allocated;
      const size_t rounded = CachingAllocator::round_size(bytes);
      auto seg = dev.segments.upper_bound(p);
      REQUIRE(seg != dev.segments.begin());
      --seg;
      REQUIRE(p + rounded <= seg->first + seg->second.first);
      CHECK(seg->second.second == s);
      for (const auto& [q, b] : live) CHECK((p + rounded <= q || q + b.rounded <= p));
      for (const auto& [q, w] : waiting)
        if (still_waiting(w.second)) CHECK((p + rounded <= q || q + w.first <= p));
      waiting.erase(p);  // a block handed out again had finished waiting
      live[p] = {rounded, s, {}};
    } else if (what < 60) {
      auto it = pick_live();
      const uintptr_t other = streams[next(streams.size())];
      a.record_stream(it->first, other);
      if (other != it->second.stream) it->second.uses.insert(other);
      ++recorded;
    } else if (what < 90) {
      auto it = pick_live();
      const uintptr_t first = next_event;
      a.deallocate(it->first);
      CHECK(next_event - first == it->second.uses.size());  // one event per other stream
      if (next_event > first) {
        std::vector<uintptr_t> evs;
        for (uintptr_t e = first; e < next_event; ++e) evs.push_back(e);
        waiting[it->first] = {it->second.rounded, evs};
      }
      live.erase(it);
    } else if (what < 96) {  // a stream's queued work has run
      const uintptr_t s = streams[next(streams.size())];
      for (auto& [t, e] : events)
        if (e.first == s) e.second = true;
    } else if (what < 99 && streams.size() > 1) {  // a user stream synchronized and destroyed
      const size_t k = 1 + next(streams.size() - 1);
      const uintptr_t s = streams[k];
      for (auto& [t, e] : events)
        if (e.first == s) e.second = true;
      a.retire_stream(s, 0);
      for (auto& [q, b] : live) {
        if (b.stream == s) b.stream = 0;
        b.uses.erase(s);
        if (b.stream == 0) b.uses.erase(0);
      }
      for (auto& [seg, info] : dev.segments)
        if (info.second == s) info.second = 0;
      streams[k] = next_stream++;  // a new stream in its place
      ++retired;
    } else {
      a.empty_cache();
    }
    const AllocatorStats st = a.stats();
    REQUIRE(st.bytes_reserved == dev.held);
    size_t want = 0;
    for (const auto& [q, b] : live) want += b.rounded;
    for (const auto& [q, w] : waiting)
      if (still_waiting(w.second)) want += w.first;
    REQUIRE(st.bytes_in_use >= want);
  }
  CHECK(allocated > 1500);
  CHECK(recorded > 500);
  CHECK(retired > 50);
  CHECK(nulls > 0);   // the budget was reached...
  CHECK(waited > 0);  // ...and pending frees were waited for
  for (auto& [q, b] : live) a.deallocate(q);
  for (auto& [t, e] : events) e.second = true;
  a.empty_cache();  // sees every event done: the waiting blocks return, then whole segments go
  CHECK(a.pending_frees() == 0);
  CHECK(a.stats().bytes_in_use == 0);
  CHECK(dev.held == 0);
  CHECK(events.empty());
}
