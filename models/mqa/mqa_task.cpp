#include "models/mqa/mqa_task.h"

#include <cctype>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "eval/vqa_accuracy.h"
#include "kernels/ops.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {

struct MqaBatch : Batch {
  std::vector<int64_t> rows;
};

}  // namespace

MqaTask::MqaTask(Mqa& model, const Vocab& vocab, TokenizerMode mode, const AnswerWordPicker& picker,
                 const MqaSplit& train, const MqaSplit& val, const MqaTaskOptions& options)
    : model_(model), vocab_(vocab), mode_(mode), picker_(picker), train_(train), val_(val), opt_(options) {
  MRNN_CHECK(opt_.batch_size >= 1, "mQA: --batch must be >= 1, got {}", opt_.batch_size);
  MRNN_CHECK(train_.size() >= 1, "mQA: the training questions ({}) are empty", train_.name);
  MRNN_CHECK(val_.size() >= 1, "mQA: the validation questions ({}) are empty", val_.name);
  MRNN_CHECK(static_cast<int64_t>(train_.answer_ids_tok.size()) == train_.size() &&
                 static_cast<int64_t>(val_.question_ids_tok.size()) == val_.size(),
             "mQA: the splits are not encoded with the vocabulary");
}

std::vector<int64_t> MqaTask::epoch_order(int64_t epoch) const {
  if (cached_epoch_ != epoch) {
    // Fisher-Yates on Philox draws (core/random.h): the same order on every machine and run.
    Generator g(opt_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
    order_.resize(static_cast<size_t>(train_.size()));
    for (int64_t i = 0; i < train_.size(); ++i) order_[i] = i;
    for (int64_t i = train_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[static_cast<int64_t>(g.randint(static_cast<uint64_t>(i + 1)))]);
    cached_epoch_ = epoch;
  }
  return order_;
}

std::unique_ptr<Batch> MqaTask::next_batch(int64_t epoch, int64_t pos) {
  const std::vector<int64_t> order = epoch_order(epoch);
  auto b = std::make_unique<MqaBatch>();
  const int64_t end = std::min(train_.size(), pos + opt_.batch_size);
  b->rows.assign(order.begin() + pos, order.begin() + end);
  b->consumed = end - pos;
  return b;
}

Tensor MqaTask::loss(Batch& batch) {
  const std::vector<int64_t>& rows = static_cast<MqaBatch&>(batch).rows;
  // The batch is built on the host and copied to the model's device once per tensor (the pixels of
  // its distinct images only); the target count comes from the host copy, so no step reads back.
  const Device dev = model_.device();
  const QuestionBatch q = question_batch(train_.question_ids_tok, rows);
  Tensor r_q = model_.encode_question({q.ids.to(dev), q.mask.to(dev)});
  Tensor image;
  if (!model_.config().blind) {
    Tensor distinct, position;
    image_rows(train_, rows, &distinct, &position);
    image = model_.encode_images(index_select(train_.images, distinct).to(dev), position.to(dev));
  }
  Tensor in, target;
  answer_batch(train_, rows, &in, &target);
  batch.units = static_cast<int64_t>(rows.size());
  batch.norm = 0;
  for (int64_t v : target.to_vector<int64_t>()) batch.norm += v != kPadId;
  return model_.loss(r_q, image, in.to(dev), target.to(dev));  // a mean over the answer words
}

int64_t MqaTask::val_count() const {
  return opt_.val_questions > 0 ? std::min(opt_.val_questions, val_.size()) : val_.size();
}

std::vector<Metric> MqaTask::validate() {
  const int64_t n = val_count();
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) rows.push_back(i);
  DecodeOptions d;
  d.beam_size = 1;
  return metrics_of(answer_texts(model_, vocab_, mode_, picker_, val_, rows, d).answers);
}

std::vector<Metric> MqaTask::validate_sharded(Comm& comm, double timeout_s) {
  constexpr int64_t kChunk = 128;  // answer_split's default batch: the same decoding batches
  const int64_t n = val_count();
  DecodeOptions d;
  d.beam_size = 1;
  const std::vector<std::string> parts = map_chunks(
      comm, (n + kChunk - 1) / kChunk,
      [&](int64_t c) {
        std::vector<int64_t> rows;
        for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) rows.push_back(i);
        std::string packed;  // each answer as its byte length (uint64) and its bytes
        for (const std::string& a : answer_texts(model_, vocab_, mode_, picker_, val_, rows, d).answers) {
          const uint64_t len = a.size();
          packed.append(reinterpret_cast<const char*>(&len), sizeof len);
          packed += a;
        }
        return packed;
      },
      timeout_s, "validation: answers");
  std::vector<std::string> answers;
  for (const std::string& part : parts)
    for (size_t at = 0; at < part.size();) {
      uint64_t len = 0;
      MRNN_CHECK(at + sizeof len <= part.size(), "validation: a truncated answer part");
      std::memcpy(&len, part.data() + at, sizeof len);
      at += sizeof len;
      MRNN_CHECK(at + len <= part.size(), "validation: a truncated answer part");
      answers.push_back(part.substr(at, len));
      at += len;
    }
  MRNN_CHECK(static_cast<int64_t>(answers.size()) == n, "validation: {} answers gathered for {} questions",
             answers.size(), n);
  return metrics_of(answers);
}

std::vector<Metric> MqaTask::metrics_of(const std::vector<std::string>& answers) const {
  const int64_t n = static_cast<int64_t>(answers.size());
  std::vector<std::vector<std::string>> humans(val_.human_answers.begin(), val_.human_answers.begin() + n);
  const eval::VqaAccuracy acc = eval::vqa_accuracy(answers, humans);
  std::vector<Metric> out = {{"accuracy", "VQA acc %", acc.overall_percent}};
  const eval::VqaReport r =
      eval::vqa_report(acc.per_question, std::vector<std::string>(val_.question_types.begin(), val_.question_types.begin() + n),
                       std::vector<std::string>(val_.answer_types.begin(), val_.answer_types.begin() + n));
  for (const auto& [type, v] : r.per_answer_type) {
    std::string key = "accuracy_" + type;
    for (char& c : key)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    out.push_back({key, type + " %", v});
  }
  return out;
}

void MqaTask::shard(Batch& batch, int rank, int size) {
  std::vector<int64_t>& rows = static_cast<MqaBatch&>(batch).rows;
  const auto [lo, hi] = shard_range(static_cast<int64_t>(rows.size()), rank, size);
  rows = std::vector<int64_t>(rows.begin() + lo, rows.begin() + hi);
  batch.empty = rows.empty();
}

void MqaTask::derive_rank_streams(int rank) {
  model_.dropout_generator() = rank_stream(model_.dropout_generator(), rank);
}

std::string MqaTask::state_json() const { return json_fields::dropout_state(model_.dropout_generator()); }

void MqaTask::load_state_json(const std::string& text, const std::string& what) {
  json_fields::load_dropout_state(text, what, model_.dropout_generator());
}

std::string MqaTask::order_json() const { return nlohmann::json{{"batch", opt_.batch_size}, {"seed", opt_.seed}}.dump(); }

}  // namespace mrnn
