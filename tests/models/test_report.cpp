// The evaluation report (models/mrnn/report.h) from hand-made inputs: the metrics table has the
// decoders as columns and their values, the retrieval table its random baseline computed from N, the
// curves are SVGs with axis titles, false scene claims are marked word by word, text is escaped with
// UTF-8 intact, and missing pieces (log, checks, images, retrieval scores) leave notes, not crashes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "models/mrnn/report.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 20;

// 20 images, 2 captions each (stored image by image, as load_caption_split does).
CaptionSplit report_split() {
  CaptionSplit s;
  for (int i = 0; i < kImages; ++i) {
    s.file_names.push_back("img" + std::to_string(i) + ".png");
    s.image_ids.push_back(i);
    s.references.push_back({"a red circle number " + std::to_string(i), "一只红色的圆 " + std::to_string(i)});
    for (int c = 0; c < 2; ++c) {
      s.captions.push_back({4, 5, 6});
      s.caption_image.push_back(i);
    }
  }
  return s;
}

const char* kMetrics = R"J({
  "split": "test", "images": 20, "sentences": 40, "perplexity": 4.5678,
  "greedy": {"bleu1": 0.81, "bleu2": 0.62, "bleu3": 0.43, "bleu4": 0.31, "rouge_l": 0.5701, "cider_d": 0.5123,
             "scene_correct": 87.5},
  "beam": {"bleu1": 0.83, "bleu2": 0.64, "bleu3": 0.45, "bleu4": 0.33, "rouge_l": 0.57, "cider_d": 0.7341,
           "beam_size": 3},
  "blind_greedy": {"bleu1": 0.5, "bleu2": 0.3, "bleu3": 0.2, "bleu4": 0.1, "rouge_l": 0.3, "cider_d": 0.1011},
  "scene_check": {"greedy": {"captions": 20, "parsed_percent": 95.0, "correct_percent": 87.5,
                             "claims": {"object": {"claims": 30, "precision": 90.0},
                                        "count": {"claims": 0, "precision": 0.0},
                                        "relation": {"claims": 10, "precision": 60.0}}}},
  "meteor": "not computed (no --meteor-jar given)",
  "retrieval_images": 20, "retrieval_sentences": 40,
  "image_retrieval": {"r1": 40.0, "r5": 75.0, "r10": 90.0, "med_r": 2, "mean_r": 3.1},
  "sentence_retrieval": {"r1": 45.0, "r5": 80.0, "r10": 95.0, "med_r": 2, "mean_r": 2.5},
  "sentence_retrieval_unnormalized": {"r1": 20.0, "r5": 55.0, "r10": 70.0, "med_r": 5, "mean_r": 6.0}
})J";

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_report_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

Claim claim(ClaimKind k, size_t b, size_t e, bool holds) {
  Claim c;
  c.kind = k;
  c.word_begin = b;
  c.word_end = e;
  c.holds = holds;
  return c;
}

// Inputs with everything present: captions, checks, images (fake PNG bytes), log and scores.
struct Fixture {
  CaptionSplit split = report_split();
  fs::path dir;
  ReportInputs in;
  explicit Fixture(const std::string& name) : dir(temp_dir(name)) {
    fs::create_directories(dir / "images");
    for (const std::string& f : split.file_names) write(dir / "images" / f, "\x89PNG fake bytes of " + f);
    write(dir / "log.jsonl",
          "{\"event\":\"train\",\"step\":10,\"loss\":4.2}\n"
          "not json at all\n"
          "{\"event\":\"train\",\"step\":\"x\",\"loss\":1}\n"
          "{\"event\":\"train\",\"step\":20,\"loss\":3.1}\n"
          "{\"event\":\"train\",\"step\":30,\"loss\":2.6}\n"
          "{\"event\":\"val\",\"step\":30,\"cider_d\":0.25,\"best\":true}\n"
          "{\"event\":\"train\",\"step\":60,\"loss\":2.0}\n"
          "{\"event\":\"val\",\"step\":60,\"cider_d\":0.45,\"best\":true}\n");
    in.metrics_json = kMetrics;
    in.log_jsonl = (dir / "log.jsonl").string();
    in.images_dir = (dir / "images").string();
    in.split = &split;
    for (int i = 0; i < kImages; ++i) {
      in.greedy.push_back("a red circle above a blue square");
      in.beam.push_back(i == 1 ? "two <b>green</b> things" : "a red circle");
    }
    // Image 0's greedy caption: the first object holds, the second object and the relation are false.
    CaptionCheck bad;
    bad.parsed = true;
    bad.claims = {claim(ClaimKind::object, 0, 3, true), claim(ClaimKind::object, 4, 7, false),
                  claim(ClaimKind::relation, 0, 7, false)};
    CaptionCheck good;
    good.parsed = true;
    good.claims = {claim(ClaimKind::object, 0, 3, true)};
    CaptionCheck unknown;  // parsed = false, no claims
    in.greedy_checks.assign(kImages, good);
    in.greedy_checks[0] = bad;
    in.beam_checks.assign(kImages, good);
    in.beam_checks[1] = unknown;
    in.retrieval_images = kImages;
    const int S = 2 * kImages;
    in.scores.assign(kImages * S, -10.0);
    for (int i = 0; i < kImages; ++i)
      for (int s = 0; s < S; ++s) in.scores[i * S + s] = s / 2 == i ? -1.0 : -5.0 - 0.01 * ((i + s) % 7);
    in.normalised_scores = in.scores;
    in.grid_images = 6;
  }
};

}  // namespace

