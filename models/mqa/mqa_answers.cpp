#include "models/mqa/mqa_answers.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "eval/vqa_accuracy.h"
#include "kernels/ops.h"

namespace mrnn {

AnswerWordPicker::AnswerWordPicker(const std::vector<std::string>& training_answers) {
  for (const std::string& a : training_answers) ++counts_[eval::vqa_normalize_prediction(a)];
}

std::string AnswerWordPicker::pick(const std::vector<std::string>& sentence,
                                   const std::vector<std::string>& question) const {
  const std::set<std::string> in_question(question.begin(), question.end());
  std::vector<std::string> candidates;
  for (const std::string& t : sentence)
    if (!in_question.count(t)) candidates.push_back(t);
  if (candidates.empty()) candidates = sentence;
  std::string best;
  int64_t best_count = -1;
  for (const std::string& c : candidates) {
    const auto it = counts_.find(eval::vqa_normalize_prediction(c));
    const int64_t n = it == counts_.end() ? 0 : it->second;
    if (n > best_count) {
      best = c;
      best_count = n;
    }
  }
  return best;
}

std::string AnswerWordPicker::to_json() const { return nlohmann::json(counts_).dump(1) + "\n"; }

AnswerWordPicker AnswerWordPicker::from_json(const std::string& text, const std::string& what) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    MRNN_FAIL("{}: not valid JSON: {}", what, e.what());
  }
  MRNN_CHECK(j.is_object(), "{}: expected a JSON object of answer counts", what);
  AnswerWordPicker p;
  for (const auto& [k, v] : j.items()) {
    MRNN_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0, "{}: the count of \"{}\" must be an integer >= 0",
               what, k);
    p.counts_[k] = v.get<int64_t>();
  }
  return p;
}

std::vector<std::vector<std::string>> answer_batch_tokens(const Mqa& model, const Vocab& vocab,
                                                          const QuestionBatch& q, const Tensor& images,
                                                          const DecodeOptions& opt) {
  NoGradGuard ng;
  const Device dev = model.device();
  QuestionBatch qd{q.ids.to(dev), q.mask.to(dev)};
  Tensor r_q = model.encode_question(qd);
  Tensor img = model.config().blind ? Tensor() : model.encode_images(images.to(dev));
  MqaAnswerer answerer(model, r_q, img);
  const std::vector<Hypothesis> hyps = opt.beam_size > 1 ? beam_decode(answerer, opt) : greedy_decode(answerer, opt);
  std::vector<std::vector<std::string>> out;
  for (const Hypothesis& h : hyps) {
    std::vector<std::string> words;
    for (int64_t id : h.ids) words.push_back(vocab.token(static_cast<int32_t>(id)));
    out.push_back(std::move(words));
  }
  return out;
}

std::vector<std::vector<std::string>> answer_split(const Mqa& model, const Vocab& vocab, const MqaSplit& split,
                                                   const std::vector<int64_t>& rows_in, const DecodeOptions& opt,
                                                   int64_t batch) {
  std::vector<int64_t> rows = rows_in;
  if (rows.empty())
    for (int64_t i = 0; i < split.size(); ++i) rows.push_back(i);
  MRNN_CHECK(static_cast<int64_t>(split.question_ids_tok.size()) == split.size(),
             "answer_split: the split {} is not encoded with a vocabulary", split.name);
  std::vector<std::vector<std::string>> out;
  for (size_t at = 0; at < rows.size(); at += static_cast<size_t>(batch)) {
    const std::vector<int64_t> chunk(rows.begin() + at, rows.begin() + std::min(rows.size(), at + batch));
    Tensor images;
    if (!model.config().blind) {
      MRNN_CHECK(split.images.defined(), "answer_split: the images of {} are not loaded", split.name);
      std::vector<int64_t> img_rows;
      for (int64_t r : chunk) img_rows.push_back(split.image_row[r]);
      images = index_select(split.images, Tensor::from_vector(img_rows));
    }
    auto a = answer_batch_tokens(model, vocab, question_batch(split.question_ids_tok, chunk), images, opt);
    out.insert(out.end(), a.begin(), a.end());
  }
  return out;
}

SplitAnswers answer_texts(const Mqa& model, const Vocab& vocab, TokenizerMode mode, const AnswerWordPicker& picker,
                          const MqaSplit& split, const std::vector<int64_t>& rows_in, const DecodeOptions& opt) {
  std::vector<int64_t> rows = rows_in;
  if (rows.empty())
    for (int64_t i = 0; i < split.size(); ++i) rows.push_back(i);
  const auto tokens = answer_split(model, vocab, split, rows, opt);
  SplitAnswers out;
  for (size_t i = 0; i < rows.size(); ++i) {
    out.sentences.push_back(join_answer(tokens[i], mode));
    out.answers.push_back(model.config().answers == "sentence" ? picker.pick(tokens[i], split.question_words[rows[i]])
                                                               : out.sentences.back());
  }
  return out;
}

}  // namespace mrnn
