// Front-ends of the elementwise ops: shape checks, output allocation, autograd nodes.
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

Tensor unary_op(const char* name, UnaryKind k, const Tensor& x) {
  check_defined(name, {&x});
  require_backend(name, x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), unary, k, x, out);
  if (needs_grad({&x})) {
    Tensor xs = x.detach(), ys = out.detach();
    attach_grad(out, name, {x}, [k, xs, ys](const Tensor& g) {
      Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
      MRNN_DISPATCH(xs.device(), unary_backward, k, xs, ys, g, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

Tensor binary_raw(const char* name, BinaryKind k, const Tensor& a, const Tensor& b) {
  check_defined(name, {&a, &b});
  check_same_device(name, {&a, &b});
  check_same_dtype(name, {&a, &b});
  require_backend(name, a);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), name), a.dtype(), a.device());
  MRNN_DISPATCH(a.device(), binary, k, a, b, out);
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("add", BinaryKind::Add, a, b);
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    attach_grad(out, "add", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to_shape(g, sa), sum_to_shape(g, sb)};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("sub", BinaryKind::Sub, a, b);
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    attach_grad(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to_shape(g, sa), sum_to_shape(neg(g), sb)};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("mul", BinaryKind::Mul, a, b);
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, "mul", {a, b}, [ad, bd, ga, gb](const Tensor& g) {
      return std::vector<Tensor>{ga ? sum_to_shape(mul(g, bd), ad.shape()) : Tensor(),
                                 gb ? sum_to_shape(mul(g, ad), bd.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("div", BinaryKind::Div, a, b);
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, "div", {a, b}, [ad, bd, od, ga, gb](const Tensor& g) {
      Tensor g_over_b = div(g, bd);
      return std::vector<Tensor>{ga ? sum_to_shape(g_over_b, ad.shape()) : Tensor(),
                                 gb ? sum_to_shape(neg(mul(g_over_b, od)), bd.shape()) : Tensor()};
    });
  }
  return out;
}

namespace {
Tensor affine_op(const char* name, const Tensor& x, double m, double a) {
  check_defined(name, {&x});
  require_backend(name, x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), affine, x, m, a, out);
  if (needs_grad({&x})) {
    attach_grad(out, name, {x}, [m](const Tensor& g) { return std::vector<Tensor>{mul_scalar(g, m)}; });
  }
  return out;
}
}  // namespace

Tensor add_scalar(const Tensor& x, double s) { return affine_op("add_scalar", x, 1.0, s); }
Tensor mul_scalar(const Tensor& x, double s) { return affine_op("mul_scalar", x, s, 0.0); }
Tensor neg(const Tensor& x) { return unary_op("neg", UnaryKind::Neg, x); }
Tensor relu(const Tensor& x) { return unary_op("relu", UnaryKind::Relu, x); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", UnaryKind::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", UnaryKind::Sigmoid, x); }
Tensor scaled_tanh(const Tensor& x) { return unary_op("scaled_tanh", UnaryKind::ScaledTanh, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", UnaryKind::Exp, x); }
Tensor log(const Tensor& x) { return unary_op("log", UnaryKind::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", UnaryKind::Sqrt, x); }
Tensor square(const Tensor& x) { return unary_op("square", UnaryKind::Square, x); }
Tensor abs(const Tensor& x) { return unary_op("abs", UnaryKind::Abs, x); }
Tensor sign(const Tensor& x) { return unary_op("sign", UnaryKind::Sign, x); }
Tensor gelu(const Tensor& x) { return unary_op("gelu", UnaryKind::Gelu, x); }

namespace {
// maximum / minimum: d/da = 0.5 (1 +- sign(a - b)), so a tie splits the gradient in half (as
// PyTorch does) and no new backward kernel is needed.
Tensor extremum(const char* name, BinaryKind k, double side, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(name, k, a, b);
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, name, {a, b}, [ad, bd, ga, gb, side](const Tensor& g) {
      Tensor s = mul_scalar(sign(sub(ad, bd)), 0.5 * side);  // +-0.5 sign(a - b)
      Tensor wa = add_scalar(s, 0.5), wb = add_scalar(neg(s), 0.5);
      return std::vector<Tensor>{ga ? sum_to_shape(mul(g, wa), ad.shape()) : Tensor(),
                                 gb ? sum_to_shape(mul(g, wb), bd.shape()) : Tensor()};
    });
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum("maximum", BinaryKind::Maximum, 1.0, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum("minimum", BinaryKind::Minimum, -1.0, a, b); }

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("pow", BinaryKind::Pow, a, b);
  if (needs_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, "pow", {a, b}, [ad, bd, od, ga, gb](const Tensor& g) {
      // d/da a^b = b a^(b-1); d/db a^b = a^b log a (only asked for when the exponent trains).
      Tensor da = ga ? sum_to_shape(mul(g, mul(bd, pow(ad, add_scalar(bd, -1.0)))), ad.shape()) : Tensor();
      Tensor db = gb ? sum_to_shape(mul(g, mul(od, log(ad))), bd.shape()) : Tensor();
      return std::vector<Tensor>{da, db};
    });
  }
  return out;
}

Tensor pow(const Tensor& x, double p) {
  check_defined("pow", {&x});
  return pow(x, Tensor::full({}, p, x.dtype(), x.device()));
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", {&cond, &a, &b});
  check_same_device("where", {&cond, &a, &b});
  check_same_dtype("where", {&a, &b});
  require_backend("where", a);
  MRNN_CHECK(is_floating(a.dtype()), "where: a and b must be f32 or f64, got {}", a.desc());
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor c = cond.dtype() == a.dtype() ? cond.detach() : cond.detach().to(a.dtype());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  MRNN_DISPATCH(a.device(), where, c, a, b, out);
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    bool ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, "where", {a, b}, [c, sa, sb, ga, gb](const Tensor& g) {
      Tensor zero = Tensor::zeros({}, g.dtype(), g.device());
      return std::vector<Tensor>{ga ? sum_to_shape(where(c, g, zero), sa) : Tensor(),
                                 gb ? sum_to_shape(where(c, zero, g), sb) : Tensor()};
    });
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined("masked_fill", {&x, &mask});
  return where(mask, Tensor::full({}, value, x.dtype(), x.device()), x);
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  check_defined("clamp", {&x});
  require_backend("clamp", x);
  MRNN_CHECK(lo <= hi, "clamp: lo ({}) > hi ({})", lo, hi);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), clamp, x, lo, hi, out);
  if (needs_grad({&x})) {
    Tensor xs = x.detach();
    attach_grad(out, "clamp", {x}, [xs, lo, hi](const Tensor& g) {
      Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
      MRNN_DISPATCH(xs.device(), clamp_backward, xs, lo, hi, g, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

}  // namespace mrnn
