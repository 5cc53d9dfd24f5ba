// One m-RNN training step and caption decoding at the bench configuration: vocabulary
// 10k, batch 64, 16 time steps, 4096-d image features, sizes 128/256/256/512, Adam + clipping,
// dropout 0.25. bench/compare_pytorch.py runs the same model in PyTorch and prints the ratios.
//   OMP_NUM_THREADS=2 ./build/bench/bench_train --benchmark_min_time=2
// Counters: words/s or images/s, FLOP rate by the counted FLOPs (docs/performance.md), and
// peak_MB = the resident-set high-water mark (VmHWM after a reset) above the state with the model
// and its inputs in memory, over the warm-up and the timed iterations. Run one benchmark per process
// with MALLOC_MMAP_THRESHOLD_=131072 (bench/compare_pytorch.py does) for a meaningful peak_MB.
#include <benchmark/benchmark.h>

#include <cmath>
#include <fstream>
#include <string>

#include "core/allocator.h"
#include "kernels/ops.h"
#include "models/mrnn/decoding.h"
#include "models/mrnn/mrnn.h"
#include "models/mrnn/retrieval.h"
#include "models/engine/optim.h"
#ifdef MRNN_WITH_CUDA
#include "bench/bench_train_adam.h"
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;

namespace {

constexpr int64_t kVocab = 10000, kBatch = 64, kSteps = 16, kFeat = 4096;

MrnnConfig bench_config(bool tws) {
  MrnnConfig c;
  c.vocab = kVocab;
  c.tws = tws;
  c.image_input = "features";
  c.image_dim = kFeat;
  c.dropout = 0.25;
  return c;
}

// Tokens [B, T+1]: <bos>, T random words (never <eos>/<pad>), so every step predicts a real word.
Tensor random_tokens(Generator& g) {
  std::vector<int64_t> ids(kBatch * (kSteps + 1));
  for (int64_t b = 0; b < kBatch; ++b) {
    ids[b * (kSteps + 1)] = kBosId;
    for (int64_t t = 1; t <= kSteps; ++t) ids[b * (kSteps + 1) + t] = 4 + static_cast<int64_t>(g.randint(kVocab - 4));
  }
  return Tensor::from_vector(ids, {kBatch, kSteps + 1});
}

// Linux: reset the peak-RSS counter (VmHWM) and read it / the current RSS, in MB.
void reset_hwm() { std::ofstream("/proc/self/clear_refs") << "5"; }
double status_mb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string k;
  while (f >> k) {
    if (k == key) {
      double kb = 0;
      f >> kb;
      return kb / 1024.0;
    }
    std::getline(f, k);
  }
  return 0;
}

// FLOPs per predicted word, forward + backward (x3 for the GEMMs), counting multiply-adds as 2.
double flops_per_word(bool tws) {
  const MrnnConfig c = bench_config(tws);
  double fwd = 2.0 * (c.embed1 * c.embed2 + c.rnn * c.rnn + (c.embed2 + c.rnn) * c.multimodal);
  fwd += 2.0 * c.image_dim * c.multimodal / kSteps;  // image term once per caption
  fwd += tws ? 2.0 * (c.multimodal * c.embed1 + c.embed1 * c.vocab) : 2.0 * c.multimodal * c.vocab;
  return 3 * fwd;
}

