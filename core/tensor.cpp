#include "core/tensor.h"

#include <cstring>

#include "core/autograd.h"
#include "core/strided.h"
#include "core/device_backend.h"
#include "core/philox.h"

namespace mrnn {

namespace {

std::shared_ptr<TensorImpl> new_impl(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) MRNN_CHECK(d >= 0, "tensor: negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return impl;
}

template <typename Src, typename Dst>
void strided_convert(const Tensor& src, const Tensor& dst) {
  const Src* s = static_cast<const Src*>(src.storage()->data()) + src.offset();
  Dst* d = static_cast<Dst*>(dst.storage()->data()) + dst.offset();
  if (src.is_contiguous() && dst.is_contiguous()) {
    const int64_t n = src.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(s[i]);
    return;
  }
  for_each_strided<2>(dst.shape(), {src.strides().data(), dst.strides().data()},
                      [&](int64_t, const std::array<int64_t, 2>& o) { d[o[1]] = static_cast<Dst>(s[o[0]]); });
}

// dst[...] = src[...] for equal shapes, any layouts and dtypes.
void copy_elements(const Tensor& src, const Tensor& dst) {
  if (!src.device().is_cpu() || !dst.device().is_cpu()) {  // on a GPU, or between host and GPU
    const Device on = src.device().is_cpu() ? dst.device() : src.device();
    device_backend_entry("copy", on, &DeviceBackend::copy)(src, dst);
    return;
  }
  dispatch_all(src.dtype(), "copy", [&](auto s) {
    using S = decltype(s);
    dispatch_all(dst.dtype(), "copy", [&](auto d) {
      using D = decltype(d);
      strided_convert<S, D>(src, dst);
    });
  });
}

template <typename T>
Tensor from_vec(const std::vector<T>& v, const Shape& shape) {
  Shape s = shape.empty() ? Shape{static_cast<int64_t>(v.size())} : shape;
  MRNN_CHECK(shape_numel(s) == static_cast<int64_t>(v.size()), "from_vector: {} values for shape {}", v.size(),
             shape_str(s));
  Tensor t = Tensor::empty(s, dtype_of<T>());
  if (!v.empty()) std::memcpy(t.raw_data(), v.data(), v.size() * sizeof(T));
  return t;
}

}  // namespace

// ---- creation ----
Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) { return Tensor(new_impl(shape, dtype, device)); }

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(0);
  return t;
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1, dtype, device); }
Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }
Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::from_vector(const std::vector<int64_t>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s) { return from_vec(v, s); }

