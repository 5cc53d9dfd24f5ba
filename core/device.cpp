#include "core/device.h"

#include <cerrno>
#include <cstdlib>

#include "core/device_backend.h"
#include "core/error.h"

namespace mrnn {

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5) {
    const std::string n = text.substr(5);
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(n.c_str(), &end, 10);
    if (errno == 0 && end == n.c_str() + n.size() && n[0] != '-' && n[0] != '+' && v <= 1 << 16)
      return Device::cuda(static_cast<int>(v));
  }
  MRNN_FAIL("device '{}' is not one of: cpu, cuda, cuda:N (N = 0, 1, ...)", text);
}

void require_device(Device device) {
  if (device.is_cpu()) return;
  device_backend_entry("device", device, &DeviceBackend::check_device)(device.index);
}

}  // namespace mrnn