void BM_train_step(benchmark::State& st) {
  const bool tws = st.range(0) != 0;
  Generator g(1);
  Mrnn model(bench_config(tws), g);
  model.train();
  Tensor feats = Tensor::randn({kBatch, kFeat}, g);
  Tensor tokens = random_tokens(g);
  // Peak memory counts everything training adds to the model and its data: optimizer state,
  // activations, gradients and buffers (PyTorch's Adam also allocates its state in the first step).
  // The cache is emptied first so blocks left over from initialisation are not silently reused.
  cpu_allocator::empty_cache();
  const double rss0 = status_mb("VmRSS:");
  reset_hwm();
  cpu_allocator::reset_peak();
  std::vector<Tensor> params;
  for (auto& [name, t] : model.named_parameters()) params.push_back(t);
  Adam opt(params);
  auto step = [&]() {
    opt.zero_grad();  // as the Trainer does: the last step's gradients go before the forward pass
    Tensor loss = model.loss(tokens, model.encode_images(feats));
    loss.backward();
    clip_grad_norm(params, 5.0);
    opt.step(1e-4);
    return loss.item();
  };
  step();  // warm the caches (allocator, OpenBLAS buffers)
  for (auto _ : st) benchmark::DoNotOptimize(step());
  const double words = static_cast<double>(kBatch * kSteps);
  st.counters["words/s"] = benchmark::Counter(words, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(words * flops_per_word(tws) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["peak_MB"] = status_mb("VmHWM:") - rss0;
  st.counters["alloc_peak_MB"] = static_cast<double>(cpu_allocator::stats().peak_bytes_in_use) / (1 << 20);
  st.SetLabel(tws ? "tws" : "untied");
}
BENCHMARK(BM_train_step)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Sets the output bias of <eos> to -1e4, so no decoder stops early: every implementation then does
// the same number of steps.
void make_eos_unreachable(Mrnn& model) {
  for (auto& [name, t] : model.named_parameters())
    if (name == "output.bias") t.data<float>()[kEosId] = -1e4f;
}

// Captions for feats: beam search when opt.beam_size > 1, else greedy.
std::vector<Caption> decode(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  NoGradGuard ng;
  Tensor f = model.encode_images(feats);
  return opt.beam_size > 1 ? beam_search_captions(model, f, opt) : greedy_captions(model, f, opt);
}

// Decoding 64 images for exactly 16 words (<eos> unreachable).
// range(1): 0 the output layer packed once in fp32 (Mrnn::set_inference_precision(F32), as the
// programs decode), 1 packed in bf16 (skipped where unavailable), 2 not packed (a model on which
// set_inference_precision was never called: OpenBLAS or oneDNN per call, kernels/gemm_backend.h).
void BM_decode(benchmark::State& st) {
  const int64_t beam = st.range(0);
  Generator g(2);
  Mrnn model(bench_config(false), g);
  model.eval();
  make_eos_unreachable(model);
  if (st.range(1) == 0) model.set_inference_precision(MatmulPrecision::F32);  // what the programs do
  if (st.range(1) == 1) {
    std::string notice;
    if (model.set_inference_precision(MatmulPrecision::BF16, &notice) != MatmulPrecision::BF16) {
      st.SkipWithError(notice.c_str());
      return;
    }
  }
  Tensor feats = Tensor::randn({kBatch, kFeat}, g);
  DecodeOptions opt;
  opt.max_length = kSteps;
  opt.beam_size = beam;
  auto run = [&]() { return decode(model, feats, opt); };
  cpu_allocator::empty_cache();
  const double rss0 = status_mb("VmRSS:");
  reset_hwm();
  run();
  for (auto _ : st) benchmark::DoNotOptimize(run().size());
  st.counters["images/s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["peak_MB"] = status_mb("VmHWM:") - rss0;
  st.SetLabel((beam > 1 ? "beam " + std::to_string(beam) : std::string("greedy")) + (st.range(1) == 1 ? " bf16" : st.range(1) == 2 ? " fp32 unpacked" : " fp32"));
}
BENCHMARK(BM_decode)->Args({1, 0})->Args({3, 0})->Args({1, 1})->Args({3, 1})->Args({1, 2})->Args({3, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

// Retrieval scoring (models/mrnn/retrieval.h): log P(S | I) of 5,000 sentences of 16 words
// against range(0) images, untied bench model. Resident memory must not grow with S x V: the
// peak stays bounded (about 0.1 GB above the inputs) at any image count, since images add only
// their features and one row of scores each. GFLOP/s counts the per-image output GEMMs
// 2 S T M V and the language half once.
void BM_retrieval(benchmark::State& st) {
  constexpr int64_t kSentences = 5000;
  const int64_t images = st.range(0);
  Generator g(3);
  Mrnn model(bench_config(false), g);
  model.eval();
  std::vector<int64_t> ids(kSentences * (kSteps + 2), kPadId);
  for (int64_t s = 0; s < kSentences; ++s) {
    int64_t* row = &ids[s * (kSteps + 2)];
    row[0] = kBosId;
    for (int64_t t = 1; t <= kSteps; ++t) row[t] = 4 + static_cast<int64_t>(g.randint(kVocab - 4));
    row[kSteps + 1] = kEosId;
  }
  Tensor tokens = Tensor::from_vector(ids, {kSentences, kSteps + 2});
  Tensor feats;
  {
    NoGradGuard ng;
    feats = model.encode_images(Tensor::randn({images, kFeat}, g));
  }
  cpu_allocator::empty_cache();
  const double rss0 = status_mb("VmRSS:");
  reset_hwm();
  for (auto _ : st) benchmark::DoNotOptimize(sentence_log_probs(model, feats, tokens).size());
  const MrnnConfig c = bench_config(false);
  const double rows = static_cast<double>(kSentences * (kSteps + 1));
  const double lang = 2.0 * rows * (c.embed1 * c.embed2 + c.rnn * c.rnn + (c.embed2 + c.rnn) * c.multimodal);
  const double flops = lang + static_cast<double>(images) * 2.0 * rows * c.multimodal * c.vocab;
  st.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["peak_MB"] = status_mb("VmHWM:") - rss0;
}
BENCHMARK(BM_retrieval)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

#ifdef MRNN_WITH_CUDA
const Device kGpu = Device::cuda(0);

// Adam (PyTorch's defaults, betas 0.9 / 0.999, eps 1e-8) with gradient-norm clipping on the
// device. The update is kernels/common/adam.h's adam_update, the per-element function
// models/engine/optim.cpp's Adam runs on the CPU, here in a kernel (bench/bench_train_adam.cu); the
// step's constants are computed as Adam::step computes them. The global gradient norm is summed
// with tensor ops and read back once per step (as clip_grad_norm does), and the clip factor is
// applied inside the update rather than by rescaling the gradients first.
class DeviceAdam {
 public:
  explicit DeviceAdam(std::vector<Tensor> params) : params_(std::move(params)) {
    for (const Tensor& p : params_) {
      m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
      v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    }
  }
  void step(double lr, double max_norm) {
    NoGradGuard ng;
    ++steps_;
    Tensor total;
    for (const Tensor& p : params_)
      if (p.grad().defined()) total = total.defined() ? add(total, sum(square(p.grad()))) : sum(square(p.grad()));
    const double norm = total.defined() ? std::sqrt(total.item()) : 0.0;
    const float clip = static_cast<float>(norm > max_norm ? max_norm / (norm + 1e-6) : 1.0);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double bc1 = 1 - std::pow(b1, static_cast<double>(steps_)), bc2 = 1 - std::pow(b2, static_cast<double>(steps_));
    const AdamStep s{static_cast<float>(b1), static_cast<float>(b2), static_cast<float>(eps),
                     static_cast<float>(lr / bc1), static_cast<float>(1 / std::sqrt(bc2)),
                     /*wd=*/0.0f, /*decay=*/1.0f, /*decoupled=*/false};
    for (size_t i = 0; i < params_.size(); ++i) {
      Tensor g = params_[i].grad();
      if (!g.defined()) continue;
      bench::adam_update_cuda(params_[i], m_[i], v_[i], g.contiguous(), clip, s);
    }
  }

 private:
  std::vector<Tensor> params_, m_, v_;
  int64_t steps_ = 0;
};

void BM_train_step_cuda(benchmark::State& st) {
  if (!cuda::is_available()) {
    st.SkipWithError("no CUDA device");
    return;
  }
  const bool tws = st.range(0) != 0;
  Generator g(1);
  Mrnn model(bench_config(tws), g);
  model.train();
  model.to(kGpu);
  Tensor feats = Tensor::randn({kBatch, kFeat}, g).to(kGpu);
  Tensor tokens = random_tokens(g).to(kGpu);
  std::vector<Tensor> params = model.parameters();
  DeviceAdam opt(params);
  auto step = [&]() {
    Tensor loss = model.loss(tokens, model.encode_images(feats));
    model.zero_grad();
    loss.backward();
    opt.step(1e-4, 5.0);
    return loss.item();  // waits for the step's GPU work
  };
  step();
  const AllocatorStats before = cuda::memory_stats(kGpu.index);
  for (auto _ : st) benchmark::DoNotOptimize(step());
  const double words = static_cast<double>(kBatch * kSteps);
  st.counters["words/s"] = benchmark::Counter(words, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(words * flops_per_word(tws) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["gpu_peak_MB"] = static_cast<double>(cuda::memory_stats(kGpu.index).peak_bytes_in_use) / (1 << 20);
  st.counters["cudaMalloc_in_loop"] =
      static_cast<double>(cuda::memory_stats(kGpu.index).system_allocs - before.system_allocs);
  st.SetLabel(std::string(tws ? "tws" : "untied") + ", cuda, Adam kernel (kernels/common/adam.h)");
}
BENCHMARK(BM_train_step_cuda)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// range(0) beam (1 = greedy), range(1) images, range(2) words; <eos> unreachable as in BM_decode.
void BM_decode_cuda(benchmark::State& st) {
  if (!cuda::is_available()) {
    st.SkipWithError("no CUDA device");
    return;
  }
  const int64_t beam = st.range(0), images = st.range(1), words = st.range(2);
  Generator g(2);
  Mrnn model(bench_config(false), g);
  model.eval();
  make_eos_unreachable(model);
  model.to(kGpu);
  Tensor feats = Tensor::randn({images, kFeat}, g).to(kGpu);
  DecodeOptions opt;
  opt.max_length = words;
  opt.beam_size = beam;
  auto run = [&]() { return decode(model, feats, opt); };
  run();
  for (auto _ : st) benchmark::DoNotOptimize(run().size());  // ends with the captions' read-back
  st.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel((beam > 1 ? "beam " + std::to_string(beam) : std::string("greedy")) + ", cuda, " +
              std::to_string(words) + " words");
}
BENCHMARK(BM_decode_cuda)
    ->Args({1, kBatch, kSteps})
    ->Args({3, kBatch, kSteps})
    ->Args({3, 1024, 20})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
