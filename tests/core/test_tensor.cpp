// Tensor data model: creation, views share storage, strides, contiguity, conversions, errors.
#include <catch2/catch.hpp>

#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

TEST_CASE("creation and metadata", "[tensor]") {
  Tensor z = Tensor::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.strides() == Shape{3, 1});
  CHECK(z.numel() == 6);
  CHECK(z.dtype() == DType::F32);
  CHECK(z.device().is_cpu());
  CHECK(z.is_contiguous());
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.f));
  CHECK(Tensor::full({2}, 2.5, DType::F64).to_vector<double>() == std::vector<double>{2.5, 2.5});
  CHECK(Tensor::arange(4).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(Tensor::scalar(3).item() == 3);
  CHECK(z.desc() == "f32[2, 3] cpu");
  CHECK(reinterpret_cast<uintptr_t>(z.raw_data()) % 64 == 0);
  CHECK_THROWS_WITH(Tensor::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), Contains("3 values for shape [2, 2]"));
  CHECK_THROWS_WITH(z.data<double>(), Contains("data<f64>() on a f32[2, 3] cpu tensor"));
  CHECK_THROWS_WITH(z.item(), Contains("one-element"));
}

TEST_CASE("views share storage and index correctly", "[tensor]") {
  Tensor a = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = transpose(a, 0, 1);
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.strides() == Shape{1, 3});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.shares_storage(a));
  CHECK(t.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  Tensor n = narrow(a, 1, 1, 2);
  CHECK(n.to_vector<float>() == std::vector<float>{1, 2, 4, 5});
  CHECK(select(a, 0, 1).to_vector<float>() == std::vector<float>{3, 4, 5});
  CHECK(select(a, 1, -1).to_vector<float>() == std::vector<float>{2, 5});
  CHECK(permute(reshape(a, {1, 2, 3}), {2, 0, 1}).shape() == Shape{3, 1, 2});
  Tensor e = expand(Tensor::from_vector(std::vector<float>{1, 2}, {2, 1}), {2, 2, 3});
  CHECK(e.strides()[0] == 0);
  CHECK(e.to_vector<float>() == std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK_FALSE(c.shares_storage(a));
  CHECK(reshape(a, {3, -1}).shares_storage(a));
  CHECK(reshape(t, {6}).to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});  // copies: t is a view
  // Writing through a view changes the base.
  {
    NoGradGuard ng;
    narrow(a, 0, 1, 1).fill_(9);
  }
  CHECK(a.to_vector<float>() == std::vector<float>{0, 1, 2, 9, 9, 9});
  auto parts = split(a, {1, 2}, 1);
  CHECK(parts[1].to_vector<float>() == std::vector<float>{1, 2, 9, 9});
  CHECK(unsqueeze(a, 0).shape() == Shape{1, 2, 3});
  CHECK(squeeze(unsqueeze(a, 2), 2).shape() == Shape{2, 3});
  CHECK(flatten(Tensor::zeros({2, 3, 4}), 1).shape() == Shape{2, 12});
}

TEST_CASE("shape errors name the op and the shapes", "[tensor]") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  CHECK_THROWS_WITH(add(a, b), Contains("add: shapes [2, 3] and [4, 5] cannot be broadcast"));
  CHECK_THROWS_WITH(matmul(a, b), Contains("matmul: inner dimensions differ: f32[2, 3] cpu @ f32[4, 5] cpu"));
  CHECK_THROWS_WITH(reshape(a, {4, 2}), Contains("cannot reshape"));
  CHECK_THROWS_WITH(narrow(a, 1, 2, 2), Contains("narrow: range [2, 4) out of bounds"));
  CHECK_THROWS_WITH(transpose(a, 0, 2), Contains("transpose: dim 2 out of range"));
  CHECK_THROWS_WITH(add(a, Tensor::zeros({2, 3}, DType::F64)), Contains("different dtypes"));
  CHECK_THROWS_WITH(embedding(a, Tensor::from_vector(std::vector<int64_t>{0, 5})),
                    Contains("index 5 at position 1 is outside the table of 2 rows"));
  CHECK_THROWS_WITH(cross_entropy(a, Tensor::from_vector(std::vector<int64_t>{0, 3})), Contains("target 3 at row 1"));
  CHECK_THROWS_WITH(Tensor::zeros({2}, DType::F32, Device::cuda(0)), Contains("cuda:0"));
  CHECK_THROWS_WITH(concat({a, b}, 0), Contains("concat: tensor 1 is f32[4, 5] cpu"));
  CHECK_THROWS_WITH(relu(Tensor()), Contains("undefined"));
  Tensor i = Tensor::arange(3);
  CHECK_THROWS_WITH(tanh(i), Contains("expected a floating-point tensor"));
}

TEST_CASE("dtype conversion and copies", "[tensor]") {
  Tensor a = Tensor::from_vector(std::vector<double>{1.5, -2.25, 3});
  CHECK(a.to(DType::F32).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.f});
  CHECK(a.to(DType::I64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  Tensor b = Tensor::zeros({3}, DType::F64);
  b.copy_(a.to(DType::F32));
  CHECK(b.to_vector<double>() == std::vector<double>{1.5, -2.25, 3});
  Tensor c = a.clone();
  CHECK_FALSE(c.shares_storage(a));
  CHECK(c.to_vector<double>() == a.to_vector<double>());
}

// A zero-element tensor needs no memory, so a real cuda:0 tensor exists in every build, with or
// without a GPU or the CUDA backend: the honest seam for the host-access check on a CPU machine.
TEST_CASE("data<T>() on a non-CPU tensor names the op and the device instead of handing out its pointer",
          "[tensor]") {
  Tensor d = Tensor::empty({0, 3}, DType::F32, Device::cuda(0));
  CHECK(d.device() == Device::cuda(0));
  CHECK_THROWS_WITH(d.data<float>("my_op"), Contains("my_op: host access to f32[0, 3] cuda:0") &&
                                                 Contains("copy it to the CPU first (.to(Device::cpu()))"));
  CHECK_THROWS_WITH(d.data<float>(), Contains("host access to f32[0, 3] cuda:0"));
  CHECK_THROWS_WITH(check_host_access("reader", d), Contains("reader: host access to f32[0, 3] cuda:0"));
  Tensor c = Tensor::from_vector(std::vector<float>{1, 2, 3}, {1, 3});
  CHECK(c.data<float>("my_op")[2] == 3.0f);
  CHECK_NOTHROW(check_host_access("reader", c));
  CHECK_THROWS_WITH(c.data<double>("my_op"), Contains("my_op: data<f64>() on a f32[1, 3] cpu tensor"));
}
