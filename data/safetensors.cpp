#include "data/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

namespace mrnn {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// One tensor as the header describes it.
struct Entry {
  std::string name;
  ElemType type = ElemType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // within the byte buffer after the header
};

struct Header {
  std::vector<Entry> entries;  // sorted by (begin, end)
  std::map<std::string, std::string> metadata;
};

bool parse_dtype(const std::string& s, ElemType* t) {
  static const std::pair<const char*, ElemType> kNames[] = {
      {"BOOL", ElemType::BOOL}, {"U8", ElemType::U8},   {"I8", ElemType::I8},
      {"I16", ElemType::I16},   {"U16", ElemType::U16}, {"F16", ElemType::F16},
      {"BF16", ElemType::BF16}, {"I32", ElemType::I32}, {"U32", ElemType::U32},
      {"F32", ElemType::F32},   {"F64", ElemType::F64}, {"I64", ElemType::I64},
      {"U64", ElemType::U64}};
  for (const auto& [n, type] : kNames) {
    if (s == n) {
      *t = type;
      return true;
    }
  }
  return false;
}

std::string clip(const std::string& s) { return s.size() <= 80 ? s : s.substr(0, 80) + "..."; }

// Parses the JSON text of the header, rejecting duplicate keys at any level and nesting deeper
// than the format needs (an object of objects of arrays).
json parse_json(const char* text, size_t n, const std::string& name) {
  MRNN_CHECK(n > 0 && text[0] == '{', "{}: safetensors header: must be a JSON object starting "
             "with '{{', found {}", name,
             n == 0 ? std::string("an empty header")
                    : fmt::format("byte 0x{:02x}", static_cast<unsigned char>(text[0])));
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  auto callback = [&](int depth, json::parse_event_t event, json& value) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        MRNN_CHECK(depth < 3, "{}: safetensors header: JSON nested deeper than the format "
                   "allows", name);
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string& k = value.get_ref<const std::string&>();
        MRNN_CHECK(keys.back().insert(k).second, "{}: safetensors header: duplicate key \"{}\"{}",
                   name, clip(k), depth == 1 ? " (two tensors with one name)" : "");
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text, text + n, callback);
  } catch (const json::exception& e) {
    MRNN_FAIL("{}: safetensors header: invalid JSON: {}", name, e.what());
  }
}

// Requires v to be a JSON non-negative integer no larger than max; returns it.
uint64_t to_uint(const json& v, uint64_t max, const std::string& name, const std::string& tensor,
                 const char* field) {
  MRNN_CHECK(v.is_number_unsigned() && v.get<uint64_t>() <= max, "{}: safetensors tensor \"{}\" "
             "field '{}': expected non-negative integers{}, found {}", name, clip(tensor), field,
             max < UINT64_MAX ? fmt::format(" up to {}", max) : std::string(), clip(v.dump()));
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& tensor, const json& info, const std::string& name) {
  auto fail = [&](const char* field, const std::string& what) {
    MRNN_FAIL("{}: safetensors tensor \"{}\" field '{}': {}", name, clip(tensor), field, what);
  };
  if (!info.is_object()) fail("(info)", "expected an object with dtype, shape, data_offsets");
  Entry e;
  e.name = tensor;
  bool have_dtype = false, have_shape = false, have_offsets = false;
  for (const auto& [key, v] : info.items()) {
    if (key == "dtype") {
      have_dtype = true;
      if (!v.is_string()) fail("dtype", "expected a string such as \"F32\"");
      const std::string& s = v.get_ref<const std::string&>();
      if (!parse_dtype(s, &e.type))
        fail("dtype", fmt::format("\"{}\" is not supported (expected one of BOOL U8 I8 I16 U16 "
                                  "F16 BF16 I32 U32 F32 F64 I64 U64)", clip(s)));
    } else if (key == "shape") {
      have_shape = true;
      if (!v.is_array()) fail("shape", "expected an array of non-negative integers");
      for (const json& d : v)
        e.shape.push_back(static_cast<int64_t>(to_uint(d, INT64_MAX, name, tensor, "shape")));
    } else if (key == "data_offsets") {
      have_offsets = true;
      if (!v.is_array() || v.size() != 2) fail("data_offsets", "expected [begin, end]");
      e.begin = to_uint(v[0], UINT64_MAX, name, tensor, "data_offsets");
      e.end = to_uint(v[1], UINT64_MAX, name, tensor, "data_offsets");
    } else {
      fail("(info)", fmt::format("unexpected field \"{}\" (expected dtype, shape, data_offsets)",
                                 clip(key)));
    }
  }
  if (!have_dtype) fail("dtype", "missing");
  if (!have_shape) fail("shape", "missing");
  if (!have_offsets) fail("data_offsets", "missing");
  return e;
}

