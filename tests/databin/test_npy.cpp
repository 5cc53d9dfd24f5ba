// .npy reader/writer: golden files written by NumPy 2.4 (tests/fixtures/databin/make_npy.py),
// byte-identical re-encoding, round trips, and one bad file per reader check.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "data/npy.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

std::string fixture(const std::string& name) {
  return std::string(MRNN_TEST_DATA_DIR) + "/databin/npy/" + name;
}

std::vector<uint8_t> file_bytes(const std::string& path) { return InputFile(path).read_all(); }

template <typename T> std::vector<T> values(const RawArray& a) {
  const T* p = a.data_as<T>();
  return std::vector<T>(p, p + a.numel());
}

// A .npy file with the given header dict text and data, padded the way numpy pads.
std::vector<uint8_t> make_npy(const std::string& dict, const std::vector<uint8_t>& data,
                              int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> f32_bytes(std::vector<float> v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Parses bytes as "bad.npy" and returns the error message ("" when it parsed).
std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    read_npy(bytes.data(), bytes.size(), "bad.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("npy: reads NumPy golden files of every supported dtype", "[npy]") {
  {
    const RawArray a = read_npy(fixture("f4_2x3.npy"));
    CHECK(a.type == ElemType::F32);
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(values<float>(a) == std::vector<float>{-1.f, -0.5f, 0.f, 0.5f, 1.f, 1.5f});
  }
  {
    const RawArray a = read_npy(fixture("f8_3.npy"));
    CHECK(a.type == ElemType::F64);
    CHECK(values<double>(a) == std::vector<double>{1.5, -2.25, 1e300});
  }
  {
    const RawArray a = read_npy(fixture("i8_2x2.npy"));
    CHECK(a.shape == std::vector<int64_t>{2, 2});
    CHECK(values<int64_t>(a) == std::vector<int64_t>{-1, int64_t{1} << 40, 3, -(int64_t{1} << 62)});
  }
  {
    const RawArray a = read_npy(fixture("i4_4.npy"));
    CHECK(values<int32_t>(a) == std::vector<int32_t>{INT32_MIN, -1, 0, INT32_MAX});
  }
  {
    const RawArray a = read_npy(fixture("u1_2x2x2.npy"));
    CHECK(a.type == ElemType::U8);
    CHECK(a.shape == std::vector<int64_t>{2, 2, 2});
    CHECK(values<uint8_t>(a) == std::vector<uint8_t>{0, 30, 60, 90, 120, 150, 180, 210});
  }
  {
    const RawArray a = read_npy(fixture("b1_3.npy"));
    CHECK(a.type == ElemType::BOOL);
    const bool* b = a.data_as<bool>();
    CHECK((b[0] && !b[1] && b[2]));
  }
  {
    const RawArray a = read_npy(fixture("f2_4.npy"));
    CHECK(a.type == ElemType::F16);
    CHECK(values<uint16_t>(a) == std::vector<uint16_t>{0x3c00, 0xc000, 0x7bff, 0x0001});
    CHECK(to_f32(a) == std::vector<float>{1.f, -2.f, 65504.f, 5.9604645e-08f});
  }
  {
    const RawArray a = read_npy(fixture("i2_3.npy"));
    CHECK(values<int16_t>(a) == std::vector<int16_t>{-32768, 7, 32767});
  }
  {
    const RawArray a = read_npy(fixture("u8_2.npy"));
    CHECK(values<uint64_t>(a) == std::vector<uint64_t>{UINT64_MAX, 5});
  }
}

TEST_CASE("npy: 0-d, empty, version 2.0 and 3.0 files", "[npy]") {
  const RawArray scalar = read_npy(fixture("f4_0d.npy"));
  CHECK(scalar.shape.empty());
  CHECK(scalar.numel() == 1);
  CHECK(values<float>(scalar) == std::vector<float>{3.25f});

  const RawArray empty = read_npy(fixture("f4_0x3.npy"));
  CHECK(empty.shape == std::vector<int64_t>{0, 3});
  CHECK(empty.bytes.empty());

  const NpyHeader h2 = read_npy_header(fixture("f4_v2.npy"));
  CHECK(h2.major_version == 2);
  CHECK(h2.data_offset == 128);
  CHECK(h2.data_bytes == 12);
  CHECK(values<float>(read_npy(fixture("f4_v2.npy"))) == std::vector<float>{1.f, 2.f, 3.f});

  CHECK(read_npy_header(fixture("f4_v3.npy")).major_version == 3);
  CHECK(values<float>(read_npy(fixture("f4_v3.npy"))) == std::vector<float>{4.f, 5.f});
}

TEST_CASE("npy: path and memory readers agree", "[npy]") {
  const std::vector<uint8_t> bytes = file_bytes(fixture("i8_2x2.npy"));
  const RawArray a = read_npy(bytes.data(), bytes.size(), "mem");
  const RawArray b = read_npy(fixture("i8_2x2.npy"));
  CHECK(a.bytes == b.bytes);
  CHECK(a.shape == b.shape);
}

TEST_CASE("npy: the writer reproduces numpy.save byte for byte", "[npy]") {
  for (const char* name : {"f4_2x3.npy", "f8_3.npy", "i8_2x2.npy", "i4_4.npy", "u1_2x2x2.npy",
                           "b1_3.npy", "f2_4.npy", "i2_3.npy", "u8_2.npy", "f4_0d.npy",
                           "f4_0x3.npy"}) {
    INFO(name);
    const std::vector<uint8_t> golden = file_bytes(fixture(name));
    CHECK(encode_npy(read_npy(fixture(name))) == golden);
  }
}

TEST_CASE("npy: write_npy round trip, atomic replace, data alignment", "[npy]") {
  const std::string path = std::string(MRNN_BINARY_DIR) + "/databin_roundtrip.npy";
  const RawArray a = RawArray::from_values<float>({2, 2}, {1.f, -2.f, 3.5f, 1e-30f});
  write_npy(path, a);
  RawArray b = read_npy(path);
  CHECK(b.type == ElemType::F32);
  CHECK(b.shape == a.shape);
  CHECK(b.bytes == a.bytes);
  CHECK(read_npy_header(path).data_offset % 64 == 0);

  // Overwriting replaces the file whole.
  const RawArray c = RawArray::from_values<int64_t>({5}, {1, 2, 3, 4, 5});
  write_npy(path, c);
  b = read_npy(path);
  CHECK(b.type == ElemType::I64);
  CHECK(values<int64_t>(b) == std::vector<int64_t>{1, 2, 3, 4, 5});
  std::remove(path.c_str());

  // A shape whose header exceeds 65535 bytes switches to a version 2.0 header, as numpy does.
  RawArray many;
  many.type = ElemType::U8;
  many.shape.assign(30000, 1);
  many.bytes = {7};
  const std::vector<uint8_t> enc = encode_npy(many);
  CHECK(enc[6] == 2);
  const RawArray back = read_npy(enc.data(), enc.size(), "many-dims");
  CHECK(back.shape.size() == 30000);
  CHECK(back.bytes == std::vector<uint8_t>{7});
  CHECK(parse_npy_header(enc.data(), enc.size(), "many-dims").data_offset % 64 == 0);
}

TEST_CASE("npy: writer refuses inconsistent arrays and bfloat16", "[npy]") {
  RawArray a = RawArray::from_values<float>({3}, {1.f, 2.f, 3.f});
  a.bytes.pop_back();
  CHECK_THROWS_WITH(encode_npy(a), Contains("need 12 bytes") && Contains("holds 11"));
  RawArray bf;
  bf.type = ElemType::BF16;
  bf.shape = {1};
  bf.bytes = {0, 0};
  CHECK_THROWS_WITH(encode_npy(bf), Contains("bfloat16"));
}

TEST_CASE("npy: refused golden files name the file and the field", "[npy]") {
  CHECK_THROWS_WITH(read_npy(fixture("f4_fortran.npy")),
                    Contains("f4_fortran.npy") && Contains("'fortran_order'"));
  CHECK_THROWS_WITH(read_npy(fixture("f4_bigendian.npy")),
                    Contains("f4_bigendian.npy") && Contains("'descr'") && Contains("big-endian"));
  CHECK_THROWS_WITH(read_npy(fixture("c8_2.npy")),
                    Contains("c8_2.npy") && Contains("'descr'") && Contains("<c8"));
  CHECK_THROWS_WITH(read_npy(fixture("does_not_exist.npy")),
                    Contains("does_not_exist.npy") && Contains("cannot open"));
  CHECK_THROWS_WITH(read_npy(std::string(MRNN_TEST_DATA_DIR)),
                    Contains("not a regular file"));
}

TEST_CASE("npy: every header check raises an Error naming the file and field", "[npy]") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::vector<uint8_t> two = f32_bytes({1.f, 2.f});
  REQUIRE(error_of(make_npy(ok, two)).empty());
  REQUIRE(error_of(make_npy(ok, two, 2)).empty());
  const std::string reordered = "{\"shape\":(2,),\"descr\":\"<f4\",\"fortran_order\":False}";
  REQUIRE(error_of(make_npy(reordered, two)).empty());

  auto expect = [](const std::vector<uint8_t>& bytes, const std::string& field,
                   const std::string& detail) {
    const std::string msg = error_of(bytes);
    INFO(msg);
    CHECK_THAT(msg, Contains("bad.npy") && Contains(field) && Contains(detail));
  };
  // Prefix.
  expect({0x93, 'N', 'U', 'M'}, "'magic'", "too short");
  {
    auto b = make_npy(ok, two);
    b[1] = 'X';
    expect(b, "'magic'", "not a .npy file");
  }
  {
    auto b = make_npy(ok, two);
    b[6] = 4;
    expect(b, "'version'", "4.0");
    b[6] = 1;
    b[7] = 1;
    expect(b, "'version'", "1.1");
  }
  {
    auto b = make_npy(ok, two);
    b[8] = 0xff;
    b[9] = 0x7f;
    expect(b, "'header length'", "32767");
    auto c = make_npy(ok, two, 2);
    c[11] = 0x80;
    expect(c, "'header length'", "truncated");
    expect({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0}, "'header length'", "too short");
  }
  // Dict syntax and keys.
  expect(make_npy("['descr', '<f4']", two), "'header'", "must start with '{'");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ", two), "'header'",
         "expected ',' or '}'");
  expect(make_npy(ok + " x", two), "'header'", "after the closing");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False}", two), "'shape'", "missing key");
  expect(make_npy("{'shape': (2,), 'fortran_order': False}", two), "'descr'", "missing key");
  expect(make_npy("{'descr': '<f4', 'shape': (2,)}", two), "'fortran_order'", "missing key");
  expect(make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", two),
         "'descr'", "duplicate key");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two),
         "'header'", "unexpected key 'x'");
  expect(make_npy("{'descr': '<f4\\n', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "escape");
  expect(make_npy("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", two), "'header'",
         "expected ',' or '}'");
  expect(make_npy("{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "expected ':'");
  expect(make_npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", two), "'fortran_order'",
         "True or False");
  {
    // The header must end with '\n'.
    auto b = make_npy(ok, two);
    b[b.size() - two.size() - 1] = ' ';
    expect(b, "'header'", "newline");
  }
  // descr.
  expect(make_npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "big-endian");
  expect(make_npy("{'descr': '=f4', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "byte order");
  expect(make_npy("{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "byte order");
  expect(make_npy("{'descr': '<U4', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "not a supported dtype");
  expect(make_npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", two), "'descr'",
         "not a supported dtype");
  expect(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", two),
         "'descr'", "structured");
  // fortran_order.
  expect(make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", two),
         "'fortran_order'", "not supported");
  // shape.
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", two), "'shape'",
         "dimension 1 is negative");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", two), "'shape'",
         "(n,)");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", two), "'shape'",
         "tuple");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", two), "'shape'",
         "expected ',' or ')'");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", two), "'shape'",
         "leading zeros");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                  two),
         "'shape'", "64 bits");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                  two),
         "'shape'", "element count");
  expect(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", two),
         "'shape'", "byte count");
  // data size.
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", two), "data",
         "truncated");
  expect(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", two), "data",
         "4 trailing bytes");
  expect(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}", {1, 2}), "data",
         "bool element 1 has byte value 2");
}
