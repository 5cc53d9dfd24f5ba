#include "models/engine/optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/common/adam.h"
#include "kernels/common/sgd.h"
#include "kernels/ops.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/optim_step.h"
#endif

namespace mrnn {

namespace {
// Flat f32 views of a contiguous parameter and its gradient on the CPU (the reference loops; on a
// GPU step() hands the whole step to one multi-tensor kernel, kernels/cuda/optim_step.h).
float* fptr(const Tensor& t, const char* op) { return t.data<float>(op); }
Tensor grad_of(const Tensor& p) {
  Tensor g = p.grad();
  return g.defined() ? g.contiguous() : g;
}
std::map<std::string, Tensor> with_prefix(const std::string& name, const std::vector<Tensor>& ts) {
  std::map<std::string, Tensor> m;
  for (size_t i = 0; i < ts.size(); ++i) m[name + "." + std::to_string(i)] = ts[i];
  return m;
}
// The tensors "<name>.0" .. "<name>.<n-1>" of s, each checked against parameter i's state tensor
// like[i]: present, f32 and of its shape. Throws Error naming the tensor otherwise.
std::vector<Tensor> checked_state(const std::map<std::string, Tensor>& s, const std::string& name,
                                  const std::vector<Tensor>& like) {
  std::vector<Tensor> src;
  for (size_t i = 0; i < like.size(); ++i) {
    auto it = s.find(name + "." + std::to_string(i));
    MRNN_CHECK(it != s.end() && it->second.defined(), "optimizer state: tensor '{}.{}' is missing", name, i);
    const Tensor& t = it->second;
    MRNN_CHECK(t.dtype() == DType::F32, "optimizer state: tensor '{}.{}' must be f32 like its parameter, got {}",
               name, i, t.desc());
    MRNN_CHECK(t.shape() == like[i].shape(),
               "optimizer state: tensor '{}.{}' has shape {}, but its parameter has shape {}", name, i,
               shape_str(t.shape()), shape_str(like[i].shape()));
    src.push_back(t);
  }
  return src;
}
// Copies src into the state tensors dst, whatever device either is on (a CPU checkpoint resumes a
// GPU optimizer and the other way round).
void copy_state(std::vector<Tensor>& dst, const std::vector<Tensor>& src) {
  NoGradGuard ng;
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
}
// True when guard is defined and its value is not finite (see Optimizer::step).
bool guard_says_skip(const Tensor& guard) { return guard.defined() && !std::isfinite(guard.item()); }
}  // namespace

std::vector<ParamGroup> single_group(std::vector<Tensor> params, double weight_decay) {
  ParamGroup g;
  g.params = std::move(params);
  g.weight_decay = weight_decay;
  return {std::move(g)};
}

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  bool first = true;
  for (const ParamGroup& g : groups_) {
    MRNN_CHECK(g.frozen_rows.empty() || g.frozen_rows.size() == g.params.size(),
               "optimizer: group '{}' has {} frozen_rows entries for {} parameters", g.name, g.frozen_rows.size(),
               g.params.size());
    for (size_t i = 0; i < g.params.size(); ++i) {
      const Tensor& p = g.params[i];
      MRNN_CHECK(p.dtype() == DType::F32 && p.is_contiguous(),
                 "optimizer: group '{}' parameter {} must be contiguous f32, got {}", g.name, i, p.desc());
      if (first) device_ = p.device();
      first = false;
      MRNN_CHECK(p.device() == device_, "optimizer: group '{}' parameter {} is on {}, the first parameter on {}: "
                 "one optimizer steps parameters on one device", g.name, i, p.device().str(), device_.str());
      Slot s{g.lr_scale, g.weight_decay, 0};
      if (!g.frozen_rows.empty()) {
        const int64_t rows = p.dim() ? p.size(0) : 1, fr = g.frozen_rows[i];
        MRNN_CHECK(fr >= 0 && fr <= rows, "optimizer: group '{}' parameter {} ({}) freezes {} rows of {}", g.name, i,
                   p.desc(), fr, rows);
        s.begin = rows ? fr * (p.numel() / rows) : 0;
      }
      params_.push_back(p);
      slots_.push_back(s);
    }
  }
}

