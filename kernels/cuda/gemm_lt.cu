// The f32 GEMM precision switch and the BF16 GEMM path (issue 6, kernel 5): operands are rounded
// to bfloat16 (kernels/common/bf16.h, round to nearest even) into allocator workspace with
// leading dimensions padded to 8 elements, by a coalesced tiled conversion, then one
// cublasLtMatmul multiplies them on the tensor cores with f32 accumulation (CUBLAS_COMPUTE_32F)
// and writes the f32 output, with alpha/beta as in cuda::gemm.
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <mutex>

#include <cublasLt.h>

#include "kernels/common/bf16.h"
#include "kernels/common/matmul_precision.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_lt.h"
#include "kernels/cuda/device.h"
#include "kernels/ops.h"  // narrow

namespace mrnn::cuda {

namespace {

std::atomic<bool> g_bf16{false};

// One cuBLASLt handle per device, created on first use and kept for the process (see blas_handle).
cublasLtHandle_t lt_handle(int device) {
  static std::mutex mu;
  static std::array<cublasLtHandle_t, 64> handles{};
  MRNN_CHECK(device >= 0 && device < 64, "cuda: device {} is beyond the 64 this build supports", device);
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device]) MRNN_CUDA_CHECK(cublasLtCreate(&handles[device]));
  return handles[device];
}

// Leading dimensions of the bf16 operands are padded to this many elements (16 bytes): with other
// leading dimensions cuBLASLt's heuristics may offer no tensor-core algorithm at all.
constexpr int64_t kLdMultiple = 8;
int64_t padded_ld(int64_t cols) { return (cols + kLdMultiple - 1) / kLdMultiple * kLdMultiple; }

constexpr int kTile = 32, kTileRows = 8;  // 32 x 32 tiles, 32 x 8 threads

// dst (row-major [rows, ld] bf16 bits) := op(src) rounded, where element (i, j) of op(src) is
// src[i * s0 + j * s1], and 0 in the padding columns cols <= j < ld. Through a shared-memory tile,
// so both the reads and the writes are coalesced: with kRowsFast (s0 the smaller stride, e.g. a
// transposed weight) the warp's threads read consecutive i, else consecutive j; they always write
// consecutive j. grid.x covers ld, grid.y strides over the rows.
template <bool kRowsFast>
__global__ void to_bf16_kernel(const float* __restrict__ src, int64_t s0, int64_t s1, uint16_t* __restrict__ dst,
                               int64_t rows, int64_t cols, int64_t ld) {
  __shared__ float tile[kTile][kTile + 1];  // [i][j], +1: no bank conflicts on the column reads
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kTile;
  for (int64_t i0 = static_cast<int64_t>(blockIdx.y) * kTile; i0 < rows; i0 += static_cast<int64_t>(gridDim.y) * kTile) {
    for (int k = threadIdx.y; k < kTile; k += kTileRows) {
      const int li = kRowsFast ? threadIdx.x : k, lj = kRowsFast ? k : threadIdx.x;
      const int64_t i = i0 + li, j = j0 + lj;
      tile[li][lj] = i < rows && j < cols ? src[i * s0 + j * s1] : 0.0f;
    }
    __syncthreads();
    for (int k = threadIdx.y; k < kTile; k += kTileRows) {
      const int64_t i = i0 + k, j = j0 + threadIdx.x;
      if (i < rows && j < ld) dst[i * ld + j] = j < cols ? float_to_bf16_bits(tile[k][threadIdx.x]) : uint16_t{0};
    }
    __syncthreads();
  }
}

