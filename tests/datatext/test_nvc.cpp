// NVC-Dataset (Mao et al. 2015) annotation files.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/nvc.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;
using mrnn::Split;
using Tokens = std::vector<std::string>;

namespace {
nlohmann::json nvc_fixture() {
  return nlohmann::json::parse(datatext_test::read_text(datatext_test::fixture("nvc_v201509.json")));
}
}  // namespace

TEST_CASE("nvc: file fields", "[nvc]") {
  const auto d = mrnn::load_nvc(datatext_test::fixture("nvc_v201509.json"));
  CHECK(d.version == "201509");
  REQUIRE(d.concepts.size() == 11);
  CHECK(d.concepts[1] == "t-rex");
  CHECK(d.concepts[10] == "windmill");
  REQUIRE(d.images.size() == 4);
  const auto& img = d.images[2];
  CHECK(img.image_id == 2050);
  CHECK(img.concept_name == "t-rex");
  CHECK(img.split == Split::val);
  CHECK(img.image_name == "t-rex_00000");
  REQUIRE(img.sentences.size() == 2);
  CHECK(img.sentences[1].raw == "a t-rex skeleton with people around it.");
  CHECK(img.sentences[1].sentence_id == 102501);
  CHECK(img.sentences[0].tokens == Tokens{"a", "t-rex", "model", "stands", "in", "a", "museum", "hall"});
  CHECK(d.images_of("quidditch", Split::train).size() == 1);
  CHECK(d.images_of("quidditch", Split::test).at(0)->image_id == 1);
  CHECK(d.images_of("samisen", Split::train).empty());
}

TEST_CASE("nvc: split selection and retokenizing", "[nvc]") {
  mrnn::NvcOptions o;
  o.splits = {Split::train};
  const auto d = mrnn::load_nvc(datatext_test::fixture("nvc_v201509.json"), o);
  REQUIRE(d.images.size() == 2);
  CHECK(d.images[1].concept_name == "windmill");
  o = {};
  o.retokenize = true;
  const auto r = mrnn::load_nvc(datatext_test::fixture("nvc_v201509.json"), o);
  CHECK(r.images[2].sentences[1].tokens ==
        Tokens{"a", "t-rex", "skeleton", "with", "people", "around", "it"});
}

TEST_CASE("nvc: bad input", "[nvc]") {
  auto parse = [](const nlohmann::json& doc) {
    return error_of([&] { mrnn::parse_nvc(doc.dump(), "bad_nvc.json"); });
  };
  {
    auto doc = nvc_fixture();
    doc["images"][1]["train_val_test_split"] = "restval";
    CHECK_THAT(parse(doc), Contains("bad_nvc.json: images[1].train_val_test_split: unknown split "
                                    "value \"restval\": expected train, val or test"));
  }
  {
    auto doc = nvc_fixture();
    doc["images"][0]["concept"] = "unicorn";
    CHECK_THAT(parse(doc), Contains("bad_nvc.json: images[0].concept: unknown concept \"unicorn\""));
  }
  {
    auto doc = nvc_fixture();
    doc["images"][3]["sentences"][0]["tokens"] = nlohmann::json::array();
    CHECK_THAT(parse(doc), Contains("bad_nvc.json: images[3].sentences[0].tokens: empty caption"));
  }
  {
    auto doc = nvc_fixture();
    doc["images"][2]["sentences"][0]["image_id"] = 2051;
    CHECK_THAT(parse(doc), Contains("images[2].sentences[0].image_id: expected the image's "
                                    "image_id 2050, found 2051"));
  }
  {
    auto doc = nvc_fixture();
    doc["images"][2]["image_id"] = true;
    CHECK_THAT(parse(doc), Contains("images[2].image_id: expected an integer, found true"));
  }
  {
    auto doc = nvc_fixture();
    doc["concepts"] = "quidditch";
    CHECK_THAT(parse(doc), Contains("bad_nvc.json: concepts: expected an array of strings"));
  }
  {
    auto doc = nvc_fixture();
    doc["images"][0]["train_val_test_split"] = "dev";
    doc["images"][2]["sentences"][1]["raw"] = 3;
    mrnn::NvcOptions o;
    o.skip_bad = true;
    const auto d = mrnn::parse_nvc(doc.dump(), "skip.json", o);
    REQUIRE(d.images.size() == 3);
    CHECK(d.images[1].sentences.size() == 1);
    CHECK(d.skipped == 2);
  }
  CHECK_THAT(error_of([] { mrnn::parse_nvc("{\"images\": 1 2}", "n.json"); }),
             Contains("n.json: invalid JSON"));
  CHECK_THAT(error_of([] { mrnn::load_nvc("NVC_missing.json"); }),
             Contains("NVC file 'NVC_missing.json' cannot be read"));
}
