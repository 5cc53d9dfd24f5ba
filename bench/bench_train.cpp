// One m-RNN training step and caption decoding at the bench configuration: vocabulary
// 10k, batch 64, 16 time steps, 4096-d image features, sizes 128/256/256/512, Adam + clipping,
// dropout 0.25. bench/compare_pytorch.py runs the same model in PyTorch and prints the ratios.
//   OMP_NUM_THREADS=2 ./build/bench/bench_train --benchmark_min_time=2
// Counters: words/s or images/s, FLOP rate by the counted FLOPs (docs/performance.md), and
// peak_MB = the resident-set high-water mark (VmHWM after a reset) above the state with the model
// and its inputs in memory, over the warm-up and the timed iterations. Run one benchmark per process
// with MALLOC_MMAP_THRESHOLD_=131072 (bench/compare_pytorch.py does) for a meaningful peak_MB.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "core/allocator.h"
#include "kernels/ops.h"
#include "models/decoding.h"
#include "models/mrnn.h"
#include "models/optim.h"

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
    Tensor loss = model.loss(tokens, model.encode_images(feats));
    opt.zero_grad();
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

// Decoding 64 images for exactly 16 words: <eos> is made unreachable (bias -1e4) so every
// implementation does the same number of steps.
void BM_decode(benchmark::State& st) {
  const int64_t beam = st.range(0);
  Generator g(2);
  Mrnn model(bench_config(false), g);
  model.eval();
  for (auto& [name, t] : model.named_parameters())
    if (name == "output.bias") t.data<float>()[kEosId] = -1e4f;
  Tensor feats = Tensor::randn({kBatch, kFeat}, g);
  DecodeOptions opt;
  opt.max_length = kSteps;
  opt.beam_size = beam;
  auto run = [&]() {
    NoGradGuard ng;
    Tensor f = model.encode_images(feats);
    return beam > 1 ? beam_search_captions(model, f, opt) : greedy_captions(model, f, opt);
  };
  cpu_allocator::empty_cache();
  const double rss0 = status_mb("VmRSS:");
  reset_hwm();
  run();
  for (auto _ : st) benchmark::DoNotOptimize(run().size());
  st.counters["images/s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["peak_MB"] = status_mb("VmHWM:") - rss0;
  st.SetLabel(beam > 1 ? "beam " + std::to_string(beam) : "greedy");
}
BENCHMARK(BM_decode)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
