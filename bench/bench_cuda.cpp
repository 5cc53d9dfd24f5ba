// CUDA vs CPU kernel benchmarks through the op API: GEMM, elementwise, row sums, softmax, cross
// entropy (forward + backward), the fused output layer linear_cross_entropy against linear +
// cross_entropy (f32 and TF32 GEMMs) and its row kernel alone, dropout, embedding (sort-based and
// atomic backward), conv2d, host<->device copies, the fused multimodal layer and recurrent cells
// against their unfused compositions (and the ReLU RNN layer against cuDNN's RNN API), and GEMMs
// in each precision mode (FP32/TF32/BF16), each with a bytes or FLOPs counter so the result reads
// as a fraction of the device's limits (the output layer, the multimodal layer, the cells and the
// precision GEMMs also report the fractions of HBM bandwidth and GEMM peak directly: HBM_frac,
// GEMM_frac). CUDA cases are timed with CUDA events around the ops (manual time, after a warm-up
// that creates handles and fills the allocator's cache); without a GPU, or in a build without the
// CUDA backend, they are skipped with a message and the CPU cases still run. Each benchmark first
// validates its kernel on fresh random inputs, at the timed shape or a smaller batch of it
// (bench/bench_validate.h): a CUDA case against the CPU implementation, a CPU case against the
// same computation in f64; a mismatch fails the benchmark and the program's exit status.
//   ./build/bench/bench_cuda --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bench/bench_validate.h"
#include "kernels/common/matmul_precision.h"
#include "kernels/dispatch.h"
#include "kernels/fused.h"
#include "kernels/ops.h"
#include "kernels/cpu/cpu_ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/cudnn_rnn.h"
#include "kernels/cuda/gemm_lt.h"
#endif

using namespace mrnn;
using mrnn::bench::fresh;
using mrnn::bench::Outputs;
using mrnn::bench::validated;
using mrnn::bench::with_grads;
using In = const std::vector<Tensor>&;

namespace {

// "BM_x/cuda/4096/512": the validation key of a benchmark on `dev` with these arguments.
std::string key_of(const char* name, Device dev, std::initializer_list<int64_t> args) {
  std::string k = std::string(name) + "/" + dev.str();
  for (int64_t a : args) k += "/" + std::to_string(a);
  return k;
}

// Sets the TF32 switch for a kernel and restores it after.
struct Tf32Scope {
#ifdef MRNN_WITH_CUDA
  bool was = cuda::allow_tf32();
  explicit Tf32Scope(bool on) { cuda::set_allow_tf32(on); }
  ~Tf32Scope() { cuda::set_allow_tf32(was); }
#else
  explicit Tf32Scope(bool) {}
#endif
};

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
  const int64_t n = st.range(0), vn = std::min<int64_t>(n, 1024);
  if (!validated(st, key_of("BM_gemm", dev, {n}), dev, {fresh({vn, vn}, 1), fresh({vn, vn}, 2)},
                 [](In x) { return Outputs{matmul(x[0], x[1])}; }, 1e-5))
    return;
  Tensor a = randn_on({n, n}, dev, 1), b = randn_on({n, n}, dev, 2);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(matmul(a, b).raw_data()); });
  flops(st, 2.0 * n * n * n);
}

// out = a + b over n f32 elements: reads 2, writes 1 -> 12 bytes per element.
void BM_add(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0), vn = std::min<int64_t>(n, 1 << 20);
  if (!validated(st, key_of("BM_add", dev, {n}), dev, {fresh({vn}, 3), fresh({vn}, 4)},
                 [](In x) { return Outputs{add(x[0], x[1])}; }, 1e-6))
    return;
  Tensor a = randn_on({n}, dev, 3), b = randn_on({n}, dev, 4);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(add(a, b).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 12 * n);
}

// The multimodal activation 1.7159 tanh(2x/3): 8 bytes per element.
void BM_scaled_tanh(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0), vn = std::min<int64_t>(n, 1 << 20);
  if (!validated(st, key_of("BM_scaled_tanh", dev, {n}), dev, {fresh({vn}, 5)},
                 [](In x) { return Outputs{scaled_tanh(x[0])}; }, 1e-6))
    return;
  Tensor a = randn_on({n}, dev, 5);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(scaled_tanh(a).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 8 * n);
}

// Row softmax of [rows, v]: read once, write once -> 8 bytes per element.
void BM_softmax(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t rows = st.range(0), v = st.range(1);
  if (!validated(st, key_of("BM_softmax", dev, {rows, v}), dev, {fresh({std::min<int64_t>(rows, 256), v}, 6)},
                 [](In x) { return Outputs{softmax(x[0], -1)}; }, 1e-5))
    return;
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
  std::vector<int64_t> t(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) t[static_cast<size_t>(i)] = (i * 7919) % v;
  {
    const int64_t vr = std::min<int64_t>(rows, 256);
    const std::vector<int64_t> vt(t.begin(), t.begin() + vr);
    if (!validated(st, key_of("BM_cross_entropy", dev, {rows, v}), dev, {fresh({vr, v}, 7), Tensor::from_vector(vt)},
                   [](In x) {
                     Tensor z = x[0].detach().requires_grad_();
                     return with_grads(cross_entropy(z, x[1]), Tensor::ones({}), {z});
                   },
                   1e-5))
      return;
  }
  Tensor logits = randn_on({rows, v}, dev, 7).requires_grad_();
  Tensor targets = Tensor::from_vector(t).to(dev);
  timed(st, dev, [&] {
    logits.zero_grad();
    cross_entropy(logits, targets).backward();
  });
  st.SetBytesProcessed(st.iterations() * 12 * rows * v);
}

