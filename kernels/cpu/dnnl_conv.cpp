// oneDNN convolution and max pooling (kernels/cpu/dnnl_conv.h); compiled to nothing without oneDNN.
#ifdef MRNN_WITH_DNNL
#include "kernels/cpu/dnnl_conv.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "core/error.h"

namespace mrnn::cpu {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;
using Args = std::unordered_map<int, dnnl::memory>;

dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// Scratchpads are supplied per call (scratchpad_mode::user), so one primitive may run on several
// threads at once.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// Memory of `want`'s layout for a tensor held in `user`'s: the tensor itself when they agree,
// else a scratch buffer (an f32 tensor kept alive in `keep`).
struct Staged {
  dnnl::memory mem;
  Tensor keep;
};
Staged stage(const md& want, const dnnl::memory& user) {
  if (want == user.get_desc()) return {user, Tensor()};
  Tensor buf = Tensor::empty({static_cast<int64_t>((want.get_size() + 3) / 4)});
  return {dnnl::memory(want, engine(), buf.raw_data()), buf};
}

dnnl::memory wrap(const Tensor& t, const md& d) { return dnnl::memory(d, engine(), t.raw_data()); }

// Reorder src -> dst unless they are one memory.
void copy(dnnl::stream& s, dnnl::memory src, dnnl::memory dst) {
  if (src.get_data_handle() == dst.get_data_handle()) return;
  dnnl::reorder(src, dst).execute(s, src, dst);
}

void run(dnnl::stream& s, const dnnl::primitive& p, const md& scratch_md, Args args) {
  Tensor scratch;
  if (scratch_md.get_size() > 0) {
    scratch = Tensor::empty({static_cast<int64_t>((scratch_md.get_size() + 3) / 4)});
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratch_md, engine(), scratch.raw_data()));
  }
  p.execute(s, args);
  s.wait();
}

struct ConvPrims {
  md x_user, w_user, b_user, y_user;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
};

std::shared_ptr<const ConvPrims> make_conv(const DnnlConv2d& s) {
  auto p = std::make_shared<ConvPrims>();
  const dnnl::memory::dims x{s.N, s.C, s.H, s.W}, w{s.O, s.C, s.K, s.K}, y{s.N, s.O, s.OH, s.OW};
  const dnnl::memory::dims strides{s.stride, s.stride}, pad{s.pad, s.pad};
  p->x_user = md(x, dt::f32, tag::nchw);
  p->w_user = md(w, dt::f32, tag::oihw);
  p->y_user = md(y, dt::f32, tag::nchw);
  p->b_user = s.bias ? md({s.O}, dt::f32, tag::x) : md();
  const md xa(x, dt::f32, tag::any), wa(w, dt::f32, tag::any), ya(y, dt::f32, tag::any);
  const auto alg = dnnl::algorithm::convolution_direct;
  const auto attr = user_scratchpad();
  dnnl::convolution_forward::desc fd =
      s.bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, xa, wa, p->b_user, ya, strides,
                                               pad, pad)
             : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, xa, wa, ya, strides, pad, pad);
  p->fwd_pd = dnnl::convolution_forward::primitive_desc(fd, attr, engine());
  // Backward-data into < 16 channels: oneDNN's blocked kernel pads the channels to 16 and measured
  // 60x slower than its NCHW (GEMM) kernel there (3 input channels, docs/performance.md).
  const bool plain_dx = s.C < 16;
  const dnnl::convolution_backward_data::desc bd(alg, plain_dx ? p->x_user : xa, plain_dx ? p->w_user : wa,
                                                 plain_dx ? p->y_user : ya, strides, pad, pad);
  p->bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(bd, attr, engine(), p->fwd_pd);
  dnnl::convolution_backward_weights::desc bw =
      s.bias ? dnnl::convolution_backward_weights::desc(alg, xa, wa, p->b_user, ya, strides, pad, pad)
             : dnnl::convolution_backward_weights::desc(alg, xa, wa, ya, strides, pad, pad);
  p->bwd_weights_pd = dnnl::convolution_backward_weights::primitive_desc(bw, attr, engine(), p->fwd_pd);
  p->fwd = dnnl::convolution_forward(p->fwd_pd);
  p->bwd_data = dnnl::convolution_backward_data(p->bwd_data_pd);
  p->bwd_weights = dnnl::convolution_backward_weights(p->bwd_weights_pd);
  return p;
}

