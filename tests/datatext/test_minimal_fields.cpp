// Each reader requires only the fields something uses: the smallest file the format's own tools
// accept is read (absent optional fields take their documented defaults), unknown fields anywhere
// are ignored, and an optional field that is present but of the wrong type still fails, naming it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/coco_captions.h"
#include "data/karpathy.h"
#include "data/nvc.h"
#include "data/refexp.h"
#include "data/vqa.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;
using nlohmann::json;
using Tokens = std::vector<std::string>;

namespace {
// Adds {"x_unknown": ...} to every object in the document, recursively.
void add_unknown_fields(json& j) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) add_unknown_fields(v);
    j["x_unknown"] = json{{"nested", {1, "two", nullptr}}};
  } else if (j.is_array()) {
    for (auto& v : j) add_unknown_fields(v);
  }
}
}  // namespace

// Karpathy: what ImageCaptioning.pytorch's and neuraltalk2's preprocessing read, nothing more.
const json kKarpathyMinimal = json::parse(R"({"images": [
  {"filepath": "val2014", "filename": "a.jpg", "split": "train",
   "sentences": [{"tokens": ["a", "dog"], "raw": "A dog."}, {"tokens": ["a", "cat"], "raw": "A cat."}]},
  {"filepath": "val2014", "filename": "b.jpg", "split": "test",
   "sentences": [{"tokens": ["two", "birds"], "raw": "Two birds"}]}]})");

TEST_CASE("minimal fields: Karpathy without imgid, sentid, cocoid", "[karpathy][minimal]") {
  const auto d = mrnn::parse_karpathy(kKarpathyMinimal.dump(), "min.json");
  REQUIRE(d.images.size() == 2);
  CHECK(d.dataset.empty());
  CHECK(d.images[0].imgid == 0);  // the position in the file
  CHECK(d.images[1].imgid == 1);
  CHECK(d.images[1].cocoid == -1);
  CHECK(d.images[0].filepath == "val2014");
  CHECK(d.images[0].sentences[1].tokens == Tokens{"a", "cat"});
  CHECK(d.images[0].sentences[1].image_id == 0);
  CHECK(d.images[0].sentences[1].sentence_id == -1);
  CHECK(d.images[1].sentences[0].image_id == 1);
  // The filename and the sentences' tokens/raw stay required.
  json doc = kKarpathyMinimal;
  doc["images"][1].erase("filename");
  CHECK_THAT(error_of([&] { mrnn::parse_karpathy(doc.dump(), "min.json"); }),
             Contains("min.json: images[1].filename: missing field"));
  doc = kKarpathyMinimal;
  doc["images"][0]["sentences"][0].erase("tokens");
  CHECK_THAT(error_of([&] { mrnn::parse_karpathy(doc.dump(), "min.json"); }),
             Contains("min.json: images[0].sentences[0].tokens: missing field"));
}

TEST_CASE("minimal fields: Karpathy unknown fields ignored, present optional ones checked",
          "[karpathy][minimal]") {
  json doc = kKarpathyMinimal;
  add_unknown_fields(doc);
  const auto d = mrnn::parse_karpathy(doc.dump(), "extra.json");
  REQUIRE(d.images.size() == 2);
  CHECK(d.images[0].sentences.size() == 2);
  auto err = [](const json& j) { return error_of([&] { mrnn::parse_karpathy(j.dump(), "opt.json"); }); };
  doc = kKarpathyMinimal;
  doc["images"][0]["sentences"][1]["sentid"] = "7";
  CHECK_THAT(err(doc), Contains("opt.json: images[0].sentences[1].sentid: expected an integer, found the string \"7\""));
  doc = kKarpathyMinimal;
  doc["images"][1]["imgid"] = 2.5;
  CHECK_THAT(err(doc), Contains("opt.json: images[1].imgid: expected an integer"));
  doc = kKarpathyMinimal;
  doc["images"][1]["imgid"] = -3;
  CHECK_THAT(err(doc), Contains("opt.json: images[1].imgid: expected an id >= 0, found -3"));
  doc = kKarpathyMinimal;
  doc["images"][1]["sentences"][0]["imgid"] = 0;  // the absent image imgid is its position, 1
  CHECK_THAT(err(doc), Contains("images[1].sentences[0].imgid: expected the image's imgid 1, found 0"));
  doc = kKarpathyMinimal;
  doc["images"][0]["imgid"] = 1;  // collides with the second image's position
  CHECK_THAT(err(doc), Contains("images[1].imgid: duplicate imgid 1 (absent: its position in the file)"));
  doc = kKarpathyMinimal;
  doc["images"][0]["cocoid"] = "391895";
  CHECK_THAT(err(doc), Contains("opt.json: images[0].cocoid: expected an integer"));
}