// Row sums of [rows, n]: each element read once -> 4 bytes per element. (64, 262144) takes the
// chunked two-pass path, (4096, 4096) one block per row.
void BM_sum_rows(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t rows = st.range(0), n = st.range(1);
  if (!validated(st, key_of("BM_sum_rows", dev, {rows, n}), dev, {fresh({std::min<int64_t>(rows, 256), n}, 9)},
                 [](In x) { return Outputs{sum(x[0], {1})}; }, 1e-5))
    return;
  Tensor x = randn_on({rows, n}, dev, 9);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(sum(x, {1}).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 4 * rows * n);
}

// Inverted dropout over n f32: mask written (4 bytes), then x * mask (8 read, 4 written).
void BM_dropout(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0);
  // The mask is a function of (seed, offset): the same on every device and dtype.
  if (!validated(st, key_of("BM_dropout", dev, {n}), dev, {fresh({std::min<int64_t>(n, 1 << 20)}, 10)},
                 [](In x) {
                   Generator g(11);
                   return Outputs{dropout(x[0], 0.5, true, g)};
                 },
                 1e-6))
    return;
  Tensor x = randn_on({n}, dev, 10);
  Generator g(11);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(dropout(x, 0.5, true, g).raw_data()); });
  st.SetBytesProcessed(st.iterations() * 16 * n);
}

// Embedding forward + backward for a 10000 x 512 table and 64 x 20 ids, a quarter of them the
// padding id 0 (one long run for the sort-based mode). Bytes: the rows gathered and scattered
// (2 x ids x 512 x 4); the weight gradient's zero fill and copy come on top.
void BM_embedding(benchmark::State& st, Device dev, bool deterministic) {
  if (!usable(st, dev)) return;
  const int64_t v = 10000, d = 512, n = 64 * 20;
  Tensor w = randn_on({v, d}, dev, 12).requires_grad_();
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i % 4 == 0 ? 0 : (i * 7919) % v;
  Tensor idx = Tensor::from_vector(ids, {64, 20}).to(dev);
  Tensor g = randn_on({64, 20, d}, dev, 13);
#ifdef MRNN_WITH_CUDA
  const bool was = cuda::deterministic();
  cuda::set_deterministic(deterministic);
#endif
  if (!validated(st, key_of(deterministic ? "BM_embedding_sorted" : "BM_embedding_atomic", dev, {}), dev,
                 {fresh({v, d}, 12), Tensor::from_vector(ids, {64, 20}), fresh({64, 20, d}, 13)},
                 [](In x) {
                   Tensor table = x[0].detach().requires_grad_();
                   return with_grads(embedding(table, x[1]), x[2], {table});
                 },
                 1e-6)) {
#ifdef MRNN_WITH_CUDA
    cuda::set_deterministic(was);
#endif
    return;
  }
  timed(st, dev, [&] {
    w.zero_grad();
    embedding(w, idx).backward(g);
  });
#ifdef MRNN_WITH_CUDA
  cuda::set_deterministic(was);
#endif
  st.SetBytesProcessed(st.iterations() * 2 * n * d * 4);
}

// conv2d forward, x [32, 16, 32, 32], w [32, 16, 3, 3], padding 1: 2 * N*O*H*W*C*9 FLOPs.
void BM_conv2d(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  if (!validated(st, key_of("BM_conv2d", dev, {}), dev, {fresh({4, 16, 32, 32}, 14), fresh({32, 16, 3, 3}, 15)},
                 [](In x) { return Outputs{conv2d(x[0], x[1], Tensor(), 1, 1)}; }, 1e-5))
    return;
  Tensor x = randn_on({32, 16, 32, 32}, dev, 14), w = randn_on({32, 16, 3, 3}, dev, 15);
  NoGradGuard ng;
  timed(st, dev, [&] { benchmark::DoNotOptimize(conv2d(x, w, Tensor(), 1, 1).raw_data()); });
  flops(st, 2.0 * 32 * 32 * 32 * 32 * 16 * 9);
}

// Host -> device and back of n f32 (pinned staging above 1 MiB): 8 bytes moved per element.
void BM_round_trip(benchmark::State& st, Device dev) {
  if (!usable(st, dev) || dev.is_cpu()) return;
  const int64_t n = st.range(0);
  if (!validated(st, key_of("BM_round_trip", dev, {n}), Device::cpu(), {fresh({n}, 8)},
                 [dev](In x) { return Outputs{x[0].to(dev).to(Device::cpu())}; },
                 [](In x) { return Outputs{x[0]}; }, false, 0.0))
    return;
  Tensor h = randn_on({n}, Device::cpu(), 8);
  for (auto _ : st) benchmark::DoNotOptimize(h.to(dev).to(Device::cpu()).raw_data());
  st.SetBytesProcessed(st.iterations() * 8 * n);
}

// ---- the fused output layer (kernels/ops_linear_xent.cpp) ----
// Datasheet peaks the fractions are taken against (NVIDIA H100 / H200 datasheets: dense TF32 is
// half the with-sparsity figure). Other cards are measured against the H100 SXM numbers, and the
// label says so.
struct Peaks {
  std::string card;
  double hbm, fp32, tf32;  // bytes/s, FLOP/s, FLOP/s
};

