// GEMM through cuBLAS, convolution and pooling through cuDNN, and the embedding gather/scatter
// (deterministic sort-based or atomic backward).
#include <climits>

#include <cub/device/device_radix_sort.cuh>

#include "kernels/common/matmul_precision.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gemm_lt.h"

namespace mrnn::cuda {

namespace {

int as_int(int64_t v, const char* what) {
  MRNN_CHECK(v >= 0 && v <= INT32_MAX, "cuda: {} = {} does not fit the 32-bit size cuBLAS/cuDNN take", what, v);
  return static_cast<int>(v);
}

// ---------------- GEMM ----------------
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

// alpha/beta in the compute type's scalar type.
struct Scalars {
  float f[2];
  double d[2];
  const void* alpha(DType dt) const { return dt == DType::F32 ? static_cast<const void*>(&f[0]) : &d[0]; }
  const void* beta(DType dt) const { return dt == DType::F32 ? static_cast<const void*>(&f[1]) : &d[1]; }
};
Scalars scalars(double alpha, double beta) {
  return {{static_cast<float>(alpha), static_cast<float>(beta)}, {alpha, beta}};
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

// ---------------- embedding ----------------
namespace {

// One block scans all indices: info[0] = first position whose index is outside [0, v), or -1.
template <typename I>
__global__ void check_indices_kernel(const I* idx, int64_t n, int64_t v, int64_t* info) {
  __shared__ long long s[kThreads];
  long long bad = LLONG_MAX;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t id = static_cast<int64_t>(idx[i]);
    if ((id < 0 || id >= v) && i < bad) bad = i;
  }
  s[threadIdx.x] = bad;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k && s[threadIdx.x + k] < s[threadIdx.x]) s[threadIdx.x] = s[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) info[0] = s[0] == LLONG_MAX ? -1 : s[0];
}

template <typename T, typename I>
__global__ void gather_rows_kernel(const T* w, const I* idx, T* out, int64_t n, int64_t d, int64_t v) {
  const int64_t total = n * d, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t / d, j = t % d, id = static_cast<int64_t>(idx[i]);
    out[t] = (id >= 0 && id < v) ? w[id * d + j] : T(0);  // bad rows are reported by the host
  }
}

template <typename T, typename I>
__global__ void scatter_add_atomic_kernel(const T* g, const I* idx, T* gw, int64_t n, int64_t d) {
  const int64_t total = n * d, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t / d, j = t % d;
    atomicAdd(gw + static_cast<int64_t>(idx[i]) * d + j, g[t]);
  }
}

template <typename I>
__global__ void make_keys_kernel(const I* idx, uint64_t* keys, int64_t* pos, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    keys[i] = static_cast<uint64_t>(static_cast<int64_t>(idx[i]));
    pos[i] = i;
  }
}

// Block i handles sorted position i if it starts a run of equal keys: each thread owns columns and
// sums the run's gradient rows in their original order (the stable sort kept it), then writes the
// weight row once. Same additions in the same order as the CPU loop, hence the same bits.
template <typename T>
__global__ void segment_sum_kernel(const uint64_t* keys, const int64_t* pos, const T* g, T* gw, int64_t n, int64_t d) {
  const int64_t i = blockIdx.x;
  const uint64_t key = keys[i];
  if (i > 0 && keys[i - 1] == key) return;
  int64_t end = i + 1;
  while (end < n && keys[end] == key) ++end;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    T acc = T(0);
    for (int64_t r = i; r < end; ++r) acc += g[pos[r] * d + j];
    gw[static_cast<int64_t>(key) * d + j] = acc;
  }
}

template <typename Fn>
void with_index_type(const Tensor& t, Fn&& fn) {
  MRNN_CHECK(t.dtype() == DType::I64 || t.dtype() == DType::I32, "embedding: indices must be i64 or i32, got {}",
             t.desc());
  if (t.dtype() == DType::I64) fn(int64_t{});
  else fn(int32_t{});
}

int bits_for(int64_t v) {  // bits needed for values in [0, v)
  int b = 1;
  while (b < 63 && (int64_t{1} << b) < v) ++b;
  return b;
}

}  // namespace

