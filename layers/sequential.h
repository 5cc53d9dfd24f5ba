// Containers: Sequential (modules applied in order, one tensor through) and ModuleList (an indexed
// list of sub-modules, for loops a forward writes itself), plus Lambda to put a plain op (relu,
// gelu, a reshape) in a Sequential. Children are registered as "0", "1", ..., so parameter names
// follow PyTorch's ("2.weight") and a state_dict loads into torch.nn.Sequential of the same
// layers.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "layers/module.h"

namespace mrnn {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  // Appends m (registered as the next index). Requires m non-null. Returns *this for chaining.
  Sequential& add(std::shared_ptr<Module> m);
  // Each module's forward(x) in order. Requires: every module has a one-tensor forward.
  Tensor forward(const Tensor& x) const override;
  size_t size() const { return modules_.size(); }
  // Requires i < size(); throws mrnn::Error naming i otherwise.
  Module& operator[](size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class ModuleList : public Module {
 public:
  ModuleList() = default;
  ModuleList& add(std::shared_ptr<Module> m);  // requires m non-null
  size_t size() const { return modules_.size(); }
  Module& operator[](size_t i) const;          // requires i < size()
  // The module at i as its own type. Requires: it is an M (throws naming i and the type otherwise).
  template <typename M>
  M& at(size_t i) const {
    M* m = dynamic_cast<M*>(&(*this)[i]);
    if (!m) throw Error("ModuleList::at: module " + std::to_string(i) + " is not of the requested type");
    return *m;
  }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

// A parameter-free module around a function (relu, gelu, dropout with a fixed rate, ...).
class Lambda : public Module {
 public:
  explicit Lambda(std::function<Tensor(const Tensor&)> fn);  // requires fn non-empty
  Tensor forward(const Tensor& x) const override { return fn_(x); }

 private:
  std::function<Tensor(const Tensor&)> fn_;
};

}  // namespace mrnn
