// sum / mean / max / argmax and sum_to_shape (the backward of broadcasting).
#include <algorithm>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

struct Split3 {
  int64_t outer = 1, n = 1, inner = 1;
};
Split3 split3(const Shape& s, int64_t d0, int64_t d1) {  // reduce dims [d0, d1]
  Split3 r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < d0) r.outer *= s[d];
    else if (d <= d1) r.n *= s[d];
    else r.inner *= s[d];
  }
  return r;
}

Shape reduced_shape(const Shape& s, int64_t d0, int64_t d1, bool keepdim) {
  Shape r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < d0 || d > d1) r.push_back(s[d]);
    else if (keepdim) r.push_back(1);
  }
  return r;
}

// Sum over the consecutive dims [d0, d1] (no autograd).
Tensor sum_range_raw(const Tensor& x, int64_t d0, int64_t d1, bool keepdim) {
  Tensor xc = x.contiguous();
  Split3 s = split3(x.shape(), d0, d1);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), d0, d1, keepdim), x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), sum_middle, xc, s.outer, s.n, s.inner, out);
  return out;
}

std::vector<int64_t> normalized_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::vector<int64_t> d;
  for (int64_t v : dims) d.push_back(wrap_dim(v, x.dim(), op));
  std::sort(d.begin(), d.end());
  MRNN_CHECK(std::adjacent_find(d.begin(), d.end()) == d.end(), "{}: repeated dim", op);
  return d;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined("sum", {&x});
  require_backend("sum", x);
  std::vector<int64_t> dims = normalized_dims(x, dims_in, "sum");
  Tensor out;
  {
    NoGradGuard ng;
    if (dims.empty()) {
      out = x.clone();
    } else if (dims.back() - dims.front() + 1 == static_cast<int64_t>(dims.size())) {
      out = sum_range_raw(x, dims.front(), dims.back(), keepdim);
    } else {  // non-consecutive: one dim at a time, highest first so indices stay valid
      out = x;
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) out = sum_range_raw(out, *it, *it, keepdim);
    }
  }
  if (needs_grad({&x})) {
    Shape in_shape = x.shape(), kept = x.shape();
    for (int64_t d : dims) kept[d] = 1;
    attach_grad(out, "sum", {x}, [in_shape, kept](const Tensor& g) {
      return std::vector<Tensor>{expand(reshape(g, kept), in_shape).contiguous()};
    });
  }
  return out;
}

Tensor sum(const Tensor& x) {
  std::vector<int64_t> all(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) all[i] = i;
  return x.dim() == 0 ? x.clone() : sum(x, all, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  int64_t n = 1;
  for (int64_t d : normalized_dims(x, dims, "mean")) n *= x.size(d);
  MRNN_CHECK(n > 0, "mean: reducing over an empty dimension of {}", x.desc());
  return mul_scalar(sum(x, dims, keepdim), 1.0 / static_cast<double>(n));
}

Tensor mean(const Tensor& x) {
  MRNN_CHECK(x.numel() > 0, "mean: empty tensor {}", x.desc());
  return mul_scalar(sum(x), 1.0 / static_cast<double>(x.numel()));
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("max", {&x});
  require_backend("max", x);
  dim = wrap_dim(dim, x.dim(), "max");
  Split3 s = split3(x.shape(), dim, dim);
  Shape kept = reduced_shape(x.shape(), dim, dim, true);
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, dim, keepdim), x.dtype(), x.device());
  Tensor arg = Tensor::empty(out.shape(), DType::I64, x.device());
  MRNN_DISPATCH(x.device(), max_middle, x.contiguous(), s.outer, s.n, s.inner, out, arg);
  if (needs_grad({&x})) {
    Shape in_shape = x.shape();
    DType dt = x.dtype();
    attach_grad(out, "max", {x}, [in_shape, dt, arg, s](const Tensor& g) {
      Tensor gx = Tensor::zeros(in_shape, dt, g.device());
      Tensor gc = g.contiguous();
#ifdef MRNN_WITH_CUDA
      if (gc.device().is_cuda()) {
        cuda::max_backward(gc, arg, s.outer, s.n, s.inner, gx);
        return std::vector<Tensor>{gx};
      }
#endif
      dispatch_float(dt, "max_backward", [&](auto z) {
        using T = decltype(z);
        const T* pg = gc.data<T>("max_backward");
        const int64_t* pa = arg.data<int64_t>("max_backward");
        T* px = gx.data<T>("max_backward");
        for (int64_t o = 0; o < s.outer; ++o)
          for (int64_t i = 0; i < s.inner; ++i)
            px[(o * s.n + pa[o * s.inner + i]) * s.inner + i] = pg[o * s.inner + i];
      });
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

Tensor max(const Tensor& x) {
  check_defined("max", {&x});
  MRNN_CHECK(x.numel() > 0, "max: empty tensor {}", x.desc());
  return max(reshape(x, {-1}), 0);
}

Tensor min(const Tensor& x) {
  check_defined("min", {&x});
  MRNN_CHECK(x.numel() > 0, "min: empty tensor {}", x.desc());
  return neg(max(reshape(neg(x), {-1}), 0));
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  check_defined("var", {&x});
  int64_t n = 1;
  for (int64_t d : normalized_dims(x, dims, "var")) n *= x.size(d);
  MRNN_CHECK(n > (unbiased ? 1 : 0), "var: {} over {} element(s) of {} is undefined", unbiased ? "unbiased variance" : "variance",
             n, x.desc());
  // Two passes (mean, then squared deviations): no cancellation of E[x^2] - E[x]^2.
  Tensor dev = sub(x, mean(x, dims, true));
  return mul_scalar(sum(square(dev), dims, keepdim), 1.0 / static_cast<double>(unbiased ? n - 1 : n));
}

Tensor var(const Tensor& x) {
  check_defined("var", {&x});
  std::vector<int64_t> all(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d) all[static_cast<size_t>(d)] = d;
  if (all.empty()) return var(reshape(x, {1}), {0}, true, false);
  return var(x, all, true, false);
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
  check_defined("mse_loss", {&prediction, &target});
  MRNN_CHECK(prediction.shape() == target.shape(), "mse_loss: prediction {} and target {} must have one shape",
             prediction.desc(), target.desc());
  Tensor sq = square(sub(prediction, target));
  switch (reduction) {
    case Reduction::None: return sq;
    case Reduction::Sum: return sum(sq);
    case Reduction::Mean: break;
  }
  MRNN_CHECK(sq.numel() > 0, "mse_loss: empty inputs {}", prediction.desc());
  return mean(sq);
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("argmax", {&x});
  require_backend("argmax", x);
  dim = wrap_dim(dim, x.dim(), "argmax");
  Split3 s = split3(x.shape(), dim, dim);
  Tensor vals = Tensor::empty(reduced_shape(x.shape(), dim, dim, keepdim), x.dtype(), x.device());
  Tensor arg = Tensor::empty(vals.shape(), DType::I64, x.device());
  MRNN_DISPATCH(x.device(), max_middle, x.contiguous(), s.outer, s.n, s.inner, vals, arg);
  return arg;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  MRNN_CHECK(lead >= 0, "sum_to_shape: gradient {} has fewer dims than {}", g.desc(), shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.size(d) != 1)) dims.push_back(d);
  Tensor r = dims.empty() ? g : sum(g, dims, true);
  return reshape(r, shape);
}

}  // namespace mrnn
