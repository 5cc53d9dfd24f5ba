// The CPU GEMM's two libraries (kernels/gemm_backend.h): each one, for every transpose
// combination, leading dimensions wider than the rows, alpha and beta, against an f64 loop on
// fresh random inputs; beta = 0 ignores NaN in C; the Auto rule; the names and the refusals.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>

#include "core/random.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/gemm_backend.h"
#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

struct BackendGuard {  // restores the process-wide policy when a case ends
  SgemmBackend saved = sgemm_backend();
  ~BackendGuard() { set_sgemm_backend(saved); }
};

double at(const Tensor& t, int64_t i, int64_t j) {
  return static_cast<double>(t.data<float>()[i * t.strides()[0] + j * t.strides()[1]]);
}

// C := alpha op(A) op(B) + beta C0, in f64 over the views' strides.
std::vector<double> reference(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& c0, double alpha,
                              double beta) {
  const int64_t m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1), n = tb ? b.size(0) : b.size(1);
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += (ta ? at(a, p, i) : at(a, i, p)) * (tb ? at(b, j, p) : at(b, p, j));
      out[static_cast<size_t>(i * n + j)] = alpha * s + (beta == 0 ? 0.0 : beta * at(c0, i, j));
    }
  return out;
}

// A [r, c] view whose rows are `pad` floats longer than c (leading dimension c + pad).
Tensor padded(int64_t r, int64_t c, int64_t pad, Generator& g) {
  return narrow(Tensor::randn({r, c + pad}, g), 1, 0, c);
}

}  // namespace

TEST_CASE("sgemm backends: each library against an f64 loop, every transpose, padded leading dimensions, alpha, beta",
          "[gemm]") {
  BackendGuard guard;
  Generator g(42);
  std::vector<SgemmBackend> backends{SgemmBackend::OpenBlas, SgemmBackend::Auto};
  if (sgemm_onednn_available()) backends.push_back(SgemmBackend::OneDnn);
  else WARN("this build has no oneDNN: only OpenBLAS is checked");
  // Shapes on both sides of Auto's size threshold (m n k = 2^16).
  const std::vector<std::array<int64_t, 3>> shapes{{3, 5, 7}, {37, 29, 61}, {64, 48, 96}};
  for (SgemmBackend be : backends)
    for (const auto& [m, n, k] : shapes)
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (double beta : {0.0, 1.0, -0.5}) {
            set_sgemm_backend(be);
            Tensor a = ta ? padded(k, m, 3, g) : padded(m, k, 3, g);
            Tensor b = tb ? padded(n, k, 5, g) : padded(k, n, 5, g);
            Tensor c = padded(m, n, 2, g);
            if (beta == 0) c.fill_(std::numeric_limits<float>::quiet_NaN());  // beta 0 must not read C
            const double alpha = 0.75;
            const std::vector<double> want = reference(a, ta, b, tb, c, alpha, beta);
            cpu::gemm(a, ta, b, tb, c, alpha, beta);
            double worst = 0;
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) {
                const double w = want[static_cast<size_t>(i * n + j)];
                worst = std::max(worst, std::abs(at(c, i, j) - w) / (1.0 + std::abs(w)));
              }
            INFO(sgemm_backend_name(be) << " m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb
                                        << " beta " << beta);
            CHECK(worst < 1e-5);
          }
}

TEST_CASE("sgemm backends: Auto's rule, the OneDnn fallback without oneDNN, names and refusals", "[gemm]") {
  const bool dnnl = sgemm_onednn_available();
  const SgemmBackend fast = dnnl ? SgemmBackend::OneDnn : SgemmBackend::OpenBlas;
  // The rule at the bench sizes: the output layer's forward and input gradient to oneDNN, its
  // weight gradient (A transposed, a [10000, 512] result) to OpenBLAS; a small weight gradient to
  // oneDNN; 64 rows times the [10000, 512] matrix (greedy decoding) to OpenBLAS, 192 rows (beam 3)
  // to oneDNN; a tiny product to OpenBLAS, one of exactly 2^16 to oneDNN.
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, true, 205, 10000, 512) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, false, 205, 512, 10000) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, true, false, 10000, 512, 205) == SgemmBackend::OpenBlas);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, true, false, 512, 256, 1024) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, true, 64, 10000, 512) == SgemmBackend::OpenBlas);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, true, 192, 10000, 512) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, true, 64, 256, 256) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, true, 2, 8, 8) == SgemmBackend::OpenBlas);
  CHECK(choose_sgemm_backend(SgemmBackend::Auto, false, false, 64, 32, 32) == fast);
  CHECK(choose_sgemm_backend(SgemmBackend::OpenBlas, false, true, 205, 10000, 512) == SgemmBackend::OpenBlas);
  CHECK(choose_sgemm_backend(SgemmBackend::OneDnn, true, false, 2, 2, 2) == fast);
  for (SgemmBackend b : {SgemmBackend::Auto, SgemmBackend::OpenBlas, SgemmBackend::OneDnn})
    CHECK(parse_sgemm_backend(sgemm_backend_name(b)) == b);
  CHECK_THROWS_WITH(parse_sgemm_backend("mkl"), Contains("sgemm backend 'mkl': expected auto, openblas or onednn"));
}

TEST_CASE("sgemm backends: a run is repeatable bit for bit under Auto", "[gemm]") {
  BackendGuard guard;
  set_sgemm_backend(SgemmBackend::Auto);
  Generator g(7);
  Tensor a = Tensor::randn({200, 300}, g), b = Tensor::randn({400, 300}, g);
  Tensor c1 = Tensor::empty({200, 400}, DType::F32), c2 = Tensor::empty({200, 400}, DType::F32);
  cpu::gemm(a, false, b, true, c1, 1.0, 0.0);
  cpu::gemm(a, false, b, true, c2, 1.0, 0.0);
  CHECK(c1.to_vector<float>() == c2.to_vector<float>());
}
