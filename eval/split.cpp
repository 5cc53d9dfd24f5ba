#include "eval/split.h"

namespace mrnn::eval {

void split_whitespace(std::string_view s, std::vector<std::string_view>& words) {
  words.clear();
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    while (i < n && is_python_space(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < n && !is_python_space(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
}

void split_spaces(std::string_view s, std::vector<std::string_view>& words) {
  words.clear();
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(' ', start);
    if (pos == std::string_view::npos) {
      words.push_back(s.substr(start));
      return;
    }
    words.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace mrnn::eval
