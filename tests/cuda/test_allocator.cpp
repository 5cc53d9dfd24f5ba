// The CUDA caching allocator. The policy tests drive CachingAllocator with host memory standing in
// for cudaMalloc (they need no GPU and run wherever the CUDA backend is built); the device tests
// check the installed allocator through tensors: no cudaMalloc in a steady loop, statistics,
// empty_cache, poisoning and the out-of-memory message.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <vector>

#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;

#ifdef MRNN_WITH_CUDA
namespace {

using cuda::CachingAllocator;

// Host memory as the raw source, with a budget so out-of-memory can be provoked, and a log of
// every raw call.
struct FakeDevice {
  size_t budget = size_t{1} << 40, held = 0;
  std::vector<size_t> allocs, frees;
  std::map<void*, size_t> live;
  cuda::RawMemory raw() {
    return {[this](size_t n) -> void* {
              if (held + n > budget) return nullptr;
              void* p = std::malloc(n);
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
#endif  // MRNN_WITH_CUDA

TEST_CASE("allocator on the GPU: no cudaMalloc in a steady training loop, stats and empty_cache",
          "[allocator]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  Generator gen(4);
  Tensor w = Tensor::randn({64, 32}, gen).to(gpu).requires_grad_();
  Tensor x = Tensor::randn({16, 32}, gen).to(gpu);
  Tensor t = Tensor::from_vector(std::vector<int64_t>(16, 3)).to(gpu);
  auto step = [&] {
    w.zero_grad();
    Tensor loss = cross_entropy(relu(linear(x, w, Tensor())), t);
    loss.backward();
    NoGradGuard ng;
    w.copy_(sub(w, mul_scalar(w.grad(), 0.1)));
  };
  step();
  step();
  const AllocatorStats before = cuda::memory_stats(0);
  for (int i = 0; i < 20; ++i) step();
  const AllocatorStats after = cuda::memory_stats(0);
  CHECK(after.system_allocs == before.system_allocs);
  CHECK(after.requests > before.requests);
  CHECK(after.bytes_in_use == before.bytes_in_use);

  cuda::reset_peak_memory(0);
  const size_t base = cuda::memory_stats(0).bytes_in_use;
  {
    Tensor big = Tensor::empty({3 << 20}, DType::F32, gpu);  // 12 MiB: a segment of its own
    CHECK(cuda::memory_stats(0).bytes_in_use == base + (size_t{12} << 20));
  }
  const AllocatorStats s = cuda::memory_stats(0);
  CHECK(s.bytes_in_use == base);
  CHECK(s.peak_bytes_in_use == base + (size_t{12} << 20));
  CHECK(cuda::cached_bytes(0) >= (size_t{12} << 20));
  cuda::empty_cache();
  CHECK(cuda::memory_stats(0).bytes_reserved < s.bytes_reserved);
  CHECK(cuda::memory_stats(0).bytes_in_use == base);
#endif
}

TEST_CASE("allocator on the GPU: poisoned allocations and the out-of-memory message", "[allocator]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  cuda::set_poison_allocations(true);
  std::vector<float> f = Tensor::empty({33}, DType::F32, gpu).to_vector<float>();
  std::vector<int64_t> i = Tensor::empty({5}, DType::I64, gpu).to_vector<int64_t>();
  cuda::set_poison_allocations(false);
  for (float v : f) CHECK(std::isnan(v));
  for (int64_t v : i) CHECK(v == -1);

  const int64_t huge = int64_t{1} << 48;  // 1 PiB of f32
  CHECK_THROWS_WITH(Tensor::empty({huge}, DType::F32, gpu),
                    Catch::Contains("CUDA out of memory on cuda:0: asked for 1125899906842624 bytes") &&
                        Catch::Contains("reserved"));
  Tensor still_works = Tensor::full({4}, 2.0, DType::F32, gpu);  // the allocator survived
  CHECK(still_works.to_vector<float>() == std::vector<float>(4, 2.0f));
#endif
}
