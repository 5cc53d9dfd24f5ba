// The Module API a PyTorch user expects: the one-tensor forward and m(x), Sequential / ModuleList /
// Lambda with PyTorch's parameter names, Module::to(DType) keeping handles and shared storage, and
// a whole layer gradient-checked in f64 with the public checker (kernels/gradcheck.h).
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "kernels/gradcheck.h"
#include "kernels/ops.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/sequential.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

class NoForward : public Module {};

// Two parameters that are views of one storage, as a packed weight would be.
class Packed : public Module {
 public:
  explicit Packed(Generator& g) {
    Tensor base = Tensor::randn({6, 4}, g);
    a = register_parameter("a", narrow(base, 0, 0, 2).detach());
    b = register_parameter("b", narrow(base, 0, 2, 4).detach());
    steps = register_buffer("steps", Tensor::from_vector(std::vector<int64_t>{3, 4}));
  }
  Tensor a, b, steps;
};

std::shared_ptr<Sequential> mlp(Generator& g) {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Linear>(4, 6, g))
      .add(std::make_shared<Lambda>([](const Tensor& x) { return gelu(x); }))
      .add(std::make_shared<LayerNorm>(6))
      .add(std::make_shared<Linear>(6, 3, g));
  return net;
}

}  // namespace

TEST_CASE("Sequential composes one-tensor forwards and names parameters as PyTorch does", "[module]") {
  Generator g(5);
  auto net = mlp(g);
  std::vector<std::string> names;
  for (auto& [n, t] : net->named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"});
  Tensor x = Tensor::randn({2, 5, 4}, g);
  Tensor y = (*net)(x);
  CHECK(y.shape() == Shape{2, 5, 3});
  // The same as applying the layers by hand.
  auto& l0 = static_cast<Linear&>((*net)[0]);
  auto& l3 = static_cast<Linear&>((*net)[3]);
  Tensor by_hand = l3.forward(layer_norm(gelu(l0.forward(x)), (*net)[2].named_parameters()[0].second,
                                         (*net)[2].named_parameters()[1].second));
  CHECK(max(abs(sub(y, by_hand))).item() == 0);
  CHECK_THROWS_WITH((*net)[4], Contains("index 4 out of range"));
  // A module without a one-tensor forward says so, and Sequential says which one.
  NoForward nf;
  CHECK_THROWS_WITH(nf(x), Contains("no one-tensor forward"));
  Sequential bad({std::make_shared<Linear>(4, 4, g), std::make_shared<NoForward>()});
  CHECK_THROWS_WITH(bad(x), Contains("module 1") && Contains("no one-tensor forward"));
}

TEST_CASE("ModuleList registers children by index and gives them back typed", "[module]") {
  Generator g(6);
  ModuleList list;
  list.add(std::make_shared<Linear>(3, 3, g)).add(std::make_shared<Embedding>(10, 3, g));
  CHECK(list.size() == 2);
  CHECK(list.named_parameters().size() == 3);
  CHECK(list.named_parameters()[2].first == "1.weight");
  CHECK(list.at<Embedding>(1).forward(Tensor::from_vector(std::vector<int64_t>{1, 2})).shape() == Shape{2, 3});
  CHECK_THROWS_WITH(list.at<Embedding>(0), Contains("not of the requested type"));
  CHECK_THROWS_WITH(list.add(nullptr), Contains("null"));
}

TEST_CASE("Module::to(DType) converts in place: handles, shared storage and integer buffers kept", "[module]") {
  Generator g(7);
  Packed m(g);
  std::vector<float> a0 = m.a.to_vector<float>();
  Tensor handle = m.a;
  m.to(DType::F64);
  CHECK(m.dtype() == DType::F64);
  CHECK(handle.dtype() == DType::F64);           // the layer's own handle sees the change
  CHECK(m.a.shares_storage(m.b));                // still views of one buffer
  CHECK(m.b.offset() == 8);
  CHECK(m.steps.dtype() == DType::I64);          // integer buffers untouched
  std::vector<double> a1 = m.a.to_vector<double>();
  for (size_t i = 0; i < a0.size(); ++i) CHECK(a1[i] == static_cast<double>(a0[i]));  // exact widening
  m.to(DType::F32);
  CHECK(m.a.to_vector<float>() == a0);           // and back, bit for bit
  CHECK_THROWS_WITH(m.to(DType::I32), Contains("f32 or f64"));
}

TEST_CASE("public gradcheck: a whole layer stack in f64 through its parameters", "[module][gradcheck]") {
  Generator g(8);
  auto net = mlp(g);
  net->to(DType::F64);
  Tensor x = Tensor::randn({3, 4}, g, DType::F64);
  x.requires_grad_(true);
  std::vector<Tensor> inputs = net->parameters();
  inputs.push_back(x);
  GradcheckResult r = gradcheck([&](const std::vector<Tensor>&) { return net->forward(x); }, inputs);
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.checked == 4 * 6 + 6 + 6 + 6 + 6 * 3 + 3 + 3 * 4);
}
