#include "layers/module.h"

#include <set>

#include "core/autograd.h"

namespace mrnn {

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out.emplace(n, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard ng;
  std::set<std::string> used;
  for (auto& [name, p] : named_parameters()) {
    auto it = state.find(name);
    if (it == state.end()) {
      MRNN_CHECK(!strict, "load_state_dict: parameter '{}' ({}) is missing from the state", name, p.desc());
      continue;
    }
    MRNN_CHECK(it->second.shape() == p.shape(), "load_state_dict: '{}' has shape {} in the state but {} in the model",
               name, shape_str(it->second.shape()), shape_str(p.shape()));
    Tensor dst = p;
    dst.copy_(it->second);
    used.insert(name);
  }
  if (strict)
    for (auto& [name, t] : state)
      MRNN_CHECK(used.count(name), "load_state_dict: unexpected entry '{}' ({}) not in the model", name, t.desc());
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  MRNN_CHECK(name.find('.') == std::string::npos, "register_parameter: name '{}' must not contain '.'", name);
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

}  // namespace mrnn