// op(x) as a row-major [rows, ld] bf16 matrix (ld = padded_ld(cols)) in a fresh allocator block (an
// i32 tensor of half as many elements: two bf16 values per element).
struct Bf16Matrix {
  Tensor buf;
  int64_t ld;
};
Bf16Matrix to_bf16(const Tensor& x, bool trans, const Launch& l) {
  const int64_t rows = trans ? x.size(1) : x.size(0), cols = trans ? x.size(0) : x.size(1);
  const int64_t s0 = trans ? x.strides()[1] : x.strides()[0], s1 = trans ? x.strides()[0] : x.strides()[1];
  const int64_t ld = padded_ld(cols);
  Tensor buf = Tensor::empty({(rows * ld + 1) / 2}, DType::I32, x.device());
  const dim3 grid(grid_dim((ld + kTile - 1) / kTile, "gemm_bf16"),
                  static_cast<unsigned>(std::min<int64_t>((rows + kTile - 1) / kTile, 65535)));
  const dim3 block(kTile, kTileRows);
  uint16_t* dst = reinterpret_cast<uint16_t*>(ptr<int32_t>(buf));
  // Rows are the fast source dimension when consecutive i are closer in memory than consecutive j
  // (a size-1 dimension's stride does not count).
  const bool rows_fast = rows > 1 && (cols == 1 || std::abs(s0) < std::abs(s1));
  if (rows_fast)
    to_bf16_kernel<true><<<grid, block, 0, l.stream>>>(ptr<float>(x), s0, s1, dst, rows, cols, ld);
  else
    to_bf16_kernel<false><<<grid, block, 0, l.stream>>>(ptr<float>(x), s0, s1, dst, rows, cols, ld);
  MRNN_CUDA_CHECK_LAUNCH("to_bf16_kernel", l.stream);
  return {buf, ld};
}

// RAII owners of the cuBLASLt descriptors.
struct MatmulDesc {
  cublasLtMatmulDesc_t d = nullptr;
  MatmulDesc() { MRNN_CUDA_CHECK(cublasLtMatmulDescCreate(&d, CUBLAS_COMPUTE_32F, CUDA_R_32F)); }
  ~MatmulDesc() { cublasLtMatmulDescDestroy(d); }
  MatmulDesc(const MatmulDesc&) = delete;
  MatmulDesc& operator=(const MatmulDesc&) = delete;
};
struct Layout {
  cublasLtMatrixLayout_t l = nullptr;
  Layout(cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld) {
    MRNN_CUDA_CHECK(cublasLtMatrixLayoutCreate(&l, t, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld));
  }
  ~Layout() { cublasLtMatrixLayoutDestroy(l); }
  Layout(const Layout&) = delete;
  Layout& operator=(const Layout&) = delete;
};
struct Preference {
  cublasLtMatmulPreference_t p = nullptr;
  Preference() { MRNN_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&p)); }
  ~Preference() { cublasLtMatmulPreferenceDestroy(p); }
  Preference(const Preference&) = delete;
  Preference& operator=(const Preference&) = delete;
};

constexpr size_t kWorkspaceBytes = size_t{32} << 20;  // cuBLASLt's recommendation for sm_90

// The largest power of two (up to 256) dividing the address: the alignment cuBLASLt may assume.
uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && a % al != 0) al /= 2;
  return al;
}

}  // namespace

void set_matmul_precision(MatmulPrecision p) {
  g_bf16 = p == MatmulPrecision::BF16;
  set_allow_tf32(p == MatmulPrecision::TF32);
}

MatmulPrecision matmul_precision() {
  if (g_bf16) return MatmulPrecision::BF16;
  return allow_tf32() ? MatmulPrecision::TF32 : MatmulPrecision::FP32;
}

