// CUDA vs CPU kernel benchmarks through the op API: GEMM, elementwise, softmax, cross entropy
// (forward + backward) and host<->device copies, each with a bytes or FLOPs counter so the result
// reads as a fraction of the device's limits. CUDA cases are timed with CUDA events around the
// ops (manual time, after a warm-up that creates handles and fills the allocator's cache); without
// a GPU, or in a build without the CUDA backend, they are skipped with a message and the CPU cases
// still run.
//   ./build/bench/bench_cuda --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;

namespace {

// True when `st` can run on `dev`; otherwise marks it skipped and returns false.
bool usable(benchmark::State& st, Device dev) {
  if (dev.is_cpu()) return true;
#ifdef MRNN_WITH_CUDA
  if (cuda::is_available()) return true;
  st.SkipWithError("no CUDA device: skipped");
#else
  st.SkipWithError("CUDA backend not built: skipped");
#endif
  return false;
}

// Runs body() once per iteration. CPU: wall time. CUDA: the time between two events recorded on
// the current stream around body(), after one untimed warm-up call.
template <typename Body>
void timed(benchmark::State& st, Device dev, Body&& body) {
  if (dev.is_cpu()) {
    for (auto _ : st) body();
    return;
  }
#ifdef MRNN_WITH_CUDA
  body();
  cuda::synchronize(dev.index);
  cuda::Event start(dev.index), stop(dev.index);
  for (auto _ : st) {
    start.record();
    body();
    stop.record();
    stop.synchronize();
    st.SetIterationTime(static_cast<double>(start.elapsed_ms(stop)) / 1e3);
  }
#endif
}

Tensor randn_on(const Shape& shape, Device dev, uint64_t seed) {
  Generator g(seed);
  return Tensor::randn(shape, g).to(dev);
}

void flops(benchmark::State& st, double per_iteration) {
  st.counters["FLOP/s"] =
      benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// C[n,n] = A[n,n] @ B[n,n], f32 (no TF32): 2 n^3 FLOPs.
void BM_gemm(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0);
  Tensor a = randn_on({n, n}, dev, 1), b = randn_on({n, n}, dev, 2);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(matmul(a, b).raw_data()); });
  flops(st, 2.0 * n * n * n);
}

// out = a + b over n f32 elements: reads 2, writes 1 -> 12 bytes per element.
void BM_add(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0);
  Tensor a = randn_on({n}, dev, 3), b = randn_on({n}, dev, 4);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(add(a, b).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 12 * n);
}

// The multimodal activation 1.7159 tanh(2x/3): 8 bytes per element.
void BM_scaled_tanh(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0);
  Tensor a = randn_on({n}, dev, 5);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(scaled_tanh(a).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 8 * n);
}

// Row softmax of [rows, v]: read once, write once -> 8 bytes per element.
void BM_softmax(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t rows = st.range(0), v = st.range(1);
  Tensor x = randn_on({rows, v}, dev, 6);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(softmax(x, -1).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 8 * rows * v);
}

// Cross entropy forward + backward on logits [rows, v]: forward reads the logits, backward reads
// them again and writes the gradient -> at least 12 bytes per element.
void BM_cross_entropy(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t rows = st.range(0), v = st.range(1);
  Tensor logits = randn_on({rows, v}, dev, 7).requires_grad_();
  std::vector<int64_t> t(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) t[static_cast<size_t>(i)] = (i * 7919) % v;
  Tensor targets = Tensor::from_vector(t).to(dev);
  timed(st, dev, [&] {
    logits.zero_grad();
    cross_entropy(logits, targets).backward();
  });
  st.SetBytesProcessed(st.iterations() * 12 * rows * v);
}

// Host -> device and back of n f32 (pinned staging above 1 MiB): 8 bytes moved per element.
void BM_round_trip(benchmark::State& st, Device dev) {
  if (!usable(st, dev) || dev.is_cpu()) return;
  const int64_t n = st.range(0);
  Tensor h = randn_on({n}, Device::cpu(), 8);
  for (auto _ : st) benchmark::DoNotOptimize(h.to(dev).to(Device::cpu()).raw_data());
  st.SetBytesProcessed(st.iterations() * 8 * n);
}

const Device kCpu = Device::cpu(), kGpu = Device::cuda(0);

}  // namespace

BENCHMARK_CAPTURE(BM_gemm, cpu, kCpu)->Arg(512)->Arg(1024)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_gemm, cuda, kGpu)->Arg(512)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_add, cpu, kCpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_add, cuda, kGpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_scaled_tanh, cpu, kCpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_scaled_tanh, cuda, kGpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_softmax, cpu, kCpu)
    ->Args({4096, 1000})
    ->Args({256, 30000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_softmax, cuda, kGpu)
    ->Args({4096, 1000})
    ->Args({256, 30000})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_cross_entropy, cpu, kCpu)->Args({2048, 10000})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_cross_entropy, cuda, kGpu)->Args({2048, 10000})->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_round_trip, cuda, kGpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
