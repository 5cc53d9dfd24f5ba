// Fused vs unfused CPU kernels at the m-RNN bench sizes (64 captions x 16 steps = 1024 rows):
// the output layer + loss (linear_cross_entropy vs cross_entropy(linear)) and the multimodal layer
// (one fused op vs the composition of linears, broadcast add and scaled tanh), forward + backward.
// Each reports GFLOP/s by counted FLOPs and, as `of_sgemm`, the fraction of the sgemm rate this
// machine reaches on a GEMM of the same shape (BM_sgemm_reference) — the practical CPU limit.
//   OMP_NUM_THREADS=2 ./build/bench/bench_kernels --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>

#include "kernels/fused.h"
#include "kernels/ops.h"

using namespace mrnn;

namespace {

constexpr int64_t kRows = 1024, kHidden = 512, kVocab = 10000;
constexpr int64_t kB = 64, kT = 16, kDw = 256, kDr = 256, kDi = 4096, kM = 512;

double g_sgemm_gflops = 0;  // filled by BM_sgemm_reference (run first)

void report(benchmark::State& st, double flops) {
  st.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  if (g_sgemm_gflops > 0)  // (GFLOP per iteration / reference GFLOP/s) per second of iteration = fraction
    st.counters["of_sgemm"] = benchmark::Counter(flops / 1e9 / g_sgemm_gflops,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_sgemm_reference(benchmark::State& st) {
  Generator g(1);
  Tensor a = Tensor::randn({kRows, kHidden}, g), b = Tensor::randn({kVocab, kHidden}, g), c = Tensor::empty({kRows, kVocab});
  auto t0 = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kRows, kVocab, kHidden, 1.f, a.data<float>(), kHidden,
                b.data<float>(), kHidden, 0.f, c.data<float>(), kVocab);
    ++n;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  g_sgemm_gflops = 2.0 * kRows * kHidden * kVocab * n / secs / 1e9;
  st.counters["GFLOP/s"] = g_sgemm_gflops;
}
BENCHMARK(BM_sgemm_reference)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_output_loss(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  Generator g(1);
  Tensor x = Tensor::randn({kRows, kHidden}, g).requires_grad_();
  Tensor w = (Tensor::randn({kVocab, kHidden}, g) * 0.05).requires_grad_();
  Tensor b = Tensor::zeros({kVocab}).requires_grad_();
  std::vector<int64_t> ids(kRows);
  for (auto& i : ids) i = static_cast<int64_t>(g.randint(kVocab));
  Tensor t = Tensor::from_vector(ids, {kRows});
  for (auto _ : st) {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    Tensor loss = fused ? linear_cross_entropy(x, w, b, t, -100) : cross_entropy(linear(x, w, b), t, -100);
    loss.backward();
    benchmark::DoNotOptimize(w.grad().raw_data());
  }
  report(st, 3 * 2.0 * kRows * kHidden * kVocab);
  st.SetLabel(fused ? "fused" : "unfused: linear + cross_entropy");
}
BENCHMARK(BM_output_loss)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_multimodal(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  Generator g(2);
  Tensor w = Tensor::randn({kB, kT, kDw}, g).requires_grad_(), r = Tensor::randn({kB, kT, kDr}, g).requires_grad_();
  Tensor img = Tensor::randn({kB, kDi}, g).requires_grad_();
  Tensor Vw = (Tensor::randn({kM, kDw}, g) * 0.05).requires_grad_(), Vr = (Tensor::randn({kM, kDr}, g) * 0.05).requires_grad_();
  Tensor Vi = (Tensor::randn({kM, kDi}, g) * 0.02).requires_grad_(), bias = Tensor::zeros({kM}).requires_grad_();
  Tensor seed = Tensor::ones({kB, kT, kM});
  for (auto _ : st) {
    for (Tensor* p : {&w, &r, &img, &Vw, &Vr, &Vi, &bias}) p->zero_grad();
    Tensor m;
    if (fused) {
      m = multimodal(w, r, img, Vw, Vr, Vi, bias);
    } else {
      Tensor it = unsqueeze(linear(img, Vi, bias), 1);
      m = scaled_tanh(add(add(linear(w, Vw, Tensor()), linear(r, Vr, Tensor())), it));
    }
    m.backward(seed);
    benchmark::DoNotOptimize(Vi.grad().raw_data());
  }
  const double flops = 3 * 2.0 * (kB * kT * (kDw + kDr) * kM + kB * kDi * kM);
  report(st, flops);
  st.SetLabel(fused ? "fused" : "unfused: 3 linears + add + scaled_tanh");
}
BENCHMARK(BM_multimodal)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
