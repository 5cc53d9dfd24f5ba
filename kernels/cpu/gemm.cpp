// GEMM through OpenBLAS. Views whose layout is row- or column-major are passed to cblas as
// (transposed) operands with their leading dimension, so transposes never cost a copy.
#include <cblas.h>

#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

namespace {

struct Operand {
  Tensor t;        // the tensor actually passed (maybe a contiguous copy)
  bool trans;      // cblas transpose flag for the row-major call
  int64_t ld;
};

// Describes the 2-d view `x` (logical op(x) = trans ? x^T : x) as a row-major cblas operand.
Operand as_operand(const Tensor& x, bool trans) {
  const int64_t r = x.size(0), c = x.size(1), s0 = x.strides()[0], s1 = x.strides()[1];
  if ((s1 == 1 || c == 1) && s0 >= std::max<int64_t>(c, 1)) return {x, trans, s0};
  if ((s0 == 1 || r == 1) && s1 >= std::max<int64_t>(r, 1)) return {x, !trans, s1};
  Tensor cx = x.contiguous();
  return {cx, trans, std::max<int64_t>(c, 1)};
}

}  // namespace

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha, double beta) {
  const int64_t m = trans_a ? a.size(1) : a.size(0);
  const int64_t k = trans_a ? a.size(0) : a.size(1);
  const int64_t n = trans_b ? b.size(0) : b.size(1);
  MRNN_CHECK(c.size(0) == m && c.size(1) == n && c.strides()[1] == 1, "gemm: bad output {}", c.desc());
  if (m == 0 || n == 0) return;
  Operand A = as_operand(a, trans_a), B = as_operand(b, trans_b);
  const int64_t ldc = std::max<int64_t>(c.strides()[0], std::max<int64_t>(n, 1));
  auto ta = A.trans ? CblasTrans : CblasNoTrans, tb = B.trans ? CblasTrans : CblasNoTrans;
  if (k == 0) {  // C = beta * C
    Tensor cc = c;
    if (beta == 0) cc.fill_(0);
    else affine(c, beta, 0, c);
    return;
  }
  if (c.dtype() == DType::F32) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, static_cast<float>(alpha), A.t.data<float>(), A.ld,
                B.t.data<float>(), B.ld, static_cast<float>(beta), c.data<float>(), ldc);
  } else if (c.dtype() == DType::F64) {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, A.t.data<double>(), A.ld, B.t.data<double>(), B.ld, beta,
                c.data<double>(), ldc);
  } else {
    MRNN_FAIL("gemm: expected f32 or f64, got {}", c.desc());
  }
}

}  // namespace mrnn::cpu
