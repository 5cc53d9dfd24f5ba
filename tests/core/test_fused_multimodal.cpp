// The fused multimodal layer (kernels/fused.h: multimodal) on the CPU: its epilogues against
// values computed by hand (Python's math.tanh on the formula), the op against the unfused
// composition scaled_tanh(w Vw^T + r Vr^T + (img Vi^T + b) broadcast over time) in f32 and f64,
// forward and all seven gradients, and its shape errors. (The f64 finite-difference check is in
// the op table: rows multimodal_seq and multimodal_step.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/fused.h"
#include "kernels/ops.h"
#include "support/compare.h"

using namespace mrnn;
using mrnn::testing::max_abs_diff;

namespace {

double max_abs(const Tensor& a) {
  double m = 0;
  for (double v : a.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

void check_values(const Tensor& got, const std::vector<double>& want, double tol) {
  const std::vector<double> g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i);
    CHECK(g[i] == Approx(want[i]).margin(tol));
  }
}

// The unfused reference, from ops that do not share the fused op's code.
Tensor unfused(const std::vector<Tensor>& x) {
  Tensor text = add(linear(x[0], x[3], Tensor()), linear(x[1], x[4], Tensor()));
  Tensor image = linear(x[2], x[5], x[6]);
  if (x[0].dim() == 3) image = unsqueeze(image, 1);
  return scaled_tanh(add(text, image));
}

// Inputs w, r, img, Vw, Vr, Vi, bias as leaves; seq: w [B, T, Dw], else [B, Dw].
std::vector<Tensor> make_inputs(bool seq, DType dt, uint64_t seed) {
  const int64_t B = 4, T = 5, Dw = 16, Dr = 24, Di = 32, M = 40;
  Generator g(seed);
  auto leaf = [&](const Shape& s, double scale) { return mul_scalar(Tensor::randn(s, g, dt), scale).requires_grad_(); };
  std::vector<Tensor> x;
  x.push_back(leaf(seq ? Shape{B, T, Dw} : Shape{B, Dw}, 1.0));
  x.push_back(leaf(seq ? Shape{B, T, Dr} : Shape{B, Dr}, 1.0));
  x.push_back(leaf({B, Di}, 1.0));
  x.push_back(leaf({M, Dw}, 0.15));
  x.push_back(leaf({M, Dr}, 0.15));
  x.push_back(leaf({M, Di}, 0.15));
  x.push_back(leaf({M}, 0.3));
  return x;
}

// Forward and the gradients of sum(out * weights) for every input.
std::vector<Tensor> run(const std::vector<Tensor>& in, bool fused) {
  std::vector<Tensor> x;
  for (const Tensor& t : in) x.push_back(t.detach().clone().requires_grad_());
  Tensor out = fused ? multimodal(x[0], x[1], x[2], x[3], x[4], x[5], x[6]) : unfused(x);
  Generator g(77);
  Tensor wts = Tensor::randn(out.shape(), g, out.dtype());
  sum(mul(out, wts)).backward();
  std::vector<Tensor> r{out.detach()};
  for (const Tensor& t : x) r.push_back(t.grad());
  return r;
}

}  // namespace

TEST_CASE("multimodal: one element by hand", "[fused][multimodal]") {
  // pre = 1*0.5 + 2*0.25 + 3*(-0.1) + 0.2 = 0.9; 1.7159 tanh(0.6) = 0.9215233520119288 (Python)
  auto s = [](double v) { return Tensor::from_vector(std::vector<double>{v}, {1, 1}); };
  Tensor out = multimodal(s(1), s(2), s(3), s(0.5), s(0.25), s(-0.1), Tensor::from_vector(std::vector<double>{0.2}));
  CHECK(out.item() == Approx(0.9215233520119288).margin(1e-14));
}

