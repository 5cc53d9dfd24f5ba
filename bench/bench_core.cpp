// Core op benchmarks: GEMM through mrnn vs a direct OpenBLAS call, elementwise bandwidth vs
// memcpy, softmax rows, the per-op dispatch overhead on a tiny tensor, and the backward of a T-step
// recurrence (bytes allocated and time against T).
//   ./build/bench/bench_core --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "core/allocator.h"
#include "kernels/ops.h"

using namespace mrnn;

static void BM_gemm_mrnn(benchmark::State& st) {
  const int64_t n = st.range(0);
  Generator g(1);
  Tensor a = Tensor::randn({n, n}, g), b = Tensor::randn({n, n}, g);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(matmul(a, b).raw_data());
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}
BENCHMARK(BM_gemm_mrnn)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMicrosecond);

static void BM_gemm_openblas(benchmark::State& st) {
  const int64_t n = st.range(0);
  Generator g(1);
  Tensor a = Tensor::randn({n, n}, g), b = Tensor::randn({n, n}, g), c = Tensor::empty({n, n});
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data<float>(), n, b.data<float>(), n, 0.f,
                c.data<float>(), n);
    benchmark::DoNotOptimize(c.raw_data());
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}
BENCHMARK(BM_gemm_openblas)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMicrosecond);

// Linear-layer shaped GEMM with a transposed weight view (no copy expected).
static void BM_linear_mrnn(benchmark::State& st) {
  Generator g(1);
  Tensor x = Tensor::randn({1024, 512}, g), w = Tensor::randn({2048, 512}, g), b = Tensor::randn({2048}, g);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(linear(x, w, b).raw_data());
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * 1024 * 512 * 2048, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}
BENCHMARK(BM_linear_mrnn)->Unit(benchmark::kMicrosecond);

// Bytes moved: read a, read b, write out.
static void BM_add_mrnn(benchmark::State& st) {
  const int64_t n = st.range(0);
  Generator g(1);
  Tensor a = Tensor::randn({n}, g), b = Tensor::randn({n}, g);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b).raw_data());
  st.SetBytesProcessed(st.iterations() * 3 * n * 4);
}
BENCHMARK(BM_add_mrnn)->Arg(1 << 16)->Arg(1 << 22)->Unit(benchmark::kMicrosecond);

// Bytes moved: read src, write dst.
static void BM_memcpy(benchmark::State& st) {
  const int64_t n = st.range(0);
  Tensor a = Tensor::ones({n}), b = Tensor::empty({n});
  for (auto _ : st) {
    std::memcpy(b.raw_data(), a.raw_data(), n * 4);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * 2 * n * 4);
}
BENCHMARK(BM_memcpy)->Arg(1 << 16)->Arg(1 << 22)->Unit(benchmark::kMicrosecond);

static void BM_scaled_tanh(benchmark::State& st) {
  const int64_t n = st.range(0);
  Generator g(1);
  Tensor a = Tensor::randn({n}, g);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(scaled_tanh(a).raw_data());
  st.SetBytesProcessed(st.iterations() * 2 * n * 4);
}
BENCHMARK(BM_scaled_tanh)->Arg(1 << 22)->Unit(benchmark::kMicrosecond);

static void BM_softmax_rows(benchmark::State& st) {
  const int64_t rows = st.range(0), v = st.range(1);
  Generator g(1);
  Tensor a = Tensor::randn({rows, v}, g);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(softmax(a, -1).raw_data());
  st.SetBytesProcessed(st.iterations() * 2 * rows * v * 4);
}
BENCHMARK(BM_softmax_rows)->Args({1024, 1000})->Args({256, 10000})->Unit(benchmark::kMicrosecond);

// Per-op overhead: a 1-element add without autograd (allocation from the cache + dispatch).
static void BM_dispatch_tiny_add(benchmark::State& st) {
  Tensor a = Tensor::ones({1}), b = Tensor::ones({1});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b).raw_data());
}
BENCHMARK(BM_dispatch_tiny_add);

// The same with autograd recording a node.
static void BM_dispatch_tiny_add_grad(benchmark::State& st) {
  Tensor a = Tensor::ones({1}).requires_grad_(), b = Tensor::ones({1});
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b).raw_data());
}
BENCHMARK(BM_dispatch_tiny_add_grad);

// Backward of a T-step recurrence h_t = tanh(xp[t] + h_{t-1} W), where xp = x U is one projection of
// the whole sequence (a non-leaf [T, B, H]) and every step reads its slice with select, as the RNN
// layers do. Only backward() is timed. The counters are per backward: bytes the allocator handed
// out (MB), allocations, and the peak of bytes in use during it. Backward should be O(T): time and
// MB per step (the "_per_step" counters) flat in T. Times are wall time (the OpenMP threads work
// too).
static void BM_recurrence_backward(benchmark::State& st) {
  const int64_t T = st.range(0), B = 32, H = 128;
  Generator g(1);
  Tensor x = Tensor::randn({T, B, H}, g);
  Tensor u = Tensor::randn({H, H}, g, DType::F32, 0, 0.05).requires_grad_();
  Tensor w = Tensor::randn({H, H}, g, DType::F32, 0, 0.05).requires_grad_();
  double mb = 0, allocs = 0, peak = 0;
  for (auto _ : st) {
    st.PauseTiming();
    Tensor xp = reshape(matmul(reshape(x, {T * B, H}), u), {T, B, H});
    Tensor h = Tensor::zeros({B, H});
    for (int64_t t = 0; t < T; ++t) h = tanh(add(select(xp, 0, t), matmul(h, w)));
    Tensor loss = sum(h);
    u.zero_grad();
    w.zero_grad();
    const AllocatorStats s0 = cpu_allocator::stats();
    cpu_allocator::reset_peak();
    st.ResumeTiming();
    loss.backward();
    st.PauseTiming();
    const AllocatorStats s1 = cpu_allocator::stats();
    mb += static_cast<double>(s1.bytes_requested - s0.bytes_requested) / (1 << 20);
    allocs += static_cast<double>(s1.requests - s0.requests);
    peak = std::max(peak, static_cast<double>(s1.peak_bytes_in_use - s0.bytes_in_use) / (1 << 20));
    st.ResumeTiming();
  }
  const double n = static_cast<double>(st.iterations());
  st.counters["alloc_MB"] = mb / n;
  st.counters["alloc_MB_per_step"] = mb / n / static_cast<double>(T);
  st.counters["allocs"] = allocs / n;
  st.counters["peak_MB"] = peak;
  st.counters["us_per_step"] = benchmark::Counter(static_cast<double>(T) * 1e-6,
                                                  benchmark::Counter::kIsIterationInvariantRate |
                                                  benchmark::Counter::kInvert);
}
BENCHMARK(BM_recurrence_backward)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
