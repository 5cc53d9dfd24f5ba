// embed_neighbors: the k nearest words by cosine to each given word (or phrase in quotes: the mean of
// its words' vectors), from a model folder or a word2vec text file.
//   embed_neighbors --model runs/embA red circle "large square" -k 5
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "eval/related_pairs.h"
#include "examples/cli_checks.h"
#include "examples/embed_cli.h"

using namespace mrnn;

int main(int argc, char** argv) {
  CLI::App app{"The k nearest words by cosine to each WORD (a quoted phrase: the mean of its words' vectors)."};
  cli::VectorSource src;
  std::vector<std::string> words;
  int64_t k = 10;
  app.option_defaults()->always_capture_default();
  cli::add_vector_source(app, src);
  app.add_option("words", words, "words or quoted phrases")->required();
  app.add_option("-k", k, "neighbours per word")->check(cli::positive_int)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    std::string label;
    const WordVectors table = cli::load_vector_source(src, &label);
    for (const std::string& phrase : words) {
      std::vector<std::string> ws;
      std::istringstream in(phrase);
      for (std::string w; in >> w;) ws.push_back(w);
      if (ws.empty()) throw Error("an empty word was given");
      std::vector<float> v;
      if (!phrase_vector(table, ws, &v)) {
        for (const std::string& w : ws)
          if (table.find(w) < 0) throw Error("'" + w + "' is not in the vocabulary of " + label);
      }
      const int64_t self = ws.size() == 1 ? table.find(ws[0]) : -1;
      std::printf("%s:", phrase.c_str());
      for (const WordNeighbour& n : nearest_by_cosine(table, v, k, self)) std::printf(" %s %.4f", n.word.c_str(), n.cosine);
      std::printf("\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_neighbors: error: %s\n", e.what());
    return 1;
  }
}
