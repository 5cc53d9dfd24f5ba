// Matrix products through cuBLAS: gemm (any row/column-major 2-d views) and gemm_batched; bf16
// mode goes to cuBLASLt (kernels/cuda/gemm_lt.cu).
#include "kernels/common/matmul_precision.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gemm_lt.h"
#include "kernels/cuda/library_args.cuh"

namespace mrnn::cuda {

namespace {

// A 2-d view as a cuBLAS operand. Row-major storage with leading dimension ld is column-major
// storage of the transpose, so a row-major product C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T: operands swap and each keeps its own transpose flag.
struct Operand {
  Tensor t;
  bool trans;
  int64_t ld;
};

Operand as_operand(const Tensor& x, bool trans) {
  const int64_t r = x.size(0), c = x.size(1), s0 = x.strides()[0], s1 = x.strides()[1];
  if ((s1 == 1 || c == 1) && s0 >= std::max<int64_t>(c, 1)) return {x, trans, s0};
  if ((s0 == 1 || r == 1) && s1 >= std::max<int64_t>(r, 1)) return {x, !trans, s1};
  Tensor cx = x.contiguous();
  return {cx, trans, std::max<int64_t>(c, 1)};
}

struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
};

GemmTypes gemm_types(DType dt, const char* op) {
  if (dt == DType::F32) return {CUDA_R_32F, allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
  MRNN_CHECK(dt == DType::F64, "{}: expected f32 or f64, got {}", op, dtype_name(dt));
  return {CUDA_R_64F, CUBLAS_COMPUTE_64F};
}


}  // namespace

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha, double beta) {
  common_device("gemm", {&a, &b, &c});
  check_same_dtype("cuda::gemm", {&a, &b, &c});
  MRNN_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2, "cuda::gemm: expected 2-d operands, got {}, {}, {}",
             a.desc(), b.desc(), c.desc());
  const int64_t m = trans_a ? a.size(1) : a.size(0);
  const int64_t k = trans_a ? a.size(0) : a.size(1);
  const int64_t n = trans_b ? b.size(0) : b.size(1);
  MRNN_CHECK((trans_b ? b.size(1) : b.size(0)) == k, "cuda::gemm: inner sizes of {} and {} differ", a.desc(),
             b.desc());
  // C is written as column-major C^T with leading dimension ldc = C's row stride: its rows must not
  // overlap (a single row may have any stride).
  MRNN_CHECK(c.size(0) == m && c.size(1) == n && (c.strides()[1] == 1 || n <= 1) &&
                 (m <= 1 || c.strides()[0] >= std::max<int64_t>(n, 1)),
             "cuda::gemm: output {} (strides {}) is not a [{}, {}] matrix with unit column stride", c.desc(),
             shape_str(c.strides()), m, n);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta * C
    if (beta == 0) fill(c, 0);
    else affine(c, beta, 0, c);
    return;
  }
  if (c.dtype() == DType::F32 && matmul_precision() == MatmulPrecision::BF16) {  // set_matmul_precision(BF16)
    gemm_bf16(a, trans_a, b, trans_b, c, alpha, beta);
    return;
  }
  const GemmTypes ty = gemm_types(c.dtype(), "gemm");
  Operand A = as_operand(a, trans_a), B = as_operand(b, trans_b);
  const int64_t ldc = std::max<int64_t>(c.strides()[0], std::max<int64_t>(n, 1));
  Launch l(c);
  const Scalars s = scalars(alpha, beta);
  MRNN_CUDA_CHECK(cublasGemmEx(blas_handle(l.device, l.stream), B.trans ? CUBLAS_OP_T : CUBLAS_OP_N,
                               A.trans ? CUBLAS_OP_T : CUBLAS_OP_N, as_int(n, "n"), as_int(m, "m"), as_int(k, "k"),
                               s.alpha(c.dtype()), B.t.raw_data(), ty.data, as_int(B.ld, "ldb"), A.t.raw_data(),
                               ty.data, as_int(A.ld, "lda"), s.beta(c.dtype()), c.raw_data(), ty.data,
                               as_int(ldc, "ldc"), ty.compute, CUBLAS_GEMM_DEFAULT));
}

void gemm_batched(const Tensor& a, const Tensor& b, const Tensor& out) {
  common_device("gemm_batched", {&a, &b, &out});
  check_same_dtype("cuda::gemm_batched", {&a, &b, &out});
  MRNN_CHECK(a.dim() == 3 && b.dim() == 3 && out.dim() == 3 && b.size(0) == a.size(0) && b.size(1) == a.size(2),
             "cuda::gemm_batched: expected [B, M, K] @ [B, K, N], got {} @ {}", a.desc(), b.desc());
  const int64_t B = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  MRNN_CHECK(out.is_contiguous() && out.size(0) == B && out.size(1) == m && out.size(2) == n,
             "cuda::gemm_batched: bad output {}", out.desc());
  if (B == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    fill(out, 0);
    return;
  }
  // The layout of one matrix decides the operand; the batch stride is the view's dim-0 stride.
  auto slice = [](const Tensor& t) {
    return Tensor::view_of(t, {t.size(1), t.size(2)}, {t.strides()[1], t.strides()[2]}, t.offset());
  };
  Tensor a3 = a, b3 = b;
  Operand A = as_operand(slice(a3), false);
  if (!A.t.shares_storage(a3) || A.t.offset() != a3.offset()) {  // needed a copy: pack the whole batch
    a3 = a.contiguous();
    A = as_operand(slice(a3), false);
  }
  Operand Bo = as_operand(slice(b3), false);
  if (!Bo.t.shares_storage(b3) || Bo.t.offset() != b3.offset()) {
    b3 = b.contiguous();
    Bo = as_operand(slice(b3), false);
  }
  const GemmTypes ty = gemm_types(out.dtype(), "bmm");
  Launch l(out);
  const Scalars s = scalars(1.0, 0.0);
  MRNN_CUDA_CHECK(cublasGemmStridedBatchedEx(
      blas_handle(l.device, l.stream), Bo.trans ? CUBLAS_OP_T : CUBLAS_OP_N, A.trans ? CUBLAS_OP_T : CUBLAS_OP_N,
      as_int(n, "n"), as_int(m, "m"), as_int(k, "k"), s.alpha(out.dtype()), b3.raw_data(), ty.data,
      as_int(Bo.ld, "ldb"), b3.strides()[0], a3.raw_data(), ty.data, as_int(A.ld, "lda"), a3.strides()[0],
      s.beta(out.dtype()), out.raw_data(), ty.data, as_int(n, "ldc"), m * n, as_int(B, "batch"), ty.compute,
      CUBLAS_GEMM_DEFAULT));
}

}  // namespace mrnn::cuda
