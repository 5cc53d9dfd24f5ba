// VQA accuracy with the official VQA evaluation's answer normalization (GT-Vision-Lab/VQA,
// PythonEvaluationTools/vqaEvaluation/vqaEval.py).
// Why: mQA answers are scored as in the VQA challenge; a hand-rolled normalization changes numbers.
//
// Conventions, as in the official code:
// - punctuation: for each of  ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !  the character is deleted
//   when the original answer contains it followed by or preceded by a space, or when the answer
//   contains a digit-comma-digit ("1,000"), and replaced by a space otherwise; then every '.' not
//   followed by a digit is deleted (the first 32 only: the official call passes re.UNICODE as
//   re.sub's count argument).
// - digits and articles: lowercase, split on whitespace, number words none/zero..ten -> 0..10,
//   drop a / an / the, expand contractions ("dont" -> "don't", ...), join with single spaces.
// - the predicted answer gets \n and \t turned into spaces, strip, then both steps; the human
//   answers get only the punctuation step, and only when they are not all identical.
// - accuracy of a question = mean over each human answer h_i of min(1, #{j != i : h_j == pred} / 3)
//   (the 10 leave-one-out subsets when there are 10 answers).
// Only ASCII is lowercased and only ASCII digits count as digits.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mrnn::eval {

// The official processPunctuation. Requires nothing.
std::string vqa_process_punctuation(std::string_view text);

// The official processDigitArticle. Requires nothing.
std::string vqa_process_digit_article(std::string_view text);

// What the official evaluation does to a predicted answer before matching.
std::string vqa_normalize_prediction(std::string_view answer);

// Accuracy of one question in [0, 1]. Requires !human_answers.empty() (usually 10).
double vqa_question_accuracy(std::string_view predicted, const std::vector<std::string>& human_answers);

struct VqaAccuracy {
  double overall_percent = 0;        // 100 * mean of per_question (the official 'overall', unrounded)
  std::vector<double> per_question;  // each in [0, 1]
};

// Requires predicted.size() == human_answers.size() > 0 and no empty answer list.
// Ensures: the official accuracy of each question and their mean; else throws mrnn::Error.
VqaAccuracy vqa_accuracy(const std::vector<std::string>& predicted,
                         const std::vector<std::vector<std::string>>& human_answers);

// The official report (vqaEval.py setAccuracy): overall, per question type and per answer type,
// each round(100 * mean of the per-question accuracies, 2) with Python's rounding (the decimal
// nearest the double, ties to even), e.g. 66.67 for 2/3.
struct VqaReport {
  double overall = 0;
  std::map<std::string, double> per_question_type, per_answer_type;
  std::map<std::string, int64_t> question_type_counts, answer_type_counts;
};
// Requires: per_question, question_types and answer_types of one size > 0. Throws Error otherwise.
VqaReport vqa_report(const std::vector<double>& per_question, const std::vector<std::string>& question_types,
                     const std::vector<std::string>& answer_types);
// Python's round(x, 2) for a finite double.
double python_round2(double x);

}  // namespace mrnn::eval
