// Tensor: a cheap handle (shared_ptr) to shape, strides, dtype and a shared Storage.
// Why handle semantics: ops, autograd nodes and views all share memory without copies; copying a
// Tensor copies a pointer. Views (reshape, transpose, narrow, ...) live in kernels/ops.h as
// differentiable free functions; this class holds the data model and the autograd hooks.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/random.h"
#include "core/shape.h"
#include "core/storage.h"

namespace mrnn {

struct Node;  // core/autograd.h
class Tensor;

// Throws an Error "{op}: host access to f32[2, 3] cuda:0; copy it to the CPU first
// (.to(Device::cpu()))" unless t is on the CPU. Tensor::data<T>() calls it; host code that reaches
// memory another way (raw_data(), storage()->data()) should too.
void check_host_access(const char* op, const Tensor& t);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient (leaves)
  std::shared_ptr<Node> grad_fn;     // the node that produced this tensor (non-leaves)
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (defined() == false)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (contiguous, fresh storage) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::F32);
  // Requires: values.size() == numel(shape) (shape defaults to 1-d).
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape = {});
  static Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape = {});
  static Tensor arange(int64_t n, DType dtype = DType::I64);
  // Element i is drawn from the generator's counter (offset + i): same numbers on every backend.
  static Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32, double mean = 0, double std = 1);
  static Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::F32, double lo = 0, double hi = 1);
  // A strided view of `base`'s storage (no autograd link; used by view ops).
  static Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  bool shares_storage(const Tensor& o) const { return impl().storage == o.impl().storage; }
  // "f32[2, 3] cpu"
  std::string desc() const;

  // ---- data access ----
  // Host pointer to the first element (strides still apply). Requires: dtype matches T and the
  // tensor is on the CPU; otherwise throws an Error naming `op` (the caller; "data<T>()" when
  // null) and the tensor. Why: a device pointer handed to host code is dereferenced silently.
  template <typename T> T* data(const char* op = nullptr) const {
    MRNN_CHECK(dtype() == dtype_of<T>(), "{}: data<{}>() on a {} tensor", op ? op : "data", dtype_name(dtype_of<T>()),
               desc());
    check_host_access(op, *this);
    return static_cast<T*>(impl().storage->data()) + impl().offset;
  }
  // The element pointer on the tensor's own device (backend code: kernels/cuda hands it to its
  // kernels). Never dereference it on the host unless device().is_cpu().
  void* raw_data() const { return static_cast<char*>(impl().storage->data()) + impl().offset * dtype_size(dtype()); }
  // Copies the elements in row-major order (any layout), converting to T.
  template <typename T> std::vector<T> to_vector() const;
  // Value of a one-element tensor as double.
  double item() const;

  // ---- copies and conversions (differentiable where it makes sense) ----
  Tensor contiguous() const;  // self when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor detach() const;      // shares storage, no autograd history

  // ---- in-place (refused on tensors that are part of a graph that needs them) ----
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // same shape; any layouts; converts dtype

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  void zero_grad() { impl().grad.reset(); }
  // Back-propagates from this tensor. Requires: a scalar, or `seed` of the same shape.
  // The graph is freed afterwards unless retain_graph; a second backward through it throws.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;

  TensorImpl& impl() const {
    MRNN_CHECK(impl_, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Checks for op front-ends: throw an Error naming the op and the tensors involved.
void check_same_device(const char* op, std::initializer_list<const Tensor*> ts);
void check_same_dtype(const char* op, std::initializer_list<const Tensor*> ts);
void check_defined(const char* op, std::initializer_list<const Tensor*> ts);

}  // namespace mrnn