void zero_frozen_grad_rows(const std::vector<ParamGroup>& groups) {
  NoGradGuard ng;
  for (const ParamGroup& g : groups)
    for (size_t i = 0; i < g.frozen_rows.size(); ++i) {
      const Tensor grad = g.params[i].grad();
      if (g.frozen_rows[i] > 0 && grad.defined()) narrow(grad, 0, 0, g.frozen_rows[i]).fill_(0);
    }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

std::map<std::string, Tensor> Optimizer::state() const {
  return {{"step", Tensor::from_vector(std::vector<int64_t>{steps_})}};
}

int64_t Optimizer::parse_step(const std::map<std::string, Tensor>& s) {
  auto it = s.find("step");
  MRNN_CHECK(it != s.end() && it->second.defined(), "optimizer state: tensor 'step' is missing");
  const Tensor& t = it->second;
  MRNN_CHECK(t.numel() == 1, "optimizer state: tensor 'step' must hold one value, got {}", t.desc());
  if (t.dtype() == DType::I64 || t.dtype() == DType::I32) {
    const int64_t v = t.to_vector<int64_t>()[0];
    MRNN_CHECK(v >= 0, "optimizer state: tensor 'step' is {}, expected a count >= 0", v);
    return v;
  }
  // A float count must be an exact non-negative integer that fits int64 (casting NaN, an infinity
  // or 2^63 to int64 is undefined behaviour).
  const double v = t.to_vector<double>()[0];
  MRNN_CHECK(std::isfinite(v) && v >= 0 && v == std::floor(v) && v < 9223372036854775808.0,
             "optimizer state: tensor 'step' is {} ({}), expected a finite integral count >= 0", v, t.desc());
  return static_cast<int64_t>(v);
}

void Optimizer::load_state(const std::map<std::string, Tensor>& s) {
  steps_ = parse_step(s);
}

SGD::SGD(std::vector<Tensor> params, double momentum, double weight_decay)
    : SGD(single_group(std::move(params), weight_decay), momentum) {}

SGD::SGD(std::vector<ParamGroup> groups, double momentum) : Optimizer(std::move(groups)), momentum_(momentum) {
  for (const Tensor& p : params_) velocity_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
}

void SGD::step(double lr, const Tensor& guard) {
  steps_++;
#ifdef MRNN_WITH_CUDA
  if (device_.is_cuda()) {  // one multi-tensor launch for every parameter
    std::vector<cuda::SgdSlot> slots;
    for (size_t k = 0; k < params_.size(); ++k) {
      Tensor g = grad_of(params_[k]);
      if (g.defined())
        slots.push_back({params_[k], g, velocity_[k], slots_[k].begin, static_cast<float>(lr * slots_[k].lr_scale),
                         static_cast<float>(slots_[k].weight_decay)});
    }
    cuda::sgd_step(slots, static_cast<float>(momentum_), guard);
    return;
  }
#endif
  if (guard_says_skip(guard)) return;
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor g = grad_of(params_[k]);
    if (!g.defined()) continue;
    float *w = fptr(params_[k], "SGD::step"), *v = fptr(velocity_[k], "SGD::step");
    const float *pg = fptr(g, "SGD::step"), mu = static_cast<float>(momentum_), wd = static_cast<float>(slots_[k].weight_decay),
                lrf = static_cast<float>(lr * slots_[k].lr_scale);
    const int64_t n = params_[k].numel(), begin = slots_[k].begin;
#pragma omp parallel for simd schedule(static) if (n - begin > 65536)
    for (int64_t i = begin; i < n; ++i) sgd_update(w[i], v[i], pg[i], lrf, wd, mu);
  }
}

std::map<std::string, Tensor> SGD::state() const {
  auto s = Optimizer::state();
  for (auto& kv : with_prefix("velocity", velocity_)) s.insert(kv);
  return s;
}

void SGD::load_state(const std::map<std::string, Tensor>& s) {
  const int64_t step = parse_step(s);
  const std::vector<Tensor> velocity = checked_state(s, "velocity", velocity_);
  copy_state(velocity_, velocity);
  steps_ = step;
}

