// Generating answers with a trained mQA model through the generic decoders (greedy or beam), and
// the answer word of a sentence answer.
//
// The answer word of a generated sentence (--answers sentence), a rule with nothing
// dataset-specific in it: the candidates are the sentence's tokens that are not tokens of the
// question (all its tokens when every one is); each candidate scores the number of training
// questions whose multiple_choice_answer, VQA-normalized (eval/vqa_accuracy.h), equals the
// candidate's VQA normalization; the highest score wins, ties go to the earliest candidate (so
// with no known answer word at all, the first token not in the question).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/engine/step_decoder.h"
#include "models/mqa/mqa.h"
#include "models/mqa/mqa_data.h"

namespace mrnn {

class AnswerWordPicker {
 public:
  AnswerWordPicker() = default;
  // Counts the normalized multiple_choice_answer of every question of the training split.
  explicit AnswerWordPicker(const std::vector<std::string>& training_answers);
  // Requires nothing. Ensures: a token of `sentence` ("" only when it has none), by the rule above.
  std::string pick(const std::vector<std::string>& sentence, const std::vector<std::string>& question) const;
  // {"normalized answer": count, ...}
  std::string to_json() const;
  // Throws Error naming `what` unless text is a JSON object of non-negative integer counts.
  static AnswerWordPicker from_json(const std::string& text, const std::string& what);

 private:
  std::map<std::string, int64_t> counts_;
};

// Answer tokens for the questions `rows` of split (all when rows is empty), in that order, decoded
// greedily (opt.beam_size == 1) or by beam search, `batch` questions at a time. Requires: the split
// is encoded with the model's vocabulary and holds its images.
std::vector<std::vector<std::string>> answer_split(const Mqa& model, const Vocab& vocab, const MqaSplit& split,
                                                   const std::vector<int64_t>& rows, const DecodeOptions& opt,
                                                   int64_t batch = 128);

// The answers of a batch: question ids, and images [B, 3, S, S] (ignored by a blind model).
std::vector<std::vector<std::string>> answer_batch_tokens(const Mqa& model, const Vocab& vocab,
                                                          const QuestionBatch& q, const Tensor& images,
                                                          const DecodeOptions& opt);

// What a model answers for split rows, as text scored by VQA accuracy: the answer joined
// (join_answer) for a word model, the picked answer word for a sentence model.
struct SplitAnswers {
  std::vector<std::string> answers;    // per row
  std::vector<std::string> sentences;  // per row, the generated token sequence joined (both modes)
};
SplitAnswers answer_texts(const Mqa& model, const Vocab& vocab, TokenizerMode mode, const AnswerWordPicker& picker,
                          const MqaSplit& split, const std::vector<int64_t>& rows, const DecodeOptions& opt);

}  // namespace mrnn
