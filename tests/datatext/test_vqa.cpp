// VQA v2 question and annotation files, and their pairing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/vqa.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;

namespace {
nlohmann::json load_json(const char* name) {
  return nlohmann::json::parse(datatext_test::read_text(datatext_test::fixture(name)));
}
}  // namespace

TEST_CASE("vqa: question and annotation fields", "[vqa]") {
  const auto q = mrnn::load_vqa_questions(datatext_test::fixture("vqa_v2_questions.json"));
  CHECK(q.task_type == "Open-Ended");
  CHECK(q.data_type == "mscoco");
  CHECK(q.data_subtype == "val2014");
  REQUIRE(q.questions.size() == 3);
  CHECK(q.questions[1].question_id == 262148001);
  CHECK(q.questions[1].image_id == 262148);
  CHECK(q.questions[1].question == "What are the people in the background doing?");

  const auto a = mrnn::load_vqa_annotations(datatext_test::fixture("vqa_v2_annotations.json"));
  REQUIRE(a.annotations.size() == 3);
  const auto& ann = a.annotations[0];
  CHECK(ann.question_id == 262148000);
  CHECK(ann.question_type == "none of the above");
  CHECK(ann.answer_type == "other");
  CHECK(ann.multiple_choice_answer == "down");
  REQUIRE(ann.answers.size() == 10);
  CHECK(ann.answers[2].answer == "at table");
  CHECK(ann.answers[2].answer_id == 3);
  CHECK(a.annotations[1].answers[4].answer_confidence == "maybe");
  CHECK(a.annotations[2].answer_type == "number");

  const auto ex = mrnn::join_vqa(q, a);
  REQUIRE(ex.size() == 3);
  CHECK(ex[2].question.question == "How many cups are on the table?");
  CHECK(ex[2].annotation.multiple_choice_answer == "2");
}

TEST_CASE("vqa: bad input", "[vqa]") {
  {
    auto doc = load_json("vqa_v2_questions.json");
    doc["questions"][0]["question"] = "";
    CHECK_THAT(error_of([&] { mrnn::parse_vqa_questions(doc.dump(), "bad_q.json"); }),
               Contains("bad_q.json: questions[0].question: empty question"));
    doc["questions"][0]["question"] = "ok?";
    doc["questions"][2]["question_id"] = "393225000";
    CHECK_THAT(error_of([&] { mrnn::parse_vqa_questions(doc.dump(), "bad_q.json"); }),
               Contains("bad_q.json: questions[2].question_id: expected an integer, found the "
                        "string \"393225000\""));
    doc["questions"][2]["question_id"] = 262148000;
    CHECK_THAT(error_of([&] { mrnn::parse_vqa_questions(doc.dump(), "bad_q.json"); }),
               Contains("questions[2].question_id: duplicate question_id 262148000 (also "
                        "questions[0])"));
  }
  {
    auto doc = load_json("vqa_v2_annotations.json");
    doc["annotations"][0]["answers"][3]["answer_confidence"] = "sure";
    CHECK_THAT(error_of([&] { mrnn::parse_vqa_annotations(doc.dump(), "bad_a.json"); }),
               Contains("bad_a.json: annotations[0].answers[3].answer_confidence: expected "
                        "\"yes\", \"maybe\" or \"no\", found \"sure\""));
    mrnn::VqaReadOptions o;
    o.skip_bad = true;
    doc["annotations"][2]["answers"] = nlohmann::json::array();
    const auto a = mrnn::parse_vqa_annotations(doc.dump(), "bad_a.json", o);
    REQUIRE(a.annotations.size() == 1);
    CHECK(a.annotations[0].question_id == 262148001);
    CHECK(a.skipped == 2);
    CHECK_THAT(a.skip_reasons[1], Contains("annotations[2].answers: expected at least one answer"));
  }
  {
    auto doc = load_json("vqa_v2_annotations.json");
    doc["annotations"][1].erase("multiple_choice_answer");
    CHECK_THAT(error_of([&] { mrnn::parse_vqa_annotations(doc.dump(), "bad_a.json"); }),
               Contains("annotations[1].multiple_choice_answer: missing field"));
  }
  {
    const auto q = mrnn::load_vqa_questions(datatext_test::fixture("vqa_v2_questions.json"));
    auto doc = load_json("vqa_v2_annotations.json");
    doc["annotations"][2]["image_id"] = 5;
    const auto a = mrnn::parse_vqa_annotations(doc.dump(), "a.json");
    CHECK_THAT(error_of([&] { mrnn::join_vqa(q, a); }),
               Contains("question 393225000 is about image 393225 but its annotation says image 5"));
    doc["annotations"].erase(2);
    const auto a2 = mrnn::parse_vqa_annotations(doc.dump(), "a.json");
    CHECK_THAT(error_of([&] { mrnn::join_vqa(q, a2); }), Contains("question 393225000 has no annotation"));
  }
  CHECK_THAT(error_of([] { mrnn::parse_vqa_questions("{\"questions\": [}", "q.json"); }),
             Contains("q.json: invalid JSON") && Contains("line 1"));
  CHECK_THAT(error_of([] { mrnn::load_vqa_annotations("no_annotations.json"); }),
             Contains("VQA annotations file 'no_annotations.json' cannot be read"));
}
