// .safetensors reader/writer: golden files written by the reference `safetensors` 0.8 package
// (tests/fixtures/databin/make_safetensors.py), byte-identical re-encoding, round trips, and one
// bad file per reader check.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "data/safetensors.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

std::string fixture(const std::string& name) {
  return std::string(MRNN_TEST_DATA_DIR) + "/databin/safetensors/" + name;
}

std::vector<uint8_t> file_bytes(const std::string& path) { return InputFile(path).read_all(); }

template <typename T> std::vector<T> values(const RawArray& a) {
  const T* p = a.data_as<T>();
  return std::vector<T>(p, p + a.numel());
}

// A .safetensors file with the given JSON header text (unpadded) and data buffer.
std::vector<uint8_t> make_st(const std::string& header, const std::vector<uint8_t>& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(uint64_t{header.size()} >> (8 * i));
  out += header;
  out.append(data.begin(), data.end());
  return std::vector<uint8_t>(out.begin(), out.end());
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    read_safetensors(bytes.data(), bytes.size(), "bad.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors: reads the reference package's golden file exactly", "[safetensors]") {
  const SafetensorsFile f = read_safetensors(fixture("golden.safetensors"));
  CHECK(f.metadata == std::map<std::string, std::string>{{"format", "np"}});
  REQUIRE(f.tensors.size() == 15);
  const auto& t = f.tensors;

  CHECK(t.at("weight").type == ElemType::F32);
  CHECK(t.at("weight").shape == std::vector<int64_t>{2, 3});
  CHECK(values<float>(t.at("weight")) ==
        std::vector<float>{-0.5f, -0.25f, 0.f, 0.25f, 0.5f, 0.75f});
  CHECK(values<double>(t.at("bias")) == std::vector<double>{1.5, -2.0, 1e-300});
  CHECK(t.at("ids").shape == std::vector<int64_t>{2, 2});
  CHECK(values<int64_t>(t.at("ids")) ==
        std::vector<int64_t>{-1, int64_t{1} << 40, 7, -(int64_t{1} << 62)});
  CHECK(t.at("mask").type == ElemType::BOOL);
  CHECK(t.at("mask").bytes == std::vector<uint8_t>{1, 0, 0, 1});
  CHECK(values<uint8_t>(t.at("pixels")) == std::vector<uint8_t>{0, 128, 255});
  CHECK(values<int8_t>(t.at("delta")) == std::vector<int8_t>{-128, 127});
  CHECK(values<int16_t>(t.at("short")) == std::vector<int16_t>{-32768, 32767});
  CHECK(values<uint16_t>(t.at("ushort")) == std::vector<uint16_t>{65535, 1});
  CHECK(values<int32_t>(t.at("count")) == std::vector<int32_t>{INT32_MIN, 0, INT32_MAX});
  CHECK(values<uint32_t>(t.at("ucount")) == std::vector<uint32_t>{UINT32_MAX, 3});
  CHECK(values<uint64_t>(t.at("big")) == std::vector<uint64_t>{UINT64_MAX, 9});
  CHECK(t.at("half").type == ElemType::F16);
  CHECK(to_f32(t.at("half")) == std::vector<float>{1.f, -0.5f, 65504.f});
  CHECK(t.at("brain").type == ElemType::BF16);
  CHECK(values<uint16_t>(t.at("brain")) == std::vector<uint16_t>{0x3f80, 0xc000, 0x3e20});
  CHECK(to_f32(t.at("brain")) == std::vector<float>{1.f, -2.f, 0.15625f});
  CHECK(t.at("scalar").shape.empty());
  CHECK(values<float>(t.at("scalar")) == std::vector<float>{2.5f});
  CHECK(t.at("empty").shape == std::vector<int64_t>{0, 4});
  CHECK(t.at("empty").bytes.empty());
}

TEST_CASE("safetensors: metadata, no tensors, path and memory readers agree", "[safetensors]") {
  const SafetensorsFile m = read_safetensors(fixture("meta.safetensors"));
  CHECK(m.metadata == std::map<std::string, std::string>{
                          {"format", "np"}, {"source", "mrnn \xc3\xa9t\xc3\xa9"}, {"empty", ""}});
  CHECK(values<float>(m.tensors.at("x")) == std::vector<float>{3.f});

  const SafetensorsFile none = read_safetensors(fixture("no_tensors.safetensors"));
  CHECK(none.tensors.empty());
  CHECK(none.metadata.empty());

  const std::vector<uint8_t> bytes = file_bytes(fixture("golden.safetensors"));
  const SafetensorsFile a = read_safetensors(bytes.data(), bytes.size(), "mem");
  const SafetensorsFile b = read_safetensors(fixture("golden.safetensors"));
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, arr] : a.tensors) {
    INFO(name);
    CHECK(arr.bytes == b.tensors.at(name).bytes);
    CHECK(arr.shape == b.tensors.at(name).shape);
    CHECK(arr.type == b.tensors.at(name).type);
  }
}

