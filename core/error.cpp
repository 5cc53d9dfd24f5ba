#include "core/error.h"

namespace mrnn::detail {

void throw_error(const char* file, int line, const char* cond, const std::string& msg) {
  // Strip the build-machine path prefix so messages read "core/tensor.cpp:42".
  std::string f = file;
  for (const char* top : {"/core/", "/kernels/", "/layers/", "/models/", "/data/", "/eval/", "/examples/"}) {
    auto p = f.rfind(top);
    if (p != std::string::npos) { f = f.substr(p + 1); break; }
  }
  std::string what = msg.empty() ? std::string("check failed") : msg;
  if (cond && msg.empty()) what += fmt::format(": {}", cond);
  what += fmt::format(" [at {}:{}]", f, line);
  throw Error(what);
}

}  // namespace mrnn::detail