struct PoolPrims {
  md x_user, y_user;
  dnnl::pooling_forward::primitive_desc train_pd, infer_pd;
  dnnl::pooling_backward::primitive_desc bwd_pd;
  dnnl::pooling_forward train, infer;
  dnnl::pooling_backward bwd;
};

std::shared_ptr<const PoolPrims> make_pool(const DnnlPool2d& s) {
  auto p = std::make_shared<PoolPrims>();
  p->x_user = md({s.N, s.C, s.H, s.W}, dt::f32, tag::nchw);
  p->y_user = md({s.N, s.C, s.OH, s.OW}, dt::f32, tag::nchw);
  const dnnl::memory::dims strides{s.stride, s.stride}, kernel{s.K, s.K}, pad{s.pad, s.pad};
  const auto alg = dnnl::algorithm::pooling_max;
  const auto attr = user_scratchpad();
  p->train_pd = dnnl::pooling_forward::primitive_desc(
      dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, alg, p->x_user, p->y_user, strides, kernel, pad, pad),
      attr, engine());
  p->infer_pd = dnnl::pooling_forward::primitive_desc(
      dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, alg, p->x_user, p->y_user, strides, kernel, pad,
                                  pad),
      attr, engine());
  p->bwd_pd = dnnl::pooling_backward::primitive_desc(
      dnnl::pooling_backward::desc(alg, p->x_user, p->y_user, strides, kernel, pad, pad), attr, engine(), p->train_pd);
  p->train = dnnl::pooling_forward(p->train_pd);
  p->infer = dnnl::pooling_forward(p->infer_pd);
  p->bwd = dnnl::pooling_backward(p->bwd_pd);
  return p;
}

// One cache per kind, keyed by the whole geometry. Entries are shared, so a backward closure may
// outlive a cache reset; the cache is dropped whole when it reaches kMaxEntries geometries.
constexpr size_t kMaxEntries = 1024;

template <class Key, class Prims, class Make>
std::shared_ptr<const Prims> cached(std::map<Key, std::shared_ptr<const Prims>>& cache, std::mutex& mu, const Key& k,
                                    Make make) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(k);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxEntries) cache.clear();
  try {
    return cache.emplace(k, make()).first->second;
  } catch (const dnnl::error& e) {
    MRNN_FAIL("oneDNN could not build a primitive for this geometry: {}", e.what());
  }
}

using ConvKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;
std::shared_ptr<const ConvPrims> conv_prims(const DnnlConv2d& s) {
  static std::map<ConvKey, std::shared_ptr<const ConvPrims>> cache;
  static std::mutex mu;
  return cached(cache, mu, ConvKey{s.N, s.C, s.H, s.W, s.O, s.K, s.stride, s.pad, s.bias}, [&] { return make_conv(s); });
}

using PoolKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
std::shared_ptr<const PoolPrims> pool_prims(const DnnlPool2d& s) {
  static std::map<PoolKey, std::shared_ptr<const PoolPrims>> cache;
  static std::mutex mu;
  return cached(cache, mu, PoolKey{s.N, s.C, s.H, s.W, s.K, s.stride, s.pad}, [&] { return make_pool(s); });
}

}  // namespace

void dnnl_conv2d_forward(const DnnlConv2d& s, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out) {
  auto p = conv_prims(s);
  dnnl::stream st(engine());
  const dnnl::memory ux = wrap(x, p->x_user), uw = wrap(w, p->w_user), uy = wrap(out, p->y_user);
  Staged sx = stage(p->fwd_pd.src_desc(), ux), sw = stage(p->fwd_pd.weights_desc(), uw);
  Staged sy = stage(p->fwd_pd.dst_desc(), uy);
  copy(st, ux, sx.mem);
  copy(st, uw, sw.mem);
  Args args{{DNNL_ARG_SRC, sx.mem}, {DNNL_ARG_WEIGHTS, sw.mem}, {DNNL_ARG_DST, sy.mem}};
  if (s.bias) args.emplace(DNNL_ARG_BIAS, wrap(b, p->b_user));
  run(st, p->fwd, p->fwd_pd.scratchpad_desc(), args);
  copy(st, sy.mem, uy);
  st.wait();
}

