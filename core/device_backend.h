// How core reaches memory on devices other than the host. Why: core sits below kernels, so it may
// not include a backend's headers; instead a backend (kernels/cuda) registers these entries when
// the library is loaded, and core calls through them. core itself owns the CPU (core/allocator.h,
// the copies and fills in core/tensor.cpp, core/accumulate.h), so nothing here is needed there.
// A build without a backend still links; asking for its device then throws an Error.
#pragma once
#include <cstddef>

#include "core/device.h"

namespace mrnn {

class Tensor;

// One backend's entries; a null entry is "not provided".
struct DeviceBackend {
  // Storage: a block of `bytes` (> 0) on device `index`; throws when the device does not exist.
  void* (*allocate)(size_t bytes, int index) = nullptr;
  // Requires: p came from allocate(bytes, index).
  void (*deallocate)(void* p, size_t bytes, int index) = nullptr;
  // dst[...] = src[...]: equal shapes, any layouts and dtypes, at least one on this backend's kind.
  void (*copy)(const Tensor& src, const Tensor& dst) = nullptr;
  // Every element of t (on this backend, any layout) := value converted to t's dtype.
  void (*fill)(const Tensor& t, double value) = nullptr;
  // Throws an Error naming the device unless device `index` exists.
  void (*check_device)(int index) = nullptr;
  // dst += src in place (autograd's gradient accumulation). Requires: same shape, dtype and
  // device; dst any non-overlapping layout, src any layout.
  void (*accumulate)(const Tensor& dst, const Tensor& src) = nullptr;
};

// Merges the non-null entries into the backend of `kind` (several files of one backend may each
// register theirs). Requires: kind is not CPU; called during static initialisation (see
// DeviceBackendRegistrar), before any lookup, since lookups take no lock.
void register_device_backend(Device::Kind kind, const DeviceBackend& entries);

// The entries registered for `kind` (all null when none were).
const DeviceBackend& device_backend(Device::Kind kind);

// Ensures: the entry `member` of device's backend, non-null. Throws an Error naming `op` and the
// device, saying the build has no such backend, when it was not registered.
template <class Fn>
Fn device_backend_entry(const char* op, Device device, Fn DeviceBackend::*member);

// A namespace-scope object of this type registers a backend's entries when the library loads.
// The backends are object files of the one shared library, so the linker cannot drop them.
struct DeviceBackendRegistrar {
  DeviceBackendRegistrar(Device::Kind kind, const DeviceBackend& entries) { register_device_backend(kind, entries); }
};

// ---- implementation ----
[[noreturn]] void fail_no_device_backend(const char* op, Device device);

template <class Fn>
Fn device_backend_entry(const char* op, Device device, Fn DeviceBackend::*member) {
  Fn f = device.is_cpu() ? nullptr : device_backend(device.kind).*member;
  if (!f) fail_no_device_backend(op, device);
  return f;
}

}  // namespace mrnn
