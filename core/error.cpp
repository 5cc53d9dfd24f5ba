#include "core/error.h"

#include <cstdlib>
#include <cstring>

namespace mrnn {

bool error_locations_in_messages() {
  static const bool on = [] {
    const char* v = std::getenv("MRNN_ERROR_LOCATION");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

Error::Error(const std::string& message, std::string location)
    : std::runtime_error(location.empty() || !error_locations_in_messages() ? message
                                                                             : message + " [at " + location + "]"),
      message_(message),
      location_(std::move(location)) {}

}  // namespace mrnn

namespace mrnn::detail {

void throw_error(const char* file, int line, const char* cond, const std::string& msg) {
  // Strip the build-machine path prefix so locations read "core/tensor.cpp:42".
  std::string f = file;
  for (const char* top : {"/core/", "/kernels/", "/layers/", "/models/", "/data/", "/eval/", "/examples/"}) {
    auto p = f.rfind(top);
    if (p != std::string::npos) { f = f.substr(p + 1); break; }
  }
  std::string what = msg.empty() ? std::string("check failed") : msg;
  if (cond && msg.empty()) what += fmt::format(": {}", cond);
  throw Error(what, fmt::format("{}:{}", f, line));
}

}  // namespace mrnn::detail
