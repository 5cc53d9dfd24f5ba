// Fused vs unfused CPU kernels at the m-RNN bench sizes (64 captions x 16 steps = 1024 rows):
// the output layer + loss (linear_cross_entropy vs cross_entropy(linear)) and the multimodal layer
// (one fused op vs the composition of linears, broadcast add and scaled tanh), forward + backward,
// and mQA's 4-input fusing layer (fuse vs linears + adds + tanh).
// Every benchmark first validates its kernel on fresh random inputs (bench/bench_validate.h: the
// f32 kernels against the unfused composition in f64, at a smaller batch; the CPU beam search with
// beam 1 against its closed form; a GPU against the CPU) and a mismatch fails it and the program.
// Each reports GFLOP/s by counted FLOPs and, as `of_sgemm`, the fraction of the sgemm rate this
// machine reaches on a GEMM of the same shape (BM_sgemm_reference) — the practical CPU limit.
// Then, on the CPU and (when built with CUDA; skipped without a GPU) on the GPU: the batched beam
// search over given logits (kernels/beam.h) and the logits-free loss linear_cross_entropy_loss
// against linear_cross_entropy's forward pass, with counted FLOPs and bytes.
//   OMP_NUM_THREADS=2 ./build/bench/bench_kernels --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "bench/bench_validate.h"
#include "core/autograd.h"
#include "data/vocab.h"
#include "kernels/beam.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/fused.h"
#include "kernels/gemm_backend.h"
#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using mrnn::bench::fresh;
using mrnn::bench::Outputs;
using mrnn::bench::validated;
using mrnn::bench::with_grads;

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
  const std::vector<Tensor> in{fresh({64, kHidden}, 1), fresh({kVocab, kHidden}, 2)};
  auto sgemm = [](const std::vector<Tensor>& x) -> Outputs {  // 64 rows of the timed GEMM
    Tensor c = Tensor::empty({x[0].size(0), kVocab});
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(x[0].size(0)), kVocab, kHidden, 1.f,
                x[0].data<float>(), kHidden, x[1].data<float>(), kHidden, 0.f, c.data<float>(), kVocab);
    return {c};
  };
  auto ref = [](const std::vector<Tensor>& x) -> Outputs { return {matmul(x[0], transpose(x[1], 0, 1))}; };
  if (!validated(st, "BM_sgemm_reference", Device::cpu(), in, sgemm, ref, true, 1e-5)) return;
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

// Each GEMM shape of the bench m-RNN's training and decoding step, through each CPU library
// (kernels/gemm_backend.h), validated against an f64 product first. The table in
// docs/performance.md ("GEMM backend per shape") is this benchmark; Auto's rule comes from it.
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 build/bench/bench_kernels \
//     --benchmark_filter=BM_sgemm_backends
struct GemmShape {
  const char* name;
  bool ta, tb;
  int64_t m, n, k;
  double beta;
};
const GemmShape kGemmShapes[] = {
    {"output fwd x.W^T (205-row block)", false, true, 205, kVocab, kHidden, 0},
    {"output dx dY.W", false, false, 205, kHidden, kVocab, 0},
    {"output dW += dY^T.x", true, false, kVocab, kHidden, 205, 1},
    {"greedy x.W^T (64 rows)", false, true, 64, kVocab, kHidden, 0},
    {"beam 3 x.W^T (192 rows)", false, true, 192, kVocab, kHidden, 0},
    {"image fwd [64,4096].W^T", false, true, 64, kHidden, 4096, 0},
    {"image dW dY^T.x", true, false, kHidden, 4096, 64, 1},
    {"multimodal fwd [1024,256].W^T", false, true, kRows, kHidden, 256, 0},
    {"multimodal dx dY.W", false, false, kRows, 256, kHidden, 0},
    {"multimodal dW dY^T.x", true, false, kHidden, 256, kRows, 1},
    {"recurrent fwd [64,256].W^T", false, true, 64, 256, 256, 0},
    {"recurrent dW dY^T.x", true, false, 256, 256, 64, 1},
    {"tiny [2,8].W^T", false, true, 2, 8, 8, 0},
};

