// The installed CUDA caching allocator, through tensors: no cudaMalloc in a steady loop,
// statistics, empty_cache, poisoning, the out-of-memory message, record_stream and a destroyed
// stream's cache. Skipped without a GPU. Its policy is tested on any machine in
// tests/cuda_policy/test_allocator_policy.cpp.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <vector>

#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;

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

TEST_CASE("allocator on the GPU: record_stream delays a free, a destroyed stream's cache passes to the default stream",
          "[allocator]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  cuda::synchronize(0);
  cuda::empty_cache();
  const size_t base = cuda::memory_stats(0).bytes_in_use;
  {
    cuda::Stream side(0);
    Tensor t = Tensor::full({1 << 18}, 1.0, DType::F32, gpu);  // 1 MiB, the default stream's
    Tensor u;
    {
      cuda::StreamGuard g(side);
      u = mul_scalar(t, 2.0);  // queued on `side`, reading t
    }
    cuda::record_stream(t, side);
    t = Tensor();  // freed: its block waits for side's work
    CHECK(cuda::memory_stats(0).bytes_in_use >= base + (size_t{1} << 20) + (size_t{1} << 20));
    side.synchronize();
    Tensor probe = Tensor::empty({1}, DType::F32, gpu);  // the next allocation sees the event done
    CHECK(cuda::memory_stats(0).bytes_in_use < base + (size_t{2} << 20));  // u and probe, not t
    CHECK(u.to_vector<float>() == std::vector<float>(1 << 18, 2.0f));
    CHECK_THROWS_WITH(cuda::record_stream(Tensor::zeros({2}), side), Catch::Contains("expected a tensor on cuda:0"));
  }
  cuda::empty_cache();
  {
    cuda::Stream doomed(0);
    cuda::StreamGuard g(doomed);
    Tensor x = Tensor::empty({3 << 20}, DType::F32, gpu);  // 12 MiB: a segment of its own, cached under `doomed`
  }  // x freed on `doomed`, then the stream is destroyed: its cache passes to the default stream
  const uint64_t mallocs = cuda::memory_stats(0).system_allocs;
  Tensor y = Tensor::empty({3 << 20}, DType::F32, gpu);
  CHECK(cuda::memory_stats(0).system_allocs == mallocs);  // reused, not stranded
#endif
}