TEST_CASE("safetensors: the writer reproduces the reference serializer byte for byte",
          "[safetensors]") {
  for (const char* name : {"golden.safetensors", "no_tensors.safetensors"}) {
    INFO(name);
    const SafetensorsFile f = read_safetensors(fixture(name));
    CHECK(encode_safetensors(f.tensors, f.metadata) == file_bytes(fixture(name)));
  }
}

TEST_CASE("safetensors: write round trip, 8-byte aligned data, atomic replace", "[safetensors]") {
  const std::string path = std::string(MRNN_BINARY_DIR) + "/databin_roundtrip.safetensors";
  std::map<std::string, RawArray> tensors;
  tensors["emb"] = RawArray::from_values<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  tensors["step"] = RawArray::from_values<int64_t>({}, {42});
  tensors["flag"] = RawArray::from_values<bool>({3}, {true, false, true});
  tensors["name with \"quotes\"\n"] = RawArray::from_values<uint8_t>({1}, {9});
  write_safetensors(path, tensors, {{"epoch", "3"}});
  const std::vector<uint8_t> bytes = file_bytes(path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{bytes[i]} << (8 * i);
  CHECK((8 + n) % 8 == 0);
  CHECK(bytes == encode_safetensors(tensors, {{"epoch", "3"}}));

  const SafetensorsFile back = read_safetensors(path);
  CHECK(back.metadata == std::map<std::string, std::string>{{"epoch", "3"}});
  REQUIRE(back.tensors.size() == 4);
  for (const auto& [name, a] : tensors) {
    INFO(name);
    CHECK(back.tensors.at(name).type == a.type);
    CHECK(back.tensors.at(name).shape == a.shape);
    CHECK(back.tensors.at(name).bytes == a.bytes);
  }
  write_safetensors(path, {{"only", RawArray::from_values<double>({1}, {0.5})}});
  const SafetensorsFile replaced = read_safetensors(path);
  CHECK(replaced.tensors.size() == 1);
  CHECK(replaced.metadata.empty());
  std::remove(path.c_str());
}

TEST_CASE("safetensors: writer refuses bad input", "[safetensors]") {
  RawArray bad = RawArray::from_values<float>({2}, {1.f, 2.f});
  bad.shape = {3};
  CHECK_THROWS_WITH(encode_safetensors({{"a", bad}}), Contains("need 12 bytes"));
  const RawArray one = RawArray::from_values<float>({1}, {1.f});
  CHECK_THROWS_WITH(encode_safetensors({{"__metadata__", one}}), Contains("__metadata__"));
  CHECK_THROWS_WITH(encode_safetensors({{"bad\xff", RawArray::from_values<float>({1}, {1.f})}}),
                    Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(encode_safetensors({}, {{"k", "\xc3"}}), Contains("metadata value"));
}

TEST_CASE("safetensors: every reader check raises an Error naming the file and field",
          "[safetensors]") {
  const std::vector<uint8_t> f32x2 = {0, 0, 128, 63, 0, 0, 0, 64};  // 1.0f, 2.0f
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(error_of(make_st(ok, f32x2)).empty());
  REQUIRE(error_of(make_st(ok + "   ", f32x2)).empty());

  auto expect = [](const std::vector<uint8_t>& bytes, const std::string& field,
                   const std::string& detail) {
    const std::string msg = error_of(bytes);
    INFO(msg);
    CHECK_THAT(msg, Contains("bad.safetensors") && Contains(field) && Contains(detail));
  };
  auto tensor = [&](const std::string& info) { return "{\"a\":" + info + "}"; };

  // Header size.
  expect({1, 0, 0}, "header size", "too short");
  {
    auto b = make_st(ok, f32x2);
    b[0] = 0x01, b[1] = 0xe2, b[2] = 0xf5, b[3] = 0x05;  // 100,000,257
    expect(b, "header size", "exceeds the format's limit of 100000000");
    b[0] = 0xff, b[1] = 0, b[2] = 0, b[3] = 0;
    expect(b, "header size", "truncated");
    b[7] = 0x80;
    expect(b, "header size", "exceeds");
  }
  // JSON structure.
  expect(make_st(" " + ok, f32x2), "header", "starting with '{'");
  expect(make_st("[1]", {}), "header", "starting with '{'");
  expect(make_st("", {}), "header", "empty header");
  expect(make_st("{\"a\":", {}), "header", "invalid JSON");
  expect(make_st("{\"a\xff\":1}", {}), "header", "invalid JSON");
  expect(make_st(ok + "x", f32x2), "header", "invalid JSON");
  expect(make_st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                 R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2),
         "header", "duplicate key \"a\" (two tensors with one name)");
  expect(make_st(R"({"__metadata__":{"k":"1","k":"2"}})", {}), "header", "duplicate key \"k\"");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[[2]],"data_offsets":[0,8]})"), f32x2),
         "header", "nested deeper");
  expect(make_st(R"({"__metadata__":["x"]})", {}), "\"__metadata__\"", "object of strings");
  expect(make_st(R"({"__metadata__":{"k":1}})", {}), "\"__metadata__\"", "must be a string");
  // Tensor info fields.
  expect(make_st(tensor("[1]"), {}), "tensor \"a\"", "expected an object");
  expect(make_st(tensor(R"({"shape":[2],"data_offsets":[0,8]})"), f32x2), "'dtype'", "missing");
  expect(make_st(tensor(R"({"dtype":"F32","data_offsets":[0,8]})"), f32x2), "'shape'", "missing");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2]})"), f32x2), "'data_offsets'", "missing");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1})"), f32x2),
         "tensor \"a\"", "unexpected field \"x\"");
  expect(make_st(tensor(R"({"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]})"), f32x2),
         "'dtype'", "\"F8_E4M3\" is not supported");
  expect(make_st(tensor(R"({"dtype":"float32","shape":[2],"data_offsets":[0,8]})"), f32x2),
         "'dtype'", "not supported");
  expect(make_st(tensor(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), f32x2), "'dtype'",
         "expected a string");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), f32x2),
         "'shape'", "non-negative integers");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), f32x2),
         "'shape'", "non-negative integers");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]})"),
                 f32x2), "'shape'", "up to 9223372036854775807");
  expect(make_st(tensor(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), f32x2), "'shape'",
         "expected an array");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), f32x2),
         "'data_offsets'", "[begin, end]");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[-1,8]})"), f32x2),
         "'data_offsets'", "non-negative");
  // Offsets against shapes and the buffer.
  expect(make_st(tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[4,12]})"), f32x2),
         "'data_offsets'", "leaves a hole");
  expect(make_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f32x2),
         "'data_offsets'", "overlaps");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), f32x2),
         "'data_offsets'", "leaves a hole");
  expect(make_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", f32x2),
         "'data_offsets'", "ends before it begins");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), f32x2),
         "'data_offsets'", "runs past the end of the 8-byte data buffer");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), f32x2),
         "'data_offsets'", "spans 8 bytes but shape [3] of F32 needs 12");
  expect(make_st(tensor(R"({"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]})"),
                 f32x2), "'shape'", "overflows");
  expect(make_st(tensor(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"),
                 f32x2), "'shape'", "overflows");
  expect(make_st(tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), f32x2), "data",
         "4 bytes unaccounted for");
  expect(make_st("{}", {1}), "data", "1 bytes unaccounted for");
  expect(make_st(tensor(R"({"dtype":"BOOL","shape":[2],"data_offsets":[0,2]})"), {0, 3}), "data",
         "BOOL element 1 has byte value 3");
  // Files on disk.
  CHECK_THROWS_WITH(read_safetensors(fixture("missing.safetensors")),
                    Contains("missing.safetensors") && Contains("cannot open"));
}
