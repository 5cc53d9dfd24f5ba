// Vocabulary: deterministic build (min-count, count-then-bytes order), encode/decode, the text
// file format and its error messages.
#include <catch2/catch.hpp>

#include "data/vocab.h"
#include "datatext_helpers.h"

using Catch::Matchers::Contains;
using mrnn::Vocab;
using datatext_test::error_of;

TEST_CASE("vocab build: specials first, then count descending, ties by bytes", "[vocab]") {
  const std::vector<std::vector<std::string>> sents = {
      {"a", "dog"}, {"a", "cat"}, {"the", "dog"}, {"a", "b"}};
  // counts: a=3 dog=2 b=1 cat=1 the=1
  const Vocab v = Vocab::build(sents, 1);
  CHECK(v.tokens() == std::vector<std::string>{"<pad>", "<unk>", "<bos>", "<eos>", "a", "dog",
                                                "b", "cat", "the"});
  CHECK(v.id("<pad>") == Vocab::kPad);
  CHECK(v.id("<eos>") == Vocab::kEos);
  CHECK(v.id("cat") == 7);
  CHECK(v.id("zebra") == Vocab::kUnk);

  const Vocab v2 = Vocab::build(sents, 2);
  CHECK(v2.tokens() == std::vector<std::string>{"<pad>", "<unk>", "<bos>", "<eos>", "a", "dog"});
  CHECK(Vocab::build(sents, 4).size() == 4);

  // Ties compare raw UTF-8 bytes: "Z" (0x5A) < "z" (0x7A) < "é" (0xC3 0xA9).
  const Vocab v3 = Vocab::build({{"\xC3\xA9", "z", "Z"}}, 1);
  CHECK(v3.tokens() == std::vector<std::string>{"<pad>", "<unk>", "<bos>", "<eos>", "Z", "z",
                                                 "\xC3\xA9"});
  // A token spelled like a special maps to it and is not added twice.
  const Vocab v4 = Vocab::build({{"<unk>", "<unk>", "x"}}, 1);
  CHECK(v4.size() == 5);
  CHECK(v4.id("x") == 4);

  CHECK_THAT(error_of([&] { Vocab::build(sents, 0); }), Contains("min_count must be >= 1"));
  CHECK_THAT(error_of([&] { Vocab::build({{"a\nb"}}, 1); }), Contains("contains a line break"));
}

TEST_CASE("vocab encode / decode", "[vocab]") {
  const Vocab v = Vocab::build({{"a", "dog"}, {"a"}}, 1);  // a=4 dog=5
  CHECK(v.encode({"a", "unicorn", "dog"}) == std::vector<int32_t>{4, 1, 5});
  CHECK(v.encode({"a"}, true, true) == std::vector<int32_t>{2, 4, 3});
  CHECK(v.decode({2, 4, 1, 5, 3, 4, 4}) == std::vector<std::string>{"a", "<unk>", "dog"});
  CHECK(v.decode({4, 0, 5, 0}) == std::vector<std::string>{"a", "dog"});
  // The unknown-word count (a literal "<unk>" in the text is not unknown), and i64 ids decode too.
  int64_t unknown = 0;
  CHECK(v.encode({"unicorn", "a", "<unk>", "yeti"}, true, false, &unknown) == std::vector<int32_t>{2, 1, 4, 1, 1});
  CHECK(unknown == 2);
  CHECK(v.decode(std::vector<int64_t>{4, 5, 3, 4}) == std::vector<std::string>{"a", "dog"});
  CHECK_THAT(error_of([&] { v.decode(std::vector<int64_t>{4, int64_t{1} << 40}); }), Contains("outside the vocabulary"));
  CHECK_THAT(error_of([&] { v.decode({4, 6}); }), Contains("token id 6 out of range [0, 6)"));
  CHECK_THAT(error_of([&] { v.token(-1); }), Contains("token id -1 out of range"));

  Vocab w = v;
  CHECK(w.add("dog") == 5);
  CHECK(w.add("quidditch") == 6);
  CHECK(w.token(6) == "quidditch");
  CHECK(v.size() == 6);
}

TEST_CASE("vocab save / load round trip and the file format", "[vocab]") {
  const auto dir = datatext_test::scratch_dir("vocab_roundtrip");
  const Vocab v = Vocab::build({{"caf\xC3\xA9", "dog", "dog", "一"}}, 1);
  const std::string path = (dir / "vocab.txt").string();
  v.save(path);
  CHECK(datatext_test::read_text(path) ==
        "<pad>\n<unk>\n<bos>\n<eos>\ndog\ncaf\xC3\xA9\n\xE4\xB8\x80\n");
  const Vocab back = Vocab::load(path);
  CHECK(back.tokens() == v.tokens());
  CHECK(back.id("\xE4\xB8\x80") == 6);

  const Vocab fixture = Vocab::load(datatext_test::fixture("vocab_small.txt"));
  CHECK(fixture.size() == 8);
  CHECK(fixture.id("caf\xC3\xA9") == 6);

  // CRLF line ends, a byte order mark and a missing final newline are accepted.
  const Vocab crlf = Vocab::parse("\xEF\xBB\xBF<pad>\r\n<unk>\r\n<bos>\r\n<eos>\r\nx", "crlf.txt");
  CHECK(crlf.size() == 5);
  CHECK(crlf.id("x") == 4);
}

TEST_CASE("vocab file errors name the file and the line", "[vocab]") {
  const auto dir = datatext_test::scratch_dir("vocab_errors");
  const auto write_and_load = [&](const std::string& file, const std::string& text) {
    const auto path = dir / file;
    datatext_test::write_text(path, text);
    return error_of([&] { Vocab::load(path.string()); });
  };
  CHECK_THAT(write_and_load("empty.txt", ""),
             Contains("empty.txt' is empty") && Contains("<pad> <unk> <bos> <eos>"));
  CHECK_THAT(write_and_load("nospecial.txt", "<pad>\n<bos>\n<unk>\n<eos>\n"),
             Contains("nospecial.txt', line 2: expected the special token \"<unk>\" (id 1), "
                      "found \"<bos>\""));
  CHECK_THAT(write_and_load("short.txt", "<pad>\n<unk>\n"),
             Contains("short.txt' has 2 lines"));
  CHECK_THAT(write_and_load("dup.txt", "<pad>\n<unk>\n<bos>\n<eos>\na\nb\na\n"),
             Contains("dup.txt', line 7: duplicate token \"a\" (first on line 5)"));
  CHECK_THAT(write_and_load("blank.txt", "<pad>\n<unk>\n<bos>\n<eos>\na\n\nb\n"),
             Contains("blank.txt', line 6: empty token"));
  CHECK_THAT(write_and_load("utf8.txt", "<pad>\n<unk>\n<bos>\n<eos>\nok\nbad\xFF\n"),
             Contains("utf8.txt', line 6: invalid UTF-8"));
  CHECK_THAT(error_of([&] { Vocab::load((dir / "missing.txt").string()); }),
             Contains("missing.txt' cannot be read"));
}
