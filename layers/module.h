// Module: named parameters and sub-modules, train/eval mode, state_dict.
// Why this shape: parameter names follow PyTorch's dotted paths ("encoder.conv1.weight"), so a
// state_dict saved here loads into a PyTorch module of the same structure and back.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

class Module {
 public:
  virtual ~Module() = default;

  // The one-tensor forward convention. A layer that maps one tensor to one tensor overrides it, and
  // then composes (Sequential, layers/sequential.h) and is called as m(x). Layers with other
  // inputs (an RNN's initial state, a fusing layer's list) keep their own forward(...) beside it.
  // Default: throws mrnn::Error saying the module has no one-tensor forward.
  virtual Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  // All parameters, depth first, registration order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;  // number of scalars
  // Non-trainable tensors (running means, fixed statistics), depth first, dotted names. They are
  // saved and loaded with the parameters and move with to(), but no optimizer sees them.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;

  // Freezing: requires_grad_(false) on every parameter of this module (and its children), so that
  // backward computes no gradient for them and the trainer leaves them out of the optimizer.
  // Ensures: frozen parameters keep their values bit for bit during training.
  void set_requires_grad(bool on);
  void freeze() { set_requires_grad(false); }

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  // Moves every parameter (and its accumulated gradient, if any) to `device` in place: each
  // parameter keeps its TensorImpl and only its storage is replaced, so layers that hold the
  // parameter handles (including shared ones, e.g. a tied embedding table) keep working, and
  // parameters that share one storage still share it afterwards (offsets and strides are kept).
  // Requires: no autograd graph that uses the parameters is alive, and no optimizer state exists
  // yet (optimizers keep their own tensors on the old device; create them after to()).
  // Throws mrnn::Error naming the device when this build has no CUDA backend or there is no such
  // GPU; nothing is moved then. A no-op for parameters already on `device`.
  void to(Device device);
  // Converts every floating parameter and buffer (and accumulated gradient) to `dtype` in place,
  // with the same identity rules as to(Device): handles held by layers stay valid, shared storage
  // stays shared. Integer buffers are left alone. Why: a whole layer can then be gradient-checked
  // in f64 (kernels/gradcheck.h) and converted back. Requires: dtype f32 or f64, no live graph over
  // the parameters, no optimizer state yet. Inputs are not converted: give the layer f64 inputs.
  void to(DType dtype);
  // The dtype of the parameters (f32 for a module without parameters). Requires: all one dtype.
  DType dtype() const;
  // The device of the parameters (CPU for a module without parameters). Requires: all on one
  // device (throws naming the first parameter that is elsewhere).
  Device device() const;

  // Name -> parameter and buffer handles (the tensors themselves, not copies).
  std::map<std::string, Tensor> state_dict() const;
  // Copies values into the parameters and buffers. Requires: every parameter and buffer present
  // with the same shape (strict) — otherwise throws naming the missing/unexpected/mismatched entry.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

 protected:
  // Registers a leaf parameter (requires_grad is set) and returns it.
  Tensor register_parameter(const std::string& name, Tensor t);
  // Registers a buffer (requires_grad off) and returns it. Its handle stays valid across to().
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out, bool buffers) const;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace mrnn
