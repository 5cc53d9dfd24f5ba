#include "core/storage.h"

#include "core/allocator.h"
#include "core/error.h"
#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace mrnn {
namespace {
DeviceAllocatorHooks g_cuda_hooks;
}

void set_cuda_allocator_hooks(DeviceAllocatorHooks hooks) { g_cuda_hooks = hooks; }

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    data_ = cpu_allocator::allocate(bytes);
  } else {
#ifdef MRNN_WITH_CUDA
    if (!g_cuda_hooks.allocate) cuda::install_allocator();  // lazily, on the first CUDA storage
#endif
    MRNN_CHECK(g_cuda_hooks.allocate, "storage: {} requested but the CUDA backend is not available",
               device.str());
    data_ = g_cuda_hooks.allocate(bytes, device.index);
  }
}

Storage::~Storage() {
  if (!data_) return;
  if (device_.is_cpu()) cpu_allocator::deallocate(data_, bytes_);
  else if (g_cuda_hooks.deallocate) g_cuda_hooks.deallocate(data_, bytes_, device_.index);
}

}  // namespace mrnn