Peaks peaks_of(Device dev) {
  Peaks h100{"H100 SXM peaks", 3.35e12, 67e12, 494.7e12};
#ifdef MRNN_WITH_CUDA
  if (dev.is_cuda()) {
    const std::string d = cuda::device_description(dev.index);
    if (d.find("H200") != std::string::npos) return {"H200 peaks", 4.8e12, 67e12, 494.7e12};
    if (d.find("H100") != std::string::npos && d.find("PCIe") != std::string::npos)
      return {"H100 PCIe peaks", 2.0e12, 51.2e12, 378e12};
    if (d.find("H100") == std::string::npos) h100.card = "H100 SXM peaks assumed for " + d;
  }
#else
  (void)dev;
#endif
  return h100;
}

// Counted work of one forward + backward of the output layer, x [n, h], weight [v, h], bias [v]:
// FLOPs of the three GEMMs (logits, dx, dW), 2nhv each (the bias gradient and the softmax are
// O(nv), under 0.1% of it); bytes of the floor for any method that materializes the logits: the
// logits written once and read once (2nv elements), x read and dx written (2nh), W read and dW
// written (2vh), bias read and db written (2v). On the GPU the fractions of the card's HBM
// bandwidth and of its f32 (or TF32) GEMM peak are reported as HBM_frac and GEMM_frac.
void output_layer_counters(benchmark::State& st, Device dev, int64_t n, int64_t h, int64_t v, int64_t esize,
                           bool tf32) {
  const double fl = 6.0 * static_cast<double>(n) * static_cast<double>(h) * static_cast<double>(v);
  const double by = static_cast<double>(esize) * (2.0 * n * v + 2.0 * n * h + 2.0 * v * h + 2.0 * v);
  flops(st, fl);
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(by));
  if (!dev.is_cuda()) return;
  const Peaks p = peaks_of(dev);
  st.counters["HBM_frac"] = benchmark::Counter(by / p.hbm, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GEMM_frac"] =
      benchmark::Counter(fl / (tf32 ? p.tf32 : p.fp32), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(p.card);
}

// Padding id 0 on every 5th row, other targets spread over the vocabulary.
Tensor output_targets(int64_t n, int64_t v, Device dev) {
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = i % 5 == 4 ? 0 : 1 + (i * 7919) % (v - 1);
  return Tensor::from_vector(t).to(dev);
}

// Forward + backward of the output layer and its loss, [n, h] x [v, h]^T + b, f32: the fused op
// (row blocks, gradient in the forward pass) or linear + cross_entropy (full [n, v] logits, the
// softmax recomputed in backward). tf32: f32 GEMMs on TF32 tensor cores (CUDA only).
// Forward + backward of the output layer; in: x, W, b, targets. Outputs: loss, dx, dW, db.
Outputs output_layer_step(In in, bool fused, bool tf32) {
  Tf32Scope scope(tf32);
  Tensor x = in[0].detach().requires_grad_(), w = in[1].detach().requires_grad_(), b = in[2].detach().requires_grad_();
  Tensor loss = fused ? linear_cross_entropy(x, w, b, in[3], 0) : cross_entropy(linear(x, w, b), in[3], 0);
  return with_grads(loss, Tensor::ones({}), {x, w, b});
}

void output_layer(benchmark::State& st, Device dev, bool fused, bool tf32) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0), h = st.range(1), v = st.range(2), vn = std::min<int64_t>(n, 512);
  if (!validated(st, key_of(fused ? "BM_output_layer_fused" : "BM_output_layer_unfused", dev, {n, h, v, tf32}), dev,
                 {fresh({vn, h}, 20), fresh({v, h}, 21, 1.0 / std::sqrt(static_cast<double>(h))), fresh({v}, 22),
                  output_targets(vn, v, Device::cpu())},
                 [fused, tf32](In x) { return output_layer_step(x, fused, tf32); },
                 [](In x) { return output_layer_step(x, false, false); }, dev.is_cpu(), tf32 ? 5e-3 : 1e-4))
    return;
  Tensor x = randn_on({n, h}, dev, 20).requires_grad_();
  Tensor w, b = randn_on({v}, dev, 22).requires_grad_();
  {
    NoGradGuard ng;
    w = mul_scalar(randn_on({v, h}, dev, 21), 1.0 / std::sqrt(static_cast<double>(h)));
  }
  w.requires_grad_();
  Tensor t = output_targets(n, v, dev);
#ifdef MRNN_WITH_CUDA
  const bool was = cuda::allow_tf32();
  cuda::set_allow_tf32(tf32);
#endif
  timed(st, dev, [&] {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    Tensor loss = fused ? linear_cross_entropy(x, w, b, t, 0) : cross_entropy(linear(x, w, b), t, 0);
    loss.backward();
  });
#ifdef MRNN_WITH_CUDA
  cuda::set_allow_tf32(was);
#endif
  output_layer_counters(st, dev, n, h, v, 4, tf32);
}
// Two names, so the table's columns read "benchmark / device" (scripts/gpu-check pairs them).
void BM_output_layer_fused(benchmark::State& st, Device dev, bool tf32) { output_layer(st, dev, true, tf32); }
void BM_output_layer_unfused(benchmark::State& st, Device dev, bool tf32) { output_layer(st, dev, false, tf32); }

