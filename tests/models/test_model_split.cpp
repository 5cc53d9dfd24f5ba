// models/mrnn/model_split.h: programs read a dataset the way the model was trained on it.
#include <catch2/catch.hpp>

#include "models/mrnn/model_split.h"

using namespace mrnn;

TEST_CASE("a character-level model re-tokenizes the raw captions, a word-level one keeps the JSON's tokens",
          "[model_split]") {
  ModelDir md;
  md.tokenizer = TokenizerMode::character;
  KarpathyOptions ko = dataset_options_for(md);
  CHECK(ko.retokenize);
  CHECK(ko.mode == TokenizerMode::character);
  CHECK(ko.restval_into_train);

  // The same JSON read for both models: the char model sees one token per character of "raw".
  const std::string json = R"({"images": [{"filename": "a.png", "split": "test", "imgid": 0, "sentences": [
      {"raw": "一只猫", "tokens": ["一只", "猫"], "imgid": 0, "sentid": 0}]}]})";
  KarpathyDataset chars = parse_karpathy(json, "t.json", ko);
  REQUIRE(chars.images.size() == 1);
  CHECK(chars.images[0].sentences[0].tokens == std::vector<std::string>{"一", "只", "猫"});

  md.tokenizer = TokenizerMode::word;
  ko = dataset_options_for(md);
  CHECK_FALSE(ko.retokenize);
  KarpathyDataset words = parse_karpathy(json, "t.json", ko);
  CHECK(words.images[0].sentences[0].tokens == std::vector<std::string>{"一只", "猫"});
}
