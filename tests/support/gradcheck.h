// Finite-difference gradient checking in f64 (central differences) with a kink guard.
// Used by every differentiable op's test and by the layers' tests.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn::testing {

struct GradcheckResult {
  bool ok = true;
  double max_rel_error = 0;  // max |analytic - numeric| / max(1e-3... see below) over checked elements
  int64_t checked = 0;
  int64_t skipped_kinks = 0;
  std::string message;       // first failure, human readable
};

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Requires: inputs are f64 leaves. Builds loss = sum(fn(inputs) * W) with fixed random W and
// compares d loss / d input from backward() with (L(x+e) - L(x-e)) / 2e for every element.
// Passes when |a - n| <= tol * max(|a|, |n|) + atol. An element where the one-sided slopes differ
// (a kink such as relu at 0 within eps) is skipped and counted, not compared.
inline GradcheckResult gradcheck(const OpFn& fn, std::vector<Tensor> inputs, double eps = 1e-5, double tol = 1e-6,
                                 double atol = 1e-8) {
  GradcheckResult res;
  Generator wgen(1234);
  Tensor out0;
  {
    NoGradGuard ng;
    out0 = fn(inputs);
  }
  Tensor w = Tensor::randn(out0.shape(), wgen, DType::F64);
  auto loss_value = [&]() {
    NoGradGuard ng;
    return sum(mul(fn(inputs), w)).item();
  };
  for (Tensor& x : inputs) {
    x.zero_grad();
  }
  Tensor loss = sum(mul(fn(inputs), w));
  loss.backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor g = x.grad();
    std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    double* px = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double orig = px[i];
      px[i] = orig + eps;
      const double fp = loss_value();
      px[i] = orig - eps;
      const double fm = loss_value();
      px[i] = orig;
      const double f0 = loss_value();
      const double numeric = (fp - fm) / (2 * eps);
      const double right = (fp - f0) / eps, left = (f0 - fm) / eps;
      if (std::fabs(right - left) > 1e-3 * (1 + std::fabs(numeric))) {  // kink inside [x-e, x+e]
        res.skipped_kinks++;
        continue;
      }
      res.checked++;
      const double a = analytic[i];
      const double err = std::fabs(a - numeric);
      const double scale = std::max(std::fabs(a), std::fabs(numeric));
      const double rel = err / std::max(scale, 1e-12);
      if (err > tol * scale + atol) {
        if (res.ok)
          res.message = "input " + std::to_string(k) + " element " + std::to_string(i) + ": analytic " +
                        std::to_string(a) + " vs numeric " + std::to_string(numeric);
        res.ok = false;
      }
      if (scale > 1e-6) res.max_rel_error = std::max(res.max_rel_error, rel);
    }
  }
  return res;
}

}  // namespace mrnn::testing
