// matmul / addmm / linear. Gradients are themselves GEMMs on transposed views (no copies).
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

void check_mm(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, {&a, &b});
  check_same_device(op, {&a, &b});
  check_same_dtype(op, {&a, &b});
  require_backend(op, a);
}

// Plain 2-d product without autograd.
Tensor mm_raw(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty({a.size(0), b.size(1)}, a.dtype(), a.device());
  MRNN_DISPATCH(a.device(), gemm, a, false, b, false, out, 1.0, 0.0);
  return out;
}

Tensor bmm_raw(const Tensor& a, const Tensor& b) {
  const int64_t B = a.size(0);
  Tensor out = Tensor::empty({B, a.size(1), b.size(2)}, a.dtype(), a.device());
#ifdef MRNN_WITH_CUDA
  if (a.device().is_cuda()) {  // one strided-batched cuBLAS call instead of B launches
    cuda::gemm_batched(a, b, out);
    return out;
  }
#endif
  for (int64_t i = 0; i < B; ++i) {
    Tensor ai = Tensor::view_of(a, {a.size(1), a.size(2)}, {a.strides()[1], a.strides()[2]},
                                a.offset() + i * a.strides()[0]);
    Tensor bi = Tensor::view_of(b, {b.size(1), b.size(2)}, {b.strides()[1], b.strides()[2]},
                                b.offset() + i * b.strides()[0]);
    Tensor oi = Tensor::view_of(out, {a.size(1), b.size(2)}, {b.size(2), 1}, i * a.size(1) * b.size(2));
    cpu::gemm(ai, false, bi, false, oi, 1.0, 0.0);
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_mm("matmul", a, b);
  if (a.dim() == 2 && b.dim() == 2) {
    MRNN_CHECK(a.size(1) == b.size(0), "matmul: inner dimensions differ: {} @ {}", a.desc(), b.desc());
    Tensor out = mm_raw(a, b);
    if (needs_grad({&a, &b})) {
      Tensor ad = a.detach(), bd = b.detach();
      bool ga = a.requires_grad(), gb = b.requires_grad();
      attach_grad(out, "matmul", {a, b}, [ad, bd, ga, gb](const Tensor& g) {
        return std::vector<Tensor>{ga ? mm_raw(g, transpose(bd, 0, 1)) : Tensor(),
                                   gb ? mm_raw(transpose(ad, 0, 1), g) : Tensor()};
      });
    }
    return out;
  }
  if (a.dim() == 3 && b.dim() == 3) {
    MRNN_CHECK(a.size(0) == b.size(0) && a.size(2) == b.size(1), "matmul: batched shapes do not match: {} @ {}",
               a.desc(), b.desc());
    Tensor out = bmm_raw(a, b);
    if (needs_grad({&a, &b})) {
      Tensor ad = a.detach(), bd = b.detach();
      bool ga = a.requires_grad(), gb = b.requires_grad();
      attach_grad(out, "bmm", {a, b}, [ad, bd, ga, gb](const Tensor& g) {
        return std::vector<Tensor>{ga ? bmm_raw(g, transpose(bd, 1, 2)) : Tensor(),
                                   gb ? bmm_raw(transpose(ad, 1, 2), g) : Tensor()};
      });
    }
    return out;
  }
  if (a.dim() == 3 && b.dim() == 2) {
    MRNN_CHECK(a.size(2) == b.size(0), "matmul: inner dimensions differ: {} @ {}", a.desc(), b.desc());
    Tensor out = matmul(reshape(a, {a.size(0) * a.size(1), a.size(2)}), b);
    return reshape(out, {a.size(0), a.size(1), b.size(1)});
  }
  MRNN_FAIL("matmul: supports 2-d @ 2-d, 3-d @ 3-d and 3-d @ 2-d, got {} @ {}", a.desc(), b.desc());
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b) {
  check_mm("addmm", a, b);
  check_defined("addmm", {&bias});
  check_same_device("addmm", {&a, &bias});
  check_same_dtype("addmm", {&a, &bias});
  MRNN_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "addmm: shapes do not match: {} @ {}",
             a.desc(), b.desc());
  MRNN_CHECK(bias.dim() == 1 && bias.size(0) == b.size(1), "addmm: bias {} does not match output columns {}",
             bias.desc(), b.size(1));
  Tensor out = Tensor::empty({a.size(0), b.size(1)}, a.dtype(), a.device());
  {
    NoGradGuard ng;
    out.copy_(expand(bias, out.shape()));
  }
  MRNN_DISPATCH(a.device(), gemm, a, false, b, false, out, 1.0, 1.0);
  if (needs_grad({&bias, &a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool gbias = bias.requires_grad(), ga = a.requires_grad(), gb = b.requires_grad();
    attach_grad(out, "addmm", {bias, a, b}, [ad, bd, gbias, ga, gb](const Tensor& g) {
      return std::vector<Tensor>{gbias ? sum(g, {0}) : Tensor(), ga ? mm_raw(g, transpose(bd, 0, 1)) : Tensor(),
                                 gb ? mm_raw(transpose(ad, 0, 1), g) : Tensor()};
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_defined("linear", {&x, &w});
  MRNN_CHECK(w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1),
             "linear: input {} does not match weight {} (expected [..., {}])", x.desc(), w.desc(), w.dim() == 2 ? w.size(1) : -1);
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  Tensor x2 = x.dim() == 2 ? x : reshape(x, {x.numel() / w.size(1), w.size(1)});
  Tensor wt = transpose(w, 0, 1);
  Tensor y = b.defined() ? addmm(b, x2, wt) : matmul(x2, wt);
  return x.dim() == 2 ? y : reshape(y, out_shape);
}

}  // namespace mrnn
