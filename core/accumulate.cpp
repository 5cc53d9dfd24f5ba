#include "core/accumulate.h"

#include "core/device_backend.h"
#include "core/strided.h"

namespace mrnn {

namespace {
void check_alike(const Tensor& dst, const Tensor& src) {
  MRNN_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype() && dst.device() == src.device(),
             "accumulate: destination {} and source {} differ in shape, dtype or device", dst.desc(), src.desc());
}
}  // namespace

void accumulate_into(const Tensor& dst, const Tensor& src) {
  check_alike(dst, src);
  if (!dst.device().is_cpu()) {
    device_backend_entry("accumulate", dst.device(), &DeviceBackend::accumulate)(dst, src);
    return;
  }
  dispatch_float(dst.dtype(), "accumulate", [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dst.storage()->data()) + dst.offset();
    const T* s = static_cast<const T*>(src.storage()->data()) + src.offset();
    if (dst.is_contiguous() && src.is_contiguous()) {
      const int64_t n = dst.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) d[i] += s[i];
      return;
    }
    for_each_strided<2>(dst.shape(), {dst.strides().data(), src.strides().data()},
                        [&](int64_t, const std::array<int64_t, 2>& o) { d[o[0]] += s[o[1]]; });
  });
}

Tensor sum_of(const Tensor& a, const Tensor& b) {
  check_alike(a, b);
  if (!a.device().is_cpu() || !a.is_contiguous() || !b.is_contiguous()) {
    Tensor out = a.clone();
    accumulate_into(out, b);
    return out;
  }
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  dispatch_float(a.dtype(), "accumulate", [&](auto z) {
    using T = decltype(z);
    const T* pa = static_cast<const T*>(a.storage()->data()) + a.offset();
    const T* pb = static_cast<const T*>(b.storage()->data()) + b.offset();
    T* po = static_cast<T*>(out.storage()->data());
    const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
  });
  return out;
}

}  // namespace mrnn
