// Caption metric speed on COCO-sized synthetic data: 5,000 images x 5 references.
//   build-xxx/bench/bench_eval                          # time BLEU, ROUGE-L, CIDEr-D, all three
//   build-xxx/bench/bench_eval --write_json=data.json   # write the same data for
//   python3 bench/eval_pycocoevalcap.py data.json       # pycocoevalcap's time on it
// The data is deterministic (std::mt19937 raw draws, fixed seed), so both sides score the same
// captions.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "eval/bleu.h"
#include "eval/caption_eval.h"
#include "eval/cider.h"
#include "eval/ngram_corpus.h"
#include "eval/rouge.h"

namespace {

using mrnn::eval::CaptionMap;

struct Data {
  CaptionMap refs, results;
};

// Caption-like sentences: 6-15 words from a 2,000-word vocabulary with a Zipf-like skew;
// hypotheses are edited references (70%) or fresh sentences (30%), as a trained model's are.
Data make_data(int num_images = 5000, int refs_per_image = 5) {
  std::mt19937 rng(1234);
  auto below = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  auto word = [&]() {
    const double u = static_cast<double>(rng()) / 4294967296.0;
    return "w" + std::to_string(static_cast<int>(2000 * u * u * u));
  };
  auto sentence = [&]() {
    std::vector<std::string> s(6 + below(10));
    for (auto& w : s) w = word();
    return s;
  };
  auto join = [](const std::vector<std::string>& s) {
    std::string out;
    for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
    return out;
  };
  Data d;
  for (int i = 0; i < num_images; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d", i);
    std::vector<std::vector<std::string>> refs;
    for (int r = 0; r < refs_per_image; ++r) refs.push_back(sentence());
    std::vector<std::string> hyp;
    if (below(10) < 7) {
      hyp = refs[below(refs_per_image)];
      for (uint32_t e = below(4); e > 0; --e) hyp[below(static_cast<uint32_t>(hyp.size()))] = word();
    } else {
      hyp = sentence();
    }
    for (const auto& r : refs) d.refs[id].push_back(join(r));
    d.results[id] = {join(hyp)};
  }
  return d;
}

const Data& data() {
  static const Data d = make_data();
  return d;
}

void write_json(const Data& d, const char* path) {
  std::FILE* f = std::fopen(path, "w");
  if (!f) {
    std::perror(path);
    std::exit(1);
  }
  auto write_map = [&](const CaptionMap& m) {
    std::fputc('{', f);
    bool first_id = true;
    for (const auto& [id, caps] : m) {  // ids and words are [0-9a-z]: no escaping needed
      std::fprintf(f, "%s\"%s\":[", first_id ? "" : ",", id.c_str());
      for (size_t c = 0; c < caps.size(); ++c) std::fprintf(f, "%s\"%s\"", c ? "," : "", caps[c].c_str());
      std::fputc(']', f);
      first_id = false;
    }
    std::fputc('}', f);
  };
  std::fputs("{\"refs\":", f);
  write_map(d.refs);
  std::fputs(",\"results\":", f);
  write_map(d.results);
  std::fputs("}\n", f);
  std::fclose(f);
}

// Each benchmark reports its corpus score as a counter, to compare with the Python output.
void BM_Bleu(benchmark::State& state) {
  mrnn::eval::BleuScore s;
  for (auto _ : state) benchmark::DoNotOptimize(s = mrnn::eval::bleu(data().refs, data().results));
  state.counters["BLEU4"] = s.corpus[3];
}
void BM_RougeL(benchmark::State& state) {
  mrnn::eval::RougeScore s;
  for (auto _ : state) benchmark::DoNotOptimize(s = mrnn::eval::rouge_l(data().refs, data().results));
  state.counters["ROUGE_L"] = s.corpus;
}
void BM_CiderD(benchmark::State& state) {
  mrnn::eval::CiderScore s;
  for (auto _ : state) benchmark::DoNotOptimize(s = mrnn::eval::cider_d(data().refs, data().results));
  state.counters["CIDEr_D"] = s.corpus;
}
void BM_EvaluateCaptions(benchmark::State& state) {
  mrnn::eval::CaptionScores s;
  for (auto _ : state)
    benchmark::DoNotOptimize(s = mrnn::eval::evaluate_captions(data().refs, data().results));
  state.counters["BLEU4"] = s.bleu.corpus[3];
  state.counters["CIDEr_D"] = s.cider_d.corpus;
}
// The shared n-gram encoding alone (part of BM_Bleu and BM_CiderD).
void BM_EncodeNgrams(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(mrnn::eval::encode_ngrams(data().refs, data().results, "bench"));
}

BENCHMARK(BM_Bleu)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RougeL)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CiderD)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateCaptions)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeNgrams)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // Our one flag, removed before Google Benchmark parses the rest.
  const char* kFlag = "--write_json=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, std::strlen(kFlag)) == 0) {
      write_json(data(), argv[i] + std::strlen(kFlag));
      std::printf("wrote %s\n", argv[i] + std::strlen(kFlag));
      return 0;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