// COCO captions: what pycocoevalcap needs to score (images with an id, captions of an image).
const json kCocoMinimal = json::parse(R"({"images": [{"id": 10}, {"id": 20}],
  "annotations": [{"image_id": 10, "caption": "a dog"}, {"image_id": 20, "caption": "a cat", "id": 5},
                  {"image_id": 10, "caption": "a brown dog"}]})");

TEST_CASE("minimal fields: COCO captions with images [{id}] and annotations without ids",
          "[coco][minimal]") {
  const auto c = mrnn::parse_coco_captions(kCocoMinimal.dump(), "min.json");
  REQUIRE(c.images.size() == 2);
  CHECK(c.images[0].file_name.empty());
  CHECK(c.images[1].width == 0);
  REQUIRE(c.annotations.size() == 3);
  CHECK(c.annotations[0].id == -1);
  CHECK(c.annotations[1].id == 5);
  CHECK(c.captions_by_image().at(10) == std::vector<std::string>{"a dog", "a brown dog"});
  json doc = kCocoMinimal;
  add_unknown_fields(doc);
  CHECK(mrnn::parse_coco_captions(doc.dump(), "extra.json").annotations.size() == 3);
  auto err = [](const json& j) { return error_of([&] { mrnn::parse_coco_captions(j.dump(), "opt.json"); }); };
  doc = kCocoMinimal;
  doc["images"][1]["file_name"] = 7;
  CHECK_THAT(err(doc), Contains("opt.json: images[1].file_name: expected a string, found the number 7"));
  doc = kCocoMinimal;
  doc["images"][0]["width"] = -1;
  CHECK_THAT(err(doc), Contains("opt.json: images[0].width"));
  doc = kCocoMinimal;
  doc["annotations"][2]["id"] = 5;
  CHECK_THAT(err(doc), Contains("annotations[2].id: duplicate annotation id 5 (also annotations[1])"));
  doc = kCocoMinimal;
  doc["annotations"][0]["id"] = "1";
  CHECK_THAT(err(doc), Contains("opt.json: annotations[0].id: expected an integer"));
  doc = kCocoMinimal;
  doc["images"][0].erase("id");
  CHECK_THAT(err(doc), Contains("opt.json: images[0].id: missing field"));
}

// Google Refexp: entries keyed by id; the id fields, file names and raw strings are optional.
const json kRefexpMinimal = json::parse(R"({
  "images": {"13": {}, "581857": {"file_name": "COCO_train2014_000000581857.jpg"}},
  "annotations": {"1065": {"image_id": 581857, "bbox": [1, 2, 30, 40], "refexp_ids": [7, 9]}},
  "refexps": {"7": {"tokens": ["the", "dog"]}, "9": {"tokens": ["left", "dog"], "raw": "left dog"}}})");

