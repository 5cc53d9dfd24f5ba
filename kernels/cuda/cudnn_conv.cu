// Convolution and pooling through cuDNN (NCHW, f32/f64), with an algorithm choice that honours
// deterministic() and the TF32 setting, sets the chosen algorithm's math type, falls back to
// every algorithm cuDNN has when its heuristics offer none that qualifies (f64 backward filter),
// and says "unsupported" when nothing runs (run_conv).
#include <atomic>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/library_args.cuh"

namespace mrnn::cuda {

namespace {

// Owns one cuDNN descriptor: created with the object, destroyed with it (also when a derived
// constructor's cudnnSet* call throws, since this base is then complete); not copyable.
template <typename Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
struct DnnDescriptor {
  Handle d = nullptr;
  DnnDescriptor() { MRNN_CUDA_CHECK(Create(&d)); }
  ~DnnDescriptor() { Destroy(d); }
  DnnDescriptor(const DnnDescriptor&) = delete;
  DnnDescriptor& operator=(const DnnDescriptor&) = delete;
};

struct TensorDesc
    : DnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
  TensorDesc(cudnnDataType_t dt, int64_t n, int64_t c, int64_t h, int64_t w) {
    MRNN_CUDA_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, dt, as_int(n, "N"), as_int(c, "C"),
                                               as_int(h, "H"), as_int(w, "W")));
  }
};

struct FilterDesc
    : DnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor> {
  FilterDesc(cudnnDataType_t dt, const Tensor& w) {
    MRNN_CUDA_CHECK(cudnnSetFilter4dDescriptor(d, dt, CUDNN_TENSOR_NCHW, as_int(w.size(0), "O"), as_int(w.size(1), "C"),
                                               as_int(w.size(2), "KH"), as_int(w.size(3), "KW")));
  }
};

struct ConvDesc : DnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                cudnnDestroyConvolutionDescriptor> {
  ConvDesc(cudnnDataType_t dt, int64_t stride, int64_t pad) {
    MRNN_CUDA_CHECK(cudnnSetConvolution2dDescriptor(d, as_int(pad, "padding"), as_int(pad, "padding"),
                                                    as_int(stride, "stride"), as_int(stride, "stride"), 1, 1,
                                                    CUDNN_CROSS_CORRELATION, dt));
    MRNN_CUDA_CHECK(cudnnSetConvolutionMathType(d, base_math(dt)));
  }
  // Without TF32, f32 convolutions must stay on FMA kernels (cuDNN's default math allows TF32 on
  // sm_80 and later); f64 has no tensor-op variant to forbid.
  static cudnnMathType_t base_math(cudnnDataType_t dt) {
    return dt == CUDNN_DATA_FLOAT ? (allow_tf32() ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH) : CUDNN_DEFAULT_MATH;
  }
};

