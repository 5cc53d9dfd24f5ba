#include "kernels/gradcheck.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

GradcheckResult gradcheck(const GradcheckFn& fn, std::vector<Tensor> inputs, const GradcheckOptions& options) {
  MRNN_CHECK(options.eps > 0, "gradcheck: eps must be > 0, got {}", options.eps);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    MRNN_CHECK(x.defined(), "gradcheck: input {} is undefined", k);
    if (!x.requires_grad()) continue;
    MRNN_CHECK(x.dtype() == DType::F64, "gradcheck: input {} is {}; finite differences need f64 (Tensor::to(DType::F64), Module::to(DType::F64))",
               k, x.desc());
    MRNN_CHECK(x.device().is_cpu(), "gradcheck: input {} is {}; check on the CPU", k, x.desc());
    MRNN_CHECK(x.is_leaf(), "gradcheck: input {} ({}) is not a leaf; pass the tensor the gradient flows into", k,
               x.desc());
  }
  GradcheckResult res;
  Generator wgen(options.seed);
  Tensor out0;
  {
    NoGradGuard ng;
    out0 = fn(inputs);
  }
  MRNN_CHECK(out0.defined() && out0.dtype() == DType::F64, "gradcheck: fn must return an f64 tensor, got {}",
             out0.defined() ? out0.desc() : std::string("an undefined tensor"));
  Tensor w = Tensor::randn(out0.shape(), wgen, DType::F64);
  auto loss_value = [&]() {
    NoGradGuard ng;
    return sum(mul(fn(inputs), w)).item();
  };
  for (Tensor& x : inputs) x.zero_grad();
  Tensor loss = sum(mul(fn(inputs), w));
  if (loss.requires_grad()) loss.backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor g = x.grad();
    std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    // Perturb through the strides, so a non-contiguous leaf works too.
    double* base = static_cast<double*>(x.storage()->data()) + x.offset();
    const Shape& shape = x.shape();
    const Shape& strides = x.strides();
    for (int64_t i = 0; i < x.numel(); ++i) {
      int64_t rem = i, off = 0;
      for (int64_t d = x.dim() - 1; d >= 0; --d) {
        off += (rem % shape[d]) * strides[d];
        rem /= shape[d];
      }
      double* p = base + off;
      const double orig = *p;
      *p = orig + options.eps;
      const double fp = loss_value();
      *p = orig - options.eps;
      const double fm = loss_value();
      *p = orig;
      const double f0 = loss_value();
      const double numeric = (fp - fm) / (2 * options.eps);
      const double right = (fp - f0) / options.eps, left = (f0 - fm) / options.eps;
      if (std::fabs(right - left) > 1e-3 * (1 + std::fabs(numeric))) {  // a kink inside [x-e, x+e]
        res.skipped_kinks++;
        continue;
      }
      res.checked++;
      const double a = analytic[static_cast<size_t>(i)];
      const double err = std::fabs(a - numeric);
      const double scale = std::max(std::fabs(a), std::fabs(numeric));
      if (!(err <= options.rtol * scale + options.atol)) {  // also catches NaN
        if (res.ok)
          res.message = "input " + std::to_string(k) + " element " + std::to_string(i) + ": analytic " +
                        std::to_string(a) + " vs numeric " + std::to_string(numeric);
        res.ok = false;
      }
      if (scale > 1e-6) res.max_rel_error = std::max(res.max_rel_error, err / scale);
    }
  }
  return res;
}

}  // namespace mrnn
