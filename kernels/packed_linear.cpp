#include "kernels/packed_linear.h"

#include <map>

#include "core/autograd.h"
#include "core/error.h"
#include "kernels/ops.h"

#ifdef MRNN_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace mrnn {

MatmulPrecision parse_matmul_precision(const std::string& name) {
  if (name == "fp32") return MatmulPrecision::F32;
  if (name == "bf16") return MatmulPrecision::BF16;
  throw Error(fmt::format("precision: expected fp32 or bf16, got '{}'", name));
}

const char* matmul_precision_name(MatmulPrecision p) { return p == MatmulPrecision::BF16 ? "bf16" : "fp32"; }

bool packed_linear_supported(MatmulPrecision p, std::string* why_not) {
  if (p == MatmulPrecision::F32) return true;
#ifdef MRNN_WITH_DNNL
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  if ((isa & bf16) == bf16) return true;
  if (why_not) *why_not = "this CPU has no AVX512_BF16 or AMX (oneDNN would emulate bf16, slower than fp32)";
  return false;
#else
  if (why_not) *why_not = "this build has no oneDNN (install libdnnl-dev: scripts/setup, then reconfigure)";
  return false;
#endif
}

#ifdef MRNN_WITH_DNNL
namespace {

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::memory::data_type dnnl_type(MatmulPrecision p) {
  return p == MatmulPrecision::BF16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

}  // namespace

// One primitive per row count M (decoders call with a few distinct M). The weights are packed once,
// at construction, in the layout oneDNN picks for 64 rows; a primitive that wants another layout
// gets its own copy, reordered from the packed one. No f32 copy of the weights is kept.
struct PackedLinear::Impl {
  using md = dnnl::memory::desc;
  using tag = dnnl::memory::format_tag;
  struct ForRows {
    dnnl::matmul primitive;
    dnnl::memory weights;  // packed for this primitive
    dnnl::memory src;      // bf16 scratch for x (BF16 only)
    std::string impl;
  };
  MatmulPrecision precision;
  int64_t N = 0, K = 0;
  Tensor bias;          // f32 [N] contiguous copy, or undefined
  dnnl::memory packed;  // the weights in the layout chosen for 64 rows
  std::map<int64_t, ForRows> by_rows;
  std::string last_impl = "oneDNN (not run yet)";

