// core/device_backend.h: core reaches other devices only through the entries a backend registers,
// and says clearly when the build has none. Runs on any machine: registering needs no GPU.
#include <catch2/catch.hpp>

#include "core/accumulate.h"
#include "core/device_backend.h"
#include "kernels/ops.h"
#include "layers/module.h"

using namespace mrnn;
using Catch::Matchers::Contains;

TEST_CASE("device backend: the CUDA entries are registered exactly when the backend is built", "[backend]") {
  const DeviceBackend& b = device_backend(Device::Kind::CUDA);
#ifdef MRNN_WITH_CUDA
  // Registered while the library loaded (static registrars in kernels/cuda/*.cu): none was dropped.
  CHECK(b.allocate);
  CHECK(b.deallocate);
  CHECK(b.copy);
  CHECK(b.fill);
  CHECK(b.check_device);
  CHECK(b.accumulate);
#else
  CHECK_FALSE(b.allocate);
  CHECK_FALSE(b.deallocate);
  CHECK_FALSE(b.copy);
  CHECK_FALSE(b.fill);
  CHECK_FALSE(b.check_device);
  CHECK_FALSE(b.accumulate);
  const char* why = "this build has no CUDA backend";
  CHECK_THROWS_WITH(Tensor::zeros({2}, DType::F32, Device::cuda(1)), Contains("cuda:1") && Contains(why));
  CHECK_THROWS_WITH(device_backend_entry("Module::to", Device::cuda(0), &DeviceBackend::check_device),
                    Contains("Module::to: cuda:0") && Contains(why));
  // A zero-element CUDA tensor needs no memory; filling it still needs the backend.
  Tensor empty = Tensor::empty({0}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH(empty.fill_(1), Contains("fill_: cuda:0") && Contains(why));
  CHECK_THROWS_WITH(accumulate_into(empty, empty), Contains("accumulate: cuda:0") && Contains(why));
#endif
  CHECK_THROWS_WITH(register_device_backend(Device::Kind::CPU, DeviceBackend{}), Contains("core's own"));
}

TEST_CASE("accumulate_into and sum_of, on any layout, equal add() bit for bit", "[backend]") {
  Generator gen(11);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor base = Tensor::randn({5, 6}, gen, dt), src_t = Tensor::randn({3, 5}, gen, dt);
    Tensor dst = narrow(base, 1, 2, 3);  // a strided part of base, [5, 3]
    Tensor s = transpose(src_t, 0, 1);   // a transposed (strided) source, [5, 3]
    const std::vector<double> expected = add(dst, s).to_vector<double>();
    const std::vector<double> before = base.to_vector<double>();
    accumulate_into(dst, s);
    CHECK(dst.to_vector<double>() == expected);
    const std::vector<double> after = base.to_vector<double>();
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t c = 0; c < 6; ++c)
        if (c < 2 || c >= 5) CHECK(after[r * 6 + c] == before[r * 6 + c]);  // outside the part: untouched
    Tensor a = Tensor::randn({1 << 17}, gen, dt), b = Tensor::randn({1 << 17}, gen, dt);  // the parallel loop
    const std::vector<double> sum_ab = add(a, b).to_vector<double>();
    CHECK(sum_of(a, b).to_vector<double>() == sum_ab);
    CHECK(sum_of(dst, s).to_vector<double>() == add(dst, s).to_vector<double>());  // strided: clone + add
    accumulate_into(a, b);
    CHECK(a.to_vector<double>() == sum_ab);
  }
  Tensor f = Tensor::zeros({2}), d = Tensor::zeros({2}, DType::F64);
  CHECK_THROWS_WITH(accumulate_into(f, d), Contains("accumulate") && Contains("differ"));
}

TEST_CASE("parse_device reads cpu, cuda and cuda:N and names anything else", "[backend]") {
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:0") == Device::cuda(0));
  CHECK(parse_device("cuda:3") == Device::cuda(3));
  for (const char* bad : {"gpu", "", "CPU", "cuda:", "cuda:-1", "cuda:+1", "cuda:x", "cuda:1x", "cuda:99999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_device(bad), Catch::Contains("device '" + std::string(bad) + "' is not one of: cpu, cuda"));
  }
}

TEST_CASE("require_device accepts the CPU and refuses a GPU that is not there, naming it", "[backend]") {
  CHECK_NOTHROW(require_device(Device::cpu()));
  // No machine has this many GPUs: without CUDA the build says so, with CUDA the backend counts.
  CHECK_THROWS_WITH(require_device(Device::cuda(60000)), Catch::Contains("cuda:60000 requested but"));
  try {
    require_device(Device::cuda(0));  // fine where a GPU is present
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cuda:0 requested but"));
  }
}