struct PoolDesc
    : DnnDescriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor> {
  PoolDesc(bool max, int64_t k, int64_t s, int64_t p) {
    const cudnnPoolingMode_t mode = max ? (deterministic() ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_MAX)
                                        : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    MRNN_CUDA_CHECK(cudnnSetPooling2dDescriptor(d, mode, CUDNN_PROPAGATE_NAN, as_int(k, "kernel"), as_int(k, "kernel"),
                                                as_int(p, "padding"), as_int(p, "padding"), as_int(s, "stride"),
                                                as_int(s, "stride")));
  }
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

constexpr int kMaxAlgos = 16;

Tensor workspace(size_t bytes, Device dev) {
  return Tensor::empty({static_cast<int64_t>((bytes + 7) / 8)}, DType::I64, dev);
}

std::atomic<bool> g_heuristics{true};

// Deterministic by cuDNN's documentation: every forward algorithm; backward data all but ALGO_0;
// backward filter all but ALGO_0 and ALGO_3 (they accumulate with atomics). Used for the fallback,
// where no heuristic result says so.
bool known_deterministic(cudnnConvolutionFwdAlgo_t) { return true; }
bool known_deterministic(cudnnConvolutionBwdDataAlgo_t a) { return a != CUDNN_CONVOLUTION_BWD_DATA_ALGO_0; }
bool known_deterministic(cudnnConvolutionBwdFilterAlgo_t a) {
  return a != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 && a != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
}

// Whether a status says "this algorithm cannot do this configuration" (move on to the next one):
// cuDNN 9 reports NOT_SUPPORTED and BAD_PARAM with specific sub-codes (3002 NOT_SUPPORTED_SHAPE,
// ...), so the category decides, not the exact value.
bool not_for_this(cudnnStatus_t s) {
#ifdef CUDNN_STATUS_CATEGORY
  const int cat = CUDNN_STATUS_CATEGORY(static_cast<int>(s));
  return cat == CUDNN_STATUS_NOT_SUPPORTED || cat == CUDNN_STATUS_BAD_PARAM;
#else
  return s == CUDNN_STATUS_NOT_SUPPORTED || s == CUDNN_STATUS_BAD_PARAM;
#endif
}

// The algorithm choice for one convolution direction, and the call. Candidates in order:
// 1. cuDNN's v7 heuristic ranking (unless set_conv_heuristics(false)), keeping those that
//    succeeded, are deterministic when deterministic() is on, and use tensor cores for f32 only
//    when TF32 is allowed; each runs with its own math type, set on the descriptor (for f32
//    without TF32 always FMA: cuDNN's default math would allow TF32);
// 2. the fallback: every algorithm of the enumeration (known_deterministic ones only when
//    deterministic() is on) with the base math type.
// The first candidate whose workspace query and call both succeed is used; a candidate that
// reports NOT_SUPPORTED or BAD_PARAM (not_for_this) is skipped, any other error is raised. If
// none runs, an "unsupported" error names the op, the shapes, the settings, what was tried and
// the last status cuDNN gave. Heur(perf, &count) fills the ranking; Ws(algo, &bytes) and
// Run(algo, ws, bytes) return the cuDNN status.
template <typename Algo, typename Perf, typename Heur, typename Ws, typename Run>
void run_conv(const char* op, const std::string& shapes, cudnnDataType_t dt, const ConvDesc& cd, int algo_count,
              Device dev, Heur heur, Ws ws_query, Run run) {
  struct Candidate {
    Algo algo;
    cudnnMathType_t math;
    bool fallback;
  };
  const cudnnMathType_t base = ConvDesc::base_math(dt);
  const bool f32_fma = dt == CUDNN_DATA_FLOAT && !allow_tf32();
  std::vector<Candidate> cands;
  if (g_heuristics.load()) {
    Perf perf[kMaxAlgos];
    int count = 0;
    MRNN_CUDA_CHECK(heur(perf, &count));
    for (int i = 0; i < count; ++i) {
      const Perf& p = perf[i];
      if (p.status != CUDNN_STATUS_SUCCESS) continue;
      if (deterministic() && p.determinism != CUDNN_DETERMINISTIC) continue;
      if (f32_fma && p.mathType != CUDNN_DEFAULT_MATH && p.mathType != CUDNN_FMA_MATH) continue;
      cands.push_back({p.algo, f32_fma ? CUDNN_FMA_MATH : p.mathType, false});
    }
  }
  for (int a = 0; a < algo_count; ++a) {
    const Algo algo = static_cast<Algo>(a);
    if (deterministic() && !known_deterministic(algo)) continue;
    cands.push_back({algo, base, true});
  }
  std::string tried, last = "none";
  for (const Candidate& c : cands) {
    tried += fmt::format("{}{}{}", tried.empty() ? "" : ", ", static_cast<int>(c.algo), c.fallback ? "" : " (ranked)");
    if (cudnnSetConvolutionMathType(cd.d, c.math) != CUDNN_STATUS_SUCCESS) continue;
    size_t bytes = 0;
    const cudnnStatus_t q = ws_query(c.algo, &bytes);
    if (not_for_this(q)) {
      last = cudnnGetErrorString(q);
      continue;
    }
    MRNN_CUDA_CHECK(q);
    Tensor ws;
    try {
      ws = workspace(bytes, dev);
    } catch (const Error&) {  // an algorithm whose workspace does not fit: the next one
      tried += " (workspace too large)";
      continue;
    }
    const cudnnStatus_t r = run(c.algo, ws.raw_data(), bytes);
    if (not_for_this(r)) {
      last = cudnnGetErrorString(r);
      continue;
    }
    MRNN_CUDA_CHECK(r);
    return;
  }
  MRNN_FAIL("{}: unsupported: no cuDNN algorithm runs this convolution ({}; {}, deterministic={}, tf32={}; "
            "algorithms tried: {}; last status: {}){}",
            op, shapes, dt == CUDNN_DATA_FLOAT ? "f32" : "f64", deterministic(), allow_tf32(),
            tried.empty() ? "none" : tried, last,
            deterministic() ? "; cuda::set_deterministic(false) admits the non-deterministic ones" : "");
}

std::string conv_shapes(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad) {
  return fmt::format("input {}, weight {}, stride {}, padding {}", shape_str(x.shape()), shape_str(w.shape()), stride,
                     pad);
}

}  // namespace

