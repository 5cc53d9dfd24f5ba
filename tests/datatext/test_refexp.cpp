// Google Refexp (COCO-aligned layout written by the Google_Refexp_toolbox setup.py).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/refexp.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;
using Tokens = std::vector<std::string>;

namespace {
nlohmann::json refexp_fixture() {
  return nlohmann::json::parse(
      datatext_test::read_text(datatext_test::fixture("refexp_coco_aligned.json")));
}
}  // namespace

TEST_CASE("refexp: COCO-aligned file fields, sorted by id", "[refexp]") {
  const auto d = mrnn::load_refexp(datatext_test::fixture("refexp_coco_aligned.json"));
  CHECK(d.skipped == 0);
  REQUIRE(d.images.size() == 2);
  CHECK(d.images[0].image_id == 13);  // keys "13" < "581857" numerically, not as strings
  const auto& img = d.images[1];
  CHECK(img.image_id == 581857);
  CHECK(img.file_name == "COCO_train2014_000000581857.jpg");
  CHECK(img.width == 427);
  CHECK(img.height == 640);
  REQUIRE(img.region_candidates.size() == 3);
  CHECK(img.region_candidates[0].bounding_box == mrnn::Box{103.93, 299.99, 134.22, 177.42});
  CHECK(img.region_candidates[2].predicted_object_name == "umbrella");

  REQUIRE(d.annotations.size() == 3);
  CHECK(d.annotations[0].annotation_id == 1065);
  const auto& ann = d.annotations[2];
  CHECK(ann.annotation_id == 1724005);
  CHECK(ann.image_id == 581857);
  CHECK(ann.category_id == 1);
  CHECK(ann.bbox == mrnn::Box{103.93, 299.99, 134.22, 177.42});
  CHECK(ann.refexp_ids == std::vector<int64_t>{34, 35});
  CHECK(ann.region_candidates.empty());

  REQUIRE(d.refexps.size() == 4);
  CHECK(d.refexps[0].refexp_id == 7);
  CHECK(d.refexps[1].refexp_id == 34);
  CHECK(d.refexps[1].raw == "A woman in a white shirt holding an umbrella.");
  CHECK(d.refexps[2].tokens == Tokens{"the", "lady", "on", "the", "left"});
}

TEST_CASE("refexp: retokenize", "[refexp]") {
  mrnn::RefexpOptions o;
  o.retokenize = true;
  const auto d = mrnn::load_refexp(datatext_test::fixture("refexp_coco_aligned.json"), o);
  CHECK(d.refexps[0].tokens == Tokens{"a", "wooden", "table", "covered", "with", "plates"});
}

TEST_CASE("refexp: bad input", "[refexp]") {
  auto parse = [](const nlohmann::json& doc) {
    return error_of([&] { mrnn::parse_refexp(doc.dump(), "bad_refexp.json"); });
  };
  {
    auto doc = refexp_fixture();
    doc["refexps"]["34"]["refexp_id"] = 99;
    CHECK_THAT(parse(doc), Contains("bad_refexp.json: refexps.34.refexp_id: expected 34 (the "
                                    "entry's key), found 99"));
  }
  {
    auto doc = refexp_fixture();
    doc["annotations"]["1065"]["bbox"] = {1, 2, 3};
    CHECK_THAT(parse(doc), Contains("bad_refexp.json: annotations.1065.bbox: expected a box [x, y, "
                                    "width, height], found an array of 3 values"));
  }
  {
    auto doc = refexp_fixture();
    doc["annotations"]["1065"]["bbox"][3] = "tall";
    CHECK_THAT(parse(doc), Contains("annotations.1065.bbox[3]: expected a number, found the "
                                    "string \"tall\""));
  }
  {
    auto doc = refexp_fixture();
    doc["annotations"]["1722949"]["refexp_ids"] = {36, 1234};
    CHECK_THAT(parse(doc), Contains("annotations.1722949.refexp_ids[1]: expected the id of an "
                                    "entry of \"refexps\", found 1234"));
  }
  {
    auto doc = refexp_fixture();
    doc["annotations"]["1722949"]["refexp_ids"] = {36, 34};
    // Entries are visited in key order, so "1722949" claims refexp 34 before "1724005".
    CHECK_THAT(parse(doc), Contains("annotations.1724005.refexp_ids[0]: refexp 34 already belongs "
                                    "to annotation 1722949"));
  }
  {
    auto doc = refexp_fixture();
    doc["refexps"]["7"]["tokens"] = nlohmann::json::array();
    CHECK_THAT(parse(doc), Contains("bad_refexp.json: refexps.7.tokens: empty caption"));
  }
  {
    auto doc = refexp_fixture();
    doc["images"]["13"]["region_candidates"][0]["bounding_box"] = {0, 0, -5, 3};
    CHECK_THAT(parse(doc), Contains("images.13.region_candidates[0].bounding_box: expected width "
                                    "and height >= 0"));
  }
  {
    auto doc = refexp_fixture();
    doc["images"] = nlohmann::json::array();
    CHECK_THAT(parse(doc), Contains("bad_refexp.json: images: expected an object, found an array"));
  }
  {
    auto doc = refexp_fixture();
    doc["annotations"]["1065"]["image_id"] = 14;  // unknown image: the annotation is dropped
    doc["annotations"]["1724005"]["refexp_ids"] = {34, 35, 777};  // unknown id: dropped
    mrnn::RefexpOptions o;
    o.skip_bad = true;
    const auto d = mrnn::parse_refexp(doc.dump(), "skip.json", o);
    REQUIRE(d.annotations.size() == 2);
    CHECK(d.annotations[1].refexp_ids == std::vector<int64_t>{34, 35});
    CHECK(d.skipped == 2);
  }
  CHECK_THAT(error_of([] { mrnn::parse_refexp("{\"images\": {}, \"annotations\": {}", "r.json"); }),
             Contains("r.json: invalid JSON"));
  CHECK_THAT(error_of([] { mrnn::load_refexp("no_refexp.json"); }),
             Contains("Google Refexp file 'no_refexp.json' cannot be read"));
}
