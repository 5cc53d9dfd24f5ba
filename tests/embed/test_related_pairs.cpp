// Related-phrase ranking (eval/related_pairs.h) on hand-made vector tables: accuracy, ties, skipped
// unknown words, per-category counts, the sampled-negatives mode (deterministic under its seed),
// parse errors naming file and line; the word2vec text format (eval/word_vectors.h) round trip and
// its errors; ShapesWorld's rendered-world test (data/shapes_related.h).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include <unistd.h>

#include "data/shapes_related.h"
#include "data/shapes_world.h"
#include "eval/related_pairs.h"
#include "eval/word_vectors.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

// 2-d vectors: red and orange close, blue far from both; "big" and "tiny" opposite.
WordVectors hand_table() {
  return WordVectors({"red", "orange", "blue", "big", "tiny", "zero"},
                     {1, 0, 0.9f, 0.2f, 0, 1, 1, 1, -1, -1, 0, 0}, 2, "hand");
}

}  // namespace

TEST_CASE("ranking accuracy on a hand-made table: right, wrong, ties, unknown words skipped and named") {
  const std::string tsv =
      "# a comment\n"
      "red\torange\tblue\tA\tcolor\n"       // cos(red, orange) > cos(red, blue): right
      "red\tblue\torange\tB\tcolor\n"       // the same with the answer at B: right
      "blue\tred\torange\tA\tcolor\n"       // cos(blue, red) = 0 < cos(blue, orange): wrong
      "\n"
      "red\tpurple\tblue\tA\tcolor\n"       // purple unknown: skipped
      "red big\torange big\tblue tiny\tA\n"  // phrases: mean (1, .5) vs (.95, .6) and (-.5, 0): right
      "red\tzero\tzero\tA\n"                // a tie (both cosines 0) is wrong
      "mauve\tteal\tred\tB\tcolor\n";       // two unknown words: one skip
  const auto items = parse_ranking_tsv(tsv, "t.tsv");
  REQUIRE(items.size() == 7);
  CHECK(items[3].line == 6);  // line numbers count blank and comment lines
  CHECK(items[4].query == std::vector<std::string>{"red", "big"});
  const RankingScore s = score_ranking(hand_table(), items);
  CHECK(s.all.items == 7);
  CHECK(s.all.skipped == 2);
  CHECK(s.all.judged == 5);
  CHECK(s.all.correct == 3);
  CHECK(s.all.accuracy() == Approx(0.6));
  CHECK(s.unknown_words == std::vector<std::string>{"mauve", "purple", "teal"});
  REQUIRE(s.per_category.count("color") == 1);
  CHECK(s.per_category.size() == 1);
  const RankingCounts& c = s.per_category.at("color");
  CHECK(c.items == 5);
  CHECK(c.skipped == 2);
  CHECK(c.correct == 2);
  CHECK(c.judged == 3);
}

TEST_CASE("phrase vectors are the mean of their words' vectors") {
  std::vector<float> v;
  REQUIRE(phrase_vector(hand_table(), {"red", "blue", "big"}, &v));
  CHECK(v[0] == Approx(2.0 / 3));
  CHECK(v[1] == Approx(2.0 / 3));
  CHECK_FALSE(phrase_vector(hand_table(), {"red", "nope"}, &v));
}

