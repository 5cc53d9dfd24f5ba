#include "eval/novel_f1.h"

#include <algorithm>
#include <cctype>

namespace mrnn::eval {

std::vector<std::string> mention_tokens(const std::string& caption) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char ch : caption) {
    if (std::isalnum(ch) || ch >= 0x80) {  // bytes of non-ASCII letters stay inside their word
      cur += static_cast<char>(ch < 0x80 ? std::tolower(ch) : ch);
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool mentions(const std::string& caption, const std::vector<std::string>& words) {
  const std::vector<std::string> toks = mention_tokens(caption);
  for (const std::string& w : words) {
    const std::vector<std::string> pat = mention_tokens(w);
    if (pat.empty() || pat.size() > toks.size()) continue;
    for (size_t i = 0; i + pat.size() <= toks.size(); ++i)
      if (std::equal(pat.begin(), pat.end(), toks.begin() + static_cast<std::ptrdiff_t>(i))) return true;
  }
  return false;
}

NovelF1 novel_word_f1(const std::vector<std::string>& words, const std::vector<std::string>& positives,
                      const std::vector<std::string>& negatives) {
  NovelF1 r;
  for (const std::string& c : positives) (mentions(c, words) ? r.tp : r.fn)++;
  for (const std::string& c : negatives) r.fp += mentions(c, words);
  if (r.tp == 0) return r;  // P, R and F1 are 0
  r.precision = static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fp);
  r.recall = static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fn);
  r.f1 = 2 * r.precision * r.recall / (r.precision + r.recall);
  return r;
}

}  // namespace mrnn::eval