TEST_CASE("report: metrics table with a column per decoder and a row per metric", "[report]") {
  Fixture fx("metrics");
  write_report((fx.dir / "out").string(), fx.in);
  const std::string h = read(fx.dir / "out" / "report.html");
  REQUIRE(!h.empty());
  CHECK_THAT(h, Contains("<meta charset=utf-8>"));
  CHECK_THAT(h, Contains("<table class=m id=metrics><thead><tr><th>metric</th><th>Greedy</th><th>Beam "
                         "(k = 3)</th><th>Blind greedy</th></tr>"));
  // The CIDEr-D row: one value per decoder, the best one in bold.
  CHECK_THAT(h, Contains("<tr data-key=\"cider_d\"><td>CIDEr-D</td><td>0.512</td><td class=best>0.734</td>"
                         "<td>0.101</td></tr>"));
  // A tie as shown is not bolded.
  CHECK_THAT(h, Contains("<tr data-key=\"rouge_l\"><td>ROUGE-L</td><td>0.570</td><td>0.570</td><td>0.300</td></tr>"));
  for (const char* row : {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L"}) CHECK_THAT(h, Contains(row));
  // Scene-correct only in greedy: shown, with dashes where absent; METEOR absent from every column: no row.
  CHECK_THAT(h, Contains("<tr data-key=\"scene_correct\"><td>scene-correct %</td><td>87.5</td><td>—</td><td>—</td>"));
  CHECK(h.find("data-key=\"meteor\"") == std::string::npos);
  // The scene checker's rows: understood %, and true claims of each kind the captions made.
  CHECK_THAT(h, Contains("<td>understood by the checker %</td><td>95.0</td><td>—</td><td>—</td>"));
  CHECK_THAT(h, Contains("<td>true object claims %</td><td>90.0</td>"));
  CHECK_THAT(h, Contains("<td>true relation claims %</td><td>60.0</td>"));
  CHECK(h.find("true count claims") == std::string::npos);  // no count claims were made
  CHECK(h.find("true location claims") == std::string::npos);
  CHECK_THAT(h, Contains("METEOR: not computed (no --meteor-jar given)"));
  // The caption line, and the raw JSON kept but collapsed.
  CHECK_THAT(h, Contains("test split · 20 images · 40 reference sentences · perplexity 4.57 · beam size 3"));
  CHECK_THAT(h, Contains("<details><summary>All metrics (JSON)</summary><pre>"));
  // No dotted metric names in a flat list any more.
  CHECK(h.find("greedy.cider_d") == std::string::npos);
}

TEST_CASE("report: retrieval table with the random baseline from N", "[report]") {
  Fixture fx("retrieval");
  const std::string h = report_html(fx.in);
  CHECK_THAT(h, Contains("<tr data-key=\"image_retrieval\"><td>image retrieval (sentence → image)</td><td>40.0</td>"
                         "<td>75.0</td><td>90.0</td><td>2</td></tr>"));
  CHECK_THAT(h, Contains("<td>sentence retrieval, normalised by P(S)</td><td>45.0</td>"));
  CHECK_THAT(h, Contains("<td>sentence retrieval, unnormalised</td><td>20.0</td>"));
  // N = 20: R@K = 100 K / N, Med r = (N + 1) / 2.
  CHECK_THAT(h, Contains("<tr class=rand data-key=\"random\"><td>random</td><td>5.0</td><td>25.0</td><td>50.0</td>"
                         "<td>10.5</td></tr>"));
  CHECK_THAT(h, Contains("N = 20"));
  // With N = 10 the baseline follows.
  std::string m = kMetrics;
  m.replace(m.find("\"retrieval_images\": 20"), 22, "\"retrieval_images\": 10");
  fx.in.metrics_json = m;
  CHECK_THAT(report_html(fx.in), Contains("<td>random</td><td>10.0</td><td>50.0</td><td>100.0</td><td>5.5</td>"));
  // The examples: 4 query sentences with 5 images, 4 query images with 5 sentences; each query's own
  // match scores highest, so it is ranked first and framed / ticked.
  CHECK_THAT(h, Contains("id=image-examples") && Contains("id=sentence-examples"));
  CHECK(count(h, "<span class=\"thumb hit\">") == 4);
  CHECK(count(h, "<li class=hit>") == 8);  // both of each image's two sentences
}

TEST_CASE("report: loss and validation CIDEr-D curves are SVGs with labelled axes", "[report]") {
  Fixture fx("curves");
  const std::string h = report_html(fx.in);
  CHECK(count(h, "<svg") == 2);
  CHECK_THAT(h, Contains("id=loss-plot") && Contains("id=cider-plot"));
  CHECK_THAT(h, Contains("Training loss") && Contains("Validation CIDEr-D"));
  CHECK(count(h, "class=\"xlabel\" ") == 2);
  CHECK(count(h, ">step</text>") == 2);
  CHECK_THAT(h, Contains(">loss: mean NLL per word (nats)</text>") && Contains(">CIDEr-D (validation images)</text>"));
  CHECK_THAT(h, Contains("class=\"legend\"") && Contains(">best checkpoint</text>"));
  // The malformed lines were skipped: 4 training points, 2 validation points.
  const size_t loss = h.find("<polyline", h.find("id=loss-plot"));
  const size_t pts = h.find("points=\"", loss) + 8;
  CHECK(count(h.substr(pts, h.find('"', pts) - pts), ",") == 4);
}

TEST_CASE("report: false scene claims are marked in the caption grid", "[report]") {
  Fixture fx("claims");
  const std::string h = report_html(fx.in);
  // Words 0-3 are under the false relation only, words 4-6 under the false object and the relation.
  CHECK_THAT(h, Contains("<span class=bad title=\"false: relation\">a red circle above</span> "
                         "<span class=bad title=\"false: object, relation\">a blue square</span>"));
  CHECK_THAT(h, Contains("<span class=\"badge no\""));
  CHECK_THAT(h, Contains("<span class=\"badge ok\""));
  CHECK_THAT(h, Contains(">not understood</span>"));
  // Escaped text and UTF-8 passed through; images embedded.
  CHECK_THAT(h, Contains("two &lt;b&gt;green&lt;/b&gt; things"));
  CHECK(h.find("<b>green</b>") == std::string::npos);
  CHECK_THAT(h, Contains("一只红色的圆 0"));
  CHECK_THAT(h, Contains("src=\"data:image/png;base64,"));
  CHECK(count(h, "<div class=card>") == 6);
}

TEST_CASE("report: without log, checks, images or scores it still writes, with notes", "[report]") {
  Fixture fx("missing");
  fx.in.log_jsonl = (fx.dir / "no_such_log.jsonl").string();
  fx.in.greedy_checks.clear();
  fx.in.beam_checks.clear();
  fx.in.images_dir.clear();
  fx.in.scores.clear();
  fx.in.normalised_scores.clear();
  write_report((fx.dir / "out").string(), fx.in);
  const std::string h = read(fx.dir / "out" / "report.html");
  CHECK_THAT(h, Contains("no training log found"));
  CHECK(h.find("<svg") == std::string::npos);
  CHECK(h.find("class=bad") == std::string::npos);
  CHECK(h.find("class=\"badge") == std::string::npos);
  CHECK(h.find("data:image") == std::string::npos);
  CHECK_THAT(h, Contains("class=missing"));  // a named placeholder instead of the picture
  CHECK(h.find("id=image-examples") == std::string::npos);
  CHECK_THAT(h, Contains("id=metrics"));

  // A log with no usable line, empty metrics and no captions at all.
  write(fx.dir / "empty.jsonl", "garbage\n{\"event\":\"train\"}\n");
  fx.in.log_jsonl = (fx.dir / "empty.jsonl").string();
  fx.in.metrics_json.clear();
  fx.in.greedy.clear();
  fx.in.beam.clear();
  const std::string e = report_html(fx.in);
  CHECK_THAT(e, Contains("has no train or val steps"));
  CHECK_THAT(e, Contains("the metrics have no decoder results"));
}

TEST_CASE("report: inconsistent inputs are refused clearly", "[report]") {
  Fixture fx("bad");
  fx.in.greedy_checks.pop_back();
  CHECK_THROWS_WITH(report_html(fx.in), Contains("19 greedy scene checks for 20 greedy captions"));
  fx.in.greedy_checks.clear();
  fx.in.metrics_json = "[1, 2]";
  CHECK_THROWS_WITH(report_html(fx.in), Contains("not a JSON object"));
  fx.in.split = nullptr;
  CHECK_THROWS_WITH(report_html(fx.in), Contains("no split"));
}
