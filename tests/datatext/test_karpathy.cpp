// Karpathy split files: field values from the fixtures (taken from the public dataset_coco.json /
// dataset_flickr8k.json layout), split selection, retokenizing, and every kind of bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/karpathy.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using datatext_test::error_of;
using mrnn::Split;
using Tokens = std::vector<std::string>;

namespace {
nlohmann::json coco_fixture() {
  return nlohmann::json::parse(datatext_test::read_text(datatext_test::fixture("karpathy_coco.json")));
}
std::vector<int64_t> imgids(const mrnn::KarpathyDataset& d) {
  std::vector<int64_t> out;
  for (const auto& img : d.images) out.push_back(img.imgid);
  return out;
}
}  // namespace

TEST_CASE("karpathy: COCO split file fields", "[karpathy]") {
  const auto d = mrnn::load_karpathy(datatext_test::fixture("karpathy_coco.json"));
  CHECK(d.dataset == "coco");
  REQUIRE(d.images.size() == 5);
  CHECK(d.skipped == 0);
  const auto& img = d.images[0];
  CHECK(img.filename == "COCO_val2014_000000391895.jpg");
  CHECK(img.filepath == "val2014");
  CHECK(img.split == Split::test);
  CHECK(img.imgid == 0);
  CHECK(img.cocoid == 391895);
  REQUIRE(img.sentences.size() == 2);
  CHECK(img.sentences[0].tokens ==
        Tokens{"a", "man", "with", "a", "red", "helmet", "on", "a", "small", "moped", "on", "a",
               "dirt", "road"});
  CHECK(img.sentences[0].raw == "A man with a red helmet on a small moped on a dirt road. ");
  CHECK(img.sentences[0].sentence_id == 770337);
  CHECK(img.sentences[1].image_id == 0);
  CHECK(d.images[1].split == Split::restval);
  CHECK(d.images[3].split == Split::val);
}

TEST_CASE("karpathy: Flickr8k file has no filepath or cocoid", "[karpathy]") {
  const auto d = mrnn::load_karpathy(datatext_test::fixture("karpathy_flickr8k.json"));
  CHECK(d.dataset == "flickr8k");
  REQUIRE(d.images.size() == 3);
  CHECK(d.images[0].filename == "2513260012_03d33305cf.jpg");
  CHECK(d.images[0].filepath.empty());
  CHECK(d.images[0].cocoid == -1);
  CHECK(d.images[1].split == Split::test);
  CHECK(d.images[2].sentences[0].tokens ==
        Tokens{"a", "brown", "dog", "is", "running", "through", "the", "grass"});
}

TEST_CASE("karpathy: split selection and restval folding", "[karpathy]") {
  const std::string path = datatext_test::fixture("karpathy_coco.json");
  mrnn::KarpathyOptions o;
  o.splits = {Split::train};
  CHECK(imgids(mrnn::load_karpathy(path, o)) == std::vector<int64_t>{2, 4});
  o.restval_into_train = true;
  const auto folded = mrnn::load_karpathy(path, o);
  CHECK(imgids(folded) == std::vector<int64_t>{1, 2, 4});
  CHECK(folded.images[0].split == Split::train);
  o.splits = {Split::val, Split::test};
  CHECK(imgids(mrnn::load_karpathy(path, o)) == std::vector<int64_t>{0, 3});
  o = {};
  o.splits = {Split::restval};
  CHECK(imgids(mrnn::load_karpathy(path, o)) == std::vector<int64_t>{1});
}

TEST_CASE("karpathy: retokenize raw with our tokenizer", "[karpathy]") {
  mrnn::KarpathyOptions o;
  o.retokenize = true;
  const auto d = mrnn::load_karpathy(datatext_test::fixture("karpathy_flickr8k.json"), o);
  // raw "A brown dog's running through the grass." (the file's tokens say "dog is").
  CHECK(d.images[2].sentences[0].tokens ==
        Tokens{"a", "brown", "dog", "'s", "running", "through", "the", "grass"});
  o.mode = mrnn::TokenizerMode::character;
  const auto c = mrnn::load_karpathy(datatext_test::fixture("karpathy_flickr8k.json"), o);
  CHECK(c.images[1].sentences[0].tokens == Tokens{"a", "little", "baby", "plays", "croquet"});
}

