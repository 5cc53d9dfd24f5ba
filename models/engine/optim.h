// Optimizers (SGD with momentum, Adam/AdamW) and learning-rate schedules (global-norm clipping and
// the finite check: models/engine/grad_clip.h). Updates run directly on the parameters' storage, on
// the device the parameters live on: CPU loops (the reference), or on a GPU one multi-tensor kernel
// per step over every parameter (kernels/cuda/optim_step.h), the per-element math shared
// (kernels/common/adam.h, sgd.h). The optimizer state is a list of named tensors, on the parameters'
// device, so a checkpoint can save and restore it exactly; load_state takes them from any device.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/engine/grad_clip.h"

namespace mrnn {

// A set of parameters that share a learning-rate scale and a weight decay. Why groups: fine-tuning
// and novel-word learning train some parameters faster than others, or only some rows of a table.
struct ParamGroup {
  std::string name = "default";
  std::vector<Tensor> params;
  double lr_scale = 1.0;            // this group's lr = the schedule's lr x lr_scale
  double weight_decay = 0.0;
  // Per parameter (empty = none): rows [0, frozen_rows[i]) of dim 0 are never written by step()
  // (no update, no decay, no momentum), so they stay bit-identical. The trainer also zeroes their
  // gradients after backward, so that clipping and the finite check see only trainable rows.
  std::vector<int64_t> frozen_rows;
};

// One group "default" holding params (the optimizers' plain-list constructors).
std::vector<ParamGroup> single_group(std::vector<Tensor> params, double weight_decay = 0);

class Optimizer {
 public:
  // Requires: every parameter contiguous f32 and on one device, frozen_rows empty or one entry per
  // parameter in [0, size(0)]. Throws Error naming the group and the parameter otherwise.
  explicit Optimizer(std::vector<ParamGroup> groups);
  explicit Optimizer(std::vector<Tensor> params) : Optimizer(single_group(std::move(params))) {}
  virtual ~Optimizer() = default;
  // Applies one update with learning rate `lr` to every parameter that has a gradient.
  // guard: undefined, or a one-element f64 tensor on the parameters' device (grad_sum_squares):
  // when its value is not finite nothing is written. On a GPU the kernel reads it, so a step can be
  // skipped on a NaN/Inf gradient without a host read; steps() counts the call either way.
  virtual void step(double lr, const Tensor& guard) = 0;
  void step(double lr) { step(lr, Tensor()); }
  // The device every parameter lives on (the CPU for an optimizer without parameters).
  Device device() const { return device_; }
  void zero_grad();
  int64_t steps() const { return steps_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  // Every parameter of every group, in group order (state tensors are numbered in this order).
  const std::vector<Tensor>& params() const { return params_; }
  // Named state tensors ("exp_avg.3", ...) plus "step"; load_state restores them exactly.
  virtual std::map<std::string, Tensor> state() const;
  // Requires nothing of s (it may come from a damaged file). Ensures, else throws Error naming the
  // tensor and leaves the optimizer unchanged: "step" is one value that is a finite integer >= 0
  // (i64, i32 or an integral float), and each per-parameter tensor ("exp_avg.<i>", ...) is present,
  // f32 and of parameter i's shape; then the state is s. Extra tensors are ignored.
  virtual void load_state(const std::map<std::string, Tensor>& s);

 protected:
  // The validated "step" of s (see load_state).
  static int64_t parse_step(const std::map<std::string, Tensor>& s);

  // One entry per parameter (params_ order): what step() needs besides the tensors.
  struct Slot {
    double lr_scale = 1, weight_decay = 0;
    int64_t begin = 0;  // first element step() may write (frozen rows x row size)
  };
  std::vector<ParamGroup> groups_;
  std::vector<Tensor> params_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
  Device device_ = Device::cpu();
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double momentum = 0.9, double weight_decay = 0);
  SGD(std::vector<ParamGroup> groups, double momentum = 0.9);
  using Optimizer::step;
  void step(double lr, const Tensor& guard) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& s) override;

 private:
  double momentum_;
  std::vector<Tensor> velocity_;
};

// Adam (weight_decay added to the gradient) or AdamW (decoupled decay) when decoupled = true.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0, bool decoupled = false);
  Adam(std::vector<ParamGroup> groups, double beta1, double beta2, double eps, bool decoupled);
  using Optimizer::step;
  void step(double lr, const Tensor& guard) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& s) override;

 private:
  double b1_, b2_, eps_;
  bool decoupled_;
  std::vector<Tensor> m_, v_;
};

// Zeroes the gradient rows [0, frozen_rows[i]) of each group's parameter i (see ParamGroup).
void zero_frozen_grad_rows(const std::vector<ParamGroup>& groups);

struct LrSchedule {
  enum class Kind { Constant, Step, Cosine } kind = Kind::Constant;
  double base_lr = 1e-3;
  int64_t warmup_steps = 0;   // linear warm-up from 0
  int64_t total_steps = 1;    // cosine: decays to min_lr at total_steps
  int64_t step_every = 1000;  // step: multiply by gamma every step_every steps
  double gamma = 0.5;
  double min_lr = 0;
  double at(int64_t step) const;
};

}  // namespace mrnn
