// Per-element math for the elementwise ops: forward f(x) and backward df(x, y=f(x), g).
// exp/tanh/sigmoid go through kernels/common/fast_math.h (vectorizable f32, exact libm for f64).
// Shared by the CPU loops and the CUDA kernels (MRNN_HD), so both backends compute the same
// formulas; the CPU tests therefore check the kernels' math too.
#pragma once
#include <cmath>

#include "kernels/common/fast_math.h"
#include "kernels/common/host_device.h"

namespace mrnn {

enum class UnaryKind { Relu, Tanh, Sigmoid, ScaledTanh, Exp, Log, Sqrt, Square, Abs, Sign, Gelu, Neg };
enum class BinaryKind { Add, Sub, Mul, Div, Maximum, Minimum, Pow };

// g(x) = 1.7159 tanh(2x/3) (LeCun's scaled tanh, the m-RNN multimodal-layer activation).
constexpr double kScaledTanhA = 1.7159;
constexpr double kScaledTanhB = 2.0 / 3.0;

struct ReluF {
  template <typename T> MRNN_HD static T f(T x) { return x > T(0) ? x : T(0); }
  template <typename T> MRNN_HD static T df(T x, T, T g) { return x > T(0) ? g : T(0); }
};
struct TanhF {
  template <typename T> MRNN_HD static T f(T x) { return fast_tanh(x); }
  template <typename T> MRNN_HD static T df(T, T y, T g) { return g * (T(1) - y * y); }
};
struct SigmoidF {
  template <typename T> MRNN_HD static T f(T x) {  // e^-|x| never overflows
    const T e = fast_exp(x >= T(0) ? -x : x);
    return (x >= T(0) ? T(1) : e) / (T(1) + e);
  }
  template <typename T> MRNN_HD static T df(T, T y, T g) { return g * y * (T(1) - y); }
};
struct ScaledTanhF {
  template <typename T> MRNN_HD static T f(T x) { return T(kScaledTanhA) * fast_tanh(T(kScaledTanhB) * x); }
  template <typename T> MRNN_HD static T df(T, T y, T g) {
    T t = y / T(kScaledTanhA);
    return g * T(kScaledTanhA * kScaledTanhB) * (T(1) - t * t);
  }
};
struct ExpF {
  template <typename T> MRNN_HD static T f(T x) { return fast_exp(x); }
  template <typename T> MRNN_HD static T df(T, T y, T g) { return g * y; }
};
struct LogF {
  template <typename T> MRNN_HD static T f(T x) { return std::log(x); }
  template <typename T> MRNN_HD static T df(T x, T, T g) { return g / x; }
};
struct SqrtF {
  template <typename T> MRNN_HD static T f(T x) { return std::sqrt(x); }
  template <typename T> MRNN_HD static T df(T, T y, T g) { return g * T(0.5) / y; }
};
struct SquareF {
  template <typename T> MRNN_HD static T f(T x) { return x * x; }
  template <typename T> MRNN_HD static T df(T x, T, T g) { return T(2) * x * g; }
};
// |x|; the gradient at 0 is 0 (PyTorch's choice: sign(0) = 0).
struct AbsF {
  template <typename T> MRNN_HD static T f(T x) { return x < T(0) ? -x : x; }
  template <typename T> MRNN_HD static T df(T x, T, T g) { return x > T(0) ? g : (x < T(0) ? -g : T(0)); }
};
// sign(x) in {-1, 0, 1}: piecewise constant, so its gradient is 0 everywhere.
struct SignF {
  template <typename T> MRNN_HD static T f(T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
  template <typename T> MRNN_HD static T df(T, T, T) { return T(0); }
};
// GELU, the exact form x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's default, not the tanh
// approximation). d/dx = Phi(x) + x * phi(x).
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
struct GeluF {
  template <typename T> MRNN_HD static T f(T x) { return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2))); }
  template <typename T> MRNN_HD static T df(T x, T, T g) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
    const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    return g * (cdf + x * pdf);
  }
};
struct NegF {
  template <typename T> MRNN_HD static T f(T x) { return -x; }
  template <typename T> MRNN_HD static T df(T, T, T g) { return -g; }
};

struct AddF { template <typename T> MRNN_HD static T f(T a, T b) { return a + b; } };
struct SubF { template <typename T> MRNN_HD static T f(T a, T b) { return a - b; } };
struct MulF { template <typename T> MRNN_HD static T f(T a, T b) { return a * b; } };
struct DivF { template <typename T> MRNN_HD static T f(T a, T b) { return a / b; } };
// NaN in either operand gives NaN (as PyTorch's maximum/minimum do, unlike std::fmax).
struct MaximumF {
  template <typename T> MRNN_HD static T f(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
};
struct MinimumF {
  template <typename T> MRNN_HD static T f(T a, T b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
};
struct PowF { template <typename T> MRNN_HD static T f(T a, T b) { return std::pow(a, b); } };

template <typename T> MRNN_HD T clamp_f(T x, T lo, T hi) { return x < lo ? lo : (x > hi ? hi : x); }
template <typename T> MRNN_HD T clamp_df(T x, T lo, T hi, T g) { return (x >= lo && x <= hi) ? g : T(0); }
// where(cond, a, b): a where cond is non-zero, else b. The condition is held in the operands' type.
template <typename T> MRNN_HD T where_f(T cond, T a, T b) { return cond != T(0) ? a : b; }

// Calls fn(Functor{}) for the functor of `k` (one switch outside the element loop).
template <typename Fn>
auto with_unary(UnaryKind k, Fn&& fn) {
  switch (k) {
    case UnaryKind::Relu: return fn(ReluF{});
    case UnaryKind::Tanh: return fn(TanhF{});
    case UnaryKind::Sigmoid: return fn(SigmoidF{});
    case UnaryKind::ScaledTanh: return fn(ScaledTanhF{});
    case UnaryKind::Exp: return fn(ExpF{});
    case UnaryKind::Log: return fn(LogF{});
    case UnaryKind::Sqrt: return fn(SqrtF{});
    case UnaryKind::Square: return fn(SquareF{});
    case UnaryKind::Abs: return fn(AbsF{});
    case UnaryKind::Sign: return fn(SignF{});
    case UnaryKind::Gelu: return fn(GeluF{});
    case UnaryKind::Neg: break;
  }
  return fn(NegF{});
}
template <typename Fn>
auto with_binary(BinaryKind k, Fn&& fn) {
  switch (k) {
    case BinaryKind::Add: return fn(AddF{});
    case BinaryKind::Sub: return fn(SubF{});
    case BinaryKind::Mul: return fn(MulF{});
    case BinaryKind::Maximum: return fn(MaximumF{});
    case BinaryKind::Minimum: return fn(MinimumF{});
    case BinaryKind::Pow: return fn(PowF{});
    case BinaryKind::Div: break;
  }
  return fn(DivF{});
}

}  // namespace mrnn
