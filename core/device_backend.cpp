#include "core/device_backend.h"

#include "core/error.h"

namespace mrnn {

namespace {
constexpr int kKinds = 2;  // Device::Kind::CPU, Device::Kind::CUDA

// A function-local static, so registrations from other files' static initialisers find it built.
DeviceBackend& slot(Device::Kind kind) {
  static DeviceBackend backends[kKinds];
  return backends[static_cast<int>(kind)];
}

template <class Fn>
void merge(Fn& into, Fn from) {
  if (from) into = from;
}
}  // namespace

void register_device_backend(Device::Kind kind, const DeviceBackend& e) {
  MRNN_CHECK(kind != Device::Kind::CPU, "register_device_backend: the CPU is core's own, not a backend");
  DeviceBackend& b = slot(kind);
  merge(b.allocate, e.allocate);
  merge(b.deallocate, e.deallocate);
  merge(b.copy, e.copy);
  merge(b.fill, e.fill);
  merge(b.check_device, e.check_device);
  merge(b.accumulate, e.accumulate);
}

const DeviceBackend& device_backend(Device::Kind kind) { return slot(kind); }

void fail_no_device_backend(const char* op, Device device) {
  if (device.is_cpu()) MRNN_FAIL("{}: the CPU has no device backend entries (core handles the CPU itself)", op);
  if (device_backend(device.kind).allocate)
    MRNN_FAIL("{}: the backend of {} registers no entry for this (a bug in kernels/cuda)", op, device.str());
  MRNN_FAIL("{}: {} requested but the CUDA backend is not available: this build has no CUDA backend "
            "(configure with -DMRNN_CUDA=ON)", op, device.str());
}

}  // namespace mrnn