// The fused op's row kernel alone (cpu:: / cuda::softmax_xent_rows) over logits [n, v] + bias,
// writing the gradient in place: at least one read and one write per logit (8 bytes). On the GPU
// each call also sums the row losses on the device and reads the total back (one 16-byte copy).
void BM_softmax_xent_rows(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
  const int64_t n = st.range(0), v = st.range(1), vn = std::min<int64_t>(n, 512);
  auto rows = [vn](In x) {  // the gradient written in place into the logits, and the loss sum
    NoGradGuard ng;
    double l = 0;
    MRNN_DISPATCH(x[0].device(), softmax_xent_rows, x[0], x[1], x[2], 0, 1.0 / static_cast<double>(vn), true, &l);
    return Outputs{x[0], Tensor::from_vector(std::vector<double>{l})};
  };
  if (!validated(st, key_of("BM_softmax_xent_rows", dev, {n, v}), dev,
                 {fresh({vn, v}, 23), fresh({v}, 24), output_targets(vn, v, Device::cpu())}, rows, 1e-5))
    return;
  Tensor z = randn_on({n, v}, dev, 23), b = randn_on({v}, dev, 24), t = output_targets(n, v, dev);
  NoGradGuard ng;
  double loss = 0;
  timed(st, dev, [&] {
    MRNN_DISPATCH(dev, softmax_xent_rows, z, b, t, 0, 1.0 / static_cast<double>(n), true, &loss);
    benchmark::DoNotOptimize(loss);
  });
  const double by = 8.0 * static_cast<double>(n) * static_cast<double>(v);
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(by));
  if (dev.is_cuda()) {
    const Peaks p = peaks_of(dev);
    st.counters["HBM_frac"] = benchmark::Counter(by / p.hbm, benchmark::Counter::kIsIterationInvariantRate);
    st.SetLabel(p.card);
  }
}

// ---- the fused multimodal layer (issue 6, kernel 1) ----
// Sizes b images, t steps, dw / dr / di input widths, m outputs. Counted work of one forward +
// backward: FLOPs of the GEMMs, 2 x rows x m x width each, three per input (forward, input
// gradient, weight gradient): 6 m (b t (dw + dr) + b di) (the epilogues are O(b t m), < 0.5%).
// Bytes: X = inputs (b t (dw + dr) + b di), W = weights + bias (m (dw + dr + di + 1)), O = outputs
// (b t m); forward reads X and W and writes O, backward reads the gradient and the saved output
// (2 O), reads X and W again and writes their gradients (X + W): 3 (X + W + O) elements, the
// traffic of a GEMM + epilogue implementation whose operands do not stay in cache.
void multimodal_counters(benchmark::State& st, Device dev, int64_t b, int64_t t, int64_t dw, int64_t dr, int64_t di,
                         int64_t m, bool tf32) {
  const double rows = static_cast<double>(b) * static_cast<double>(t);
  const double fl = 6.0 * static_cast<double>(m) * (rows * static_cast<double>(dw + dr) + static_cast<double>(b * di));
  const double x = rows * static_cast<double>(dw + dr) + static_cast<double>(b * di);
  const double w = static_cast<double>(m) * static_cast<double>(dw + dr + di + 1), o = rows * static_cast<double>(m);
  const double by = 4.0 * 3.0 * (x + w + o);
  flops(st, fl);
  st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(by));
  if (!dev.is_cuda()) return;
  const Peaks p = peaks_of(dev);
  st.counters["HBM_frac"] = benchmark::Counter(by / p.hbm, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GEMM_frac"] =
      benchmark::Counter(fl / (tf32 ? p.tf32 : p.fp32), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(p.card);
}

// Forward + backward of the multimodal layer, f32: the fused op (GEMMs into one buffer, one
// epilogue kernel each way) or the composition scaled_tanh(linear(w, Vw) + linear(r, Vr) +
// unsqueeze(linear(img, Vi, b), 1)) of separate ops. Args: b, t, dw, dr, di, m.
// The multimodal layer forward + backward; in: w, r, img, Vw, Vr, Vi, bias, seed gradient.
Outputs multimodal_step(In in, bool fused, bool tf32) {
  Tf32Scope scope(tf32);
  std::vector<Tensor> x;
  for (size_t i = 0; i < 7; ++i) x.push_back(in[i].detach().requires_grad_());
  Tensor out = fused ? multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6])
                     : scaled_tanh(add(add(linear(x[0], x[3], Tensor()), linear(x[1], x[4], Tensor())),
                                       unsqueeze(linear(x[2], x[5], x[6]), 1)));
  return with_grads(out, in[7], x);
}

