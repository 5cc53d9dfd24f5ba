#include "models/engine/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/optim_step.h"
#endif

namespace mrnn {

namespace {

// Sum of squares of a CPU gradient in f64 (NaN/Inf propagate), one vectorized pass, no copy when
// the gradient is contiguous (it always is when the autograd engine made it).
double sum_squares_cpu(const Tensor& grad) {
  if (grad.dtype() != DType::F32) {
    double t = 0;
    for (double x : grad.to_vector<double>()) t += x * x;
    return t;
  }
  Tensor g = grad.contiguous();
  const float* p = g.data<float>("clip_grad_norm / grads_finite");
  const int64_t n = g.numel();
  // Fixed blocks summed in order: the result (which sets the clip factor, hence the weights) is
  // the same for any thread count.
  constexpr int64_t kBlock = 16384;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(blocks), 0.0);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t b = 0; b < blocks; ++b) {
    double s = 0;
    const int64_t end = std::min(n, (b + 1) * kBlock);
#pragma omp simd reduction(+ : s)
    for (int64_t i = b * kBlock; i < end; ++i) s += static_cast<double>(p[i]) * p[i];
    part[static_cast<size_t>(b)] = s;
  }
  double total = 0;
  for (double s : part) total += s;
  return total;
}

// The defined gradients of params and the one device they share (throws naming both otherwise).
std::vector<Tensor> defined_grads(const std::vector<Tensor>& params, Device* device, const char* op) {
  std::vector<Tensor> gs;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = params[i].grad();
    if (!g.defined()) continue;
    if (!gs.empty())
      MRNN_CHECK(g.device() == gs[0].device(), "{}: the gradient of parameter {} is on {}, an earlier one on {}",
                 op, i, g.device().str(), gs[0].device().str());
    gs.push_back(g);
  }
  *device = gs.empty() ? Device::cpu() : gs[0].device();
  return gs;
}

#ifdef MRNN_WITH_CUDA
std::vector<Tensor> contiguous_f32(const std::vector<Tensor>& gs, const char* op) {
  std::vector<Tensor> out;
  for (const Tensor& g : gs) {
    MRNN_CHECK(g.dtype() == DType::F32, "{}: a gradient on a GPU must be f32, got {}", op, g.desc());
    out.push_back(g.contiguous());
  }
  return out;
}
#endif

}  // namespace

Tensor grad_sum_squares(const std::vector<Tensor>& params) {
  Device dev;
  const std::vector<Tensor> gs = defined_grads(params, &dev, "grad_sum_squares");
  if (dev.is_cpu()) {
    double total = 0;
    for (const Tensor& g : gs) total += sum_squares_cpu(g);
    return Tensor::from_vector(std::vector<double>{total});
  }
#ifdef MRNN_WITH_CUDA
  Tensor out = Tensor::empty({1}, DType::F64, dev);
  cuda::grad_sum_squares(contiguous_f32(gs, "grad_sum_squares"), out);
  return out;
#else
  MRNN_FAIL("grad_sum_squares: gradients on {} in a build without CUDA", dev.str());
#endif
}

void clip_grads(const std::vector<Tensor>& params, const Tensor& sumsq, double max_norm) {
  Device dev;
  std::vector<Tensor> gs = defined_grads(params, &dev, "clip_grads");
  if (gs.empty() || !(max_norm > 0)) return;
  MRNN_CHECK(sumsq.defined() && sumsq.numel() == 1 && sumsq.device() == dev,
             "clip_grads: the sum of squares must be one value on {}, got {}", dev.str(),
             sumsq.defined() ? sumsq.desc() : std::string("an undefined tensor"));
  NoGradGuard ng;
  if (dev.is_cpu()) {
    const double total = sumsq.item();
    const double norm = std::sqrt(total);
    if (!std::isfinite(total) || !(norm > max_norm)) return;
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (Tensor g : gs) {
      if (!g.is_contiguous() || g.dtype() != DType::F32) {
        g.copy_(mul_scalar(g, scale));
        continue;
      }
      float* pg = g.data<float>("clip_grad_norm");
      const int64_t n = g.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) pg[i] *= scale;
    }
    return;
  }
#ifdef MRNN_WITH_CUDA
  std::vector<Tensor> cs = contiguous_f32(gs, "clip_grads");
  cuda::clip_by_sum_squares(cs, sumsq, max_norm);
  for (size_t i = 0; i < gs.size(); ++i)  // a non-contiguous gradient was clipped in a copy
    if (!gs[i].is_contiguous()) gs[i].copy_(cs[i]);
#endif
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  const Tensor sumsq = grad_sum_squares(params);
  const double total = sumsq.item();
  const double norm = std::sqrt(total);
  if (max_norm > 0 && norm > max_norm) {
    if (std::isfinite(total)) {
      clip_grads(params, sumsq, max_norm);
    } else {  // an infinite norm: the factor is 0 (what this function has always done)
      NoGradGuard ng;
      for (const Tensor& p : params)
        if (p.grad().defined()) p.grad().copy_(mul_scalar(p.grad(), 0.0));
    }
  }
  return norm;
}

bool grads_finite(const std::vector<Tensor>& params, size_t* bad) {
  for (size_t k = 0; k < params.size(); ++k) {
    if (!params[k].grad().defined()) continue;
    if (!std::isfinite(grad_sum_squares({params[k]}).item())) {  // finite floats never overflow an f64 sum
      if (bad) *bad = k;
      return false;
    }
  }
  return true;
}

}  // namespace mrnn