// Parses and validates the header against a byte buffer of buffer_len bytes.
Header parse_header(const char* text, size_t n, uint64_t buffer_len, const std::string& name) {
  const json root = parse_json(text, n, name);
  Header h;
  for (const auto& [key, v] : root.items()) {
    if (key == kMetadataKey) {
      MRNN_CHECK(v.is_object(), "{}: safetensors header field \"__metadata__\": expected an "
                 "object of strings", name);
      for (const auto& [mk, mv] : v.items()) {
        MRNN_CHECK(mv.is_string(), "{}: safetensors header field \"__metadata__\": value of "
                   "\"{}\" must be a string, found {}", name, clip(mk), clip(mv.dump()));
        h.metadata[mk] = mv.get<std::string>();
      }
    } else {
      h.entries.push_back(parse_entry(key, v, name));
    }
  }
  std::sort(h.entries.begin(), h.entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t next = 0;
  for (const Entry& e : h.entries) {
    auto fail = [&](const std::string& what) {
      MRNN_FAIL("{}: safetensors tensor \"{}\" field 'data_offsets': [{}, {}] {}", name,
                clip(e.name), e.begin, e.end, what);
    };
    if (e.begin != next)
      fail(e.begin > next ? fmt::format("leaves a hole: the previous tensor ends at {}", next)
                          : fmt::format("overlaps the previous tensor, which ends at {}", next));
    if (e.end < e.begin) fail("ends before it begins");
    if (e.end > buffer_len)
      fail(fmt::format("runs past the end of the {}-byte data buffer", buffer_len));
    int64_t numel = 0;
    uint64_t nbytes = 0;
    if (!checked_numel(e.shape, &numel) ||
        __builtin_mul_overflow(static_cast<uint64_t>(numel), elem_size(e.type), &nbytes))
      MRNN_FAIL("{}: safetensors tensor \"{}\" field 'shape': element or byte count overflows "
                "64 bits", name, clip(e.name));
    if (e.end - e.begin != nbytes)
      fail(fmt::format("spans {} bytes but shape [{}] of {} needs {}", e.end - e.begin,
                       fmt::join(e.shape, ", "), elem_type_name(e.type), nbytes));
    next = e.end;
  }
  MRNN_CHECK(next == buffer_len, "{}: safetensors data: the tensors cover {} bytes of the {}-byte "
             "data buffer ({} bytes unaccounted for)", name, next, buffer_len, buffer_len - next);
  return h;
}

// Reads the 8-byte header size and checks it against the file size; returns N.
uint64_t header_size(const uint8_t* first8, uint64_t file_size, const std::string& name) {
  MRNN_CHECK(file_size >= 8, "{}: safetensors header size: file is {} bytes, too short for the "
             "8-byte header size", name, file_size);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(first8[i]) << (8 * i);
  MRNN_CHECK(n <= kSafetensorsMaxHeader, "{}: safetensors header size: {} bytes exceeds the "
             "format's limit of {} (corrupt file?)", name, n, kSafetensorsMaxHeader);
  MRNN_CHECK(n <= file_size - 8, "{}: safetensors header size: {} bytes but only {} follow "
             "(truncated file?)", name, n, file_size - 8);
  return n;
}

void check_bools(const RawArray& a, const std::string& tensor, const std::string& name) {
  if (a.type != ElemType::BOOL) return;
  for (size_t i = 0; i < a.bytes.size(); ++i)
    MRNN_CHECK(a.bytes[i] <= 1, "{}: safetensors tensor \"{}\" data: BOOL element {} has byte "
               "value {} (expected 0 or 1)", name, clip(tensor), i, a.bytes[i]);
}

std::string json_string(const std::string& s, const char* what) {
  try {
    return json(s).dump();
  } catch (const json::exception&) {
    MRNN_FAIL("encode_safetensors: {} \"{}\" is not valid UTF-8", what, clip(s));
  }
}

// The padded JSON header and the tensors in file order.
std::pair<std::string, std::vector<const RawArray*>> layout(
    const std::map<std::string, RawArray>& tensors,
    const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<const std::string*, const RawArray*>> order;
  for (const auto& [name, a] : tensors) {
    MRNN_CHECK(name != kMetadataKey, "encode_safetensors: a tensor cannot be named __metadata__");
    a.check();
    order.emplace_back(&name, &a);
  }
  // The reference writer's order: element type descending, then name (the map is by name).
  std::stable_sort(order.begin(), order.end(), [](const auto& l, const auto& r) {
    return l.second->type > r.second->type;
  });
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) h += ',';
      first = false;
      h += json_string(k, "metadata key") + ':' + json_string(v, "metadata value");
    }
    h += '}';
  }
  std::vector<const RawArray*> arrays;
  uint64_t offset = 0;
  for (const auto& [name, a] : order) {
    if (h.size() > 1) h += ',';
    h += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                     json_string(*name, "tensor name"), elem_type_name(a->type),
                     fmt::join(a->shape, ","), offset, offset + a->bytes.size());
    offset += a->bytes.size();
    arrays.push_back(a);
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  MRNN_CHECK(h.size() <= kSafetensorsMaxHeader, "encode_safetensors: header of {} bytes exceeds "
             "the format's limit", h.size());
  return {std::move(h), std::move(arrays)};
}

