#include "layers/module.h"

#include <map>
#include <set>

#include "core/autograd.h"
#include "core/device_backend.h"

namespace mrnn {

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                     bool buffers) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out, buffers);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out, false);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out, true);
  return out;
}

void Module::set_requires_grad(bool on) {
  for (auto& [name, t] : named_parameters()) {
    MRNN_CHECK(t.is_leaf(), "set_requires_grad: parameter '{}' is not a leaf tensor", name);
    t.requires_grad_(on);
    if (!on) t.zero_grad();
  }
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

namespace {

// A fresh copy of all of `storage`'s bytes on `device`, made through an i32 view of the whole
// block (every dtype's size is a multiple of 4 bytes), so the bits arrive unchanged.
std::shared_ptr<Storage> copy_storage(const std::shared_ptr<Storage>& storage, Device device) {
  auto whole = std::make_shared<TensorImpl>();
  whole->storage = storage;
  whole->dtype = DType::I32;
  whole->shape = {static_cast<int64_t>(storage->bytes() / 4)};
  whole->strides = {1};
  return Tensor(whole).to(device).storage();
}

}  // namespace

void Module::to(Device device) {
  if (!device.is_cpu()) device_backend_entry("Module::to", device, &DeviceBackend::check_device)(device.index);
  NoGradGuard ng;
  // Every distinct impl once (a parameter registered twice is moved once), every storage once.
  // The keys keep the old storages alive until the end, so no address is reused meanwhile.
  std::map<std::shared_ptr<Storage>, std::shared_ptr<Storage>> moved;
  std::set<const TensorImpl*> done;
  auto move_impl = [&](TensorImpl& impl) {
    if (impl.storage->device() == device) return;
    auto it = moved.find(impl.storage);
    if (it == moved.end()) it = moved.emplace(impl.storage, copy_storage(impl.storage, device)).first;
    impl.storage = it->second;
  };
  auto all = named_parameters();
  for (auto& b : named_buffers()) all.push_back(b);
  for (auto& [name, t] : all) {
    TensorImpl& impl = t.impl();
    if (!done.insert(&impl).second) continue;
    MRNN_CHECK(impl.grad_fn == nullptr, "Module::to: parameter '{}' ({}) is not a leaf tensor", name, t.desc());
    move_impl(impl);
    if (impl.grad && done.insert(impl.grad.get()).second) move_impl(*impl.grad);
  }
}

Tensor Module::forward(const Tensor& x) const {
  throw Error("Module::forward: this module has no one-tensor forward (override Module::forward to use it in a "
              "Sequential or call it as m(x)); input " + (x.defined() ? x.desc() : std::string("undefined")));
}

void Module::to(DType dtype) {
  MRNN_CHECK(is_floating(dtype), "Module::to: parameters can be converted to f32 or f64 only, not {}", dtype_name(dtype));
  NoGradGuard ng;
  // As to(Device): each impl keeps its identity, each storage is converted once as a whole (so
  // parameters that are views of one buffer stay views of one buffer, offsets unchanged).
  std::map<std::shared_ptr<Storage>, std::shared_ptr<Storage>> converted;
  std::set<const TensorImpl*> done;
  auto convert_impl = [&](TensorImpl& impl, const std::string& name) {
    if (!is_floating(impl.dtype) || impl.dtype == dtype) return;
    auto it = converted.find(impl.storage);
    if (it == converted.end()) {
      const int64_t n = static_cast<int64_t>(impl.storage->bytes() / dtype_size(impl.dtype));
      Tensor whole = Tensor::view_of(Tensor(std::make_shared<TensorImpl>(impl)), {n}, {1}, 0);
      it = converted.emplace(impl.storage, whole.to(dtype).storage()).first;
    }
    MRNN_CHECK(it->second->bytes() / dtype_size(dtype) == impl.storage->bytes() / dtype_size(impl.dtype),
               "Module::to: '{}' shares its storage with a tensor of another dtype", name);
    impl.storage = it->second;
    impl.dtype = dtype;
  };
  auto all = named_parameters();
  for (auto& b : named_buffers()) all.push_back(b);
  for (auto& [name, t] : all) {
    TensorImpl& impl = t.impl();
    if (!done.insert(&impl).second) continue;
    MRNN_CHECK(impl.grad_fn == nullptr, "Module::to: parameter '{}' ({}) is not a leaf tensor", name, t.desc());
    convert_impl(impl, name);
    if (impl.grad && done.insert(impl.grad.get()).second) convert_impl(*impl.grad, name + ".grad");
  }
}

DType Module::dtype() const {
  const auto params = named_parameters();
  if (params.empty()) return DType::F32;
  const DType d = params.front().second.dtype();
  for (auto& [name, t] : params)
    MRNN_CHECK(t.dtype() == d, "Module::dtype: parameter '{}' is {} but '{}' is {}", name, dtype_name(t.dtype()),
               params.front().first, dtype_name(d));
  return d;
}

Device Module::device() const {
  const auto params = named_parameters();
  if (params.empty()) return Device::cpu();
  const Device d = params.front().second.device();
  for (auto& [name, t] : params)
    MRNN_CHECK(t.device() == d, "Module::device: parameter '{}' is on {} but '{}' is on {}", name, t.device().str(),
               params.front().first, d.str());
  return d;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out.emplace(n, t);
  for (auto& [n, t] : named_buffers()) out.emplace(n, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard ng;
  std::set<std::string> used;
  auto all = named_parameters();
  for (auto& b : named_buffers()) all.push_back(b);
  for (auto& [name, p] : all) {
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

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  MRNN_CHECK(name.find('.') == std::string::npos, "register_buffer: name '{}' must not contain '.'", name);
  MRNN_CHECK(t.defined() && t.is_leaf(), "register_buffer: '{}' must be a defined leaf tensor", name);
  for (const auto& [n, p] : params_) MRNN_CHECK(n != name, "register_buffer: '{}' is already a parameter", name);
  t.requires_grad_(false);
  buffers_.emplace_back(name, t);
  return t;
}

}  // namespace mrnn
