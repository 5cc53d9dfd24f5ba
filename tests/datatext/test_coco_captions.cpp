// COCO caption annotations and results files: fixture values, the writer's exact output and
// round trip, and bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/coco_captions.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;

namespace {
nlohmann::json captions_fixture() {
  return nlohmann::json::parse(
      datatext_test::read_text(datatext_test::fixture("captions_val2014.json")));
}
}  // namespace

TEST_CASE("coco captions: annotation file fields", "[coco]") {
  const auto c = mrnn::load_coco_captions(datatext_test::fixture("captions_val2014.json"));
  REQUIRE(c.images.size() == 3);
  REQUIRE(c.annotations.size() == 5);
  CHECK(c.images[0].id == 391895);
  CHECK(c.images[0].file_name == "COCO_val2014_000000391895.jpg");
  CHECK(c.images[0].width == 640);
  CHECK(c.images[0].height == 360);
  CHECK(c.images[2].width == 500);
  CHECK(c.annotations[3].id == 702442);
  CHECK(c.annotations[3].image_id == 184613);
  CHECK(c.annotations[3].caption == "A child holding a flowered umbrella and petting a yak.");
  const auto by_image = c.captions_by_image();
  REQUIRE(by_image.at(391895).size() == 3);
  CHECK(by_image.at(391895)[2] == "A man riding on the back of a motorcycle.");
  CHECK(by_image.at(522418).size() == 1);
}

TEST_CASE("coco captions: bad input", "[coco]") {
  auto parse = [](const nlohmann::json& doc, mrnn::CocoReadOptions o = {}) {
    return error_of([&] { mrnn::parse_coco_captions(doc.dump(), "bad_captions.json", o); });
  };
  {
    auto doc = captions_fixture();
    doc["annotations"][1]["image_id"] = 999;
    CHECK_THAT(parse(doc), Contains("bad_captions.json: annotations[1].image_id: expected the id "
                                    "of an entry of \"images\", found 999"));
  }
  {
    auto doc = captions_fixture();
    doc["annotations"][2]["caption"] = "  ";
    CHECK_THAT(parse(doc), Contains("bad_captions.json: annotations[2].caption: empty caption"));
  }
  {
    auto doc = captions_fixture();
    doc["images"][1]["id"] = 1.5;
    CHECK_THAT(parse(doc), Contains("images[1].id: expected an integer, found the number 1.5"));
  }
  {
    auto doc = captions_fixture();
    doc["images"][2]["id"] = 391895;
    CHECK_THAT(parse(doc), Contains("images[2].id: duplicate image id 391895 (also images[0])"));
  }
  {
    auto doc = captions_fixture();
    doc.erase("annotations");
    CHECK_THAT(parse(doc), Contains("bad_captions.json: annotations: missing field"));
  }
  {
    auto doc = captions_fixture();
    doc["annotations"][0]["caption"] = nullptr;
    doc["annotations"][4]["image_id"] = 1;
    mrnn::CocoReadOptions o;
    o.skip_bad = true;
    const auto c = mrnn::parse_coco_captions(doc.dump(), "skip.json", o);
    CHECK(c.annotations.size() == 3);
    CHECK(c.skipped == 2);
    CHECK_THAT(c.skip_reasons[0], Contains("annotations[0].caption: expected a string, found null"));
  }
  CHECK_THAT(error_of([] { mrnn::parse_coco_captions("{\"images\": []\n\"x\"}", "c.json"); }),
             Contains("c.json: invalid JSON") && Contains("line 2"));
  CHECK_THAT(error_of([] { mrnn::load_coco_captions("missing_captions.json"); }),
             Contains("'missing_captions.json' cannot be read"));
}

TEST_CASE("coco results: read, write exactly, round trip", "[coco]") {
  const auto r = mrnn::load_coco_results(datatext_test::fixture("coco_results.json"));
  REQUIRE(r.results.size() == 3);
  CHECK(r.results[1].image_id == 522418);
  CHECK(r.results[1].caption == "a woman cutting a cake in a kitchen");

  const std::vector<mrnn::CocoResult> res = {{42, "a dog"}, {7, "caf\xC3\xA9 \"bar\"\n"}};
  // A JSON array of objects, as pycocotools' COCO.loadRes expects.
  CHECK(mrnn::format_coco_results(res) ==
        "[{\"caption\":\"a dog\",\"image_id\":42},"
        "{\"caption\":\"caf\xC3\xA9 \\\"bar\\\"\\n\",\"image_id\":7}]");
  CHECK(mrnn::format_coco_results({}) == "[]");

  const auto dir = datatext_test::scratch_dir("coco_results");
  const std::string path = (dir / "results.json").string();
  mrnn::write_coco_results(path, res);
  const auto back = mrnn::load_coco_results(path);
  REQUIRE(back.results.size() == 2);
  CHECK(back.results[0].image_id == 42);
  CHECK(back.results[1].caption == res[1].caption);

  CHECK_THAT(error_of([] { mrnn::format_coco_results({{1, "a"}, {1, "b"}}); }),
             Contains("entry 1: duplicate image_id 1"));
  CHECK_THAT(error_of([] { mrnn::format_coco_results({{3, "bad\xFF"}}); }),
             Contains("entry 0 (image_id 3): caption is not valid UTF-8"));
  CHECK_THAT(error_of([&] { mrnn::write_coco_results((dir / "no/such/dir.json").string(), res); }),
             Contains("cannot write COCO results file"));

  // Empty captions: an error unless allowed.
  mrnn::write_coco_results(path, {{5, ""}});
  CHECK_THAT(error_of([&] { mrnn::load_coco_results(path); }),
             Contains("results.json: [0].caption: empty caption"));
  mrnn::CocoResultsOptions allow;
  allow.allow_empty_captions = true;
  CHECK(mrnn::load_coco_results(path, allow).results.at(0).caption.empty());
}

TEST_CASE("coco results: bad input", "[coco]") {
  auto err = [](const std::string& text) {
    return error_of([&] { mrnn::parse_coco_results(text, "bad_results.json"); });
  };
  CHECK_THAT(err("{\"image_id\": 1}"), Contains("bad_results.json: expected an array, found an object"));
  CHECK_THAT(err("[{\"image_id\": \"1\", \"caption\": \"x\"}]"),
             Contains("bad_results.json: [0].image_id: expected an integer"));
  CHECK_THAT(err("[{\"image_id\": 1}]"), Contains("bad_results.json: [0].caption: missing field"));
  CHECK_THAT(err("[{\"image_id\": 1, \"caption\": \"a\"}, {\"image_id\": 1, \"caption\": \"b\"}]"),
             Contains("[1].image_id: duplicate image_id 1 (also [0])"));
  CHECK_THAT(err("[{\"image_id\": 1, \"caption\": \"a\"},]"), Contains("invalid JSON"));
}