TEST_CASE("minimal fields: Google Refexp without the repeated ids", "[refexp][minimal]") {
  const auto d = mrnn::parse_refexp(kRefexpMinimal.dump(), "min.json");
  REQUIRE(d.images.size() == 2);
  CHECK(d.images[0].image_id == 13);
  CHECK(d.images[0].file_name.empty());
  CHECK(d.images[1].image_id == 581857);
  REQUIRE(d.annotations.size() == 1);
  CHECK(d.annotations[0].annotation_id == 1065);
  CHECK(d.annotations[0].category_id == -1);
  CHECK(d.annotations[0].refexp_ids == std::vector<int64_t>{7, 9});
  REQUIRE(d.refexps.size() == 2);
  CHECK(d.refexps[0].refexp_id == 7);
  CHECK(d.refexps[0].raw.empty());
  CHECK(d.refexps[1].raw == "left dog");
  json doc = kRefexpMinimal;
  add_unknown_fields(doc);
  doc["images"].erase("x_unknown");  // the tables are keyed by id: an extra key is an entry
  doc["annotations"].erase("x_unknown");
  doc["refexps"].erase("x_unknown");
  CHECK(mrnn::parse_refexp(doc.dump(), "extra.json").refexps.size() == 2);
  auto err = [](const json& j) { return error_of([&] { mrnn::parse_refexp(j.dump(), "opt.json"); }); };
  doc = kRefexpMinimal;
  doc["refexps"]["7"]["raw"] = 3;
  CHECK_THAT(err(doc), Contains("opt.json: refexps.7.raw: expected a string, found the number 3"));
  doc = kRefexpMinimal;
  doc["images"]["13"]["image_id"] = 14;
  CHECK_THAT(err(doc), Contains("images.13.image_id: expected 13 (the entry's key), found 14"));
  doc = kRefexpMinimal;
  doc["images"]["abc"] = json::object();
  CHECK_THAT(err(doc), Contains("opt.json: images.abc: expected the key to be an integer id"));
  doc = kRefexpMinimal;
  doc["annotations"]["1065"]["category_id"] = "dog";
  CHECK_THAT(err(doc), Contains("annotations.1065.category_id: expected an integer"));
  doc = kRefexpMinimal;
  mrnn::RefexpOptions o;
  o.retokenize = true;  // retokenizing needs raw
  CHECK_THAT(error_of([&] { mrnn::parse_refexp(doc.dump(), "opt.json", o); }),
             Contains("opt.json: refexps.7.raw: missing field"));
}

// VQA: what the official toolkit's loader and evaluation read.
const json kVqaQuestions = json::parse(R"({"questions": [{"image_id": 1, "question": "What?", "question_id": 10}]})");
const json kVqaAnnotations = json::parse(R"({"annotations": [{"question_id": 10, "image_id": 1,
  "multiple_choice_answer": "yes", "answers": [{"answer": "yes"}, {"answer": "no"}]}]})");