void gemm_bf16(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, double alpha,
               double beta) {
  const char* op = "cuda::gemm_bf16";
  common_device(op, {&a, &b, &c});
  check_same_dtype(op, {&a, &b, &c});
  MRNN_CHECK(c.dtype() == DType::F32, "{}: expected f32 operands, got {}", op, c.desc());
  MRNN_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2, "{}: expected 2-d operands, got {}, {}, {}", op, a.desc(),
             b.desc(), c.desc());
  const int64_t m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
  const int64_t n = trans_b ? b.size(0) : b.size(1);
  MRNN_CHECK((trans_b ? b.size(1) : b.size(0)) == k, "{}: inner sizes of {} and {} differ", op, a.desc(), b.desc());
  MRNN_CHECK(c.size(0) == m && c.size(1) == n && (c.strides()[1] == 1 || n <= 1) &&
                 (m <= 1 || c.strides()[0] >= std::max<int64_t>(n, 1)),
             "{}: output {} (strides {}) is not a [{}, {}] matrix with unit column stride", op, c.desc(),
             shape_str(c.strides()), m, n);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta * C, as cuda::gemm
    if (beta == 0)
      fill(c, 0);
    else
      affine(c, beta, 0, c);
    return;
  }
  Launch l(c);
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T. With op(A) stored as a
  // row-major [m, k] bf16 matrix (column-major k x m, ld lda >= k) and op(B) as row-major [k, n]
  // (column-major n x k, ld ldb >= n), cuBLASLt computes C^T = Bbuf * Abuf with no transposes.
  // The conversion runs on every call (weights change between steps; a cache keyed by address
  // could serve stale values), coalesced both ways and padded so the heuristics find algorithms.
  const Bf16Matrix abuf = to_bf16(a, trans_a, l), bbuf = to_bf16(b, trans_b, l);
  cublasLtHandle_t h = lt_handle(l.device);
  MatmulDesc desc;
  const cublasOperation_t no = CUBLAS_OP_N;
  MRNN_CUDA_CHECK(cublasLtMatmulDescSetAttribute(desc.d, CUBLASLT_MATMUL_DESC_TRANSA, &no, sizeof no));
  MRNN_CUDA_CHECK(cublasLtMatmulDescSetAttribute(desc.d, CUBLASLT_MATMUL_DESC_TRANSB, &no, sizeof no));
  const Layout la(CUDA_R_16BF, n, k, bbuf.ld), lb(CUDA_R_16BF, k, m, abuf.ld);
  // The heuristic's best algorithm for an f32 output of leading dimension ldc at `out`, if any.
  auto pick = [&](const Layout& lc, const void* out, cublasLtMatmulHeuristicResult_t* heur) {
    Preference pref;
    const uint64_t ws = kWorkspaceBytes;
    MRNN_CUDA_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref.p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    const uint32_t align_c = alignment_of(out);
    MRNN_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                                         sizeof align_c));
    MRNN_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.p, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                                         sizeof align_c));
    int found = 0;
    MRNN_CUDA_CHECK(cublasLtMatmulAlgoGetHeuristic(h, desc.d, la.l, lb.l, lc.l, lc.l, pref.p, 1, heur, &found));
    return found > 0;
  };
  const float fa = static_cast<float>(alpha), fb = static_cast<float>(beta);
  Tensor workspace = Tensor::empty({static_cast<int64_t>(kWorkspaceBytes / 4)}, DType::I32, c.device());
  auto matmul = [&](const Layout& lc, float* out, const cublasLtMatmulHeuristicResult_t& heur) {
    MRNN_CUDA_CHECK(cublasLtMatmul(h, desc.d, &fa, ptr<int32_t>(bbuf.buf), la.l, ptr<int32_t>(abuf.buf), lb.l, &fb,
                                   out, lc.l, out, lc.l, &heur.algo, ptr<int32_t>(workspace), kWorkspaceBytes,
                                   l.stream));
  };
  const int64_t ldc = m <= 1 ? std::max<int64_t>(n, 1) : c.strides()[0];
  cublasLtMatmulHeuristicResult_t heur{};
  {
    const Layout lc(CUDA_R_32F, n, m, ldc);
    if (pick(lc, ptr<float>(c), &heur)) {
      matmul(lc, ptr<float>(c), heur);
      return;
    }
  }
  // No algorithm for C as it lies (an odd leading dimension, an unaligned view): through a padded
  // contiguous buffer, copied in (when beta reads it) and out on the device.
  const int64_t ldt = padded_ld(n);
  Tensor tmp = Tensor::empty({m, ldt}, DType::F32, c.device());
  const Tensor view = narrow(tmp, 1, 0, n);
  if (beta != 0) copy(c, view);
  const Layout lt(CUDA_R_32F, n, m, ldt);
  MRNN_CHECK(pick(lt, ptr<float>(tmp), &heur),
             "{}: unsupported: cuBLASLt offers no BF16 algorithm for [{}, {}] x [{}, {}] into {} (ldc {}), nor into a "
             "padded buffer (ld {})",
             op, m, k, k, n, c.desc(), ldc, ldt);
  matmul(lt, ptr<float>(tmp), heur);
  copy(view, c);
}

}  // namespace mrnn::cuda