void BM_sgemm_backends(benchmark::State& st) {
  const GemmShape& s = kGemmShapes[st.range(0)];
  const SgemmBackend backend = st.range(1) ? SgemmBackend::OneDnn : SgemmBackend::OpenBlas;
  if (backend == SgemmBackend::OneDnn && !sgemm_onednn_available()) {
    st.SkipWithError("this build has no oneDNN");
    return;
  }
  const SgemmBackend saved = sgemm_backend();
  set_sgemm_backend(backend);
  auto shape_a = [&](int64_t scale) { return s.ta ? std::vector<int64_t>{s.k / scale, s.m} : std::vector<int64_t>{s.m / scale, s.k}; };
  auto shape_b = [&]() { return s.tb ? std::vector<int64_t>{s.n, s.k} : std::vector<int64_t>{s.k, s.n}; };
  auto product = [&](const std::vector<Tensor>& x) -> Outputs {  // C = op(A) op(B) + beta C
    const int64_t m = s.ta ? x[0].size(1) : x[0].size(0);
    Tensor c = x[2].clone();
    MRNN_CHECK(c.size(0) == m, "BM_sgemm_backends: bad C");
    cpu::gemm(x[0], s.ta, x[1], s.tb, c, 1.0, s.beta);
    return {c};
  };
  auto ref = [&](const std::vector<Tensor>& x) -> Outputs {
    Tensor a = s.ta ? transpose(x[0], 0, 1) : x[0], b = s.tb ? transpose(x[1], 0, 1) : x[1];
    Tensor p = matmul(a, b);
    return {s.beta != 0 ? add(p, mul_scalar(x[2], s.beta)) : p};
  };
  const std::string key = std::string("BM_sgemm_backends ") + s.name + " " + sgemm_backend_name(backend);
  // Validated on a quarter of the rows where the shape allows it (the f64 reference is slow).
  const int64_t vs = s.m >= 64 && !s.ta ? 4 : 1;
  const std::vector<Tensor> vin{fresh(shape_a(vs), 11), fresh(shape_b(), 12), fresh({s.m / vs, s.n}, 13)};
  if (!validated(st, key, Device::cpu(), vin, product, ref, true, 1e-5)) {
    set_sgemm_backend(saved);
    return;
  }
  Generator g(3);
  Tensor a = Tensor::randn(shape_a(1), g), b = Tensor::randn(shape_b(), g), c = Tensor::randn({s.m, s.n}, g);
  for (auto _ : st) cpu::gemm(a, s.ta, b, s.tb, c, 1.0, s.beta);
  set_sgemm_backend(saved);
  report(st, 2.0 * s.m * s.n * s.k);
  st.SetLabel(std::string(s.name) + ", " + sgemm_backend_name(backend) +
              (choose_sgemm_backend(SgemmBackend::Auto, s.ta, s.tb, s.m, s.n, s.k) == backend ? " (auto's pick)" : ""));
}
void sgemm_backend_args(benchmark::internal::Benchmark* b) {
  for (int64_t i = 0; i < static_cast<int64_t>(std::size(kGemmShapes)); ++i) b->Args({i, 0})->Args({i, 1});
}
BENCHMARK(BM_sgemm_backends)->Apply(sgemm_backend_args)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Forward + backward of the output layer: the fused op or linear + cross_entropy (and the latter
// in f64 as the reference). Outputs: loss, dx, dW, db.
Outputs output_loss(const std::vector<Tensor>& in, bool fused) {
  Tensor x = in[0].detach().requires_grad_(), w = in[1].detach().requires_grad_(), b = in[2].detach().requires_grad_();
  Tensor loss = fused ? linear_cross_entropy(x, w, b, in[3], -100) : cross_entropy(linear(x, w, b), in[3], -100);
  return with_grads(loss, Tensor::ones({}), {x, w, b});
}
std::vector<Tensor> output_loss_inputs(int64_t rows) {
  std::vector<int64_t> ids(static_cast<size_t>(rows));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i % 7 == 3 ? -100 : static_cast<int64_t>((i * 7919 + 13) % kVocab);
  return {fresh({rows, kHidden}, 3), fresh({kVocab, kHidden}, 4, 0.05), fresh({kVocab}, 5, 0.1),
          Tensor::from_vector(ids, {rows})};
}

void BM_output_loss(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  if (!validated(st, fused ? "BM_output_loss/fused" : "BM_output_loss/unfused", Device::cpu(),
                 output_loss_inputs(kRows / 8), [fused](const auto& in) { return output_loss(in, fused); },
                 [](const auto& in) { return output_loss(in, false); }, true, 1e-4))
    return;
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

// The multimodal layer, fused or composed, forward + backward with seed gradient in[7]. Outputs:
// the layer's output and the gradients of all seven inputs.
Outputs multimodal_layer(const std::vector<Tensor>& in, bool fused) {
  std::vector<Tensor> x;
  for (size_t i = 0; i < 7; ++i) x.push_back(in[i].detach().requires_grad_());
  Tensor m = fused ? multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6])
                   : scaled_tanh(add(add(linear(x[0], x[3], Tensor()), linear(x[1], x[4], Tensor())),
                                     unsqueeze(linear(x[2], x[5], x[6]), 1)));
  return with_grads(m, in[7], x);
}