Adam::Adam(std::vector<Tensor> params, double beta1, double beta2, double eps, double weight_decay, bool decoupled)
    : Adam(single_group(std::move(params), weight_decay), beta1, beta2, eps, decoupled) {}

Adam::Adam(std::vector<ParamGroup> groups, double beta1, double beta2, double eps, bool decoupled)
    : Optimizer(std::move(groups)), b1_(beta1), b2_(beta2), eps_(eps), decoupled_(decoupled) {
  for (const Tensor& p : params_) {
    m_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
    v_.push_back(Tensor::zeros(p.shape(), DType::F32, p.device()));
  }
}

void Adam::step(double lr, const Tensor& guard) {
  steps_++;
  const double bc1 = 1 - std::pow(b1_, static_cast<double>(steps_));
  const double bc2 = 1 - std::pow(b2_, static_cast<double>(steps_));
  const float inv_sqrt_bc2 = static_cast<float>(1 / std::sqrt(bc2));
  const float b1 = static_cast<float>(b1_), b2 = static_cast<float>(b2_), eps = static_cast<float>(eps_);
  // Parameter k's constants, the same on both devices.
  auto constants = [&](size_t k) {
    const double glr = lr * slots_[k].lr_scale;
    return AdamStep{b1, b2, eps, static_cast<float>(glr / bc1), inv_sqrt_bc2, static_cast<float>(slots_[k].weight_decay),
                    static_cast<float>(1 - glr * slots_[k].weight_decay), decoupled_};
  };
#ifdef MRNN_WITH_CUDA
  if (device_.is_cuda()) {  // one multi-tensor launch for every parameter
    std::vector<cuda::AdamSlot> slots;
    for (size_t k = 0; k < params_.size(); ++k) {
      Tensor g = grad_of(params_[k]);
      if (g.defined()) slots.push_back({params_[k], g, m_[k], v_[k], slots_[k].begin, constants(k)});
    }
    cuda::adam_step(slots, guard);
    return;
  }
#endif
  if (guard_says_skip(guard)) return;
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor g = grad_of(params_[k]);
    if (!g.defined()) continue;
    const AdamStep c = constants(k);
    const float step_size = c.step_size, wd = c.wd, decay = c.decay;
    float *w = fptr(params_[k], "Adam::step"), *m = fptr(m_[k], "Adam::step"), *v = fptr(v_[k], "Adam::step");
    const float* pg = fptr(g, "Adam::step");
    const int64_t n = params_[k].numel(), begin = slots_[k].begin;
    const bool dec = decoupled_;
#pragma omp parallel for simd schedule(static) if (n - begin > 65536)
    for (int64_t i = begin; i < n; ++i)  // the constants stay separate scalars, so the loop vectorizes
      adam_update(w[i], m[i], v[i], pg[i], AdamStep{b1, b2, eps, step_size, inv_sqrt_bc2, wd, decay, dec});
  }
}

std::map<std::string, Tensor> Adam::state() const {
  auto s = Optimizer::state();
  for (auto& kv : with_prefix("exp_avg", m_)) s.insert(kv);
  for (auto& kv : with_prefix("exp_avg_sq", v_)) s.insert(kv);
  return s;
}

void Adam::load_state(const std::map<std::string, Tensor>& s) {
  const int64_t step = parse_step(s);
  const std::vector<Tensor> m = checked_state(s, "exp_avg", m_), v = checked_state(s, "exp_avg_sq", v_);
  copy_state(m_, m);
  copy_state(v_, v);
  steps_ = step;
}

double LrSchedule::at(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) return base_lr * static_cast<double>(step + 1) / warmup_steps;
  switch (kind) {
    case Kind::Constant: return base_lr;
    case Kind::Step: return base_lr * std::pow(gamma, static_cast<double>(step / std::max<int64_t>(step_every, 1)));
    case Kind::Cosine: {
      const double span = std::max<int64_t>(total_steps - warmup_steps, 1);
      const double t = std::min(1.0, static_cast<double>(step - warmup_steps) / span);
      return min_lr + 0.5 * (base_lr - min_lr) * (1 + std::cos(3.141592653589793 * t));
    }
  }
  return base_lr;
}

}  // namespace mrnn
