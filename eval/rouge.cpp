#include "eval/rouge.h"

#include <algorithm>

#include "core/error.h"
#include "eval/pairwise_sum.h"
#include "eval/split.h"

namespace mrnn::eval {
namespace {
constexpr double kBeta = 1.2;

// LCS with one DP row over the shorter sequence; `row` is scratch.
size_t lcs_with(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                std::vector<size_t>& row) {
  const auto& longer = a.size() >= b.size() ? a : b;
  const auto& shorter = a.size() >= b.size() ? b : a;
  row.assign(shorter.size() + 1, 0);
  for (const std::string_view& word : longer) {
    size_t diagonal = 0;  // row[j - 1] of the previous row
    for (size_t j = 1; j <= shorter.size(); ++j) {
      const size_t up = row[j];
      row[j] = word == shorter[j - 1] ? diagonal + 1 : std::max(up, row[j - 1]);
      diagonal = up;
    }
  }
  return row[shorter.size()];
}

double rouge_with(std::string_view hypothesis, const std::vector<std::string>& refs,
                  std::vector<std::string_view>& hyp_words, std::vector<std::string_view>& ref_words,
                  std::vector<size_t>& row) {
  split_spaces(hypothesis, hyp_words);
  double prec_max = 0.0, rec_max = 0.0;
  for (const std::string& ref : refs) {
    split_spaces(ref, ref_words);
    const double lcs = static_cast<double>(lcs_with(ref_words, hyp_words, row));
    prec_max = std::max(prec_max, lcs / static_cast<double>(hyp_words.size()));
    rec_max = std::max(rec_max, lcs / static_cast<double>(ref_words.size()));
  }
  if (prec_max == 0.0 || rec_max == 0.0) return 0.0;
  const double beta2 = kBeta * kBeta;
  return ((1.0 + beta2) * prec_max * rec_max) / (rec_max + beta2 * prec_max);
}

}  // namespace

size_t lcs_length(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  std::vector<size_t> row;
  return lcs_with(a, b, row);
}

double rouge_l_sentence(std::string_view hypothesis, const std::vector<std::string>& refs) {
  MRNN_CHECK(!refs.empty(), "ROUGE-L: no reference captions (expected at least 1)");
  std::vector<std::string_view> hyp_words, ref_words;
  std::vector<size_t> row;
  return rouge_with(hypothesis, refs, hyp_words, ref_words, row);
}

RougeScore rouge_l(const CaptionMap& refs, const CaptionMap& results) {
  check_caption_inputs(refs, results, "ROUGE-L");
  RougeScore out;
  out.per_image.reserve(results.size());
  out.image_ids.reserve(results.size());
  std::vector<std::string_view> hyp_words, ref_words;
  std::vector<size_t> row;
  for (const auto& [id, hyp] : results) {
    out.image_ids.push_back(id);
    out.per_image.push_back(rouge_with(hyp.front(), refs.at(id), hyp_words, ref_words, row));
  }
  out.corpus = numpy_mean(out.per_image);
  return out;
}

}  // namespace mrnn::eval