  dnnl::matmul::primitive_desc describe(int64_t M) const {
    const auto dt = dnnl_type(precision);
    const md src_md({M, K}, dt, tag::ab), dst_md({M, N}, dnnl::memory::data_type::f32, tag::ab);
    const md bias_md = bias.defined() ? md({1, N}, dnnl::memory::data_type::f32, tag::ab) : md();
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, md({K, N}, dt, tag::any), bias_md, dst_md),
                                        cpu_engine());
  }

  // weight [N, K] with any strides, read in place as the [K, N] matrix W^T.
  void pack(const Tensor& weight) {
    const dnnl::memory::dims dims{K, N}, strides{weight.strides()[1], weight.strides()[0]};
    const md user_md(dims, dnnl::memory::data_type::f32, strides);
    dnnl::memory user(user_md, cpu_engine(), const_cast<float*>(weight.data<float>()));
    packed = dnnl::memory(describe(64).weights_desc(), cpu_engine());
    dnnl::stream s(cpu_engine());
    dnnl::reorder(user, packed).execute(s, user, packed);
    s.wait();
  }

  ForRows& for_rows(int64_t M) {
    auto it = by_rows.find(M);
    if (it != by_rows.end()) return it->second;
    MRNN_CHECK(by_rows.size() < 4096, "PackedLinear: too many distinct row counts ({})", by_rows.size());
    const dnnl::matmul::primitive_desc pd = describe(M);
    ForRows f;
    if (pd.weights_desc() == packed.get_desc()) {
      f.weights = packed;
    } else {
      f.weights = dnnl::memory(pd.weights_desc(), cpu_engine());
      dnnl::stream s(cpu_engine());
      dnnl::reorder(packed, f.weights).execute(s, packed, f.weights);
      s.wait();
    }
    if (precision == MatmulPrecision::BF16) f.src = dnnl::memory(pd.src_desc(), cpu_engine());
    f.primitive = dnnl::matmul(pd);
    f.impl = pd.impl_info_str();
    return by_rows.emplace(M, std::move(f)).first->second;
  }

  Tensor run(const Tensor& x) {
    const int64_t M = x.size(0);
    ForRows& f = for_rows(M);
    Tensor y = Tensor::empty({M, N});
    dnnl::stream s(cpu_engine());
    dnnl::memory user_x({{M, K}, dnnl::memory::data_type::f32, tag::ab}, cpu_engine(),
                        const_cast<float*>(x.data<float>()));
    dnnl::memory src = user_x;
    if (precision == MatmulPrecision::BF16) {
      dnnl::reorder(user_x, f.src).execute(s, user_x, f.src);
      src = f.src;
    }
    dnnl::memory dst({{M, N}, dnnl::memory::data_type::f32, tag::ab}, cpu_engine(), y.data<float>());
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, f.weights}, {DNNL_ARG_DST, dst}};
    if (bias.defined())
      args.emplace(DNNL_ARG_BIAS, dnnl::memory({{1, N}, dnnl::memory::data_type::f32, tag::ab}, cpu_engine(),
                                               const_cast<float*>(bias.data<float>())));
    f.primitive.execute(s, args);
    s.wait();
    last_impl = f.impl;
    return y;
  }
};
#else
struct PackedLinear::Impl {  // without oneDNN: OpenBLAS through linear() on the snapshot
  MatmulPrecision precision;
  int64_t N = 0, K = 0;
  Tensor weight_copy, bias;
  std::string last_impl = "openblas";
  Tensor run(const Tensor& x) { return linear(x, weight_copy, bias); }
};
#endif

PackedLinear::PackedLinear(const Tensor& weight, const Tensor& bias, MatmulPrecision p) : impl_(new Impl) {
  MRNN_CHECK(weight.defined() && weight.dim() == 2 && weight.dtype() == DType::F32 && weight.device().is_cpu(),
             "PackedLinear: weight must be f32 [N, K] on the CPU, got {}", weight.defined() ? weight.desc() : "undefined");
  MRNN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0) && bias.dtype() == DType::F32 &&
                                 bias.device().is_cpu()),
             "PackedLinear: bias must be f32 [{}] on the CPU, got {}", weight.size(0), bias.desc());
  std::string why;
  MRNN_CHECK(packed_linear_supported(p, &why), "PackedLinear: {} is not available: {}", matmul_precision_name(p), why);
  NoGradGuard ng;
  impl_->precision = p;
  impl_->N = weight.size(0);
  impl_->K = weight.size(1);
  if (bias.defined()) impl_->bias = bias.detach().clone().contiguous();
#ifdef MRNN_WITH_DNNL
  impl_->pack(weight);
#else
  impl_->weight_copy = weight.detach().clone().contiguous();
#endif
}

PackedLinear::~PackedLinear() = default;
PackedLinear::PackedLinear(PackedLinear&&) noexcept = default;
PackedLinear& PackedLinear::operator=(PackedLinear&&) noexcept = default;

Tensor PackedLinear::operator()(const Tensor& x) const {
  MRNN_CHECK(x.dim() == 2 && x.size(1) == impl_->K && x.size(0) >= 1 && x.dtype() == DType::F32 && x.device().is_cpu(),
             "PackedLinear: input must be f32 [M >= 1, {}] on the CPU, got {}", impl_->K, x.desc());
  NoGradGuard ng;
  return impl_->run(x.detach().contiguous());
}

MatmulPrecision PackedLinear::precision() const { return impl_->precision; }
int64_t PackedLinear::in_features() const { return impl_->K; }
int64_t PackedLinear::out_features() const { return impl_->N; }
std::string PackedLinear::implementation() const { return impl_->last_impl; }

}  // namespace mrnn
