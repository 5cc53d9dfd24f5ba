// A small MLP trained for 1000 steps: it converges, and after the first steps the caching
// allocator holds a constant number of bytes and makes no new system allocations.
#include <catch2/catch.hpp>

#include "core/allocator.h"
#include "kernels/ops.h"

using namespace mrnn;

TEST_CASE("MLP converges and the allocator holds steady over 1000 steps", "[allocator][training]") {
  Generator g(2024);
  const int64_t n = 256, d = 8, h = 32, k = 3;
  // Synthetic problem: the class is the argmax of a fixed random linear map of x.
  Tensor x = Tensor::randn({n, d}, g);
  Tensor proj = Tensor::randn({d, k}, g);
  Tensor y = argmax(matmul(x, proj), 1);
  Tensor w1 = mul_scalar(Tensor::randn({h, d}, g), 0.3).requires_grad_();
  Tensor b1 = Tensor::zeros({h}).requires_grad_();
  Tensor w2 = mul_scalar(Tensor::randn({k, h}, g), 0.3).requires_grad_();
  Tensor b2 = Tensor::zeros({k}).requires_grad_();
  std::vector<Tensor> params{w1, b1, w2, b2};

  double first_loss = 0, last_loss = 0;
  AllocatorStats after_warmup{};
  for (int step = 0; step < 1000; ++step) {
    Tensor hidden = relu(linear(x, w1, b1));
    Tensor loss = cross_entropy(linear(hidden, w2, b2), y);
    for (Tensor& p : params) p.zero_grad();
    loss.backward();
    {
      NoGradGuard ng;
      for (Tensor& p : params) p.copy_(sub(p, mul_scalar(p.grad(), 0.5)));
    }
    if (step == 0) first_loss = loss.item();
    last_loss = loss.item();
    if (step == 10) after_warmup = cpu_allocator::stats();
  }
  AllocatorStats end = cpu_allocator::stats();
  INFO("first loss " << first_loss << " last loss " << last_loss);
  CHECK(last_loss < 0.15 * first_loss);
  // Accuracy on the training set.
  NoGradGuard ng;
  Tensor pred = argmax(linear(relu(linear(x, w1, b1)), w2, b2), 1);
  auto pv = pred.to_vector<int64_t>(), yv = y.to_vector<int64_t>();
  int correct = 0;
  for (size_t i = 0; i < pv.size(); ++i) correct += pv[i] == yv[i];
  CHECK(correct > 0.95 * n);
  INFO("reserved after warm-up " << after_warmup.bytes_reserved << " at end " << end.bytes_reserved
                                 << "; system allocs " << after_warmup.system_allocs << " -> " << end.system_allocs);
  CHECK(end.bytes_reserved == after_warmup.bytes_reserved);
  CHECK(end.system_allocs == after_warmup.system_allocs);
  CHECK(end.requests > after_warmup.requests + 1000);  // the loop really allocated (from the cache)
}

TEST_CASE("allocator size classes and statistics", "[allocator]") {
  CHECK(cpu_allocator::size_class(1) == 64);
  CHECK(cpu_allocator::size_class(513) == 576);
  CHECK(cpu_allocator::size_class(1 << 20) == (1 << 20));
  CHECK(cpu_allocator::size_class((1 << 20) + 1) == (1 << 20) + (1 << 17));
  auto before = cpu_allocator::stats();
  {
    Tensor t = Tensor::empty({1000});
    auto during = cpu_allocator::stats();
    CHECK(during.bytes_in_use == before.bytes_in_use + cpu_allocator::size_class(4000));
    CHECK(during.peak_bytes_in_use >= during.bytes_in_use);
  }
  CHECK(cpu_allocator::stats().bytes_in_use == before.bytes_in_use);
  cpu_allocator::empty_cache();
  CHECK(cpu_allocator::stats().bytes_reserved == cpu_allocator::stats().bytes_in_use);
}
