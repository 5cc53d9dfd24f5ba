// RawArray, the half-float decoders and the shared file helpers of data/raw_array.h.
// Expected half/bfloat16 values are the IEEE 754 definitions (e.g. 0x3c00 = 1.0, 0x0001 = 2^-24).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/raw_array.h"

using namespace mrnn;
using Catch::Matchers::Contains;

TEST_CASE("raw array: element sizes, names, numel, typed access", "[raw_array]") {
  CHECK(elem_size(ElemType::BOOL) == 1);
  CHECK(elem_size(ElemType::BF16) == 2);
  CHECK(elem_size(ElemType::U32) == 4);
  CHECK(elem_size(ElemType::F64) == 8);
  CHECK(std::string(elem_type_name(ElemType::BF16)) == "BF16");
  CHECK(elem_type_of<int16_t>() == ElemType::I16);

  RawArray a = RawArray::from_values<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(a.type == ElemType::I32);
  CHECK(a.numel() == 6);
  CHECK(a.bytes.size() == 24);
  CHECK(a.data_as<int32_t>()[4] == 5);
  a.data_as<int32_t>()[4] = -7;
  CHECK(to_f32(a) == std::vector<float>{1, 2, 3, 4, -7, 6});
  CHECK_THROWS_WITH(a.data_as<float>(), Contains("holds I32 elements, asked for F32"));
  CHECK_THROWS_WITH(a.data_as<uint16_t>(), Contains("asked for U16"));

  const RawArray scalar = RawArray::from_values<double>({}, {2.5});
  CHECK(scalar.numel() == 1);
  CHECK(RawArray::from_values<float>({0, 4}, {}).numel() == 0);
  CHECK_THROWS_WITH(RawArray::from_values<float>({2, 2}, {1.f}), Contains("4 elements, 1 values"));

  RawArray bad;
  bad.shape = {-1, 2};
  CHECK_THROWS_WITH(bad.numel(), Contains("negative"));
  bad.shape = {int64_t{1} << 40, int64_t{1} << 40};
  CHECK_THROWS(bad.numel());
  int64_t n = 0;
  CHECK_FALSE(checked_numel({int64_t{1} << 32, int64_t{1} << 31}, &n));
  CHECK(checked_numel({int64_t{1} << 31, int64_t{1} << 31}, &n));
  CHECK(n == int64_t{1} << 62);

  RawArray short_bytes = RawArray::from_values<float>({3}, {1, 2, 3});
  short_bytes.bytes.resize(8);
  CHECK_THROWS_WITH(short_bytes.check(), Contains("need 12 bytes, the array holds 8"));
}

TEST_CASE("raw array: half and bfloat16 bits decode exactly", "[raw_array]") {
  CHECK(f16_bits_to_float(0x3c00) == 1.f);
  CHECK(f16_bits_to_float(0xc000) == -2.f);
  CHECK(f16_bits_to_float(0x7bff) == 65504.f);           // largest half
  CHECK(f16_bits_to_float(0x0400) == std::ldexp(1.f, -14));  // smallest normal
  CHECK(f16_bits_to_float(0x0001) == std::ldexp(1.f, -24));  // smallest subnormal
  CHECK(f16_bits_to_float(0x03ff) == std::ldexp(1023.f, -24));
  CHECK(f16_bits_to_float(0x3555) == 0.333251953125f);
  CHECK(std::signbit(f16_bits_to_float(0x8000)));
  CHECK(f16_bits_to_float(0x7c00) == INFINITY);
  CHECK(f16_bits_to_float(0xfc00) == -INFINITY);
  CHECK(std::isnan(f16_bits_to_float(0x7e00)));
  CHECK(bf16_bits_to_float(0x3f80) == 1.f);
  CHECK(bf16_bits_to_float(0xc2f7) == -123.5f);
  CHECK(bf16_bits_to_float(0x0001) == std::ldexp(1.f, -133));

  const RawArray h = RawArray::from_values<uint16_t>({2}, {0x3c00, 0x0001}, ElemType::F16);
  CHECK(h.data_as<uint16_t>()[1] == 1);
  CHECK(to_f32(h) == std::vector<float>{1.f, std::ldexp(1.f, -24)});
  CHECK_THROWS(RawArray::from_values<float>({1}, {1.f}, ElemType::F16));
  const RawArray b = RawArray::from_values<bool>({3}, {true, false, true});
  CHECK(b.bytes == std::vector<uint8_t>{1, 0, 1});
  CHECK(to_f32(b) == std::vector<float>{1, 0, 1});
}

TEST_CASE("raw array: atomic writes and file reads", "[raw_array]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(MRNN_BINARY_DIR) / "databin_atomic";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "out.bin").string();
  const std::string a = "hello ", b = "world";
  write_file_atomic(path, {{a.data(), a.size()}, {b.data(), b.size()}});
  const std::vector<uint8_t> got = InputFile(path).read_all();
  CHECK(std::string(got.begin(), got.end()) == "hello world");
  write_file_atomic(path, {{b.data(), b.size()}});
  CHECK(InputFile(path).size() == 5);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary file left behind

  uint8_t buf[4];
  CHECK_THROWS_WITH(InputFile(path).read_at(3, buf, 4),
                    Contains("out.bin") && Contains("unexpected end of file"));
  CHECK_THROWS_WITH(write_file_atomic((dir / "missing" / "x.bin").string(), {{a.data(), a.size()}}),
                    Contains("x.bin") && Contains("cannot create temporary file"));
  CHECK_THROWS_WITH(InputFile(dir.string()), Contains("not a regular file"));
  fs::remove_all(dir);
}