void multimodal_layer(benchmark::State& st, Device dev, bool fused, bool tf32) {
  if (!usable(st, dev)) return;
  const int64_t b = st.range(0), t = st.range(1), dw = st.range(2), dr = st.range(3), di = st.range(4),
                m = st.range(5);
  {
    const int64_t vb = std::min<int64_t>(b, 8);
    const double k = 1.0 / std::sqrt(static_cast<double>(dw + dr + di));
    if (!validated(st, key_of(fused ? "BM_multimodal_fused" : "BM_multimodal_unfused", dev, {b, tf32}), dev,
                   {fresh({vb, t, dw}, 30), fresh({vb, t, dr}, 31), fresh({vb, di}, 32), fresh({m, dw}, 33, k),
                    fresh({m, dr}, 34, k), fresh({m, di}, 35, k), fresh({m}, 36, 0.1), fresh({vb, t, m}, 37)},
                   [fused, tf32](In x) { return multimodal_step(x, fused, tf32); },
                   [](In x) { return multimodal_step(x, false, false); }, dev.is_cpu(), tf32 ? 5e-3 : 1e-4))
      return;
  }
  auto scaled = [&](const Shape& s, double k, uint64_t seed) {
    Tensor x;
    {
      NoGradGuard ng;
      x = mul_scalar(randn_on(s, dev, seed), k);
    }
    return x.requires_grad_();
  };
  const double k = 1.0 / std::sqrt(static_cast<double>(dw + dr + di));
  Tensor w = scaled({b, t, dw}, 1.0, 30), r = scaled({b, t, dr}, 1.0, 31), img = scaled({b, di}, 1.0, 32);
  Tensor Vw = scaled({m, dw}, k, 33), Vr = scaled({m, dr}, k, 34), Vi = scaled({m, di}, k, 35), bias = scaled({m}, 0.1, 36);
  Tensor seed = randn_on({b, t, m}, dev, 37);
#ifdef MRNN_WITH_CUDA
  const bool was = cuda::allow_tf32();
  cuda::set_allow_tf32(tf32);
#endif
  timed(st, dev, [&] {
    for (Tensor* p : {&w, &r, &img, &Vw, &Vr, &Vi, &bias}) p->zero_grad();
    Tensor out = fused ? multimodal(w, r, img, Vw, Vr, Vi, bias)
                       : scaled_tanh(add(add(linear(w, Vw, Tensor()), linear(r, Vr, Tensor())),
                                         unsqueeze(linear(img, Vi, bias), 1)));
    out.backward(seed);
  });
#ifdef MRNN_WITH_CUDA
  cuda::set_allow_tf32(was);
#endif
  multimodal_counters(st, dev, b, t, dw, dr, di, m, tf32);
}
void BM_multimodal_fused(benchmark::State& st, Device dev, bool tf32) { multimodal_layer(st, dev, true, tf32); }
void BM_multimodal_unfused(benchmark::State& st, Device dev, bool tf32) { multimodal_layer(st, dev, false, tf32); }

// ---- the fused recurrent cells (issue 6, kernel 4) ----
// One step's elementwise work, forward + backward, on given projections xproj, hproj [b, G * h]
// and state [b, h], f32: the fused op against the composition of separate ops the layers used
// before. Bytes counted for the fused form, each element read or written once (4 bytes):
// relu  forward xp, hp, h'; backward h', dh, dpre                        = 6 b h
// lstm  forward xp, hp (8), c, gates (4), h', c'; backward gates (4), c,
//       c', dh', dc', dpre (4), dc                                        = 28 b h
// gru   forward xp, hp (6), h, gates (3), h'; backward gates (3), hp_n, h,
//       dh', dxp (3), dhp (3), dh                                         = 24 b h
// (the backward returns the same dpre for both LSTM projections). No FLOP counter: these are
// bound by memory traffic.
enum class Cell { Relu, Lstm, Gru };

// One cell step forward + backward; in: xp, hp, state, seed. Outputs: the step's output and the
// gradients of xp, hp (and the state, for LSTM and GRU).
Outputs cell_step(In in, Cell cell, bool fused) {
  const int64_t h = in[2].size(1);
  Tensor xp = in[0].detach().requires_grad_(), hp = in[1].detach().requires_grad_(), state = in[2].detach();
  std::vector<Tensor> leaves{xp, hp};
  if (cell != Cell::Relu) leaves.push_back(state.requires_grad_());
  Tensor out;
  if (fused) {
    out = cell == Cell::Relu ? rnn_cell(xp, hp, true) : cell == Cell::Lstm ? lstm_cell(xp, hp, state) : gru_cell(xp, hp, state);
  } else if (cell == Cell::Relu) {
    out = relu(add(xp, hp));
  } else if (cell == Cell::Lstm) {
    auto g = split(add(xp, hp), {h, h, h, h}, 1);
    Tensor c2 = add(mul(sigmoid(g[1]), state), mul(sigmoid(g[0]), tanh(g[2])));
    out = stack({mul(sigmoid(g[3]), tanh(c2)), c2}, 0);
  } else {
    auto xg = split(xp, {h, h, h}, 1);
    auto hg = split(hp, {h, h, h}, 1);
    Tensor r = sigmoid(add(xg[0], hg[0])), z = sigmoid(add(xg[1], hg[1]));
    Tensor n = tanh(add(xg[2], mul(r, hg[2])));
    out = add(n, mul(z, sub(state, n)));
  }
  return with_grads(out, in[3], leaves);
}

