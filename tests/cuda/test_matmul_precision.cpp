// The f32 GEMM precision modes on the GPU (kernels/common/matmul_precision.h,
// kernels/cuda/gemm_lt.cu) against the CPU. For operands a [m, k], b [k, n] in f32 the exact
// product (computed in f64 on the CPU) bounds every mode's error element by element:
//   |C_gpu - C_exact| <= (2 u + k 2^-24) sum_k |a_ik| |b_kj| + 1e-6
// where u is the mode's operand roundoff (fp32 0, tf32 2^-10, bf16 2^-8): two rounded operands
// per product, f32 accumulation of k terms. The BF16 path is also compared with the CPU product of
// the bf16-rounded operands (only accumulation error left), all four transpose combinations, a
// strided output and alpha/beta.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/common/bf16.h"
#include "kernels/common/matmul_precision.h"
#include "kernels/ops.h"
#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_lt.h"
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

namespace {

#ifdef MRNN_WITH_CUDA
// Restores FP32 whatever a case set.
struct PrecisionScope {
  explicit PrecisionScope(MatmulPrecision p) { cuda::set_matmul_precision(p); }
  ~PrecisionScope() { cuda::set_matmul_precision(MatmulPrecision::FP32); }
};

Tensor abs_of(const Tensor& x) { return sqrt(square(x)); }

Tensor bf16_rounded(const Tensor& x) {
  std::vector<float> v = x.contiguous().to_vector<float>();
  for (float& e : v) e = round_to_bf16(e);
  return Tensor::from_vector(v, x.shape());
}

// Empty when |got - want| <= bound elementwise, else the first violation.
std::string within(const Tensor& got, const Tensor& want, const Tensor& bound) {
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>(), b = bound.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::fabs(g[i] - w[i]) <= b[i]))
      return "element " + std::to_string(i) + ": got " + std::to_string(g[i]) + ", want " + std::to_string(w[i]) +
             " +- " + std::to_string(b[i]);
  return {};
}

// a_store / b_store hold op(A) / op(B) transposed when ta / tb.
void check_mode(MatmulPrecision p, int64_t m, int64_t k, int64_t n, bool ta, bool tb, bool direct_bf16) {
  Generator g(static_cast<uint64_t>(m * 7 + k * 11 + n * 13 + ta * 2 + tb));
  const Tensor a = Tensor::randn({m, k}, g), b = Tensor::randn({k, n}, g);
  const Tensor a_store = ta ? transpose(a, 0, 1).contiguous() : a, b_store = tb ? transpose(b, 0, 1).contiguous() : b;
  const Tensor exact = matmul(a.to(DType::F64), b.to(DType::F64));
  const double u = matmul_operand_roundoff(p), acc = static_cast<double>(k) * std::ldexp(1.0, -24);
  const Tensor bound =
      add_scalar(mul_scalar(matmul(abs_of(a.to(DType::F64)), abs_of(b.to(DType::F64))), 2 * u + acc), 1e-6);
  Tensor got;
  {
    PrecisionScope scope(p);
    const Tensor ga = a_store.to(kGpu), gb = b_store.to(kGpu);
    if (direct_bf16) {
      got = Tensor::empty({m, n}, DType::F32, kGpu);
      cuda::gemm_bf16(ga, ta, gb, tb, got, 1.0, 0.0);
    } else {
      got = matmul(ta ? transpose(ga, 0, 1) : ga, tb ? transpose(gb, 0, 1) : gb);
    }
  }
  INFO(matmul_precision_name(p) << (direct_bf16 ? " (cuda::gemm_bf16)" : " (matmul)") << " m " << m << " k " << k
                                << " n " << n << " ta " << ta << " tb " << tb);
  const std::string d = within(got.to(DType::F64).to(Device::cpu()), exact, bound);
  INFO(d);
  CHECK(d.empty());
  if (p == MatmulPrecision::BF16 && direct_bf16) {  // only f32 accumulation error remains
    const Tensor ar = bf16_rounded(a).to(DType::F64), br = bf16_rounded(b).to(DType::F64);
    const Tensor ref = matmul(ar, br);
    const Tensor tight = add_scalar(mul_scalar(matmul(abs_of(ar), abs_of(br)), acc), 1e-6);
    const std::string e = within(got.to(DType::F64).to(Device::cpu()), ref, tight);
    INFO("against the product of the rounded operands: " << e);
    CHECK(e.empty());
  }
}
#endif

}  // namespace

TEST_CASE("GPU GEMM in every precision mode stays within its error bound of the exact product",
          "[parity][matmul_precision]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check_mode(MatmulPrecision::FP32, 67, 300, 129, ta, tb, false);
      check_mode(MatmulPrecision::TF32, 67, 300, 129, ta, tb, false);
      check_mode(MatmulPrecision::BF16, 67, 300, 129, ta, tb, true);
    }
  }
  check_mode(MatmulPrecision::BF16, 1, 1, 1, false, false, true);
  check_mode(MatmulPrecision::BF16, 256, 512, 384, false, true, true);