Tensor Tensor::arange(int64_t n, DType dtype) {
  Tensor t = empty({n}, dtype);
  dispatch_all(dtype, "arange", [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>("arange");
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, DType dtype, double mean, double std) {
  Tensor t = empty(shape, dtype);
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed(), base = gen.advance(static_cast<uint64_t>(n));
  dispatch_float(dtype, "randn", [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>("randn");
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(mean + std * normal_at(seed, base + i));
  });
  return t;
}

Tensor Tensor::rand(const Shape& shape, Generator& gen, DType dtype, double lo, double hi) {
  Tensor t = empty(shape, dtype);
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed(), base = gen.advance(static_cast<uint64_t>(n));
  dispatch_float(dtype, "rand", [&](auto z) {
    using T = decltype(z);
    T* p = t.data<T>("rand");
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(lo + (hi - lo) * uniform_from_word(philox_word(seed, base + i)));
  });
  return t;
}

Tensor Tensor::view_of(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// ---- metadata ----
int64_t Tensor::size(int64_t d) const { return impl().shape[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  const auto& im = impl();
  int64_t expected = 1;
  for (size_t i = im.shape.size(); i-- > 0;) {
    if (im.shape[i] == 1) continue;
    if (im.strides[i] != expected) return false;
    expected *= im.shape[i];
  }
  return true;
}

std::string Tensor::desc() const {
  if (!defined()) return "undefined";
  return fmt::format("{}{} {}", dtype_name(dtype()), shape_str(shape()), device().str());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  if (!device().is_cpu()) return detach().to(Device::cpu()).to_vector<T>();  // waits for the GPU
  Tensor c = detach().to(dtype_of<T>()).contiguous();
  const T* p = c.data<T>("to_vector");
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

double Tensor::item() const {
  MRNN_CHECK(numel() == 1, "item(): expected a one-element tensor, got {}", desc());
  return to_vector<double>()[0];
}

// ---- copies ----
Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_elements(detach(), out);
  if (needs_grad({this})) {
    attach_grad(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  }
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor out = empty(shape(), dt, device());
  copy_elements(detach(), out);
  if (needs_grad({this})) {
    MRNN_CHECK(is_floating(dt), "to({}): cannot differentiate through a conversion to an integer type",
               dtype_name(dt));
    DType from = dtype();
    attach_grad(out, "to_dtype", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  }
  return out;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  const Device other = d.is_cpu() ? device() : d;
  MRNN_CHECK(device_backend(other.kind).copy, "to({}): copies to or from {} need the CUDA backend, which this build "
             "does not include (configure with -DMRNN_CUDA=ON)", d.str(), other.str());
  Tensor out = empty(shape(), dtype(), d);
  copy_elements(detach(), out);  // kernels/cuda: pinned staging for large host<->device copies
  if (needs_grad({this})) {
    Device from = device();
    attach_grad(out, "to_device", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  }
  return out;
}

Tensor Tensor::detach() const {
  Tensor t = view_of(*this, shape(), strides(), offset());
  return t;
}

Tensor& Tensor::fill_(double value) {
  MRNN_CHECK(!(requires_grad() && grad_enabled()), "fill_: in-place change of {} that requires grad; use "
             "NoGradGuard", desc());
  if (!device().is_cpu()) {
    device_backend_entry("fill_", device(), &DeviceBackend::fill)(*this, value);
    return *this;
  }
  dispatch_all(dtype(), "fill_", [&](auto z) {
    using T = decltype(z);
    T v = static_cast<T>(value);
    T* p = static_cast<T*>(storage()->data()) + offset();
    if (is_contiguous()) {
      std::fill(p, p + numel(), v);
    } else {
      for_each_strided<1>(shape(), {strides().data()}, [&](int64_t, const std::array<int64_t, 1>& o) { p[o[0]] = v; });
    }
  });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  MRNN_CHECK(src.shape() == shape(), "copy_: source {} and destination {} differ in shape", src.desc(), desc());
  MRNN_CHECK(!(requires_grad() && grad_enabled()), "copy_: in-place change of {} that requires grad; use "
             "NoGradGuard", desc());
  copy_elements(src, *this);
  return *this;
}

Tensor& Tensor::requires_grad_(bool on) {
  MRNN_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating-point tensors can require grad, got {}",
             desc());
  MRNN_CHECK(is_leaf() || on, "requires_grad_(false) on a non-leaf tensor; use detach()");
  impl().requires_grad = on;
  return *this;
}

// ---- checks ----
void check_host_access(const char* op, const Tensor& t) {
  MRNN_CHECK(t.device().is_cpu(), "{}: host access to {}; copy it to the CPU first (.to(Device::cpu()))",
             op ? op : "data()", t.desc());
}

void check_defined(const char* op, std::initializer_list<const Tensor*> ts) {
  int i = 0;
  for (const Tensor* t : ts) {
    MRNN_CHECK(t->defined(), "{}: input {} is an undefined tensor", op, i);
    ++i;
  }
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = *ts.begin();
  for (const Tensor* t : ts)
    MRNN_CHECK(t->device() == first->device(), "{}: inputs on different devices ({} and {}); move them with .to()",
               op, first->desc(), t->desc());
}

void check_same_dtype(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = *ts.begin();
  for (const Tensor* t : ts)
    MRNN_CHECK(t->dtype() == first->dtype(), "{}: inputs of different dtypes ({} and {})", op, first->desc(),
               t->desc());
}

}  // namespace mrnn