void rnn_cell_bench(benchmark::State& st, Device dev, Cell cell, bool fused) {
  if (!usable(st, dev)) return;
  const int64_t b = st.range(0), h = st.range(1);
  const int64_t gates = cell == Cell::Relu ? 1 : cell == Cell::Lstm ? 4 : 3;
  {
    const char* names[] = {"BM_relu_cell", "BM_lstm_cell", "BM_gru_cell"};
    const std::string name = std::string(names[static_cast<int>(cell)]) + (fused ? "_fused" : "_unfused");
    if (!validated(st, key_of(name.c_str(), dev, {b, h}), dev,
                   {fresh({b, gates * h}, 40), fresh({b, gates * h}, 41), fresh({b, h}, 42),
                    fresh(cell == Cell::Lstm ? Shape{2, b, h} : Shape{b, h}, 43)},
                   [cell, fused](In x) { return cell_step(x, cell, fused); },
                   [cell](In x) { return cell_step(x, cell, false); }, dev.is_cpu(), 1e-5))
      return;
  }
  Tensor xp = randn_on({b, gates * h}, dev, 40).requires_grad_(), hp = randn_on({b, gates * h}, dev, 41).requires_grad_();
  Tensor state = randn_on({b, h}, dev, 42);
  if (cell != Cell::Relu) state.requires_grad_();  // the plain cell has no state input
  Tensor seed = randn_on(cell == Cell::Lstm ? Shape{2, b, h} : Shape{b, h}, dev, 43);
  auto unfused = [&]() -> Tensor {
    if (cell == Cell::Relu) return relu(add(xp, hp));
    if (cell == Cell::Lstm) {
      auto g = split(add(xp, hp), {h, h, h, h}, 1);
      Tensor i = sigmoid(g[0]), f = sigmoid(g[1]), cand = tanh(g[2]), o = sigmoid(g[3]);
      Tensor c2 = add(mul(f, state), mul(i, cand));
      return stack({mul(o, tanh(c2)), c2}, 0);
    }
    auto xg = split(xp, {h, h, h}, 1);
    auto hg = split(hp, {h, h, h}, 1);
    Tensor r = sigmoid(add(xg[0], hg[0])), z = sigmoid(add(xg[1], hg[1]));
    Tensor n = tanh(add(xg[2], mul(r, hg[2])));
    return add(n, mul(z, sub(state, n)));
  };
  timed(st, dev, [&] {
    xp.zero_grad();
    hp.zero_grad();
    state.zero_grad();
    Tensor out = !fused                ? unfused()
                 : cell == Cell::Relu ? rnn_cell(xp, hp, true)
                 : cell == Cell::Lstm ? lstm_cell(xp, hp, state)
                                      : gru_cell(xp, hp, state);
    out.backward(seed);
  });
  const int64_t per = cell == Cell::Relu ? 6 : cell == Cell::Lstm ? 28 : 24;
  st.SetBytesProcessed(st.iterations() * 4 * per * b * h);
  if (dev.is_cuda()) {
    const Peaks p = peaks_of(dev);
    st.counters["HBM_frac"] = benchmark::Counter(4.0 * static_cast<double>(per * b * h) / p.hbm,
                                                 benchmark::Counter::kIsIterationInvariantRate);
    st.SetLabel(p.card);
  }
}
void BM_relu_cell_fused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Relu, true); }
void BM_relu_cell_unfused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Relu, false); }
void BM_lstm_cell_fused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Lstm, true); }
void BM_lstm_cell_unfused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Lstm, false); }
void BM_gru_cell_fused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Gru, true); }
void BM_gru_cell_unfused(benchmark::State& st, Device dev) { rnn_cell_bench(st, dev, Cell::Gru, false); }

// A one-layer ReLU RNN over all steps, forward + backward, f32, x [b, t, in]: the layer's own
// form (one input GEMM, per step a recurrent GEMM and the elementwise part, here either the fused
// rnn_cell or relu(add(...))), and on the GPU cuDNN's RNN API (cuda::CudnnReluRnn, the same
// sizes). FLOPs of the GEMMs: forward, input gradient and weight gradient of both projections,
// 6 b t h (in + h).
void relu_rnn_counters(benchmark::State& st, int64_t b, int64_t t, int64_t in, int64_t h) {
  flops(st, 6.0 * static_cast<double>(b * t) * static_cast<double>(h) * static_cast<double>(in + h));
}
// The ReLU RNN layer forward + backward (the loss: the sum of every step's output); in: x, wih,
// whh, bih, bhh. Outputs: the loss and the four weight gradients.
Outputs relu_rnn_step(In in, bool fused) {
  const int64_t b = in[0].size(0), t = in[0].size(1), h = in[1].size(0);
  std::vector<Tensor> p;
  for (size_t i = 1; i < 5; ++i) p.push_back(in[i].detach().requires_grad_());
  Tensor xp = linear(in[0], p[0], p[2]), hs = Tensor::zeros({b, h}, in[0].dtype(), in[0].device());
  std::vector<Tensor> out;
  for (int64_t k = 0; k < t; ++k) {
    Tensor step = select(xp, 1, k), hp = linear(hs, p[1], p[3]);
    hs = fused ? rnn_cell(step, hp, true) : relu(add(step, hp));
    out.push_back(hs);
  }
  return with_grads(sum(stack(out, 1)), Tensor::ones({}), p);
}