TEST_CASE("karpathy: bad input names the file, the field path and what was expected",
          "[karpathy]") {
  const std::string name = "bad_karpathy.json";
  auto parse = [&](const nlohmann::json& doc) {
    return error_of([&] { mrnn::parse_karpathy(doc.dump(), name); });
  };
  {
    auto doc = coco_fixture();
    doc["images"][1]["imgid"] = "1";
    CHECK_THAT(parse(doc), Contains("bad_karpathy.json: images[1].imgid: expected an integer, "
                                    "found the string \"1\""));
  }
  {
    auto doc = coco_fixture();
    doc["images"][2]["split"] = "dev";
    CHECK_THAT(parse(doc), Contains("bad_karpathy.json: images[2].split: unknown split value "
                                    "\"dev\": expected train, val, test or restval"));
  }
  {
    auto doc = coco_fixture();
    doc["images"][0]["sentences"][1]["tokens"] = nlohmann::json::array();
    CHECK_THAT(parse(doc), Contains("bad_karpathy.json: images[0].sentences[1].tokens: empty "
                                    "caption"));
  }
  {
    auto doc = coco_fixture();
    doc["images"][0]["sentences"][1]["tokens"][2] = 7;
    CHECK_THAT(parse(doc), Contains("images[0].sentences[1].tokens[2]: expected a string, found "
                                    "the number 7"));
  }
  {
    auto doc = coco_fixture();
    doc["images"][3]["sentences"][0].erase("raw");
    CHECK_THAT(parse(doc), Contains("bad_karpathy.json: images[3].sentences[0].raw: missing field"));
  }
  {
    auto doc = coco_fixture();
    doc["images"][4]["sentences"][1]["sentid"] = 700000;
    CHECK_THAT(parse(doc), Contains("images[4].sentences[1].sentid: duplicate sentid 700000"));
  }
  {
    auto doc = coco_fixture();
    doc["images"][4]["sentences"][0]["imgid"] = 3;
    CHECK_THAT(parse(doc), Contains("images[4].sentences[0].imgid: expected the image's imgid 4, "
                                    "found 3"));
  }
  {
    auto doc = coco_fixture();
    doc["images"] = nlohmann::json::object();
    CHECK_THAT(parse(doc), Contains("bad_karpathy.json: images: expected an array, found an object"));
  }
  CHECK_THAT(error_of([&] { mrnn::parse_karpathy("{\"images\": [\n  {\"imgid\": 1,,}]}", name); }),
             Contains("bad_karpathy.json: invalid JSON") && Contains("line 2"));
  CHECK_THAT(error_of([&] { mrnn::parse_karpathy("[1, 2]", name); }),
             Contains("bad_karpathy.json: expected an object, found an array"));
  CHECK_THAT(error_of([] { mrnn::load_karpathy("/no/such/dir/dataset_coco.json"); }),
             Contains("Karpathy split file '/no/such/dir/dataset_coco.json' cannot be read"));
}

TEST_CASE("karpathy: skip_bad drops bad sentences and images and counts them", "[karpathy]") {
  auto doc = coco_fixture();
  doc["images"][1]["split"] = "dev";                                      // image dropped
  doc["images"][2]["sentences"][0]["tokens"] = nlohmann::json::array();  // sentence dropped
  doc["images"][3]["sentences"][0]["sentid"] = "x";                      // its only sentence
  mrnn::KarpathyOptions o;
  o.skip_bad = true;
  const auto d = mrnn::parse_karpathy(doc.dump(), "skip.json", o);
  CHECK(imgids(d) == std::vector<int64_t>{0, 2, 4});
  CHECK(d.images[1].sentences.size() == 1);
  CHECK(d.images[1].sentences[0].sentence_id == 789366);
  CHECK(d.skipped == 4);  // image 1, sentence of image 2, sentence and then image 3
  REQUIRE(d.skip_reasons.size() == 4);
  CHECK_THAT(d.skip_reasons[0], Contains("skip.json: images[1].split"));
  CHECK_THAT(d.skip_reasons[1], Contains("images[2].sentences[0].tokens: empty caption"));
  CHECK_THAT(d.skip_reasons[3], Contains("images[3].sentences: expected at least one valid sentence"));
}
