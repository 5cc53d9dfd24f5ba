// A reference-counted block of device memory that tensors (and their views) share.
#pragma once
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace mrnn {

class Storage {
 public:
  // Requires: device is CPU, or a device whose backend is registered (core/device_backend.h; else
  // an Error names the device). Allocates from the device's caching allocator; bytes may be 0 (no
  // memory is held then).
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

}  // namespace mrnn
