// Philox4x32-10 against the Random123 known-answer vectors, and the properties the rest of the
// library relies on (determinism, independence from work splitting, sane distributions).
#include <catch2/catch.hpp>
#include <cmath>

#include "core/random.h"
#include "core/tensor.h"
#include "core/philox.h"

using namespace mrnn;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[random]") {
  Philox4 z = philox4x32_10(0, 0, 0);
  CHECK(z.v[0] == 0x6627e8d5u);
  CHECK(z.v[1] == 0xe169c58du);
  CHECK(z.v[2] == 0xbc57ac4cu);
  CHECK(z.v[3] == 0x9b00dbd8u);
  Philox4 f = philox4x32_10(~0ull, ~0ull, ~0ull);
  CHECK(f.v[0] == 0x408f276du);
  CHECK(f.v[1] == 0x41c83b0eu);
  CHECK(f.v[2] == 0xa20bc7c6u);
  CHECK(f.v[3] == 0x6d5451fdu);
  // counter = pi digits, key = more pi digits
  Philox4 p = philox4x32_10(0x85a308d3243f6a88ull, 0x0370734413198a2eull, 0x299f31d0a4093822ull);
  CHECK(p.v[0] == 0xd16cfe09u);
  CHECK(p.v[1] == 0x94fdccebu);
  CHECK(p.v[2] == 0x5001e420u);
  CHECK(p.v[3] == 0x24126ea1u);
}

TEST_CASE("random tensors are deterministic and element i depends only on (seed, offset + i)", "[random]") {
  Generator g1(42), g2(42);
  Tensor a = Tensor::randn({1000}, g1);
  Tensor b = Tensor::randn({1000}, g2);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  // Two draws of 500 equal one draw of 1000.
  Generator g3(42);
  Tensor c1 = Tensor::randn({500}, g3), c2 = Tensor::randn({500}, g3);
  auto av = a.to_vector<float>(), v1 = c1.to_vector<float>(), v2 = c2.to_vector<float>();
  CHECK(std::equal(v1.begin(), v1.end(), av.begin()));
  CHECK(std::equal(v2.begin(), v2.end(), av.begin() + 500));
  CHECK(g3.offset() == 1000);
  Generator g4(43);
  CHECK(Tensor::randn({1000}, g4).to_vector<float>() != av);
}

TEST_CASE("normal and uniform draws have the right moments", "[random]") {
  Generator g(7);
  auto n = Tensor::randn({200000}, g, DType::F64).to_vector<double>();
  double m = 0, v = 0;
  for (double x : n) m += x;
  m /= n.size();
  for (double x : n) v += (x - m) * (x - m);
  v /= n.size();
  CHECK(std::fabs(m) < 0.01);
  CHECK(std::fabs(v - 1) < 0.02);
  auto u = Tensor::rand({200000}, g, DType::F64, 2, 4).to_vector<double>();
  double lo = 10, hi = -10, mu = 0;
  for (double x : u) { lo = std::min(lo, x); hi = std::max(hi, x); mu += x; }
  CHECK(lo >= 2);
  CHECK(hi < 4);
  CHECK(std::fabs(mu / u.size() - 3) < 0.01);
  uint64_t counts[5] = {};
  for (int i = 0; i < 50000; ++i) counts[g.randint(5)]++;
  for (uint64_t c : counts) CHECK(std::fabs(static_cast<double>(c) - 10000) < 400);
}
