#include "data/json_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace mrnn::jsonio {

std::string read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) MRNN_FAIL("{} file '{}' cannot be read: {}", what, path, std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  MRNN_CHECK(!in.bad(), "{} file '{}': read error", what, path);
  return buf.str();
}

Json parse(std::string_view text, const std::string& name) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 7: ...".
    std::string msg = e.what();
    const auto pos = msg.find("] ");
    if (msg.rfind("[json.exception", 0) == 0 && pos != std::string::npos) msg = msg.substr(pos + 2);
    MRNN_FAIL("{}: invalid JSON: {}", name, msg);
  }
}

Path Path::key(std::string_view k) const {
  Path p;
  p.text_ = text_.empty() ? std::string(k) : text_ + "." + std::string(k);
  return p;
}

Path Path::index(std::size_t i) const {
  Path p;
  p.text_ = text_ + "[" + std::to_string(i) + "]";
  return p;
}

void fail(const Where& at, const std::string& message) {
  if (at.path.str().empty()) MRNN_FAIL("{}: {}", at.name, message);
  MRNN_FAIL("{}: {}: {}", at.name, at.path.str(), message);
}

std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::string: {
      std::string s = value.get_ref<const std::string&>();
      if (s.size() > 40) {
        std::size_t cut = 40;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        s = s.substr(0, cut) + "...";
      }
      return "the string \"" + s + "\"";
    }
    default: return "the number " + value.dump();
  }
}

const Json& object(const Json& value, const Where& at) {
  if (!value.is_object()) fail(at, "expected an object, found " + describe(value));
  return value;
}

const Json& array(const Json& value, const Where& at) {
  if (!value.is_array()) fail(at, "expected an array, found " + describe(value));
  return value;
}

std::string string(const Json& value, const Where& at) {
  if (!value.is_string()) fail(at, "expected a string, found " + describe(value));
  return value.get<std::string>();
}

std::string nonblank_string(const Json& value, const Where& at, std::string_view what) {
  std::string s = string(value, at);
  if (s.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(at, fmt::format("empty {}: expected a non-empty string", what));
  return s;
}

void optional_size(const Json& obj, std::string_view key, const Where& at, int64_t& out) {
  const Json* v = find(obj, key);
  if (!v) return;
  const int64_t n = integer(*v, at.key(key));
  if (n < 0) fail(at.key(key), fmt::format("expected a size >= 0, found {}", n));
  out = n;
}

int64_t integer(const Json& value, const Where& at) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return static_cast<int64_t>(u);
  }
  fail(at, "expected an integer, found " + describe(value));
}

double number(const Json& value, const Where& at) {
  if (!value.is_number()) fail(at, "expected a number, found " + describe(value));
  return value.get<double>();
}

std::vector<std::string> string_array(const Json& value, const Where& at) {
  if (!value.is_array()) fail(at, "expected an array of strings, found " + describe(value));
  std::vector<std::string> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) out.push_back(string(value[i], at.index(i)));
  return out;
}

std::vector<int64_t> integer_array(const Json& value, const Where& at) {
  if (!value.is_array()) fail(at, "expected an array of integers, found " + describe(value));
  std::vector<int64_t> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) out.push_back(integer(value[i], at.index(i)));
  return out;
}

const Json& member(const Json& obj, std::string_view key, const Where& at) {
  object(obj, at);
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) fail(at.key(key), "missing field");
  return *it;
}

const Json* find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

void SkipLog::add(const std::string& message) {
  ++count;
  if (reasons.size() < kMaxReasons) reasons.push_back(message);
}

}  // namespace mrnn::jsonio