TEST_CASE("related pairs with sampled negatives: deterministic under the seed, never the pair's own positive") {
  std::string tsv;
  const char* words[] = {"red", "orange", "blue", "big", "tiny", "zero"};
  for (int i = 0; i < 6; ++i) tsv += std::string(words[i]) + "\t" + words[(i + 1) % 6] + "\tk\n";
  const auto pairs = parse_related_pairs_tsv(tsv, "p.tsv");
  REQUIRE(pairs.size() == 6);
  const auto a = sample_negatives(pairs, 7, "p.tsv"), b = sample_negatives(pairs, 7, "p.tsv");
  REQUIRE(a.size() == 6);
  bool any_diff = false;
  for (uint64_t seed = 8; seed < 12 && !any_diff; ++seed) {
    const auto c = sample_negatives(pairs, seed, "p.tsv");
    for (size_t i = 0; i < a.size(); ++i) any_diff |= c[i].b != a[i].b;
  }
  CHECK(any_diff);  // the seed matters
  std::set<std::vector<std::string>> negatives;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].b == b[i].b);
    CHECK(a[i].a == pairs[i].positive);
    CHECK(a[i].a_related);
    CHECK(a[i].b != pairs[i].positive);
    CHECK(a[i].b != pairs[i].query);
    CHECK(a[i].category == "k");
    negatives.insert(a[i].b);
  }
  CHECK(negatives.size() >= 2);
  const RankingScore s = score_ranking(hand_table(), a);
  CHECK(s.all.judged + s.all.skipped == 6);
  CHECK(s.per_category.at("k").items == 6);
  // One distinct positive: nothing to sample from.
  const auto same = parse_related_pairs_tsv("red\tblue\norange\tblue\n", "same.tsv");
  CHECK_THROWS_WITH(sample_negatives(same, 1, "same.tsv"), Contains("same.tsv:1: no other pair"));
}

TEST_CASE("pairs files: malformed lines are rejected naming the file and the line") {
  CHECK_THROWS_WITH(parse_ranking_tsv("red\torange\tblue\tA\nred\torange\tblue\n", "bad.tsv"),
                    Contains("bad.tsv:2: expected 4 or 5 tab-separated fields"));
  CHECK_THROWS_WITH(parse_ranking_tsv("red\torange\tblue\tC\n", "bad.tsv"),
                    Contains("bad.tsv:1: the answer field is 'C', expected A or B"));
  CHECK_THROWS_WITH(parse_ranking_tsv("#x\nred\t \tblue\tA\n", "bad.tsv"), Contains("bad.tsv:2: the candidate A is empty"));
  CHECK_THROWS_WITH(parse_ranking_tsv("red\torange\tblue\tA\t\n", "bad.tsv"),
                    Contains("bad.tsv:1: the category field is empty"));
  CHECK_THROWS_WITH(parse_ranking_tsv("# nothing\n\n", "empty.tsv"), Contains("empty.tsv: no ranking items"));
  CHECK_THROWS_WITH(parse_ranking_tsv("red orange blue A\n", "spaces.tsv"),
                    Contains("spaces.tsv:1: expected 4 or 5 tab-separated fields"));
  CHECK_THROWS_WITH(parse_related_pairs_tsv("red\torange\tx\ty\n", "p.tsv"),
                    Contains("p.tsv:1: expected 2 or 3 tab-separated fields"));
  CHECK_THROWS_WITH(parse_related_pairs_tsv("\t orange\n", "p.tsv"), Contains("p.tsv:1: the query is empty"));
  CHECK_THROWS_WITH(load_ranking_tsv("/nonexistent/x.tsv"), Contains("/nonexistent/x.tsv: cannot open"));
  // Windows line ends are fine.
  CHECK(parse_ranking_tsv("red\torange\tblue\tA\r\n", "crlf.tsv").size() == 1);
}