void dnnl_conv2d_backward(const DnnlConv2d& s, const Tensor& x, const Tensor& g, const Tensor& w, const Tensor& gx,
                          const Tensor& gw, const Tensor& gb) {
  auto p = conv_prims(s);
  dnnl::stream st(engine());
  const dnnl::memory ug = wrap(g, p->y_user);
  // g in the backward-data layout, and in the backward-weights one: one reorder when they agree
  Staged sg_data, sg_weights;
  if (gx.defined()) {
    sg_data = stage(p->bwd_data_pd.diff_dst_desc(), ug);
    copy(st, ug, sg_data.mem);
  }
  if (gw.defined()) {
    const md want = p->bwd_weights_pd.diff_dst_desc();
    if (gx.defined() && want == sg_data.mem.get_desc()) {
      sg_weights = sg_data;
    } else {
      sg_weights = stage(want, ug);
      copy(st, ug, sg_weights.mem);
    }
  }
  if (gx.defined()) {
    const auto& pd = p->bwd_data_pd;
    const dnnl::memory uw = wrap(w, p->w_user), ugx = wrap(gx, p->x_user);
    Staged sw = stage(pd.weights_desc(), uw), sgx = stage(pd.diff_src_desc(), ugx);
    copy(st, uw, sw.mem);
    run(st, p->bwd_data, pd.scratchpad_desc(),
        {{DNNL_ARG_DIFF_DST, sg_data.mem}, {DNNL_ARG_WEIGHTS, sw.mem}, {DNNL_ARG_DIFF_SRC, sgx.mem}});
    copy(st, sgx.mem, ugx);
  }
  if (gw.defined()) {
    const auto& pd = p->bwd_weights_pd;
    const dnnl::memory ux = wrap(x, p->x_user), ugw = wrap(gw, p->w_user);
    Staged sx = stage(pd.src_desc(), ux), sgw = stage(pd.diff_weights_desc(), ugw);
    copy(st, ux, sx.mem);
    Args args{{DNNL_ARG_SRC, sx.mem}, {DNNL_ARG_DIFF_DST, sg_weights.mem}, {DNNL_ARG_DIFF_WEIGHTS, sgw.mem}};
    Tensor gb_scratch;
    if (s.bias) {
      Tensor gbt = gb.defined() ? gb : (gb_scratch = Tensor::empty({s.O}));
      args.emplace(DNNL_ARG_DIFF_BIAS, wrap(gbt, p->b_user));
    }
    run(st, p->bwd_weights, pd.scratchpad_desc(), args);
    copy(st, sgw.mem, ugw);
  }
  st.wait();
}

Tensor dnnl_max_pool2d_forward(const DnnlPool2d& s, const Tensor& x, const Tensor& out, bool train) {
  auto p = pool_prims(s);
  dnnl::stream st(engine());
  Args args{{DNNL_ARG_SRC, wrap(x, p->x_user)}, {DNNL_ARG_DST, wrap(out, p->y_user)}};
  Tensor ws;
  if (train) {
    const md wmd = p->train_pd.workspace_desc();
    ws = Tensor::empty({static_cast<int64_t>((wmd.get_size() + 3) / 4)});
    args.emplace(DNNL_ARG_WORKSPACE, dnnl::memory(wmd, engine(), ws.raw_data()));
    run(st, p->train, p->train_pd.scratchpad_desc(), args);
  } else {
    run(st, p->infer, p->infer_pd.scratchpad_desc(), args);
  }
  return ws;
}

void dnnl_max_pool2d_backward(const DnnlPool2d& s, const Tensor& g, const Tensor& workspace, const Tensor& gx) {
  auto p = pool_prims(s);
  dnnl::stream st(engine());
  run(st, p->bwd, p->bwd_pd.scratchpad_desc(),
      {{DNNL_ARG_DIFF_DST, wrap(g, p->y_user)},
       {DNNL_ARG_WORKSPACE, dnnl::memory(p->train_pd.workspace_desc(), engine(), workspace.raw_data())},
       {DNNL_ARG_DIFF_SRC, wrap(gx, p->x_user)}});
}

std::string dnnl_conv2d_implementation(const DnnlConv2d& s) {
  auto p = conv_prims(s);
  return std::string("fwd ") + p->fwd_pd.impl_info_str() + ", bwd-data " + p->bwd_data_pd.impl_info_str() + ", bwd-weights " +
         p->bwd_weights_pd.impl_info_str();
}

std::string dnnl_max_pool2d_implementation(const DnnlPool2d& s) {
  auto p = pool_prims(s);
  return std::string("fwd ") + p->train_pd.impl_info_str() + ", bwd " + p->bwd_pd.impl_info_str();
}

}  // namespace mrnn::cpu
#endif  // MRNN_WITH_DNNL
