// mrnn's one exception type and the check macros that throw it.
// Why: a failure deep inside an op must tell the user *which* op, on *which* shapes and device,
// and where in our source it was detected, without a debugger.
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mrnn {

// Thrown by every check in the library. what() is the sentence a user reads (op name, shapes,
// device, file and field where the thrower supplied them); location() is where in mrnn's source
// the check fired ("core/tensor.cpp:42", empty when thrown without one). Why separate: a user
// does not have our sources, but a bug report with the location is gold. With the environment
// variable MRNN_ERROR_LOCATION=1, what() also ends in " [at <location>]".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string location = {});
  const std::string& message() const { return message_; }
  const std::string& location() const { return location_; }

 private:
  std::string message_, location_;
};

// True when MRNN_ERROR_LOCATION is set (and not "0"): what() then carries the location too.
bool error_locations_in_messages();

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* cond, const std::string& msg);
inline std::string check_msg() { return {}; }
template <typename... Args>
std::string check_msg(fmt::format_string<Args...> f, Args&&... args) {
  return fmt::format(f, std::forward<Args>(args)...);
}
}  // namespace detail

}  // namespace mrnn

// MRNN_CHECK(cond, "format {}", args...): throws mrnn::Error naming the failed condition, the
// formatted message and the source location when cond is false.
#define MRNN_CHECK(cond, ...)                                                               \
  do {                                                                                      \
    if (!(cond))                                                                            \
      ::mrnn::detail::throw_error(__FILE__, __LINE__, #cond,                                \
                                  ::mrnn::detail::check_msg(__VA_ARGS__));                  \
  } while (0)

// MRNN_FAIL("format {}", args...): unconditional error.
#define MRNN_FAIL(...) \
  ::mrnn::detail::throw_error(__FILE__, __LINE__, nullptr, ::mrnn::detail::check_msg(__VA_ARGS__))
