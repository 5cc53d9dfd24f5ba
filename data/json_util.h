// Internal helpers of the dataset readers (karpathy, coco_captions, refexp, vqa, nvc): file
// reading, JSON parsing and typed field access that name the file, the JSON path and what was
// expected in every error. Why: one place decides how a bad field is reported, so every reader
// reports "dataset.json: images[12].sentences[3].tokens: expected an array of strings, found ...".
// Not a public header of mrnn: it exposes nlohmann::json, which mrnn links privately.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mrnn::jsonio {

using Json = nlohmann::json;

// Reads the whole file. Throws mrnn::Error "<what> file '<path>' cannot be read: <reason>".
std::string read_file(const std::string& path, std::string_view what);

// Parses JSON text. Throws mrnn::Error "<name>: invalid JSON: <parser message>" (the parser
// message gives the line and column, or the byte of a bad UTF-8 sequence).
Json parse(std::string_view text, const std::string& name);

// The location of a value inside a document, written as "images[12].sentences[3].tokens".
class Path {
 public:
  Path() = default;
  Path key(std::string_view k) const;
  Path index(std::size_t i) const;
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// Where typed access failed: the document's display name and the path of the value.
struct Where {
  const std::string& name;
  Path path;
  Where key(std::string_view k) const { return {name, path.key(k)}; }
  Where index(std::size_t i) const { return {name, path.index(i)}; }
};

// Throws mrnn::Error "<name>: <path>: <message>" (just "<name>: <message>" at the root).
[[noreturn]] void fail(const Where& at, const std::string& message);

// "an object", "a string \"abc...\"", "the number 3.5", ... for messages.
std::string describe(const Json& value);

// Each accessor requires the value to have the named type, else throws via fail() with
// "expected <type>, found <describe(value)>".
const Json& object(const Json& value, const Where& at);
const Json& array(const Json& value, const Where& at);
std::string string(const Json& value, const Where& at);
// A non-empty string that is not only whitespace ("empty caption"-style errors use `what`).
std::string nonblank_string(const Json& value, const Where& at, std::string_view what);
// An integer that fits int64 (floats with a fractional part or out of range are rejected).
int64_t integer(const Json& value, const Where& at);
double number(const Json& value, const Where& at);
std::vector<std::string> string_array(const Json& value, const Where& at);
std::vector<int64_t> integer_array(const Json& value, const Where& at);

// The member `key` of object `obj` (whose location is `at`); throws "missing field" if absent.
const Json& member(const Json& obj, std::string_view key, const Where& at);
// The member or nullptr when absent.
const Json* find(const Json& obj, std::string_view key);
// When obj has the member `key` (an image's "width", "height"): out := its value, which must be an
// integer >= 0. When it is absent, out is left unchanged.
void optional_size(const Json& obj, std::string_view key, const Where& at, int64_t& out);

// Counts entries dropped under skip_bad and keeps the first kMaxReasons messages.
struct SkipLog {
  static constexpr std::size_t kMaxReasons = 20;
  int64_t& count;
  std::vector<std::string>& reasons;
  void add(const std::string& message);
};

}  // namespace mrnn::jsonio
