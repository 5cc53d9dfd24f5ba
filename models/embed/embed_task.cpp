#include "models/embed/embed_task.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "kernels/ops.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {

struct EmbedBatch : Batch {
  CaptionTrainBatch data;
  // Data parallel (set by shard): the whole batch's LM targets and captions, the normalisers of
  // the global loss's two terms. 0: not sharded.
  int64_t global_targets = 0, global_captions = 0;
};

CaptionBatchOptions batch_options(const EmbedTaskOptions& o) {
  MRNN_CHECK(o.batch_size >= 1, "embed_train: batch size must be positive, got {}", o.batch_size);
  CaptionBatchOptions b;
  b.plan.batch_size = o.batch_size;
  b.plan.seed = o.seed;
  b.plan.bucket_batches = o.bucket;
  return b;
}

Tensor features_of(const EmbedModel& model, const CaptionTrainBatch& b) {
  const Device d = model.device();  // one copy each to the model's device
  return model.config().uses_image() ? model.encode_images(b.images.to(d), b.rows.to(d)) : Tensor();
}

}  // namespace

EmbedSplitScores score_split(const EmbedModel& model, const CaptionSplit& split, int64_t batch_size) {
  NoGradGuard ng;
  const int64_t n = static_cast<int64_t>(split.captions.size());
  double nll = 0, aux = 0;
  int64_t targets = 0;
  for (int64_t at = 0; at < n; at += batch_size) {
    std::vector<int64_t> idx;
    for (int64_t i = at; i < std::min(n, at + batch_size); ++i) idx.push_back(i);
    CaptionTrainBatch b = in_memory_batch(split, idx);
    EmbedLoss l = model.loss(caption_batch(split, idx), features_of(model, b));
    nll += l.lm.item() * static_cast<double>(l.targets);
    targets += l.targets;
    if (l.aux.defined()) aux += l.aux.item() * static_cast<double>(idx.size());
  }
  EmbedSplitScores s;
  s.perplexity = std::exp(nll / static_cast<double>(std::max<int64_t>(targets, 1)));
  s.aux = aux / static_cast<double>(std::max<int64_t>(n, 1));
  return s;
}

EmbedTask::EmbedTask(EmbedModel& model, const CaptionSplit& train, const CaptionSplit& val,
                     const EmbedTaskOptions& options)
    : model_(model), train_(train), val_(val), opt_(options), batches_(train, batch_options(options)) {
  MRNN_CHECK(!train.streamed && !val.streamed, "embed_train: the splits' images must be in memory");
}

int64_t EmbedTask::epoch_size() const { return static_cast<int64_t>(train_.captions.size()); }

int64_t EmbedTask::batches_per_epoch() const { return (epoch_size() + opt_.batch_size - 1) / opt_.batch_size; }

std::unique_ptr<Batch> EmbedTask::next_batch(int64_t epoch, int64_t pos) {
  auto b = std::make_unique<EmbedBatch>();
  b->data = batches_.fetch(epoch, pos);
  b->consumed = b->data.planned;
  b->empty = b->data.captions.empty();
  return b;
}

Tensor EmbedTask::loss(Batch& batch) {
  EmbedBatch& eb = static_cast<EmbedBatch&>(batch);
  CaptionTrainBatch& b = eb.data;
  const int64_t captions = static_cast<int64_t>(b.captions.size());
  EmbedLoss l = model_.loss(caption_batch(train_, b.captions), features_of(model_, b));
  batch.units = l.targets;
  b = CaptionTrainBatch();
  if (eb.global_targets == 0 || !l.aux.defined() || l.targets == 0) return l.total;
  // A shard of B or C: the trainer weights this loss by targets / global targets (norm = units),
  // right for the LM term; the auxiliary term is a mean over captions, so it is rescaled to weigh
  // captions / global captions instead. Then the ranks' gradients add up to the global batch's.
  const EmbedConfig& c = model_.config();
  const double weight = c.variant == "B" ? c.state_weight : c.emb_weight;
  const double f = (static_cast<double>(captions) / static_cast<double>(eb.global_captions)) *
                   (static_cast<double>(eb.global_targets) / static_cast<double>(l.targets));
  return add(l.lm, mul_scalar(l.aux, weight * f));
}

std::vector<Metric> EmbedTask::validate() {
  const EmbedSplitScores s = score_split(model_, val_);
  return {{"perplexity", "perplexity", s.perplexity}, {"aux", "aux loss", s.aux}};
}

void EmbedTask::shard(Batch& batch, int rank, int size) {
  EmbedBatch& eb = static_cast<EmbedBatch&>(batch);
  CaptionTrainBatch& b = eb.data;
  // The whole batch's normalisers, before the other ranks' captions are dropped: the LM targets
  // (non-pad tokens after the first column, as EmbedModel::loss counts them) and the captions.
  const Tensor tokens = caption_batch(train_, b.captions);
  const std::vector<int64_t> ids = tokens.to_vector<int64_t>();
  const int64_t cols = tokens.size(1);
  eb.global_targets = 0;
  for (size_t i = 0; i < ids.size(); ++i) eb.global_targets += i % cols != 0 && ids[i] != kPadId;
  eb.global_captions = static_cast<int64_t>(b.captions.size());
  const auto [lo, hi] = shard_range(static_cast<int64_t>(b.captions.size()), rank, size);
  keep_captions(b, lo, hi);
  batch.empty = b.captions.empty();
}

void EmbedTask::derive_rank_streams(int rank) {
  model_.dropout_generator() = rank_stream(model_.dropout_generator(), rank);
}

std::string EmbedTask::state_json() const { return json_fields::dropout_state(model_.dropout_generator()); }

void EmbedTask::load_state_json(const std::string& text, const std::string& what) {
  json_fields::load_dropout_state(text, what, model_.dropout_generator());
}

std::string EmbedTask::order_json() const {
  return nlohmann::json{{"batch", opt_.batch_size}, {"seed", opt_.seed}, {"bucket", opt_.bucket}}.dump();
}

}  // namespace mrnn
