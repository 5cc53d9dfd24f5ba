// The official results file: written, read back in question order, and refused (naming the ids)
// when it misses, duplicates or adds question ids; and the mQA data checks on VQA-format files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "models/mqa/mqa_answers.h"
#include "models/mqa/mqa_data.h"
#include "models/mqa/vqa_results.h"

using namespace mrnn;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mrnn_test_mqa_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("VQA results: written in the official format and read back", "[mqa][results]") {
  const fs::path d = temp_dir("results");
  const std::string path = (d / "res.json").string();
  write_vqa_results(path, {7, 3, 5}, {"red", "2", "yes"});
  std::ifstream f(path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(text.find("\"question_id\": 7") != std::string::npos);
  CHECK(text.find("\"answer\": \"red\"") != std::string::npos);
  CHECK(read_vqa_results(path, {3, 5, 7}) == std::vector<std::string>{"2", "yes", "red"});
}

TEST_CASE("VQA results: missing, duplicate and unknown question ids are refused by name", "[mqa][results]") {
  const fs::path d = temp_dir("bad_results");
  const std::string p = (d / "r.json").string();
  write(p, R"([{"question_id": 1, "answer": "a"}, {"question_id": 2, "answer": "b"}])");
  CHECK_THROWS_WITH(read_vqa_results(p, {1, 2, 3, 4}), Catch::Contains("2 question ids have no answer: 3, 4"));
  write(p, R"([{"question_id": 1, "answer": "a"}, {"question_id": 2, "answer": "b"}, {"question_id": 2, "answer": "c"}])");
  CHECK_THROWS_WITH(read_vqa_results(p, {1, 2}), Catch::Contains("more than one answer: 2"));
  write(p, R"([{"question_id": 1, "answer": "a"}, {"question_id": 9, "answer": "b"}])");
  CHECK_THROWS_WITH(read_vqa_results(p, {1}), Catch::Contains("not among the questions: 9"));
  write(p, R"([{"question_id": 1}])");
  CHECK_THROWS_WITH(read_vqa_results(p, {1}), Catch::Contains("entry [0]"));
  write(p, R"({"question_id": 1, "answer": "a"})");
  CHECK_THROWS_WITH(read_vqa_results(p, {1}), Catch::Contains("expected a JSON array"));
  std::vector<int64_t> many;
  std::string arr = "[";
  for (int i = 0; i < 8; ++i) many.push_back(100 + i);
  write(p, "[]");
  CHECK_THROWS_WITH(read_vqa_results(p, many), Catch::Contains("100, 101, 102, 103, 104 (and 3 more)"));
}

TEST_CASE("mQA data: images by trailing number, ids that disagree, missing images", "[mqa][data]") {
  const fs::path d = temp_dir("data");
  fs::create_directories(d / "img");
  // Copy a real PNG from the fixtures under two names.
  const fs::path png = fs::path(MRNN_TEST_DATA_DIR) / "databin" / "images" / "rgb.png";
  fs::copy_file(png, d / "img" / "COCO_val2014_000000000042.png");
  fs::copy_file(png, d / "img" / "pic_7.png");
  const std::string q = (d / "q.json").string(), a = (d / "a.json").string();
  write(q, R"({"questions": [{"question_id": 1, "image_id": 42, "question": "What is it?"},
                             {"question_id": 2, "image_id": 7, "question": "Is it red?"}]})");
  write(a, R"({"annotations": [
    {"question_id": 1, "image_id": 42, "question_type": "what is", "answer_type": "other",
     "multiple_choice_answer": "a cat", "answers": [{"answer": "cat"}, {"answer": "a cat"}]},
    {"question_id": 2, "image_id": 7, "question_type": "is it", "answer_type": "yes/no",
     "multiple_choice_answer": "yes", "answers": [{"answer": "yes"}], "answer_sentence": "yes it is red"}]})");
  MqaDataOptions o;
  o.images_dir = (d / "img").string();
  o.image_size = 8;
  MqaSplit s = load_mqa_split(q, a, o);
  CHECK(s.size() == 2);
  CHECK(s.images.shape() == Shape{2, 3, 8, 8});
  CHECK(s.answer_words[0] == std::vector<std::string>{"a", "cat"});
  CHECK(s.human_answers[0] == std::vector<std::string>{"cat", "a cat"});
  CHECK(s.question_types[1] == "is it");
  CHECK(fs::path(s.image_paths[s.image_row[0]]).filename() == "COCO_val2014_000000000042.png");

  // --answers sentence needs answer_sentence in every annotation: question 1 has none.
  o.answers = "sentence";
  CHECK_THROWS_WITH(load_mqa_split(q, a, o), Catch::Contains("question 1 has no \"answer_sentence\""));
  o.answers = "word";

  const std::string q2 = (d / "q2.json").string();
  write(q2, R"({"questions": [{"question_id": 1, "image_id": 42, "question": "What is it?"},
                              {"question_id": 3, "image_id": 42, "question": "Why?"}]})");
  CHECK_THROWS_WITH(load_mqa_split(q2, a, o),
                    Catch::Contains("1 question ids have no annotation: 3") && Catch::Contains("have no question: 2"));

  const std::string q3 = (d / "q3.json").string(), a3 = (d / "a3.json").string();
  write(q3, R"({"questions": [{"question_id": 5, "image_id": 99, "question": "What?"}]})");
  write(a3, R"({"annotations": [{"question_id": 5, "image_id": 99, "multiple_choice_answer": "x",
                                  "answers": [{"answer": "x"}]}]})");
  CHECK_THROWS_WITH(load_mqa_split(q3, a3, o), Catch::Contains("question 5: its image 99 is missing"));
  write(a3, R"({"annotations": [{"question_id": 5, "image_id": 99, "multiple_choice_answer": "x", "answers": []}]})");
  CHECK_THROWS_WITH(load_mqa_split(q3, a3, o), Catch::Contains("expected at least one answer"));
}

TEST_CASE("mQA: the answer word of a sentence", "[mqa]") {
  const AnswerWordPicker p({"red", "red", "yes", "no", "2", "circle"});
  using V = std::vector<std::string>;
  // Tokens of the question are not candidates; the known answer wins.
  CHECK(p.pick(V{"the", "small", "circle", "is", "red"}, V{"what", "color", "is", "the", "small", "circle"}) == "red");
  // Candidates are compared after VQA normalization: "two" counts as the answer "2".
  CHECK(p.pick(V{"there", "are", "two", "circles"}, V{"how", "many", "circles", "are", "there"}) == "two");
  // The highest count wins over the earlier token ("yes" x1 vs "red" x2).
  CHECK(p.pick(V{"yes", "it", "is", "red"}, V{"is", "it"}) == "red");
  // No known answer: the first token not in the question; every token in it: from all tokens.
  CHECK(p.pick(V{"a", "kite"}, V{"what", "is", "it"}) == "a");
  CHECK(p.pick(V{"is", "it"}, V{"is", "it"}) == "is");
  CHECK(p.pick(V{}, V{"what"}) == "");
  const AnswerWordPicker q = AnswerWordPicker::from_json(p.to_json(), "x");
  CHECK(q.to_json() == p.to_json());
  CHECK_THROWS_AS(AnswerWordPicker::from_json("[1]", "x"), Error);
}
