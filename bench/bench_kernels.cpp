// Fused vs unfused CPU kernels at the m-RNN bench sizes (64 captions x 16 steps = 1024 rows):
// the output layer + loss (linear_cross_entropy vs cross_entropy(linear)) and the multimodal layer
// (one fused op vs the composition of linears, broadcast add and scaled tanh), forward + backward,
// and mQA's 4-input fusing layer (fuse vs linears + adds + tanh).
// Each reports GFLOP/s by counted FLOPs and, as `of_sgemm`, the fraction of the sgemm rate this
// machine reaches on a GEMM of the same shape (BM_sgemm_reference) — the practical CPU limit.
// Then, on the CPU and (when built with CUDA; skipped without a GPU) on the GPU: the batched beam
// search over given logits (kernels/beam.h) and the logits-free loss linear_cross_entropy_loss
// against linear_cross_entropy's forward pass, with counted FLOPs and bytes.
//   OMP_NUM_THREADS=2 ./build/bench/bench_kernels --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>

#include "core/autograd.h"
#include "data/vocab.h"
#include "kernels/beam.h"
#include "kernels/fused.h"
#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

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

// mQA's 4-input fusing layer (question state and image per sequence, answer state and word per
// step; tanh): fuse vs 4 linears + broadcast adds + tanh, forward + backward.
void BM_fuse4(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  constexpr int64_t kDq = 512, kDa = 512;
  Generator g(3);
  Tensor q = Tensor::randn({kB, kDq}, g).requires_grad_(), img = Tensor::randn({kB, kDi}, g).requires_grad_();
  Tensor a = Tensor::randn({kB, kT, kDa}, g).requires_grad_(), w = Tensor::randn({kB, kT, kDw}, g).requires_grad_();
  Tensor Wq = (Tensor::randn({kM, kDq}, g) * 0.03).requires_grad_(), Wi = (Tensor::randn({kM, kDi}, g) * 0.01).requires_grad_();
  Tensor Wa = (Tensor::randn({kM, kDa}, g) * 0.03).requires_grad_(), Ww = (Tensor::randn({kM, kDw}, g) * 0.05).requires_grad_();
  Tensor bias = Tensor::zeros({kM}).requires_grad_();
  Tensor seed = Tensor::ones({kB, kT, kM});
  for (auto _ : st) {
    for (Tensor* p : {&q, &img, &a, &w, &Wq, &Wi, &Wa, &Ww, &bias}) p->zero_grad();
    Tensor m;
    if (fused) {
      m = fuse({q, img, a, w}, {Wq, Wi, Wa, Ww}, bias, FuseActivation::Tanh);
    } else {
      Tensor seq_term = unsqueeze(add(linear(q, Wq, bias), linear(img, Wi, Tensor())), 1);
      m = tanh(add(add(linear(a, Wa, Tensor()), linear(w, Ww, Tensor())), seq_term));
    }
    m.backward(seed);
    benchmark::DoNotOptimize(Wi.grad().raw_data());
  }
  const double flops = 3 * 2.0 * (kB * kT * (kDa + kDw) * kM + kB * (kDq + kDi) * kM);
  report(st, flops);
  st.SetLabel(fused ? "fused (4 inputs)" : "unfused: 4 linears + adds + tanh");
}
BENCHMARK(BM_fuse4)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- CPU vs CUDA: beam search and the logits-free loss ----

// False (and the benchmark marked skipped) for a CUDA device when there is no GPU.
bool device_ready(benchmark::State& st, Device dev) {
#ifdef MRNN_WITH_CUDA
  if (dev.is_cuda() && !cuda::is_available()) {
    st.SkipWithError("no CUDA device");
    return false;
  }
#else
  (void)st;
  (void)dev;
#endif
  return true;
}

// Waits for the device's queued work (timings of asynchronous GPU work).
void sync(Device dev) {
#ifdef MRNN_WITH_CUDA
  if (dev.is_cuda()) cuda::synchronize(dev.index);
#else
  (void)dev;
#endif
}

// One whole batched beam search over given logits, the goal shape minus the model: beam 3,
// 20 words (21 steps), vocabulary 10k, range(0) images; the state is made, stepped and its captions
// read back (the one device->host copy) every iteration. Counted per logit and step: one 4-byte
// read (the floor; the row is read three times, from cache after the first), ~20 FLOPs (max, fast_exp
// ~15, the score add and the cut-off compare). images/s is the number the goal (>= 20k/s on
// an H100, with the model) is about.
void BM_beam_search(benchmark::State& st, Device dev) {
  if (!device_ready(st, dev)) return;
  const int64_t images = st.range(0), K = 3, L = 20;
  Generator g(3);
  Tensor logits = mul_scalar(Tensor::randn({images * K, kVocab}, g), 3.0);
  if (dev.is_cuda()) logits = logits.to(dev);
  for (auto _ : st) {
    BeamSearch s = beam_search_init(images, K, L, 0.0, false, {kBosId, kEosId, kEosId}, dev);
    for (int64_t t = 0; t <= L; ++t) beam_search_step(s, logits, t);
    benchmark::DoNotOptimize(beam_search_result(s).to_vector<double>().data());
  }
  const double logits_read = static_cast<double>(L + 1) * images * K * kVocab;
  st.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GB/s"] = benchmark::Counter(logits_read * 4 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(logits_read * 20 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(dev.str() + ", beam 3, 20 words, vocab 10k");
}

// The loss of the output layer without a gradient over range(0) rows, H 512, V 10k: range(1) = 1
// the logits-free linear_cross_entropy_loss (vocabulary chunks of 2048 with an online
// log-sum-exp), 0 linear_cross_entropy's forward pass (row blocks of full logits). Counted: 2 N H V
// FLOPs (the GEMM); bytes, the floor of a logits-free method: x and W read once, 4 (N H + V H + V).
void BM_loss_no_grad(benchmark::State& st, Device dev) {
  if (!device_ready(st, dev)) return;
  const int64_t n = st.range(0);
  const bool logits_free = st.range(1) != 0;
  Generator g(4);
  Tensor x = Tensor::randn({n, kHidden}, g), w = mul_scalar(Tensor::randn({kVocab, kHidden}, g), 0.05);
  Tensor b = Tensor::zeros({kVocab});
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& i : ids) i = static_cast<int64_t>(g.randint(kVocab));
  Tensor t = Tensor::from_vector(ids, {n});
  if (dev.is_cuda()) {
    x = x.to(dev);
    w = w.to(dev);
    b = b.to(dev);
    t = t.to(dev);
  }
  NoGradGuard ng;
  for (auto _ : st) {
    Tensor loss = logits_free ? linear_cross_entropy_loss(x, w, b, t, -100) : linear_cross_entropy(x, w, b, t, -100);
    benchmark::DoNotOptimize(loss.raw_data());
    sync(dev);
  }
  const double flops = 2.0 * n * kHidden * kVocab, bytes = 4.0 * (n * kHidden + kVocab * kHidden + kVocab);
  st.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["floor_GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(dev.str() + (logits_free ? ", logits-free (vocab chunks)" : ", linear_cross_entropy forward"));
}

const Device kCpu = Device::cpu();
BENCHMARK_CAPTURE(BM_beam_search, cpu, kCpu)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_loss_no_grad, cpu, kCpu)
    ->Args({kRows, 1})
    ->Args({kRows, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#ifdef MRNN_WITH_CUDA
const Device kGpu = Device::cuda(0);
BENCHMARK_CAPTURE(BM_beam_search, cuda, kGpu)->Arg(64)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_loss_no_grad, cuda, kGpu)
    ->Args({4096, 1})
    ->Args({4096, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
