#include "data/npy.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace mrnn {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;             // numpy's ARRAY_ALIGN
constexpr size_t kGrowthAxisDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS

struct DescrEntry {
  const char* code;  // without the byte-order character
  ElemType type;
};
constexpr DescrEntry kDescrs[] = {
    {"b1", ElemType::BOOL}, {"u1", ElemType::U8},  {"i1", ElemType::I8},  {"i2", ElemType::I16},
    {"u2", ElemType::U16},  {"f2", ElemType::F16}, {"i4", ElemType::I32}, {"u4", ElemType::U32},
    {"f4", ElemType::F32},  {"f8", ElemType::F64}, {"i8", ElemType::I64}, {"u8", ElemType::U64},
};

// Printable excerpt of untrusted header text for error messages.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 160)) {
    if (c == '\n') out += "\\n";
    else if (c >= 0x20 && c < 0x7f) out += c;
    else out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  if (s.size() > 160) out += "...";
  return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("({}{})", fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
}

// Strict parser of the header's Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class DictParser {
 public:
  DictParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    ws();
    expect('{', "header", "the dict must start with '{'");
    bool have_descr = false, have_fortran = false, have_shape = false;
    for (;;) {
      ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = string_literal("header");
      ws();
      expect(':', key, "expected ':' after the key");
      ws();
      if (key == "descr") {
        once(&have_descr, key);
        if (peek() == '[') fail(key, "structured dtypes are not supported");
        *descr = string_literal(key);
      } else if (key == "fortran_order") {
        once(&have_fortran, key);
        *fortran = boolean(key);
      } else if (key == "shape") {
        once(&have_shape, key);
        *shape = tuple(key);
      } else {
        fail("header", fmt::format("unexpected key '{}' (expected only 'descr', "
                                   "'fortran_order' and 'shape')", excerpt(key)));
      }
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "header", "expected ',' or '}' after a value");
      break;
    }
    ws();
    if (pos_ != s_.size()) fail("header", "unexpected text after the closing '}'");
    if (s_.empty() || s_.back() != '\n') fail("header", "must end with a newline");
    if (!have_descr) fail("descr", "missing key");
    if (!have_fortran) fail("fortran_order", "missing key");
    if (!have_shape) fail("shape", "missing key");
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    MRNN_FAIL("{}: .npy header field '{}': {} (at character {} of header \"{}\")", name_, field,
              what, pos_, excerpt(s_));
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c, const std::string& field, const char* what) {
    if (peek() != c) fail(field, what);
    ++pos_;
  }
  void once(bool* seen, const std::string& key) {
    if (*seen) fail(key, "duplicate key");
    *seen = true;
  }
  std::string string_literal(const std::string& field) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(field, "expected a quoted string");
    const size_t start = ++pos_;
    while (pos_ < s_.size() && s_[pos_] != q) {
      const char c = s_[pos_];
      if (c == '\\') fail(field, "escape sequences are not supported in strings");
      if (c < 0x20 || c > 0x7e) fail(field, "non-printable character in a string");
      ++pos_;
    }
    if (pos_ >= s_.size()) fail(field, "unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }
  bool boolean(const std::string& field) {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail(field, "expected True or False");
  }
  int64_t integer(const std::string& field, size_t dim) {
    if (peek() == '-') fail(field, fmt::format("dimension {} is negative", dim));
    if (peek() < '0' || peek() > '9')
      fail(field, fmt::format("dimension {}: expected a non-negative integer", dim));
    if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
      fail(field, fmt::format("dimension {}: leading zeros are not allowed", dim));
    int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[pos_] - '0', &v))
        fail(field, fmt::format("dimension {} does not fit in 64 bits", dim));
      ++pos_;
    }
    return v;
  }
  // '()', '(n,)', '(n, m)', '(n, m,)'. A 1-tuple needs its trailing comma, as in Python.
  std::vector<int64_t> tuple(const std::string& field) {
    expect('(', field, "expected a tuple such as (2, 3)");
    std::vector<int64_t> dims;
    bool trailing_comma = false;
    for (;;) {
      ws();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      dims.push_back(integer(field, dims.size()));
      ws();
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        continue;
      }
      trailing_comma = false;
      expect(')', field, "expected ',' or ')' after a dimension");
      break;
    }
    if (dims.size() == 1 && !trailing_comma)
      fail(field, "a one-dimensional shape must be written (n,), not (n)");
    return dims;
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

