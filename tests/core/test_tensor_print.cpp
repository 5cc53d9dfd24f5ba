// Printing tensors: exact text for small tensors (alignment, ints, 0-d, empty, flags), a bounded
// summary for large ones.
#include <catch2/catch.hpp>
#include <algorithm>
#include <limits>
#include <sstream>

#include "core/tensor_print.h"

using namespace mrnn;

TEST_CASE("small tensors print in full, aligned, PyTorch-style", "[tensor][print]") {
  Tensor m = Tensor::from_vector(std::vector<float>{1, -2.5f, 3, 40}, {2, 2});
  CHECK(to_string(m) == "tensor([[ 1.0000, -2.5000],\n        [ 3.0000, 40.0000]], shape=[2, 2], dtype=f32)");
  std::ostringstream os;
  os << Tensor::from_vector(std::vector<int64_t>{3, -10, 7});
  CHECK(os.str() == "tensor([  3, -10,   7], shape=[3], dtype=i64)");
  CHECK(to_string(Tensor::scalar(0.5, DType::F64)) == "tensor(0.5000, shape=[], dtype=f64)");
  CHECK(to_string(Tensor::zeros({0, 3})) == "tensor([], shape=[0, 3], dtype=f32)");
  CHECK(to_string(Tensor()) == "tensor(undefined)");
  Tensor r = Tensor::from_vector(std::vector<double>{1, std::numeric_limits<double>::infinity()});
  r.requires_grad_(true);
  CHECK(to_string(r) == "tensor([1.0000,    inf], shape=[2], dtype=f64, requires_grad)");
  CHECK(to_string(Tensor::from_vector(std::vector<double>{1e-7, 2})) ==
        "tensor([1.0000e-07, 2.0000e+00], shape=[2], dtype=f64)");
}

TEST_CASE("3-d tensors separate their matrices with a blank line", "[tensor][print]") {
  Tensor t = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  CHECK(to_string(t) == "tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]], shape=[2, 2, 2], dtype=i32)");
}

TEST_CASE("large tensors print a bounded summary", "[tensor][print]") {
  CHECK(to_string(Tensor::arange(100000, DType::I64)) ==
        "tensor([    0,     1,     2, ..., 99997, 99998, 99999], shape=[100000], dtype=i64)");
  Tensor big = Tensor::zeros({1000, 1000});
  std::string s = to_string(big);
  CHECK(s.size() < 600);  // 7 rows of 7 entries, not a million
  CHECK(s.find("...") != std::string::npos);
  CHECK(std::count(s.begin(), s.end(), '\n') == 6);
  PrintOptions all;
  all.threshold = 1 << 30;
  CHECK(to_string(Tensor::zeros({40, 40}), all).find("...") == std::string::npos);
}