void set_conv_heuristics(bool on) { g_heuristics = on; }
bool conv_heuristics() { return g_heuristics.load(); }

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t pad, const Tensor& out) {
  check_nchw("conv2d_forward", {&x, &w, &b, &out});
  if (out.numel() == 0) return;
  const cudnnDataType_t dt = dnn_type(x.dtype(), "conv2d");
  Launch l(x);
  cudnnHandle_t h = dnn_handle(l.device, l.stream);
  TensorDesc xd = nchw(dt, x), yd = nchw(dt, out);
  FilterDesc wd(dt, w);
  ConvDesc cd(dt, stride, pad);
  const Scalars one_zero = scalars(1.0, 0.0), one_one = scalars(1.0, 1.0);
  run_conv<cudnnConvolutionFwdAlgo_t, cudnnConvolutionFwdAlgoPerf_t>(
      "conv2d", conv_shapes(x, w, stride, pad), dt, cd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, x.device(),
      [&](cudnnConvolutionFwdAlgoPerf_t* perf, int* count) {
        return cudnnGetConvolutionForwardAlgorithm_v7(h, xd.d, wd.d, cd.d, yd.d, kMaxAlgos, count, perf);
      },
      [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, xd.d, wd.d, cd.d, yd.d, a, bytes);
      },
      [&](cudnnConvolutionFwdAlgo_t a, void* ws, size_t bytes) {
        return cudnnConvolutionForward(h, one_zero.alpha(x.dtype()), xd.d, x.raw_data(), wd.d, w.raw_data(), cd.d, a,
                                       ws, bytes, one_zero.beta(x.dtype()), yd.d, out.raw_data());
      });
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
  const std::string shapes = conv_shapes(x, w, stride, pad);
  if (gx.defined() && gx.numel() > 0) {
    run_conv<cudnnConvolutionBwdDataAlgo_t, cudnnConvolutionBwdDataAlgoPerf_t>(
        "conv2d backward (data)", shapes, dt, cd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, x.device(),
        [&](cudnnConvolutionBwdDataAlgoPerf_t* perf, int* count) {
          return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, wd.d, gd.d, cd.d, xd.d, kMaxAlgos, count, perf);
        },
        [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(h, wd.d, gd.d, cd.d, xd.d, a, bytes);
        },
        [&](cudnnConvolutionBwdDataAlgo_t a, void* ws, size_t bytes) {
          return cudnnConvolutionBackwardData(h, alpha, wd.d, w.raw_data(), gd.d, g.raw_data(), cd.d, a, ws, bytes,
                                              beta, xd.d, gx.raw_data());
        });
  }
  if (gw.defined() && gw.numel() > 0) {
    run_conv<cudnnConvolutionBwdFilterAlgo_t, cudnnConvolutionBwdFilterAlgoPerf_t>(
        "conv2d backward (filter)", shapes, dt, cd, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, x.device(),
        [&](cudnnConvolutionBwdFilterAlgoPerf_t* perf, int* count) {
          return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, xd.d, gd.d, cd.d, wd.d, kMaxAlgos, count, perf);
        },
        [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, xd.d, gd.d, cd.d, wd.d, a, bytes);
        },
        [&](cudnnConvolutionBwdFilterAlgo_t a, void* ws, size_t bytes) {
          return cudnnConvolutionBackwardFilter(h, alpha, xd.d, x.raw_data(), gd.d, g.raw_data(), cd.d, a, ws, bytes,
                                                beta, wd.d, gw.raw_data());
        });
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