void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  common_device("embedding", {&weight, &indices, &out});
  MRNN_CHECK(weight.is_contiguous() && indices.is_contiguous() && out.is_contiguous() && weight.dim() == 2 &&
                 out.dtype() == weight.dtype() && out.numel() == indices.numel() * weight.size(1),
             "cuda::embedding: expected contiguous weight [V, D], indices and output [..., D]; got {}, {}, {}",
             weight.desc(), indices.desc(), out.desc());
  const int64_t v = weight.size(0), d = weight.size(1), n = indices.numel();
  if (n == 0) return;
  Launch l(weight);
  Tensor info = Tensor::empty({1}, DType::I64, weight.device());
  with_index_type(indices, [&](auto iz) {
    using I = decltype(iz);
    check_indices_kernel<I><<<1, kThreads, 0, l.stream>>>(ptr<I>(indices), n, v, ptr<int64_t>(info));
    MRNN_CUDA_CHECK_LAUNCH("embedding(check)", l.stream);
    if (d == 0) return;
    dispatch_float(weight.dtype(), "embedding", [&](auto z) {
      using T = decltype(z);
      gather_rows_kernel<T, I><<<grid_for(n * d, l.device), kThreads, 0, l.stream>>>(ptr<T>(weight), ptr<I>(indices),
                                                                                     ptr<T>(out), n, d, v);
      MRNN_CUDA_CHECK_LAUNCH("embedding", l.stream);
    });
  });
  const int64_t bad = info.to_vector<int64_t>()[0];  // blocks the host
  if (bad >= 0) {
    const int64_t id = indices.detach().to(Device::cpu()).to_vector<int64_t>()[bad];
    MRNN_FAIL("embedding: index {} at position {} is outside the table of {} rows", id, bad, v);
  }
}

void embedding_backward(const Tensor& g, const Tensor& indices, const Tensor& gweight) {
  common_device("embedding_backward", {&g, &indices, &gweight});
  MRNN_CHECK(g.is_contiguous() && indices.is_contiguous() && gweight.is_contiguous() && gweight.dim() == 2 &&
                 g.dtype() == gweight.dtype() && g.numel() == indices.numel() * gweight.size(1),
             "cuda::embedding_backward: expected contiguous g [..., D], indices and gweight [V, D]; got {}, {}, {}",
             g.desc(), indices.desc(), gweight.desc());
  const int64_t v = gweight.size(0), d = gweight.size(1), n = indices.numel();
  if (n == 0 || d == 0) return;
  Launch l(g);
  with_index_type(indices, [&](auto iz) {
    using I = decltype(iz);
    dispatch_float(g.dtype(), "embedding_backward", [&](auto z) {
      using T = decltype(z);
      if (!deterministic()) {
        scatter_add_atomic_kernel<T, I><<<grid_for(n * d, l.device), kThreads, 0, l.stream>>>(
            ptr<T>(g), ptr<I>(indices), ptr<T>(gweight), n, d);
        MRNN_CUDA_CHECK_LAUNCH("embedding_backward(atomic)", l.stream);
        return;
      }
      const Device dev = g.device();
      Tensor keys = Tensor::empty({n}, DType::I64, dev), pos = Tensor::empty({n}, DType::I64, dev);
      Tensor keys_sorted = Tensor::empty({n}, DType::I64, dev), pos_sorted = Tensor::empty({n}, DType::I64, dev);
      make_keys_kernel<I><<<grid_for(n, l.device), kThreads, 0, l.stream>>>(
          ptr<I>(indices), reinterpret_cast<uint64_t*>(ptr<int64_t>(keys)), ptr<int64_t>(pos), n);
      MRNN_CUDA_CHECK_LAUNCH("embedding_backward(keys)", l.stream);
      auto* k_in = reinterpret_cast<uint64_t*>(ptr<int64_t>(keys));
      auto* k_out = reinterpret_cast<uint64_t*>(ptr<int64_t>(keys_sorted));
      const int end_bit = bits_for(v);
      size_t temp_bytes = 0;
      MRNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, k_in, k_out, ptr<int64_t>(pos),
                                                      ptr<int64_t>(pos_sorted), n, 0, end_bit, l.stream));
      Tensor temp = Tensor::empty({static_cast<int64_t>((temp_bytes + 7) / 8) + 1}, DType::I64, dev);
      MRNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, k_in, k_out, ptr<int64_t>(pos),
                                                      ptr<int64_t>(pos_sorted), n, 0, end_bit, l.stream));
      const unsigned threads = static_cast<unsigned>(std::min<int64_t>(kThreads, (d + 31) / 32 * 32));
      segment_sum_kernel<T><<<grid_dim(n, "embedding_backward"), threads, 0, l.stream>>>(
          k_out, ptr<int64_t>(pos_sorted), ptr<T>(g), ptr<T>(gweight), n, d);
      MRNN_CUDA_CHECK_LAUNCH("embedding_backward(sorted)", l.stream);
    });
  });
}