void relu_rnn_layer(benchmark::State& st, Device dev, bool fused) {
  if (!usable(st, dev)) return;
  const int64_t b = st.range(0), t = st.range(1), in = st.range(2), h = st.range(3);
  if (!validated(st, key_of(fused ? "BM_relu_rnn_fused" : "BM_relu_rnn_unfused", dev, {b, t, in, h}), dev,
                 {fresh({std::min<int64_t>(b, 8), t, in}, 60), fresh({h, in}, 61, 0.05), fresh({h, h}, 62, 0.05),
                  fresh({h}, 63, 0.05), fresh({h}, 64, 0.05)},
                 [fused](In x) { return relu_rnn_step(x, fused); }, [](In x) { return relu_rnn_step(x, false); },
                 dev.is_cpu(), 1e-4))
    return;
  auto param = [&](const Shape& s, uint64_t seed) {
    Tensor p;
    {
      NoGradGuard ng;
      p = mul_scalar(randn_on(s, dev, seed), 0.05);
    }
    return p.requires_grad_();
  };
  Tensor x = randn_on({b, t, in}, dev, 60), wih = param({h, in}, 61), whh = param({h, h}, 62), bih = param({h}, 63),
         bhh = param({h}, 64);
  timed(st, dev, [&] {
    for (Tensor* p : {&wih, &whh, &bih, &bhh}) p->zero_grad();
    Tensor xp = linear(x, wih, bih), hs = Tensor::zeros({b, h}, DType::F32, dev);
    std::vector<Tensor> out;
    for (int64_t k = 0; k < t; ++k) {
      Tensor step = select(xp, 1, k), hp = linear(hs, whh, bhh);
      hs = fused ? rnn_cell(step, hp, true) : relu(add(step, hp));
      out.push_back(hs);
    }
    sum(stack(out, 1)).backward();
  });
  relu_rnn_counters(st, b, t, in, h);
}
void BM_relu_rnn_fused(benchmark::State& st, Device dev) { relu_rnn_layer(st, dev, true); }
void BM_relu_rnn_unfused(benchmark::State& st, Device dev) { relu_rnn_layer(st, dev, false); }
void BM_relu_rnn_cudnn(benchmark::State& st, Device dev) {
  if (!usable(st, dev)) return;
#ifdef MRNN_WITH_CUDA
  const int64_t b = st.range(0), t = st.range(1), in = st.range(2), h = st.range(3);
  cuda::CudnnReluRnn rnn(dev.index, b, t, in, h);
  timed(st, dev, [&] { rnn.forward_backward(); });
  relu_rnn_counters(st, b, t, in, h);
  // Not validated: cuDNN's RNN is the baseline compared against, and its wrapper keeps its
  // outputs inside (kernels/cuda/cudnn_rnn.h).
  st.SetLabel("baseline, not validated");
#endif
}

// ---- GEMM precision modes (issue 6, kernel 5) ----
// C [m, n] = A [m, k] B [k, n], f32 in and out, in one of the cuda::set_matmul_precision modes:
// FP32 and TF32 through matmul (cuBLAS), BF16 through cuda::gemm_bf16 (the two operand
// conversions to bf16 are inside the timed region). 2 m k n FLOPs; GEMM_frac against the card's
// dense peak for the mode: f32 67, TF32 494.7, BF16 989.4 TFLOP/s on an H100 SXM (datasheet
// figures without sparsity; BF16 is taken as twice the TF32 figure, as on the H100 and H200).
void BM_gemm_precision(benchmark::State& st, Device dev, MatmulPrecision mode) {
  if (!usable(st, dev)) return;
#ifdef MRNN_WITH_CUDA
  const int64_t m = st.range(0), k = st.range(1), n = st.range(2);
  {
    auto gemm = [mode](In x) {  // in the mode on the GPU (then back), plain f32 on the CPU
      NoGradGuard ng;
      const MatmulPrecision was = cuda::matmul_precision();
      if (x[0].device().is_cuda()) cuda::set_matmul_precision(mode);
      Tensor c = Tensor::empty({x[0].size(0), x[1].size(1)}, DType::F32, x[0].device());
      if (mode == MatmulPrecision::BF16 && x[0].device().is_cuda())
        cuda::gemm_bf16(x[0], false, x[1], false, c, 1.0, 0.0);
      else
        c = matmul(x[0], x[1]);
      cuda::set_matmul_precision(was);
      return Outputs{c};
    };
    const double tol = mode == MatmulPrecision::FP32 ? 1e-5 : mode == MatmulPrecision::TF32 ? 3e-3 : 1e-2;
    if (!validated(st, key_of("BM_gemm_precision", dev, {m, k, n, static_cast<int64_t>(mode)}), dev,
                   {fresh({std::min<int64_t>(m, 1024), k}, 50), fresh({k, std::min<int64_t>(n, 2048)}, 51)}, gemm, gemm,
                   false, tol))
      return;
  }
  Tensor a = randn_on({m, k}, dev, 50), b = randn_on({k, n}, dev, 51), c = Tensor::empty({m, n}, DType::F32, dev);
  NoGradGuard ng;
  const MatmulPrecision was = cuda::matmul_precision();
  cuda::set_matmul_precision(mode);
  timed(st, dev, [&] {
    if (mode == MatmulPrecision::BF16)
      cuda::gemm_bf16(a, false, b, false, c, 1.0, 0.0);
    else
      benchmark::DoNotOptimize(matmul(a, b).raw_data());
  });
  cuda::set_matmul_precision(was);
  const double fl = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  flops(st, fl);
  const Peaks p = peaks_of(dev);
  const double peak = mode == MatmulPrecision::FP32 ? p.fp32 : mode == MatmulPrecision::TF32 ? p.tf32 : 2 * p.tf32;
  st.counters["GEMM_frac"] = benchmark::Counter(fl / peak, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(p.card);
#else
  (void)mode;
#endif
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
// The size: 4096 rows, hidden 512, vocabulary 10000. The CPU runs the fused op only (the
// unfused CPU composition is in bench_kernels).
BENCHMARK_CAPTURE(BM_output_layer_fused, cpu, kCpu, false)
    ->Args({4096, 512, 10000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_output_layer_fused, cuda, kGpu, false)
    ->Args({4096, 512, 10000})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_output_layer_unfused, cuda, kGpu, false)
    ->Args({4096, 512, 10000})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_output_layer_fused, cuda_tf32, kGpu, true)
    ->Args({4096, 512, 10000})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_output_layer_unfused, cuda_tf32, kGpu, true)
    ->Args({4096, 512, 10000})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_softmax_xent_rows, cpu, kCpu)->Args({4096, 10000})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_softmax_xent_rows, cuda, kGpu)->Args({4096, 10000})->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_sum_rows, cpu, kCpu)
    ->Args({4096, 4096})
    ->Args({64, 262144})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_sum_rows, cuda, kGpu)
    ->Args({4096, 4096})
    ->Args({64, 262144})
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_dropout, cpu, kCpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_dropout, cuda, kGpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_embedding, cpu, kCpu, true)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_embedding, cuda_sorted, kGpu, true)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_embedding, cuda_atomic, kGpu, false)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_conv2d, cpu, kCpu)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_conv2d, cuda, kGpu)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_round_trip, cuda, kGpu)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();
// The multimodal layer at the m-RNN's widths (word 256, recurrent 256, multimodal 512) with
// 2048-wide image features, 128 images x 20 steps; the CPU at a quarter of the batch.
#define MRNN_MM_BENCH(name, cap, dev, tf32, batch, timing)                                         \
  BENCHMARK_CAPTURE(name, cap, dev, tf32)->Args({batch, 20, 256, 256, 2048, 512})->Unit(benchmark::kMicrosecond)->timing()