ElemType parse_descr(const std::string& descr, const std::string& name) {
  auto fail = [&](const std::string& what) {
    MRNN_FAIL("{}: .npy header field 'descr': '{}' {}", name, excerpt(descr), what);
  };
  if (descr.size() != 3)
    fail("is not a supported dtype (expected one of '<f2' '<f4' '<f8' '<i2' '<i4' '<i8' '<u2' "
         "'<u4' '<u8' '|u1' '|i1' '|b1')");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  const DescrEntry* e = std::find_if(std::begin(kDescrs), std::end(kDescrs),
                                     [&](const DescrEntry& d) { return code == d.code; });
  if (e == std::end(kDescrs))
    fail("is not a supported dtype (expected one of '<f2' '<f4' '<f8' '<i2' '<i4' '<i8' '<u2' "
         "'<u4' '<u8' '|u1' '|i1' '|b1')");
  if (elem_size(e->type) == 1) {
    if (order != '|' && order != '<' && order != '>') fail("has an invalid byte-order character");
  } else if (order == '>') {
    fail("is big-endian, which is not supported (convert with "
         "arr.astype(arr.dtype.newbyteorder('<')))");
  } else if (order != '<') {
    fail("has no explicit little-endian byte order '<'");
  }
  return e->type;
}

struct Prefix {
  int major = 1;
  size_t length = 10;       // magic + version + header-length field
  uint64_t header_len = 0;  // bytes of the dict text, padding and newline
};

// Requires data[0, avail) to hold min(file_size, 12) bytes at least.
Prefix parse_prefix(const uint8_t* data, size_t avail, uint64_t file_size,
                    const std::string& name) {
  MRNN_CHECK(file_size >= 10, "{}: .npy field 'magic': file is {} bytes, too short for a .npy "
             "header (at least 10)", name, file_size);
  MRNN_CHECK(std::memcmp(data, kMagic, kMagicLen) == 0, "{}: .npy field 'magic': expected "
             "\\x93NUMPY, found \"{}\" (not a .npy file)", name,
             excerpt(std::string_view(reinterpret_cast<const char*>(data), kMagicLen)));
  Prefix p;
  const int major = data[6], minor = data[7];
  MRNN_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, "{}: .npy field 'version': "
             "{}.{} is not supported (expected 1.0, 2.0 or 3.0)", name, major, minor);
  p.major = major;
  if (major == 1) {
    p.length = 10;
    p.header_len = static_cast<uint64_t>(data[8]) | static_cast<uint64_t>(data[9]) << 8;
  } else {
    MRNN_CHECK(file_size >= 12 && avail >= 12, "{}: .npy field 'header length': file is {} "
               "bytes, too short for a version {}.0 prefix (12)", name, file_size, major);
    p.length = 12;
    p.header_len = 0;
    for (int i = 0; i < 4; ++i) p.header_len |= static_cast<uint64_t>(data[8 + i]) << (8 * i);
  }
  MRNN_CHECK(p.header_len <= file_size - p.length, "{}: .npy field 'header length': says {} "
             "bytes but only {} follow the prefix (truncated file?)", name, p.header_len,
             file_size - p.length);
  return p;
}

// Requires text to be the header_len bytes after the prefix.
NpyHeader parse_dict(const Prefix& prefix, std::string_view text, uint64_t file_size,
                     const std::string& name) {
  std::string descr;
  bool fortran = false;
  NpyHeader h;
  DictParser(text, name).parse(&descr, &fortran, &h.shape);
  h.major_version = prefix.major;
  h.type = parse_descr(descr, name);
  MRNN_CHECK(!fortran, "{}: .npy header field 'fortran_order': True (Fortran-ordered data) is not "
             "supported; save a C-ordered array (np.ascontiguousarray)", name);
  int64_t numel = 0;
  MRNN_CHECK(checked_numel(h.shape, &numel), "{}: .npy header field 'shape': the element count "
             "of {} overflows 64 bits", name, shape_str(h.shape));
  MRNN_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(numel), elem_size(h.type),
                                     &h.data_bytes),
             "{}: .npy header field 'shape': the byte count of {} x {} overflows 64 bits", name,
             shape_str(h.shape), descr);
  h.data_offset = prefix.length + prefix.header_len;
  const uint64_t have = file_size - h.data_offset;
  MRNN_CHECK(have >= h.data_bytes, "{}: .npy data: shape {} of '{}' needs {} bytes after the "
             "header, the file has only {} (truncated file?)", name, shape_str(h.shape), descr,
             h.data_bytes, have);
  MRNN_CHECK(have == h.data_bytes, "{}: .npy data: shape {} of '{}' needs {} bytes after the "
             "header, the file has {} ({} trailing bytes)", name, shape_str(h.shape), descr,
             h.data_bytes, have, have - h.data_bytes);
  return h;
}