// ---------------- cuDNN convolution and pooling ----------------
namespace {

// RAII for the cuDNN descriptor types.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(cudnnDataType_t dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    MRNN_CUDA_CHECK(cudnnCreateTensorDescriptor(&d));
    MRNN_CUDA_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, dt, as_int(n, "N"), as_int(c, "C"),
                                               as_int(h, "H"), as_int(w, "W")));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(cudnnDataType_t dt, const Tensor& w) {
    MRNN_CUDA_CHECK(cudnnCreateFilterDescriptor(&d));
    MRNN_CUDA_CHECK(cudnnSetFilter4dDescriptor(d, dt, CUDNN_TENSOR_NCHW, as_int(w.size(0), "O"), as_int(w.size(1), "C"),
                                               as_int(w.size(2), "KH"), as_int(w.size(3), "KW")));
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc(cudnnDataType_t dt, int64_t stride, int64_t pad) {
    MRNN_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&d));
    MRNN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(d, as_int(pad, "padding"), as_int(pad, "padding"),
                                                    as_int(stride, "stride"), as_int(stride, "stride"), 1, 1,
                                                    CUDNN_CROSS_CORRELATION, dt));
    // Without TF32, f32 convolutions must stay on FMA kernels (cuDNN's default math allows TF32).
    const cudnnMathType_t math =
        dt == CUDNN_DATA_FLOAT ? (allow_tf32() ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH) : CUDNN_DEFAULT_MATH;
    MRNN_CUDA_CHECK(cudnnSetConvolutionMathType(d, math));
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

struct PoolDesc {
  cudnnPoolingDescriptor_t d = nullptr;
  PoolDesc(bool max, int64_t k, int64_t s, int64_t p) {
    MRNN_CUDA_CHECK(cudnnCreatePoolingDescriptor(&d));
    const cudnnPoolingMode_t mode = max ? (deterministic() ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_MAX)
                                        : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    MRNN_CUDA_CHECK(cudnnSetPooling2dDescriptor(d, mode, CUDNN_PROPAGATE_NAN, as_int(k, "kernel"), as_int(k, "kernel"),
                                                as_int(p, "padding"), as_int(p, "padding"), as_int(s, "stride"),
                                                as_int(s, "stride")));
  }
  ~PoolDesc() { cudnnDestroyPoolingDescriptor(d); }
  PoolDesc(const PoolDesc&) = delete;
  PoolDesc& operator=(const PoolDesc&) = delete;
};

cudnnDataType_t dnn_type(DType dt, const char* op) {
  if (dt == DType::F32) return CUDNN_DATA_FLOAT;
  MRNN_CHECK(dt == DType::F64, "{}: expected f32 or f64, got {}", op, dtype_name(dt));
  return CUDNN_DATA_DOUBLE;
}

TensorDesc nchw(cudnnDataType_t dt, const Tensor& t) {
  return TensorDesc(dt, t.size(0), t.size(1), t.size(2), t.size(3));
}

