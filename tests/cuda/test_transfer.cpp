// Host<->device copies (direct and pinned-staged sizes, every dtype, strided both ways, dtype
// conversion on the way), autograd through to(device), streams and events, and the errors the
// runtime raises (MRNN_CUDA_CHECK's message, unknown devices).
#include <catch2/catch.hpp>

#include <numeric>

#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

TEST_CASE("transfer: round trips of every dtype, small and above the pinned-staging threshold", "[transfer]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  // 7 elements (direct copy), 3M (12 MiB f32: two 8 MiB staging chunks), 5M (40 MiB f64: five).
  for (int64_t n : {int64_t{7}, int64_t{3} << 20, int64_t{5} << 20}) {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), -n / 2);
    const Tensor src = Tensor::from_vector(ids);
    for (DType dt : {DType::F32, DType::F64, DType::I32, DType::I64}) {
      INFO(n << " elements of " << dtype_name(dt));
      Tensor h = src.to(dt);
      Tensor d = h.to(gpu);
      CHECK(d.device() == gpu);
      CHECK(d.dtype() == dt);
      Tensor back = d.to(Device::cpu());
      CHECK(back.device() == Device::cpu());
      CHECK(back.to_vector<int64_t>() == h.to_vector<int64_t>());  // exact: integers up to 2.6M
    }
  }
  CHECK(Tensor::scalar(4.25).to(gpu).item() == 4.25);
  CHECK(Tensor::empty({0, 3}).to(gpu).to(Device::cpu()).shape() == Shape{0, 3});
#endif
}

TEST_CASE("transfer: strided sources and destinations, with dtype conversion", "[transfer]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Device gpu = Device::cuda(0);
  Generator gen(2);
  Tensor x = Tensor::randn({37, 29}, gen, DType::F64);
  Tensor xt = transpose(x, 0, 1);  // non-contiguous CPU source
  CHECK(xt.to(gpu).to(Device::cpu()).to_vector<double>() == xt.contiguous().to_vector<double>());
  Tensor dg = x.to(gpu);
  Tensor dt = transpose(dg, 0, 1);  // non-contiguous GPU source
  CHECK(dt.to(Device::cpu()).to_vector<double>() == xt.contiguous().to_vector<double>());
  CHECK(dt.contiguous().to_vector<double>() == xt.contiguous().to_vector<double>());

  // CPU f64 -> columns 3..9 of a GPU f32 tensor (strided destination, conversion).
  Tensor dst = Tensor::zeros({37, 12}, DType::F32, gpu);
  narrow(dst, 1, 3, 7).copy_(narrow(x, 1, 0, 7));
  Tensor want = Tensor::zeros({37, 12}, DType::F32);
  narrow(want, 1, 3, 7).copy_(narrow(x, 1, 0, 7));
  CHECK(dst.to_vector<float>() == want.to_vector<float>());

  // GPU f32 -> a transposed CPU f64 destination.
  Tensor host = Tensor::zeros({12, 37}, DType::F64);
  transpose(host, 0, 1).copy_(dst);
  CHECK(host.to_vector<double>() == transpose(want, 0, 1).to(DType::F64).contiguous().to_vector<double>());

  // GPU -> GPU with conversion into a strided view, and fill_ on a strided view.
  auto fill_pattern = [](Device dev) {
    Tensor t = Tensor::full({4, 6}, -1.0, DType::I64, dev);
    narrow(t, 0, 1, 2).copy_(Tensor::full({2, 6}, 7.9, DType::F64, dev));  // truncates to 7
    narrow(t, 1, 2, 1).fill_(5);                                            // one column
    return t;
  };
  const std::vector<int64_t> got = fill_pattern(gpu).to_vector<int64_t>();
  CHECK(got == fill_pattern(Device::cpu()).to_vector<int64_t>());
  CHECK(got[0] == -1);
  CHECK(got[6] == 7);
  CHECK(got[2] == 5);
#endif
}

TEST_CASE("transfer: gradients flow back through to(device)", "[transfer]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator gen(6);
  Tensor x = Tensor::randn({5, 4}, gen, DType::F64).requires_grad_();
  Tensor y = x.to(Device::cuda(0));
  CHECK(y.requires_grad());
  Tensor loss = sum(mul(y, y));  // on the GPU
  CHECK(loss.device() == Device::cuda(0));
  loss.backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().device() == Device::cpu());
  CHECK(compare(x.grad(), mul_scalar(x.detach(), 2.0), tolerance(DType::F64)).empty());
#endif
}

TEST_CASE("transfer: work on a user stream, ordered by events", "[transfer]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator gen(12);
  Tensor a = Tensor::randn({256, 256}, gen);
  cuda::Stream stream(0);
  cuda::Event start(0), stop(0);
  Tensor out;
  {
    cuda::StreamGuard on(stream);
    CHECK(cuda::current_stream(0) == stream.handle());
    start.record();
    Tensor d = a.to(Device::cuda(0));
    out = relu(matmul(d, d));
    stop.record();
  }
  CHECK(cuda::current_stream(0) == nullptr);
  stop.synchronize();
  CHECK(stop.ready());
  CHECK(start.elapsed_ms(stop) >= 0.0f);
  CHECK(compare(out, relu(matmul(a, a)), tolerance(DType::F32)).empty());
  cuda::Stream moved = std::move(stream);
  moved.synchronize();
#endif
}

TEST_CASE("transfer: runtime errors name the call, the device and the source line", "[transfer]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  cuda::Event never_recorded(0), also_never(0);
  // MRNN_CUDA_CHECK: call text, CUDA's error name and the file it was checked in.
  CHECK_THROWS_WITH(never_recorded.elapsed_ms(also_never),
                    Catch::Contains("cudaEventElapsedTime") && Catch::Contains("failed: cuda") &&
                        Catch::Contains("kernels/cuda/runtime.cu:"));
  const int n = cuda::device_count();
  CHECK_THROWS_WITH(Tensor::empty({2}, DType::F32, Device::cuda(n)),
                    Catch::Contains("cuda:" + std::to_string(n) + " requested but only"));
  CHECK(!cuda::device_description(0).empty());
#endif
}

// Runs everywhere (no skip): asking for a GPU tensor must fail with a clear Error, not crash, when
// there is no GPU or no CUDA backend; with a GPU it must just work.
TEST_CASE("transfer: cuda:0 tensors without a GPU raise an Error that says why", "[transfer]") {
#ifdef MRNN_WITH_CUDA
  if (cuda::is_available()) {
    CHECK(Tensor::ones({3}, DType::F32, Device::cuda(0)).to_vector<float>() == std::vector<float>(3, 1.0f));
    return;
  }
  CHECK(cuda::device_count() == 0);
  CHECK_THROWS_WITH(Tensor::ones({3}, DType::F32, Device::cuda(0)),
                    Catch::Contains("cuda:0 requested but no CUDA device is visible"));
  CHECK_THROWS_WITH(Tensor::ones({3}).to(Device::cuda(0)), Catch::Contains("no CUDA device is visible"));
#else
  CHECK_THROWS_WITH(Tensor::ones({3}, DType::F32, Device::cuda(0)),
                    Catch::Contains("cuda:0 requested but the CUDA backend is not available"));
  CHECK_THROWS_WITH(Tensor::ones({3}).to(Device::cuda(0)), Catch::Contains("this build does not include"));
#endif
}
