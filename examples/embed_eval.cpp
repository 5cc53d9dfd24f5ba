// embed_eval: related-phrase ranking accuracy of a model's word vectors (eval/related_pairs.h).
//   embed_eval --model runs/embA --pairs runs/shapes/dataset_shapes_related_pairs.tsv --out runs/embA/related.json
//   embed_eval --vectors vectors.txt --related pairs.tsv --seed 3      (negatives sampled from the other pairs)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "eval/related_pairs.h"
#include "examples/cli_checks.h"
#include "examples/embed_cli.h"

using namespace mrnn;

namespace {

nlohmann::ordered_json counts_json(const RankingCounts& c) {
  return {{"items", c.items}, {"judged", c.judged}, {"correct", c.correct}, {"skipped_unknown", c.skipped},
          {"accuracy", c.accuracy()}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Related-phrase ranking: a phrase's vector is the mean of its words' vectors; an item is right\n"
               "when the related candidate's cosine to the query is higher than the other's (ties are wrong).\n"
               "Items with a word the vectors lack are skipped and counted. Files are TSV (docs/embeddings.md):\n"
               "  --pairs:   query<TAB>candidate A<TAB>candidate B<TAB>A|B[<TAB>category]\n"
               "  --related: query<TAB>related phrase[<TAB>category]  (negatives sampled from the other pairs)\n"
               "Writes JSON: accuracy, items, judged, correct, skipped_unknown, unknown_words, per_category."};
  cli::VectorSource src;
  std::string pairs, related, out;
  uint64_t seed = 1;
  app.option_defaults()->always_capture_default();
  cli::add_vector_source(app, src);
  app.add_option("--pairs", pairs, "ranking file (4 or 5 tab-separated fields a line)")->check(CLI::ExistingFile);
  app.add_option("--related", related, "related-pairs file (2 or 3 fields a line)")->check(CLI::ExistingFile);
  app.add_option("--seed", seed, "--related: seed of the negative sampling")->capture_default_str();
  app.add_option("--out", out, "write the JSON here (default: standard output)")->check(cli::output_file);
  CLI11_PARSE(app, argc, argv);
  try {
    if (pairs.empty() == related.empty()) throw Error("give exactly one of --pairs FILE or --related FILE");
    std::string label;
    EmbedConfig cfg;
    cfg.variant.clear();
    const WordVectors table = cli::load_vector_source(src, &label, &cfg);
    const std::vector<RankingItem> items =
        pairs.empty() ? sample_negatives(load_related_pairs_tsv(related), seed, related) : load_ranking_tsv(pairs);
    const RankingScore s = score_ranking(table, items);
    nlohmann::ordered_json j;
    j["vectors"] = label;
    if (!cfg.variant.empty()) j["model"] = cfg.name();
    j["words"] = table.size();
    j["dim"] = table.dim();
    j["file"] = pairs.empty() ? related : pairs;
    j["mode"] = pairs.empty() ? "related_pairs_sampled_negatives" : "ranking";
    if (!related.empty()) j["seed"] = seed;
    const nlohmann::ordered_json all = counts_json(s.all);
    for (auto it = all.begin(); it != all.end(); ++it) j[it.key()] = it.value();
    j["unknown_words"] = s.unknown_words;
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    for (const auto& [cat, c] : s.per_category) per[cat] = counts_json(c);
    j["per_category"] = per;
    const std::string text = j.dump(2) + "\n";
    if (out.empty()) {
      std::fputs(text.c_str(), stdout);
    } else {
      std::ofstream f(out);
      f << text;
      if (!f.good()) throw Error(out + ": cannot write");
    }
    std::fprintf(stderr, "%s: accuracy %.4f (%lld of %lld judged); %lld of %lld items skipped for unknown words%s\n",
                 label.c_str(), s.all.accuracy(), static_cast<long long>(s.all.correct),
                 static_cast<long long>(s.all.judged), static_cast<long long>(s.all.skipped),
                 static_cast<long long>(s.all.items), s.unknown_words.empty() ? "" : " (see unknown_words)");
    for (const auto& [cat, c] : s.per_category)
      std::fprintf(stderr, "  %-10s accuracy %.4f (%lld of %lld judged, %lld skipped)\n", cat.c_str(), c.accuracy(),
                   static_cast<long long>(c.correct), static_cast<long long>(c.judged), static_cast<long long>(c.skipped));
    if (s.all.judged == 0) throw Error("no item could be judged: every item has a word the vectors lack");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_eval: error: %s\n", e.what());
    return 1;
  }
}