// Every defined tensor on one CUDA device, contiguous, of one dtype; 4-d unless it is a bias.
void check_nchw(const char* op, std::initializer_list<const Tensor*> ts) {
  common_device(op, ts);
  const Tensor* first = *ts.begin();
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    MRNN_CHECK(t->is_contiguous() && t->dtype() == first->dtype() && (t->dim() == 4 || t->dim() == 1),
               "cuda::{}: expected contiguous {} NCHW tensors (or a bias), got {}", op, dtype_name(first->dtype()),
               t->desc());
  }
}

// Picks the first algorithm of cuDNN's heuristic ranking that succeeded, is deterministic when
// deterministic() is on, and uses tensor cores only when TF32 is allowed for f32.
template <typename Perf>
Perf choose(const Perf* perf, int count, cudnnDataType_t dt, const char* op) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS) continue;
    if (deterministic() && p.determinism != CUDNN_DETERMINISTIC) continue;
    if (dt == CUDNN_DATA_FLOAT && !allow_tf32() && p.mathType != CUDNN_DEFAULT_MATH && p.mathType != CUDNN_FMA_MATH)
      continue;
    return p;
  }
  MRNN_FAIL("{}: cuDNN offers no algorithm for this shape under the current settings (deterministic={}, tf32={})",
            op, deterministic(), allow_tf32());
}

constexpr int kMaxAlgos = 16;

Tensor workspace(size_t bytes, Device dev) {
  return Tensor::empty({static_cast<int64_t>((bytes + 7) / 8)}, DType::I64, dev);
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t pad, const Tensor& out) {
  check_nchw("conv2d_forward", {&x, &w, &b, &out});
  if (out.numel() == 0) return;
  const cudnnDataType_t dt = dnn_type(x.dtype(), "conv2d");
  Launch l(x);
  cudnnHandle_t h = dnn_handle(l.device, l.stream);
  TensorDesc xd = nchw(dt, x), yd = nchw(dt, out);
  FilterDesc wd(dt, w);
  ConvDesc cd(dt, stride, pad);
  cudnnConvolutionFwdAlgoPerf_t perf[kMaxAlgos];
  int count = 0;
  MRNN_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, xd.d, wd.d, cd.d, yd.d, kMaxAlgos, &count, perf));
  const auto algo = choose(perf, count, dt, "conv2d");
  size_t ws_bytes = 0;
  MRNN_CUDA_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, xd.d, wd.d, cd.d, yd.d, algo.algo, &ws_bytes));
  Tensor ws = workspace(ws_bytes, x.device());
  const Scalars one_zero = scalars(1.0, 0.0), one_one = scalars(1.0, 1.0);
  MRNN_CUDA_CHECK(cudnnConvolutionForward(h, one_zero.alpha(x.dtype()), xd.d, x.raw_data(), wd.d, w.raw_data(), cd.d,
                                          algo.algo, ws.raw_data(), ws_bytes, one_zero.beta(x.dtype()), yd.d,
                                          out.raw_data()));
  if (b.defined()) {
    TensorDesc bd(dt, 1, b.size(0), 1, 1);
    MRNN_CUDA_CHECK(cudnnAddTensor(h, one_one.alpha(x.dtype()), bd.d, b.raw_data(), one_one.beta(x.dtype()), yd.d,
                                   out.raw_data()));
  }
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& g, int64_t stride, int64_t pad, const Tensor& gx,
                     const Tensor& gw, const Tensor& gb) {
  check_nchw("conv2d_backward", {&x, &w, &g, &gx, &gw, &gb});
  const cudnnDataType_t dt = dnn_type(x.dtype(), "conv2d_backward");
  Launch l(x);
  cudnnHandle_t h = dnn_handle(l.device, l.stream);
  TensorDesc xd = nchw(dt, x), gd = nchw(dt, g);
  FilterDesc wd(dt, w);
  ConvDesc cd(dt, stride, pad);
  const Scalars s = scalars(1.0, 0.0);
  const void* alpha = s.alpha(x.dtype());
  const void* beta = s.beta(x.dtype());
  if (gx.defined() && gx.numel() > 0) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMaxAlgos];
    int count = 0;
    MRNN_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, wd.d, gd.d, cd.d, xd.d, kMaxAlgos, &count, perf));
    const auto algo = choose(perf, count, dt, "conv2d backward (data)");
    size_t ws_bytes = 0;
    MRNN_CUDA_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, wd.d, gd.d, cd.d, xd.d, algo.algo, &ws_bytes));
    Tensor ws = workspace(ws_bytes, x.device());
    MRNN_CUDA_CHECK(cudnnConvolutionBackwardData(h, alpha, wd.d, w.raw_data(), gd.d, g.raw_data(), cd.d, algo.algo,
                                                 ws.raw_data(), ws_bytes, beta, xd.d, gx.raw_data()));
  }
  if (gw.defined() && gw.numel() > 0) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kMaxAlgos];
    int count = 0;
    MRNN_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, xd.d, gd.d, cd.d, wd.d, kMaxAlgos, &count, perf));
    const auto algo = choose(perf, count, dt, "conv2d backward (filter)");
    size_t ws_bytes = 0;
    MRNN_CUDA_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, xd.d, gd.d, cd.d, wd.d, algo.algo, &ws_bytes));
    Tensor ws = workspace(ws_bytes, x.device());
    MRNN_CUDA_CHECK(cudnnConvolutionBackwardFilter(h, alpha, xd.d, x.raw_data(), gd.d, g.raw_data(), cd.d, algo.algo,
                                                   ws.raw_data(), ws_bytes, beta, wd.d, gw.raw_data()));
  }
  if (gb.defined() && gb.numel() > 0) {
    TensorDesc bd(dt, 1, gb.size(0), 1, 1);
    MRNN_CUDA_CHECK(cudnnConvolutionBackwardBias(h, alpha, gd.d, g.raw_data(), beta, bd.d, gb.raw_data()));
  }
}

