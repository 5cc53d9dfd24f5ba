#include "core/storage.h"

#include "core/allocator.h"
#include "core/device_backend.h"
#include "core/error.h"

namespace mrnn {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    data_ = cpu_allocator::allocate(bytes);
  } else {
    data_ = device_backend_entry("storage", device, &DeviceBackend::allocate)(bytes, device.index);
  }
}

Storage::~Storage() {
  if (!data_) return;
  if (device_.is_cpu()) cpu_allocator::deallocate(data_, bytes_);
  else if (auto free_fn = device_backend(device_.kind).deallocate) free_fn(data_, bytes_, device_.index);
}

}  // namespace mrnn