#endif
}

// Odd sizes everywhere: leading dimensions of A, B and C that are not multiples of 8 elements
// (kernels/cuda/gemm_lt.cu pads the bf16 copies, and C goes through a padded buffer when the
// heuristics offer nothing for it), every transpose, both matmul and the direct call.
TEST_CASE("GPU BF16 GEMM at odd shapes (unpadded leading dimensions) stays within its bound",
          "[parity][matmul_precision]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& [m, k, n] : {std::array<int64_t, 3>{7, 13, 5}, {33, 65, 17}, {1, 97, 3}, {129, 3, 31}}) {
        check_mode(MatmulPrecision::BF16, m, k, n, ta, tb, true);
        check_mode(MatmulPrecision::BF16, m, k, n, ta, tb, false);
      }
  // A strided output whose row stride (n + 3) is odd.
  Generator g(8);
  const Tensor a = Tensor::randn({9, 11}, g), b = Tensor::randn({11, 6}, g), c0 = Tensor::randn({9, 9}, g);
  const Tensor gc = c0.to(kGpu), view = narrow(gc, 1, 0, 6);
  {
    PrecisionScope scope(MatmulPrecision::BF16);
    cuda::gemm_bf16(a.to(kGpu), false, b.to(kGpu), false, view, 1.0, 0.5);
  }
  const Tensor ref = add(matmul(bf16_rounded(a).to(DType::F64), bf16_rounded(b).to(DType::F64)),
                         mul_scalar(narrow(c0, 1, 0, 6).to(DType::F64), 0.5));
  const std::string d = compare(narrow(gc.to(Device::cpu()), 1, 0, 6).to(DType::F64), ref, {1e-5, 1e-5});
  INFO(d);
  CHECK(d.empty());
  const std::string rest = compare(narrow(gc.to(Device::cpu()), 1, 6, 3), narrow(c0, 1, 6, 3), {0, 0});
  INFO("columns outside the view: " << rest);
  CHECK(rest.empty());
#endif
}

TEST_CASE("matmul precision switch: round trip and its link with set_allow_tf32", "[parity][matmul_precision]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  cuda::set_matmul_precision(MatmulPrecision::TF32);
  CHECK(cuda::allow_tf32());
  CHECK(cuda::matmul_precision() == MatmulPrecision::TF32);
  cuda::set_matmul_precision(MatmulPrecision::BF16);
  CHECK(!cuda::allow_tf32());
  CHECK(cuda::matmul_precision() == MatmulPrecision::BF16);
  cuda::set_matmul_precision(MatmulPrecision::FP32);
  cuda::set_allow_tf32(true);
  CHECK(cuda::matmul_precision() == MatmulPrecision::TF32);
  cuda::set_allow_tf32(false);
  CHECK(cuda::matmul_precision() == MatmulPrecision::FP32);
#endif
}

TEST_CASE("gemm_bf16: alpha, beta and a strided output row", "[parity][matmul_precision]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator g(3);
  const int64_t m = 33, k = 70, n = 45;
  const Tensor a = Tensor::randn({m, k}, g), b = Tensor::randn({k, n}, g), c0 = Tensor::randn({m, n + 3}, g);
  const Tensor ar = bf16_rounded(a).to(DType::F64), br = bf16_rounded(b).to(DType::F64);
  // want = 0.5 (a_r b_r) - 2 c0[:, :n]
  const Tensor want = sub(mul_scalar(matmul(ar, br), 0.5), mul_scalar(narrow(c0.to(DType::F64), 1, 0, n), 2.0));
  Tensor big = c0.to(kGpu);
  Tensor view = narrow(big, 1, 0, n);  // row stride n + 3
  cuda::gemm_bf16(a.to(kGpu), false, b.to(kGpu), false, view, 0.5, -2.0);
  const Tensor bound = add_scalar(mul_scalar(matmul(abs_of(ar), abs_of(br)), 0.5 * k * std::ldexp(1.0, -24)), 1e-5);
  const std::string d = within(view.to(Device::cpu()).to(DType::F64), want, bound);
  INFO(d);
  CHECK(d.empty());
  // The three extra columns are untouched.
  CHECK(narrow(big, 1, n, 3).to(Device::cpu()).to_vector<float>() == narrow(c0, 1, n, 3).to_vector<float>());
  CHECK_THROWS_WITH(cuda::gemm_bf16(a.to(kGpu), false, a.to(kGpu), false, view, 1.0, 0.0),
                    Catch::Contains("inner sizes"));
#endif
}