namespace {
void pool_forward(bool max, const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out) {
  const char* op = max ? "max_pool2d" : "avg_pool2d";
  check_nchw(op, {&x, &out});
  if (out.numel() == 0) return;
  const cudnnDataType_t dt = dnn_type(x.dtype(), op);
  Launch l(x);
  cudnnHandle_t h = dnn_handle(l.device, l.stream);
  TensorDesc xd = nchw(dt, x), yd = nchw(dt, out);
  PoolDesc pd(max, k, s, p);
  int dims[4];
  MRNN_CUDA_CHECK(cudnnGetPooling2dForwardOutputDim(pd.d, xd.d, &dims[0], &dims[1], &dims[2], &dims[3]));
  MRNN_CHECK(dims[2] == out.size(2) && dims[3] == out.size(3), "{}: cuDNN computes a {}x{} output, mrnn expects {}",
             op, dims[2], dims[3], out.desc());
  const Scalars sc = scalars(1.0, 0.0);
  MRNN_CUDA_CHECK(cudnnPoolingForward(h, pd.d, sc.alpha(x.dtype()), xd.d, x.raw_data(), sc.beta(x.dtype()), yd.d,
                                      out.raw_data()));
}
}  // namespace

void max_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out) {
  pool_forward(true, x, k, s, p, out);
}
void avg_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out) {
  pool_forward(false, x, k, s, p, out);
}

void pool2d_backward(bool max, const Tensor& x, const Tensor& y, const Tensor& g, int64_t k, int64_t s, int64_t p,
                     const Tensor& gx) {
  const char* op = max ? "max_pool2d backward" : "avg_pool2d backward";
  check_nchw(op, {&x, &y, &g, &gx});
  if (gx.numel() == 0) return;
  const cudnnDataType_t dt = dnn_type(x.dtype(), op);
  Launch l(x);
  cudnnHandle_t h = dnn_handle(l.device, l.stream);
  TensorDesc xd = nchw(dt, x), yd = nchw(dt, y);
  PoolDesc pd(max, k, s, p);
  const Scalars sc = scalars(1.0, 0.0);
  MRNN_CUDA_CHECK(cudnnPoolingBackward(h, pd.d, sc.alpha(x.dtype()), yd.d, y.raw_data(), yd.d, g.raw_data(), xd.d,
                                       x.raw_data(), sc.beta(x.dtype()), xd.d, gx.raw_data()));
}

}  // namespace mrnn::cuda
