// CPU elementwise loops: a flat vectorizable loop when every operand is contiguous, the strided
// walker otherwise. The math itself comes from kernels/common/elementwise.h.
#include "core/strided.h"
#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

namespace {
constexpr int64_t kParallelMin = 32768;

template <typename T>
T* ptr(const Tensor& t) { return static_cast<T*>(t.storage()->data()) + t.offset(); }

bool all_contiguous(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (!t->is_contiguous()) return false;
  return true;
}
}  // namespace

void unary(UnaryKind k, const Tensor& x, const Tensor& out) {
  dispatch_float(x.dtype(), "unary", [&](auto z) {
    using T = decltype(z);
    const T* px = ptr<T>(x);
    T* po = ptr<T>(out);
    const int64_t n = x.numel();
    with_unary(k, [&](auto F) {
      using Fn = decltype(F);
      if (x.is_contiguous()) {
        const T* xs = px;  // locals, not the lambda's captures: lets the loop vectorize
        T* os = po;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
        for (int64_t i = 0; i < n; ++i) os[i] = Fn::f(xs[i]);
      } else {
        for_each_strided<1>(x.shape(), {x.strides().data()},
                            [&](int64_t i, const std::array<int64_t, 1>& o) { po[i] = Fn::f(px[o[0]]); });
      }
    });
  });
}

void unary_backward(UnaryKind k, const Tensor& x, const Tensor& y, const Tensor& g, const Tensor& gx) {
  dispatch_float(x.dtype(), "unary_backward", [&](auto z) {
    using T = decltype(z);
    const T *px = ptr<T>(x), *py = ptr<T>(y), *pg = ptr<T>(g);
    T* po = ptr<T>(gx);
    const int64_t n = x.numel();
    with_unary(k, [&](auto F) {
      using Fn = decltype(F);
      if (all_contiguous({&x, &y, &g})) {
        const T *xs = px, *ys = py, *gs = pg;  // locals: see unary
        T* os = po;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
        for (int64_t i = 0; i < n; ++i) os[i] = Fn::df(xs[i], ys[i], gs[i]);
      } else {
        for_each_strided<3>(x.shape(), {x.strides().data(), y.strides().data(), g.strides().data()},
                            [&](int64_t i, const std::array<int64_t, 3>& o) {
                              po[i] = Fn::df(px[o[0]], py[o[1]], pg[o[2]]);
                            });
      }
    });
  });
}

void binary(BinaryKind k, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "binary", [&](auto z) {
    using T = decltype(z);
    const T *pa = ptr<T>(a), *pb = ptr<T>(b);
    T* po = ptr<T>(out);
    const int64_t n = out.numel();
    with_binary(k, [&](auto F) {
      using Fn = decltype(F);
      if (a.shape() == out.shape() && b.shape() == out.shape() && all_contiguous({&a, &b})) {
        const T *as = pa, *bs = pb;  // locals: see unary
        T* os = po;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
        for (int64_t i = 0; i < n; ++i) os[i] = Fn::f(as[i], bs[i]);
      } else if (a.shape() == out.shape() && a.is_contiguous() && b.numel() == 1) {
        const T s = pb[0];
        const T* as = pa;
        T* os = po;
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
        for (int64_t i = 0; i < n; ++i) os[i] = Fn::f(as[i], s);
      } else {
        Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
        Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
        for_each_strided<2>(out.shape(), {sa.data(), sb.data()}, [&](int64_t i, const std::array<int64_t, 2>& o) {
          po[i] = Fn::f(pa[o[0]], pb[o[1]]);
        });
      }
    });
  });
}

void affine(const Tensor& x, double mul, double add, const Tensor& out) {
  dispatch_float(x.dtype(), "affine", [&](auto z) {
    using T = decltype(z);
    const T* px = ptr<T>(x);
    T* po = ptr<T>(out);
    const T m = static_cast<T>(mul), a = static_cast<T>(add);
    const int64_t n = x.numel();
    if (x.is_contiguous()) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
      for (int64_t i = 0; i < n; ++i) po[i] = px[i] * m + a;
    } else {
      for_each_strided<1>(x.shape(), {x.strides().data()},
                          [&](int64_t i, const std::array<int64_t, 1>& o) { po[i] = px[o[0]] * m + a; });
    }
  });
}

void clamp(const Tensor& x, double lo, double hi, const Tensor& out) {
  dispatch_float(x.dtype(), "clamp", [&](auto z) {
    using T = decltype(z);
    const T* px = ptr<T>(x);
    T* po = ptr<T>(out);
    for_each_strided<1>(x.shape(), {x.strides().data()}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      po[i] = clamp_f<T>(px[o[0]], T(lo), T(hi));
    });
  });
}

void clamp_backward(const Tensor& x, double lo, double hi, const Tensor& g, const Tensor& gx) {
  dispatch_float(x.dtype(), "clamp_backward", [&](auto z) {
    using T = decltype(z);
    const T *px = ptr<T>(x), *pg = ptr<T>(g);
    T* po = ptr<T>(gx);
    for_each_strided<2>(x.shape(), {x.strides().data(), g.strides().data()},
                        [&](int64_t i, const std::array<int64_t, 2>& o) {
                          po[i] = clamp_df<T>(px[o[0]], T(lo), T(hi), pg[o[1]]);
                        });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "where", [&](auto z) {
    using T = decltype(z);
    const T *pc = ptr<T>(cond), *pa = ptr<T>(a), *pb = ptr<T>(b);
    T* po = ptr<T>(out);
    Shape sc = broadcast_strides(cond.shape(), cond.strides(), out.shape());
    Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
    Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
    for_each_strided<3>(out.shape(), {sc.data(), sa.data(), sb.data()}, [&](int64_t i, const std::array<int64_t, 3>& o) {
      po[i] = where_f<T>(pc[o[0]], pa[o[1]], pb[o[2]]);
    });
  });
}

}  // namespace mrnn::cpu