TEST_CASE("multimodal epilogues on the CPU: hand-computed values, image rows, fixed sums", "[fused][multimodal]") {
  // B = 2 images, T = 2 steps, M = 3. Expected values: Python, the formulas of
  // kernels/common/fuse.h for the scaled tanh (1.7159 tanh(2/3 (text + image + bias)); g * 1.7159 * 2/3 *
  // (1 - (y/1.7159)^2)).
  Tensor out = Tensor::from_vector(
      std::vector<double>{0.1, -0.2, 0.3, 0.4, 0.5, -0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2}, {4, 3});
  Tensor image = Tensor::from_vector(std::vector<double>{0.5, -0.25, 0.125, -1.0, 2.0, -0.5}, {2, 3});
  Tensor bias = Tensor::from_vector(std::vector<double>{0.01, -0.02, 0.03});
  cpu::fuse_forward_epilogue(image, bias, 2, FuseActivation::ScaledTanh, out);
  const std::vector<double> y = {0.6617174872123837,  -0.5207181855428689, 0.5050924929595154,
                                 0.9296341676706257,  0.2610619144505447,  -0.49462396510884793,
                                 -1.3896651096793498, 1.6336378584857811,  0.47884580815039984,
                                 0.011439163864741168, 0.9051269642277646, 0.7748434824866844};
  check_values(out, y, 1e-14);

  Tensor g = Tensor::from_vector(std::vector<double>{1, -2, 0.5, 0.25, 3, -1, 2, 1, -0.5, -1.5, 0.75, 1}, {4, 3});
  Tensor dpre = Tensor::empty({4, 3}, DType::F64), dimage = Tensor::empty({2, 3}, DType::F64),
         dbias = Tensor::empty({3}, DType::F64);
  cpu::fuse_backward_epilogue(out, g, 2, FuseActivation::ScaledTanh, dpre, dimage, dbias);
  check_values(dpre,
               {0.973810741541787, -2.0771726256347045, 0.5224069746791657, 0.20204102067907442, 3.352362593185403,
                -1.0488800602754633, 0.787259314210137, 0.10705369672746684, -0.5274238013125843,
                -1.7158237400373422, 0.6192254760265257, 0.9106709356209207},
               1e-13);
  check_values(dimage,
               {1.1758517622208615, 1.2751899675506984, -0.5264730855962976, -0.9285644258272052, 0.7262791727539926,
                0.38324713430833646},
               1e-13);
  check_values(dbias, {0.2472873363936563, 2.0014691403046907, -0.14322595128796112}, 1e-13);

  // f32 runs the vectorized row loops: the same values within f32 rounding.
  Tensor out32 = Tensor::from_vector(
      std::vector<float>{0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, -0.7f, 0.8f, 0.9f, 1.0f, -1.1f, 1.2f}, {4, 3});
  cpu::fuse_forward_epilogue(image.to(DType::F32), bias.to(DType::F32), 2, FuseActivation::ScaledTanh, out32);
  check_values(out32, y, 2e-6);
  CHECK_THROWS_WITH(cpu::fuse_forward_epilogue(image, bias, 3, FuseActivation::ScaledTanh, out), Catch::Contains("does not match"));
}

TEST_CASE("multimodal matches the unfused composition, with and without time, f64 and f32",
          "[fused][multimodal]") {
  for (DType dt : {DType::F64, DType::F32}) {
    for (bool seq : {true, false}) {
      const double tol = dt == DType::F64 ? 1e-12 : 2e-5;
      const std::vector<Tensor> in = make_inputs(seq, dt, seq ? 3 : 4);
      const std::vector<Tensor> f = run(in, true), u = run(in, false);
      const char* names[] = {"out", "dw", "dr", "dimg", "dVw", "dVr", "dVi", "dbias"};
      for (size_t k = 0; k < f.size(); ++k) {
        INFO(names[k] << (seq ? " [B, T, M]" : " [B, M]") << " " << dtype_name(dt));
        REQUIRE(f[k].defined());
        CHECK(max_abs_diff(f[k], u[k]) <= tol * std::max(1.0, max_abs(u[k])));
      }
    }
  }
}

TEST_CASE("multimodal rejects mismatched shapes with messages naming them", "[fused][multimodal]") {
  const std::vector<Tensor> x = make_inputs(true, DType::F32, 5);
  CHECK_THROWS_WITH(multimodal(x[0], x[1], x[2], x[4], x[4], x[5], x[6]), Catch::Contains("input widths"));
  CHECK_THROWS_WITH(multimodal(x[0], select(x[1], 1, 0), x[2], x[3], x[4], x[5], x[6]), Catch::Contains("expected w"));
  CHECK_THROWS_WITH(multimodal(x[0], x[1], x[2], x[3], x[4], x[5], narrow(x[6], 0, 0, 3)),
                    Catch::Contains("bias [M]"));
}
