#include "layers/sequential.h"

#include <string>

namespace mrnn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) add(std::move(m));
}

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  MRNN_CHECK(m != nullptr, "Sequential::add: module {} is null", modules_.size());
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(m)));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) const {
  Tensor h = x;
  for (size_t i = 0; i < modules_.size(); ++i) {
    try {
      h = modules_[i]->forward(h);
    } catch (const Error& e) {
      throw Error("Sequential: module " + std::to_string(i) + ": " + e.what());
    }
  }
  return h;
}

Module& Sequential::operator[](size_t i) const {
  MRNN_CHECK(i < modules_.size(), "Sequential: index {} out of range (size {})", i, modules_.size());
  return *modules_[i];
}

ModuleList& ModuleList::add(std::shared_ptr<Module> m) {
  MRNN_CHECK(m != nullptr, "ModuleList::add: module {} is null", modules_.size());
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(m)));
  return *this;
}

Module& ModuleList::operator[](size_t i) const {
  MRNN_CHECK(i < modules_.size(), "ModuleList: index {} out of range (size {})", i, modules_.size());
  return *modules_[i];
}

Lambda::Lambda(std::function<Tensor(const Tensor&)> fn) : fn_(std::move(fn)) {
  MRNN_CHECK(static_cast<bool>(fn_), "Lambda: the function is empty");
}

}  // namespace mrnn