std::vector<uint8_t> le64(uint64_t v) {
  std::vector<uint8_t> b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

}  // namespace

SafetensorsFile read_safetensors(const uint8_t* data, size_t size, const std::string& name) {
  const uint64_t n = header_size(data, size, name);
  const Header h = parse_header(reinterpret_cast<const char*>(data) + 8, static_cast<size_t>(n),
                                size - 8 - n, name);
  SafetensorsFile out;
  out.metadata = h.metadata;
  const uint8_t* buffer = data + 8 + n;
  for (const Entry& e : h.entries) {
    RawArray a;
    a.type = e.type;
    a.shape = e.shape;
    a.bytes.assign(buffer + e.begin, buffer + e.end);
    check_bools(a, e.name, name);
    out.tensors.emplace(e.name, std::move(a));
  }
  return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
  const InputFile file(path);
  uint8_t first8[8] = {};
  file.read_at(0, first8, static_cast<size_t>(std::min<uint64_t>(file.size(), 8)));
  const uint64_t n = header_size(first8, file.size(), path);
  std::string text(static_cast<size_t>(n), '\0');
  file.read_at(8, text.data(), text.size());
  const Header h = parse_header(text.data(), text.size(), file.size() - 8 - n, path);
  SafetensorsFile out;
  out.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    RawArray a;
    a.type = e.type;
    a.shape = e.shape;
    a.bytes.resize(static_cast<size_t>(e.end - e.begin));
    file.read_at(8 + n + e.begin, a.bytes.data(), a.bytes.size());
    check_bools(a, e.name, path);
    out.tensors.emplace(e.name, std::move(a));
  }
  return out;
}

std::vector<uint8_t> encode_safetensors(const std::map<std::string, RawArray>& tensors,
                                        const std::map<std::string, std::string>& metadata) {
  const auto [header, arrays] = layout(tensors, metadata);
  size_t total = 8 + header.size();
  for (const RawArray* a : arrays) total += a->bytes.size();
  std::vector<uint8_t> out(total);
  const std::vector<uint8_t> size = le64(header.size());
  std::memcpy(out.data(), size.data(), 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  size_t at = 8 + header.size();
  for (const RawArray* a : arrays) {
    if (!a->bytes.empty()) std::memcpy(out.data() + at, a->bytes.data(), a->bytes.size());
    at += a->bytes.size();
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, RawArray>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const auto [header, arrays] = layout(tensors, metadata);
  const std::vector<uint8_t> size = le64(header.size());
  std::vector<std::pair<const void*, size_t>> parts = {{size.data(), size.size()},
                                                       {header.data(), header.size()}};
  for (const RawArray* a : arrays) parts.emplace_back(a->bytes.data(), a->bytes.size());
  write_file_atomic(path, parts);
}

}  // namespace mrnn