MRNN_MM_BENCH(BM_multimodal_fused, cpu, kCpu, false, 32, UseRealTime);
MRNN_MM_BENCH(BM_multimodal_unfused, cpu, kCpu, false, 32, UseRealTime);
MRNN_MM_BENCH(BM_multimodal_fused, cuda, kGpu, false, 128, UseManualTime);
MRNN_MM_BENCH(BM_multimodal_unfused, cuda, kGpu, false, 128, UseManualTime);
MRNN_MM_BENCH(BM_multimodal_fused, cuda_tf32, kGpu, true, 128, UseManualTime);
MRNN_MM_BENCH(BM_multimodal_unfused, cuda_tf32, kGpu, true, 128, UseManualTime);
#undef MRNN_MM_BENCH
// One step of the recurrent cells at batch 128, hidden 512 (the m-RNN's recurrent width is 256;
// 512 makes the GPU case less launch-bound), fused vs unfused, CPU and CUDA.
#define MRNN_CELL_BENCH(name)                                                                             \
  BENCHMARK_CAPTURE(name, cpu, kCpu)->Args({128, 512})->Unit(benchmark::kMicrosecond)->UseRealTime();    \
  BENCHMARK_CAPTURE(name, cuda, kGpu)->Args({128, 512})->Unit(benchmark::kMicrosecond)->UseManualTime()
MRNN_CELL_BENCH(BM_relu_cell_fused);
MRNN_CELL_BENCH(BM_relu_cell_unfused);
MRNN_CELL_BENCH(BM_lstm_cell_fused);
MRNN_CELL_BENCH(BM_lstm_cell_unfused);
MRNN_CELL_BENCH(BM_gru_cell_fused);
MRNN_CELL_BENCH(BM_gru_cell_unfused);
#undef MRNN_CELL_BENCH
// The ReLU RNN layer at the m-RNN's sizes (64 captions x 20 words, input and hidden 256): fused
// cells vs relu(add()) vs cuDNN's RNN API.
#define MRNN_RNN_BENCH(name, cap, dev, timing) \
  BENCHMARK_CAPTURE(name, cap, dev)->Args({64, 20, 256, 256})->Unit(benchmark::kMicrosecond)->timing()
MRNN_RNN_BENCH(BM_relu_rnn_fused, cpu, kCpu, UseRealTime);
MRNN_RNN_BENCH(BM_relu_rnn_unfused, cpu, kCpu, UseRealTime);
MRNN_RNN_BENCH(BM_relu_rnn_fused, cuda, kGpu, UseManualTime);
MRNN_RNN_BENCH(BM_relu_rnn_unfused, cuda, kGpu, UseManualTime);
MRNN_RNN_BENCH(BM_relu_rnn_cudnn, cuda, kGpu, UseManualTime);
#undef MRNN_RNN_BENCH
// GEMM 4096^3 and the output layer's logits GEMM (4096 rows, hidden 512, vocabulary 10000) in
// each precision mode (the table's device column reads cuda_fp32 / cuda_tf32 / cuda_bf16).
#define MRNN_PREC_BENCH(cap, mode)                                  \
  BENCHMARK_CAPTURE(BM_gemm_precision, cap, kGpu, mode)             \
      ->Args({4096, 4096, 4096})                                    \
      ->Args({4096, 512, 10000})                                    \
      ->Unit(benchmark::kMicrosecond)                               \
      ->UseManualTime()
MRNN_PREC_BENCH(cuda_fp32, MatmulPrecision::FP32);
MRNN_PREC_BENCH(cuda_tf32, MatmulPrecision::TF32);
MRNN_PREC_BENCH(cuda_bf16, MatmulPrecision::BF16);
#undef MRNN_PREC_BENCH

MRNN_BENCH_MAIN_VALIDATED()
