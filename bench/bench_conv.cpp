// The CNN image encoder on the CPU at the demo's shape (layers/cnn_encoder.h: ShapesWorld 64x64x3
// images, batch 64, blocks of conv3x3 + ReLU + maxpool2 with 16, 32, 64 channels, then a linear
// layer to 256), forward + backward, per layer and whole. range(1) (or range(0) for the encoder):
// 1 = the ops as every caller gets them (conv2d / max_pool2d: oneDNN in a build with it),
// 0 = the reference path (conv2d_im2col / max_pool2d_loop, kernels/conv_reference.h).
// Before timing, each benchmark runs both paths on the same inputs and fails (SkipWithError) unless
// the outputs and gradients agree to f32 rounding. Counters: GFLOP/s by counted FLOPs (2 N O C K²
// OH OW per product: the forward, backward-weights and, from conv2 on, backward-data, since the
// images need no gradient) and of_sgemm, the fraction of the sgemm rate this run measured
// (BM_sgemm_reference); pooling reports GB/s of its tensors read and written.
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 ./build/bench/bench_conv --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <string>

#include "core/autograd.h"
#include "kernels/conv_reference.h"
#include "kernels/ops.h"

using namespace mrnn;

namespace {

constexpr int64_t kBatch = 64, kImage = 64, kOut = 256;

struct Layer {
  int64_t C, O, S;  // in channels, out channels, input size (square)
};
constexpr Layer kLayers[3] = {{3, 16, 64}, {16, 32, 32}, {32, 64, 16}};

double g_sgemm_gflops = 0;  // filled by BM_sgemm_reference (run first)

void report(benchmark::State& st, double flops) {
  st.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  if (g_sgemm_gflops > 0)
    st.counters["of_sgemm"] = benchmark::Counter(flops / 1e9 / g_sgemm_gflops,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// As bench_kernels' reference: [1024, 512] x [512, 10000], the m-RNN output layer's shape.
void BM_sgemm_reference(benchmark::State& st) {
  constexpr int64_t M = 1024, K = 512, N = 10000;
  Generator g(1);
  Tensor a = Tensor::randn({M, K}, g), b = Tensor::randn({N, K}, g), c = Tensor::empty({M, N});
  auto t0 = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, a.data<float>(), K, b.data<float>(), K, 0.f,
                c.data<float>(), N);
    ++n;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  g_sgemm_gflops = 2.0 * M * K * N * n / secs / 1e9;
  st.counters["GFLOP/s"] = g_sgemm_gflops;
}
BENCHMARK(BM_sgemm_reference)->Unit(benchmark::kMillisecond)->UseRealTime();

Tensor conv(bool fast, const Tensor& x, const Tensor& w, const Tensor& b) {
  return fast ? conv2d(x, w, b, 1, 1) : conv2d_im2col(x, w, b, 1, 1);
}
Tensor pool(bool fast, const Tensor& x) { return fast ? max_pool2d(x, 2, 2) : max_pool2d_loop(x, 2, 2); }

std::vector<float> values(const Tensor& t) { return t.defined() ? t.contiguous().to_vector<float>() : std::vector<float>{}; }

// Whether a and b agree to tol times the largest |b| (f32 sums of a few thousand terms).
bool close(const std::vector<float>& a, const std::vector<float>& b, double tol = 1e-4) {
  if (a.size() != b.size()) return false;
  double big = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    big = std::max(big, std::abs(static_cast<double>(b[i])));
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return diff <= tol * std::max(big, 1e-30);
}

// Runs fn(fast) for both paths on fresh leaves and compares what it returns; false (and the
// benchmark skipped with the reason) when they differ.
template <class Fn>
bool validated(benchmark::State& st, Fn fn) {
  const std::vector<std::vector<float>> a = fn(true), b = fn(false);
  for (size_t i = 0; i < a.size(); ++i)
    if (!close(a[i], b[i])) {
      st.SkipWithError(("the fast path disagrees with the reference (tensor " + std::to_string(i) + ")").c_str());
      return false;
    }
  return true;
}

void BM_conv(benchmark::State& st) {
  const Layer L = kLayers[st.range(0)];
  const bool fast = st.range(1) != 0, input_grad = st.range(0) > 0;
  Generator g(5);
  Tensor x = Tensor::randn({kBatch, L.C, L.S, L.S}, g);
  Tensor w = mul_scalar(Tensor::randn({L.O, L.C, 3, 3}, g), std::sqrt(2.0 / (L.C * 9)));
  Tensor b = mul_scalar(Tensor::randn({L.O}, g), 0.1), seed = Tensor::randn({kBatch, L.O, L.S, L.S}, g);
  if (input_grad) x.requires_grad_();
  w.requires_grad_();
  b.requires_grad_();
  auto step = [&](bool f) {
    for (Tensor* p : {&x, &w, &b}) p->zero_grad();
    Tensor y = conv(f, x, w, b);
    y.backward(seed);
    return y;
  };
  if (!validated(st, [&](bool f) {
        Tensor y = step(f);
        return std::vector<std::vector<float>>{values(y), values(x.grad()), values(w.grad()), values(b.grad())};
      }))
    return;
  for (auto _ : st) {
    Tensor y = step(fast);
    benchmark::DoNotOptimize(w.grad().raw_data());
  }
  const double F = 2.0 * kBatch * L.O * L.C * 9 * L.S * L.S;
  report(st, F * (input_grad ? 3 : 2));
  st.SetLabel(fast ? conv2d_cpu_implementation(x, w, true, 1, 1) : "reference: im2col + OpenBLAS per image");
}
BENCHMARK(BM_conv)->ArgsProduct({{0, 1, 2}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_pool(benchmark::State& st) {
  const Layer L = kLayers[st.range(0)];
  const bool fast = st.range(1) != 0;
  Generator g(6);
  Tensor x = Tensor::randn({kBatch, L.O, L.S, L.S}, g).requires_grad_();
  Tensor seed = Tensor::randn({kBatch, L.O, L.S / 2, L.S / 2}, g);
  auto step = [&](bool f) {
    x.zero_grad();
    Tensor y = pool(f, x);
    y.backward(seed);
    return y;
  };
  if (!validated(st, [&](bool f) { return std::vector<std::vector<float>>{values(step(f)), values(x.grad())}; }))
    return;
  for (auto _ : st) {
    Tensor y = step(fast);
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
  // forward reads x and writes y; backward reads g and writes gx
  const double bytes = 2 * 4.0 * kBatch * L.O * (L.S * L.S + L.S * L.S / 4);
  st.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(fast ? max_pool2d_cpu_implementation(x, 2, 2, 0) : "reference: loop");
}
BENCHMARK(BM_pool)->ArgsProduct({{0, 1, 2}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole encoder as CnnEncoder runs it (conv + ReLU + pool per block, flatten, linear, ReLU),
// forward + backward for every parameter.
void BM_cnn_encoder(benchmark::State& st) {
  const bool fast = st.range(0) != 0;
  Generator g(7);
  Tensor images = Tensor::randn({kBatch, 3, kImage, kImage}, g);
  std::vector<Tensor> params;
  for (const Layer& L : kLayers) {
    params.push_back(mul_scalar(Tensor::randn({L.O, L.C, 3, 3}, g), std::sqrt(2.0 / (L.C * 9))).requires_grad_());
    params.push_back(Tensor::zeros({L.O}).requires_grad_());
  }
  const int64_t flat = kLayers[2].O * (kImage / 8) * (kImage / 8);
  params.push_back(mul_scalar(Tensor::randn({kOut, flat}, g), std::sqrt(1.0 / flat)).requires_grad_());
  params.push_back(Tensor::zeros({kOut}).requires_grad_());
  auto step = [&](bool f) {
    for (Tensor& p : params) p.zero_grad();
    Tensor h = images;
    for (int i = 0; i < 3; ++i) h = pool(f, relu(conv(f, h, params[2 * i], params[2 * i + 1])));
    Tensor y = relu(linear(flatten(h, 1), params[6], params[7]));
    sum(y).backward();
    return y;
  };
  if (!validated(st, [&](bool f) {
        Tensor y = step(f);
        std::vector<std::vector<float>> r{values(y)};
        for (Tensor& p : params) r.push_back(values(p.grad()));
        return r;
      }))
    return;
  for (auto _ : st) {
    Tensor y = step(fast);
    benchmark::DoNotOptimize(params[0].grad().raw_data());
  }
  double flops = 3 * 2.0 * kBatch * flat * kOut;
  for (int i = 0; i < 3; ++i) {
    const Layer L = kLayers[i];
    flops += 2.0 * kBatch * L.O * L.C * 9 * L.S * L.S * (i > 0 ? 3 : 2);
  }
  report(st, flops);
  st.counters["images/s"] = benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(fast ? std::string("conv2d/max_pool2d: ") + cpu_conv_backend() : "reference: im2col + loop");
}
BENCHMARK(BM_cnn_encoder)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