void check_bools(const RawArray& a, const std::string& name) {
  if (a.type != ElemType::BOOL) return;
  for (size_t i = 0; i < a.bytes.size(); ++i)
    MRNN_CHECK(a.bytes[i] <= 1, "{}: .npy data: bool element {} has byte value {} (expected 0 "
               "or 1)", name, i, a.bytes[i]);
}

NpyHeader read_header(const InputFile& file) {
  uint8_t head[12] = {};
  file.read_at(0, head, static_cast<size_t>(std::min<uint64_t>(file.size(), sizeof head)));
  const Prefix prefix = parse_prefix(head, sizeof head, file.size(), file.path());
  std::string text(static_cast<size_t>(prefix.header_len), '\0');
  file.read_at(prefix.length, text.data(), text.size());
  return parse_dict(prefix, text, file.size(), file.path());
}

// Magic, version, header length and the padded header dict, byte for byte as numpy.save writes.
std::vector<uint8_t> header_bytes(const RawArray& a) {
  a.check();
  MRNN_CHECK(a.type != ElemType::BF16, "encode_npy: .npy has no bfloat16 dtype; convert to F32 "
             "or write safetensors");
  const auto* e = std::find_if(std::begin(kDescrs), std::end(kDescrs),
                               [&](const DescrEntry& d) { return d.type == a.type; });
  const std::string descr = fmt::format("{}{}", elem_size(a.type) == 1 ? '|' : '<', e->code);
  // Keys in sorted order with repr() spellings, as numpy writes them.
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr,
                                 shape_str(a.shape));
  // numpy leaves room to grow the first axis in place.
  if (!a.shape.empty()) dict.append(kGrowthAxisDigits - std::to_string(a.shape[0]).size(), ' ');
  // Spaces then '\n' so that the data starts at a multiple of 64 (1 to 64 spaces, as numpy).
  int major = 1;
  size_t prefix_len = 10;
  size_t pad = kAlign - (prefix_len + dict.size() + 1) % kAlign;
  if (dict.size() + 1 + pad > 0xffff) {
    major = 2;
    prefix_len = 12;
    pad = kAlign - (prefix_len + dict.size() + 1) % kAlign;
  }
  const uint64_t header_len = dict.size() + pad + 1;
  std::vector<uint8_t> out(prefix_len + header_len, ' ');
  std::memcpy(out.data(), kMagic, kMagicLen);
  out[6] = static_cast<uint8_t>(major);
  out[7] = 0;
  for (size_t i = 0; i < prefix_len - 8; ++i)
    out[8 + i] = static_cast<uint8_t>(header_len >> (8 * i));
  std::memcpy(out.data() + prefix_len, dict.data(), dict.size());
  out.back() = '\n';
  return out;
}

}  // namespace

NpyHeader parse_npy_header(const uint8_t* data, size_t size, const std::string& name) {
  const Prefix prefix = parse_prefix(data, size, size, name);
  const std::string_view text(reinterpret_cast<const char*>(data) + prefix.length,
                              static_cast<size_t>(prefix.header_len));
  return parse_dict(prefix, text, size, name);
}

NpyHeader read_npy_header(const std::string& path) { return read_header(InputFile(path)); }

RawArray read_npy(const std::string& path) {
  const InputFile file(path);
  const NpyHeader h = read_header(file);
  RawArray a;
  a.type = h.type;
  a.shape = h.shape;
  a.bytes.resize(static_cast<size_t>(h.data_bytes));
  file.read_at(h.data_offset, a.bytes.data(), a.bytes.size());
  check_bools(a, path);
  return a;
}

RawArray read_npy(const uint8_t* data, size_t size, const std::string& name) {
  const NpyHeader h = parse_npy_header(data, size, name);
  RawArray a;
  a.type = h.type;
  a.shape = h.shape;
  a.bytes.assign(data + h.data_offset, data + h.data_offset + h.data_bytes);
  check_bools(a, name);
  return a;
}

std::vector<uint8_t> encode_npy(const RawArray& a) {
  std::vector<uint8_t> out = header_bytes(a);
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

void write_npy(const std::string& path, const RawArray& a) {
  const std::vector<uint8_t> header = header_bytes(a);
  write_file_atomic(path, {{header.data(), header.size()}, {a.bytes.data(), a.bytes.size()}});
}

}  // namespace mrnn