TEST_CASE("word2vec text: exact round trip, and errors naming the file and line") {
  const WordVectors t({"a", "b", "c"}, {0.1f, -2.5e-8f, 3, 1.f / 3, 7, -0.0f}, 2, "t");
  const std::string text = word2vec_text(t);
  CHECK(text.rfind("3 2\na 0.100000001 ", 0) == 0);
  const WordVectors r = parse_word2vec_text(text, "t.txt");
  CHECK(r.words() == t.words());
  CHECK(r.dim() == 2);
  CHECK(r.values() == t.values());  // bit-exact floats
  const std::string path = (std::filesystem::temp_directory_path() / ("embed_w2v_" + std::to_string(::getpid()))).string();
  save_word2vec_text(path, t);
  CHECK(load_word2vec_text(path).values() == t.values());
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(parse_word2vec_text("3\n", "h.txt"), Contains("h.txt:1: expected the word2vec header"));
  CHECK_THROWS_WITH(parse_word2vec_text("2 3\na 1 2 3\nb 1 2\n", "d.txt"),
                    Contains("d.txt:3: dimension mismatch: word 'b' has 2 values, the header says D = 3"));
  CHECK_THROWS_WITH(parse_word2vec_text("2 1\na 1\n", "n.txt"), Contains("n.txt: the header says V = 2 words but the file has 1"));
  CHECK_THROWS_WITH(parse_word2vec_text("1 1\na 1\nb 2\n", "m.txt"), Contains("m.txt:3: more rows"));
  CHECK_THROWS_WITH(parse_word2vec_text("2 1\na 1\na 2\n", "u.txt"), Contains("u.txt:3: word 'a' appears twice"));
  CHECK_THROWS_WITH(parse_word2vec_text("1 1\na nan\n", "f.txt"), Contains("f.txt:2: value 1 of word 'a'"));
  CHECK_THROWS_WITH(parse_word2vec_text("", "e.txt"), Contains("e.txt: empty file"));
  CHECK_THROWS_WITH(parse_word2vec_text("0 4\n", "z.txt"), Contains("no words"));
  CHECK_THROWS_WITH(WordVectors({"a", "b"}, {1, 2, 3}, 2, "table"), Contains("table: dimension mismatch"));
  CHECK_THROWS_WITH(WordVectors({"a b"}, {1}, 1, "table"), Contains("contains whitespace"));
}

TEST_CASE("nearest words by cosine, the query word left out") {
  const WordVectors t = hand_table();
  const auto n = nearest_by_cosine(t, {1, 0}, 2, t.find("red"));
  REQUIRE(n.size() == 2);
  CHECK(n[0].word == "orange");
  CHECK(n[1].word == "big");
  CHECK(n[0].cosine == Approx(0.9 / std::sqrt(0.81 + 0.04)));
  CHECK(nearest_by_cosine(t, {1, 0}, 100).size() == 6);
}

TEST_CASE("ShapesWorld's related-phrase test comes from the rendered world and is written with the dataset") {
  const auto items = shapes::related_items(64);
  std::map<std::string, int> per;
  int a_related = 0;
  bool orange_red_over_blue = false;
  for (const auto& it : items) {
    ++per[it.category];
    a_related += it.a_related;
    const double rel = it.a_related ? it.dist_a : it.dist_b, other = it.a_related ? it.dist_b : it.dist_a;
    CHECK(other >= shapes::kRelatedMargin * rel);
    CHECK(it.query != it.a);
    CHECK(it.query != it.b);
    orange_red_over_blue |= it.query == "orange" && ((it.a == "red" && it.b == "blue" && it.a_related) ||
                                                      (it.a == "blue" && it.b == "red" && !it.a_related));
  }
  CHECK(orange_red_over_blue);
  CHECK(per["color"] >= 20);
  CHECK(per["shape"] >= 5);
  CHECK(per["size"] >= 10);
  CHECK(std::abs(2 * a_related - static_cast<int>(items.size())) <= 1);  // answers balanced
  // Novel shapes are left out; the test depends on the image size only.
  for (const auto& it : items) CHECK(it.a.find("star") == std::string::npos);
  CHECK(shapes::related_items_tsv(64) == shapes::related_items_tsv(64));
  // The generator writes it, and it parses as a ranking file.
  const auto dir = std::filesystem::temp_directory_path() / ("embed_shapes_" + std::to_string(::getpid()));
  ShapesWorldOptions o;
  o.n_train = 2;
  o.n_val = o.n_test = 1;
  o.n_novel = 0;
  generate_shapes_world(o, dir.string());
  const auto parsed = load_ranking_tsv((dir / "dataset_shapes_related_pairs.tsv").string());
  CHECK(parsed.size() == items.size());
  std::filesystem::remove_all(dir);
}
