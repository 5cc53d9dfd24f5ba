// Module::to(Device) and Module::device() without a GPU: moving to the CPU is a no-op that keeps
// every handle and value, and asking for a GPU that this build or machine lacks fails with a
// message naming the device while leaving the parameters where they were. (The actual move to a
// GPU is tested in tests/cuda/test_module_cuda.cpp.)
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "layers/linear.h"
#include "layers/module.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

// Two parameters that are views of one storage (as a packed weight would be) plus a child.
class Packed : public Module {
 public:
  explicit Packed(Generator& g) {
    Tensor base = Tensor::randn({6, 4}, g);
    a = register_parameter("a", narrow(base, 0, 0, 2).detach());
    b = register_parameter("b", narrow(base, 0, 2, 4).detach());
    lin = register_module("lin", std::make_shared<Linear>(4, 3, g));
  }
  Tensor a, b;
  std::shared_ptr<Linear> lin;
};

}  // namespace

TEST_CASE("Module::to(cpu) keeps handles, storage sharing and values", "[module]") {
  Generator g(11);
  Packed m(g);
  const auto before = m.named_parameters();
  std::vector<std::vector<float>> values;
  for (auto& [n, t] : before) values.push_back(t.to_vector<float>());
  const TensorImpl* a_impl = m.a.impl_ptr().get();
  m.to(Device::cpu());
  CHECK(m.device() == Device::cpu());
  CHECK(m.a.impl_ptr().get() == a_impl);
  CHECK(m.a.shares_storage(m.b));
  CHECK(m.b.offset() == 8);
  const auto after = m.named_parameters();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].first == before[i].first);
    CHECK(after[i].second.impl_ptr() == before[i].second.impl_ptr());
    CHECK(after[i].second.to_vector<float>() == values[i]);
    CHECK(after[i].second.requires_grad());
  }
  // Still usable with autograd afterwards.
  Tensor y = sum(m.lin->forward(m.b));
  y.backward();
  CHECK(m.lin->weight.grad().defined());
}

TEST_CASE("Module::to(cuda) without a backend or a GPU names the device and moves nothing", "[module]") {
#ifdef MRNN_WITH_CUDA
  if (cuda::is_available()) {
    SUCCEED("a GPU is present: the move itself is tested in tests/cuda");
    return;
  }
  const char* why = "no CUDA device is visible";
#else
  const char* why = "this build has no CUDA backend";
#endif
  Generator g(12);
  Packed m(g);
  const std::vector<float> a0 = m.a.to_vector<float>();
  REQUIRE_THROWS_WITH(m.to(Device::cuda(0)), Contains("cuda:0") && Contains(why));
  CHECK(m.device() == Device::cpu());
  CHECK(m.a.to_vector<float>() == a0);
  CHECK(m.a.shares_storage(m.b));
}

TEST_CASE("Module::device of an empty module is the CPU", "[module]") {
  Module empty;
  CHECK(empty.device() == Device::cpu());
}
