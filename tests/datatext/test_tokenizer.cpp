// Word mode against the real PTBTokenizer 3.4.1 (golden file made by
// tests/fixtures/datatext/make_tokenizer_golden.py), character mode on Chinese/Japanese captions
// with hand-written expectations, and the handling of invalid UTF-8.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "data/tokenizer.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using mrnn::TokenizerMode;
using mrnn::tokenize;
using Tokens = std::vector<std::string>;

TEST_CASE("word mode matches pycocoevalcap's PTBTokenizer on every golden caption", "[tokenizer]") {
  const auto doc = nlohmann::json::parse(datatext_test::read_text(
      datatext_test::fixture("tokenizer_golden.json")));
  const auto& cases = doc.at("cases");
  REQUIRE(cases.size() >= 200);
  // Known differences from the jar: none among the golden captions. (Exotic ones found by random
  // differential testing are listed in docs/data.md: soft hyphens at a word start, and Greek
  // final sigma next to digits or dashes.)
  int mismatches = 0;
  for (const auto& c : cases) {
    const std::string caption = c.at("caption");
    const Tokens expected = c.at("tokens").get<Tokens>();
    const Tokens got = tokenize(caption, TokenizerMode::word);
    if (got != expected) {
      ++mismatches;
      UNSCOPED_INFO("caption: " << caption);
      CHECK(got == expected);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("word mode: the rules that matter for captions", "[tokenizer]") {
  // Spot checks with values read off the jar's output (also in the golden file).
  CHECK(tokenize("Don't touch the dog's bowl.", TokenizerMode::word) ==
        Tokens{"do", "n't", "touch", "the", "dog", "'s", "bowl"});
  CHECK(tokenize("A man (with a hat) walks", TokenizerMode::word) ==
        Tokens{"a", "man", "-lrb-", "with", "a", "hat", "-rrb-", "walks"});
  CHECK(tokenize("3.5 inches and 1,000 people...", TokenizerMode::word) ==
        Tokens{"3.5", "inches", "and", "1,000", "people"});
  CHECK(tokenize("Mr. Smith, etc.", TokenizerMode::word) == Tokens{"mr.", "smith", "etc."});
  CHECK(tokenize("CAF\xC3\x89 \xF0\x9F\x98\x80 na\xC3\xAFve", TokenizerMode::word) ==
        Tokens{"caf\xC3\xA9", "na\xC3\xAFve"});  // emoji dropped, non-ASCII lowercased intact
  CHECK(tokenize("", TokenizerMode::word).empty());
  CHECK(tokenize(" . , ! ", TokenizerMode::word).empty());
}

TEST_CASE("character mode splits CJK text into characters", "[tokenizer]") {
  CHECK(tokenize("一只狗在草地上奔跑。", TokenizerMode::character) ==
        Tokens{"一", "只", "狗", "在", "草", "地", "上", "奔", "跑"});
  CHECK(tokenize("两个人在公园里（下午）散步，很开心！", TokenizerMode::character) ==
        Tokens{"两", "个", "人", "在", "公", "园", "里", "下", "午", "散", "步", "很", "开", "心"});
  CHECK(tokenize("“你好”，她说：「早上好」《书》……——、；", TokenizerMode::character) ==
        Tokens{"你", "好", "她", "说", "早", "上", "好", "书"});
  // ASCII letter/digit runs stay whole and are lowercased; fullwidth ASCII is folded first.
  CHECK(tokenize("一个穿着T恤的男人在玩iPhone 12", TokenizerMode::character) ==
        Tokens{"一", "个", "穿", "着", "t", "恤", "的", "男", "人", "在", "玩", "iphone", "12"});
  CHECK(tokenize("ＡＢＣ１２３号，3.5元", TokenizerMode::character) ==
        Tokens{"abc123", "号", "3", "5", "元"});
  CHECK(tokenize("猫がソファーで寝ている。", TokenizerMode::character) ==
        Tokens{"猫", "が", "ソ", "フ", "ァ", "ー", "で", "寝", "て", "い", "る"});
  CHECK(tokenize("hello 世界\tworld", TokenizerMode::character) ==
        Tokens{"hello", "世", "界", "world"});
  CHECK(tokenize("한국어 狗\xF0\x9F\x90\xB6", TokenizerMode::character) ==
        Tokens{"한", "국", "어", "狗", "\xF0\x9F\x90\xB6"});
  // Non-ASCII letters are single tokens; a combining mark stays with its base letter.
  CHECK(tokenize("Caf\xC3\x89", TokenizerMode::character) == Tokens{"caf", "\xC3\xA9"});
  CHECK(tokenize("cafe\xCC\x81!", TokenizerMode::character) == Tokens{"caf", "e\xCC\x81"});
  CHECK(tokenize("。，！", TokenizerMode::character).empty());
}

TEST_CASE("invalid UTF-8 is rejected with the byte offset", "[tokenizer]") {
  for (TokenizerMode mode : {TokenizerMode::word, TokenizerMode::character}) {
    CHECK_THAT(datatext_test::error_of([&] { tokenize("ab\xFF" "cd", mode); }),
               Contains("invalid UTF-8 at byte offset 2"));
    CHECK_THAT(datatext_test::error_of([&] { tokenize("caf\xC3", mode); }),  // truncated
               Contains("byte offset 3"));
    CHECK_THAT(datatext_test::error_of([&] { tokenize("\xC0\xAF", mode); }),  // overlong '/'
               Contains("byte offset 0"));
    CHECK_THAT(datatext_test::error_of([&] { tokenize("x\xED\xA0\x80", mode); }),  // surrogate
               Contains("byte offset 1"));
  }
  CHECK(mrnn::find_invalid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80") == std::string_view::npos);
  CHECK(mrnn::find_invalid_utf8("ok\x80") == 2);
}

TEST_CASE("tokenizer mode names", "[tokenizer]") {
  CHECK(mrnn::parse_tokenizer_mode("word") == TokenizerMode::word);
  CHECK(mrnn::parse_tokenizer_mode("char") == TokenizerMode::character);
  CHECK(std::string(mrnn::tokenizer_mode_name(TokenizerMode::character)) == "char");
  CHECK_THAT(datatext_test::error_of([] { mrnn::parse_tokenizer_mode("bpe"); }),
             Contains("unknown tokenizer mode 'bpe'"));
}