TEST_CASE("minimal fields: VQA answers without confidence, ids or types", "[vqa][minimal]") {
  const auto q = mrnn::parse_vqa_questions(kVqaQuestions.dump(), "q.json");
  const auto a = mrnn::parse_vqa_annotations(kVqaAnnotations.dump(), "a.json");
  REQUIRE(a.annotations.size() == 1);
  const auto& ann = a.annotations[0];
  CHECK(ann.question_type.empty());
  CHECK(ann.answer_type.empty());
  REQUIRE(ann.answers.size() == 2);
  CHECK(ann.answers[0].answer_confidence.empty());
  CHECK(ann.answers[0].answer_id == 1);
  CHECK(ann.answers[1].answer_id == 2);
  CHECK(mrnn::join_vqa(q, a).size() == 1);
  json qd = kVqaQuestions, ad = kVqaAnnotations;
  add_unknown_fields(qd);
  add_unknown_fields(ad);
  CHECK(mrnn::parse_vqa_questions(qd.dump(), "q.json").questions.size() == 1);
  CHECK(mrnn::parse_vqa_annotations(ad.dump(), "a.json").annotations[0].answers.size() == 2);
  auto err = [](const json& j) { return error_of([&] { mrnn::parse_vqa_annotations(j.dump(), "opt.json"); }); };
  ad = kVqaAnnotations;
  ad["annotations"][0]["answers"][1]["answer_id"] = "2";
  CHECK_THAT(err(ad), Contains("opt.json: annotations[0].answers[1].answer_id: expected an integer"));
  ad = kVqaAnnotations;
  ad["annotations"][0]["question_type"] = false;
  CHECK_THAT(err(ad), Contains("opt.json: annotations[0].question_type: expected a string"));
  ad = kVqaAnnotations;
  ad["annotations"][0]["answer_type"] = " ";
  CHECK_THAT(err(ad), Contains("opt.json: annotations[0].answer_type: empty answer_type"));
  ad = kVqaAnnotations;
  ad["annotations"][0]["answers"][0]["answer_confidence"] = "sure";
  CHECK_THAT(err(ad), Contains("annotations[0].answers[0].answer_confidence: expected \"yes\""));
  qd = kVqaQuestions;
  qd["questions"][0].erase("image_id");
  CHECK_THAT(error_of([&] { mrnn::parse_vqa_questions(qd.dump(), "q.json"); }),
             Contains("q.json: questions[0].image_id: missing field"));
}

// NVC: concept, split, image name and captions; ids and the concept list are redundant.
const json kNvcMinimal = json::parse(R"({"images": [
  {"concept": "t-rex", "train_val_test_split": "train", "image_name": "t-rex_00000",
   "sentences": [{"tokens": ["a", "t-rex"], "raw": "a t-rex"}]},
  {"concept": "quidditch", "train_val_test_split": "test", "image_name": "quidditch_00000",
   "sentences": [{"tokens": ["quidditch"], "raw": "quidditch"}]},
  {"concept": "t-rex", "train_val_test_split": "val", "image_name": "t-rex_00001",
   "sentences": [{"tokens": ["bones"], "raw": "bones"}]}]})");

TEST_CASE("minimal fields: NVC without ids, version or concept list", "[nvc][minimal]") {
  const auto d = mrnn::parse_nvc(kNvcMinimal.dump(), "min.json");
  CHECK(d.version.empty());
  CHECK(d.concepts == std::vector<std::string>{"t-rex", "quidditch"});
  REQUIRE(d.images.size() == 3);
  CHECK(d.images[2].image_id == 2);
  CHECK(d.images[2].sentences[0].image_id == 2);
  CHECK(d.images[2].sentences[0].sentence_id == -1);
  CHECK(d.images_of("t-rex", mrnn::Split::val).size() == 1);
  json doc = kNvcMinimal;
  add_unknown_fields(doc);
  CHECK(mrnn::parse_nvc(doc.dump(), "extra.json").images.size() == 3);
  auto err = [](const json& j) { return error_of([&] { mrnn::parse_nvc(j.dump(), "opt.json"); }); };
  doc = kNvcMinimal;
  doc["images"][1]["image_id"] = "1";
  CHECK_THAT(err(doc), Contains("opt.json: images[1].image_id: expected an integer"));
  doc = kNvcMinimal;
  doc["images"][0]["sentences"][0]["sentence_id"] = 1.5;
  CHECK_THAT(err(doc), Contains("opt.json: images[0].sentences[0].sentence_id: expected an integer"));
  doc = kNvcMinimal;
  doc["concepts"] = json{"t-rex"};  // a present list must name every image's concept
  CHECK_THAT(err(doc), Contains("images[1].concept: unknown concept \"quidditch\""));
  doc = kNvcMinimal;
  doc["images"][1]["concept"] = "";
  CHECK_THAT(err(doc), Contains("images[1].concept: empty concept name"));
  doc = kNvcMinimal;
  doc["images"][0].erase("image_name");
  CHECK_THAT(err(doc), Contains("opt.json: images[0].image_name: missing field"));
}