void BM_multimodal(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  {
    const int64_t b = kB / 8;
    const std::vector<Tensor> in{fresh({b, kT, kDw}, 6), fresh({b, kT, kDr}, 7), fresh({b, kDi}, 8),
                                 fresh({kM, kDw}, 9, 0.05), fresh({kM, kDr}, 10, 0.05), fresh({kM, kDi}, 11, 0.02),
                                 fresh({kM}, 12, 0.1), fresh({b, kT, kM}, 13)};
    if (!validated(st, fused ? "BM_multimodal/fused" : "BM_multimodal/unfused", Device::cpu(), in,
                   [fused](const auto& x) { return multimodal_layer(x, fused); },
                   [](const auto& x) { return multimodal_layer(x, false); }, true, 1e-4))
      return;
  }
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
constexpr int64_t kDq = 512, kDa = 512;
// The 4-input fusing layer, fused or composed; in: q, img, a, w, Wq, Wi, Wa, Ww, bias, seed.
Outputs fuse4_layer(const std::vector<Tensor>& in, bool fused) {
  std::vector<Tensor> x;
  for (size_t i = 0; i < 9; ++i) x.push_back(in[i].detach().requires_grad_());
  Tensor m;
  if (fused) {
    m = fuse({x[0], x[1], x[2], x[3]}, {x[4], x[5], x[6], x[7]}, x[8], FuseActivation::Tanh);
  } else {
    Tensor seq_term = unsqueeze(add(linear(x[0], x[4], x[8]), linear(x[1], x[5], Tensor())), 1);
    m = tanh(add(add(linear(x[2], x[6], Tensor()), linear(x[3], x[7], Tensor())), seq_term));
  }
  return with_grads(m, in[9], x);
}

void BM_fuse4(benchmark::State& st) {
  const bool fused = st.range(0) != 0;
  {
    const int64_t b = kB / 8;
    const std::vector<Tensor> in{fresh({b, kDq}, 14), fresh({b, kDi}, 15), fresh({b, kT, kDa}, 16),
                                 fresh({b, kT, kDw}, 17), fresh({kM, kDq}, 18, 0.03), fresh({kM, kDi}, 19, 0.01),
                                 fresh({kM, kDa}, 20, 0.03), fresh({kM, kDw}, 21, 0.05), fresh({kM}, 22, 0.1),
                                 fresh({b, kT, kM}, 23)};
    if (!validated(st, fused ? "BM_fuse4/fused" : "BM_fuse4/unfused", Device::cpu(), in,
                   [fused](const auto& x) { return fuse4_layer(x, fused); },
                   [](const auto& x) { return fuse4_layer(x, false); }, true, 1e-4))
      return;
  }
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
// The whole search over logits [images * K, V] repeated at every step; out: its result.
Outputs beam_result_of(const Tensor& logits, int64_t images, int64_t K, int64_t L) {
  BeamSearch s = beam_search_init(images, K, L, 0.0, false, {kBosId, kEosId, kEosId}, logits.device());
  for (int64_t t = 0; t <= L; ++t) beam_search_step(s, logits, t);
  return {beam_search_result(s)};
}
// Beam 1 over the same logits at every step, in closed form: image b repeats w = the best word of
// row b (from <eos> up, the lower id on a tie) for L steps and then must end, so its caption is L
// times w with log-probability L lsm(w) + lsm(<eos>), or empty with lsm(<eos>) when w is <eos>.
Outputs beam1_closed_form(const Tensor& logits, int64_t L) {
  const int64_t B = logits.size(0), V = logits.size(1);
  const std::vector<double> z = logits.to(DType::F64).to_vector<double>();
  std::vector<double> out(static_cast<size_t>(B * (3 + L)), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const double* row = z.data() + b * V;
    double mx = -INFINITY, se = 0;
    int64_t w = kEosId;
    for (int64_t v = kEosId; v < V; ++v)
      if (row[v] > row[w]) w = v;
    for (int64_t v = 0; v < V; ++v) mx = std::max(mx, row[v]);
    for (int64_t v = 0; v < V; ++v) se += std::exp(row[v] - mx);
    const double lse = mx + std::log(se);
    double* o = out.data() + b * (3 + L);
    const int64_t n = w == kEosId ? 0 : L;
    o[0] = static_cast<double>(n);
    o[1] = static_cast<double>(n) * (row[w] - lse) + (row[kEosId] - lse);
    o[2] = o[1];
    for (int64_t t = 0; t < n; ++t) o[3 + t] = static_cast<double>(w);
  }
  return {Tensor::from_vector(out, {B, 3 + L})};
}

// Beam results [B, 3 + L] (words, log-probability, score, ids) of a GPU against the CPU: scores
// within 1e-6 relative; the words only where the two captions' scores differ by more than that
// (the GPU sums rows in another order, so a near tie may go the other way).
std::string same_captions_or_tied(size_t, const Tensor& got, const Tensor& want) {
  const int64_t B = want.size(0), W = want.size(1);
  if (got.shape() != want.shape()) return "result shapes differ";
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    const double* gb = g.data() + b * W;
    const double* wb = w.data() + b * W;
    const double tol = 1e-6 * (1 + std::fabs(wb[2]));
    if (!(std::fabs(gb[1] - wb[1]) <= tol && std::fabs(gb[2] - wb[2]) <= tol))
      return "image " + std::to_string(b) + ": log-probability/score " + std::to_string(gb[1]) + "/" +
             std::to_string(gb[2]) + ", want " + std::to_string(wb[1]) + "/" + std::to_string(wb[2]);
    if (!std::equal(gb + 3, gb + W, wb + 3) || gb[0] != wb[0]) {
      // Different words with equal scores: accepted as a near tie, said on stderr.
      std::fprintf(stderr, "bench validation: image %lld: another caption with the same score (a near tie)\n",
                   static_cast<long long>(b));
    }
  }
  return {};
}

void BM_beam_search(benchmark::State& st, Device dev) {
  if (!device_ready(st, dev)) return;
  const int64_t images = st.range(0), K = 3, L = 20;
  {
    const std::vector<Tensor> in{fresh({images, kVocab}, 24, 3.0)};
    const std::string key = "BM_beam_search/" + dev.str() + "/" + std::to_string(images);
    const bool ok = dev.is_cpu()
                        ? validated(st, key + "/beam1", dev, in, [&](const auto& x) { return beam_result_of(x[0], images, 1, L); },
                                    [&](const auto& x) { return Outputs{beam1_closed_form(x[0], L)}; }, true, 1e-9)
                        : validated(st, key, dev, {fresh({images * K, kVocab}, 25, 3.0)},
                                    [&](const auto& x) { return beam_result_of(x[0], images, K, L); },
                                    [&](const auto& x) { return beam_result_of(x[0], images, K, L); }, false,
                                    same_captions_or_tied);
    if (!ok) return;
  }
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
  {
    auto loss = [logits_free](const std::vector<Tensor>& in) -> Outputs {
      NoGradGuard ng;
      return {logits_free ? linear_cross_entropy_loss(in[0], in[1], in[2], in[3], -100)
                          : linear_cross_entropy(in[0], in[1], in[2], in[3], -100)};
    };
    auto ref = [](const std::vector<Tensor>& in) -> Outputs {
      NoGradGuard ng;
      return {cross_entropy(linear(in[0], in[1], in[2]), in[3], -100)};
    };
    const std::string key = std::string("BM_loss_no_grad/") + dev.str() + "/" + std::to_string(n) +
                            (logits_free ? "/logits_free" : "/forward");
    if (!validated(st, key, dev, output_loss_inputs(n / 8), loss, ref, true, 1e-5)) return;
  }
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

MRNN_BENCH_MAIN_VALIDATED()
