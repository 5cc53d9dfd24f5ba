// A reference-counted block of device memory that tensors (and their views) share.
#pragma once
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace mrnn {

class Storage {
 public:
  // Requires: device is CPU (or CUDA when the backend is built). Allocates from the device's
  // caching allocator; bytes may be 0 (no memory is held then).
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// Hooks the CUDA backend installs when it is built and a GPU is present.
struct DeviceAllocatorHooks {
  void* (*allocate)(size_t bytes, int device) = nullptr;
  void (*deallocate)(void* p, size_t bytes, int device) = nullptr;
};
void set_cuda_allocator_hooks(DeviceAllocatorHooks hooks);

}  // namespace mrnn
