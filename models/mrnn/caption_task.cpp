#include "models/mrnn/caption_task.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "models/mrnn/scene_checks.h"
#include "models/mrnn/caption_trainer.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace {

struct CaptionBatch : Batch {
  CaptionTrainBatch data;
};

CaptionBatchOptions batch_options(const CaptionTaskOptions& o, const CaptionSplit& train) {
  MRNN_CHECK(o.batch_size >= 1, "train: batch size must be positive, got {}", o.batch_size);
  MRNN_CHECK(!(o.group_by_image && o.bucket > 0), "train: --group-by-image and --bucket {} cannot be combined", o.bucket);
  CaptionBatchOptions b;
  b.plan.batch_size = o.batch_size;
  b.plan.seed = o.seed;
  b.plan.bucket_batches = o.bucket;
  if (o.group_by_image) b.plan.group_of = train.caption_image;
  b.loader_threads = o.loader_threads;
  b.prefetch_batches = o.prefetch_batches;
  b.skip_bad = o.skip_bad_images;
  return b;
}

}  // namespace

CaptionTask::CaptionTask(Mrnn& model, const Vocab& vocab, const CaptionSplit& train, const CaptionSplit& val,
                         const CaptionTaskOptions& options)
    : model_(model), vocab_(vocab), train_(train), val_(val), opt_(options), batches_(train, batch_options(options, train)) {}

int64_t CaptionTask::epoch_size() const { return static_cast<int64_t>(train_.captions.size()); }

int64_t CaptionTask::batches_per_epoch() const { return (epoch_size() + opt_.batch_size - 1) / opt_.batch_size; }

std::unique_ptr<Batch> CaptionTask::next_batch(int64_t epoch, int64_t pos) {
  auto b = std::make_unique<CaptionBatch>();
  b->data = batches_.fetch(epoch, pos);  // the epoch plan's batch after `pos` captions
  b->consumed = b->data.planned;
  b->empty = b->data.captions.empty();  // every image of the batch was unreadable (skip_bad_images)
  return b;
}

Tensor CaptionTask::loss(Batch& batch) {
  CaptionTrainBatch& b = static_cast<CaptionBatch&>(batch).data;
  // The batch goes to the model's device once, each tensor in one copy; the target count and check
  // use the host copy of the tokens, so a step on a GPU does not read them back.
  const Device dev = model_.device();
  const Tensor tokens = caption_batch(train_, b.captions);
  batch.units = count_targets(tokens);
  Tensor feats = model_.encode_images(b.images.to(dev), b.rows.to(dev));  // each distinct image encoded once
  Tensor l = model_.loss(tokens, feats, nullptr);  // host tokens: copied once, targets checked on the host
  b = CaptionTrainBatch();  // the images are not needed past the forward pass
  return l;
}

std::vector<Metric> CaptionTask::validate() {
  return metrics_of(split_perplexity(model_, val_), evaluate_split(model_, vocab_, val_, opt_.val_images, 1));
}

std::vector<Metric> CaptionTask::validate_sharded(Comm& comm, double timeout_s) {
  constexpr int64_t kBatch = 128;  // split_perplexity's default batch: the same chunks
  const int64_t caps = static_cast<int64_t>(val_.captions.size());
  const std::vector<std::string> ppl_parts = map_chunks(
      comm, (caps + kBatch - 1) / kBatch,
      [&](int64_t c) {
        const auto [sum, count] = perplexity_chunk(model_, val_, c * kBatch, kBatch);
        return pack_doubles({sum, static_cast<double>(count)});
      },
      timeout_s, "validation: perplexity");
  std::vector<std::pair<double, int64_t>> chunks;
  for (const std::string& p : ppl_parts) {
    const std::vector<double> v = unpack_doubles(p);
    MRNN_CHECK(v.size() == 2, "validation: a perplexity part of {} numbers", v.size());
    chunks.emplace_back(v[0], static_cast<int64_t>(v[1]));
  }
  const int64_t n = evaluated_images(val_, opt_.val_images);
  DecodeOptions greedy;
  greedy.beam_size = 1;
  const std::vector<std::string> caption_parts = map_chunks(
      comm, (n + kEvalImageChunk - 1) / kEvalImageChunk,
      [&](int64_t c) {
        const int64_t at = c * kEvalImageChunk;
        std::string packed;  // each caption as its byte length (uint64) and its bytes
        for (const std::string& t : caption_chunk(model_, vocab_, val_, at, std::min(kEvalImageChunk, n - at), greedy)) {
          const uint64_t len = t.size();
          packed.append(reinterpret_cast<const char*>(&len), sizeof len);
          packed += t;
        }
        return packed;
      },
      timeout_s, "validation: captions");
  std::vector<std::string> captions;
  for (const std::string& part : caption_parts)
    for (size_t at = 0; at < part.size();) {
      uint64_t len = 0;
      MRNN_CHECK(at + sizeof len <= part.size(), "validation: a truncated caption part");
      std::memcpy(&len, part.data() + at, sizeof len);
      at += sizeof len;
      MRNN_CHECK(at + len <= part.size(), "validation: a truncated caption part");
      captions.push_back(part.substr(at, len));
      at += len;
    }
  MRNN_CHECK(static_cast<int64_t>(captions.size()) == n, "validation: {} captions gathered for {} images",
             captions.size(), n);
  return metrics_of(perplexity_of_chunks(chunks), score_split_captions(val_, std::move(captions)));
}

std::vector<Metric> CaptionTask::metrics_of(double ppl, const CaptionEvalSummary& s) const {
  std::vector<Metric> out = {{"perplexity", "perplexity", ppl},
                             {"bleu4", "BLEU-4", s.bleu[3]},
                             {"cider_d", "CIDEr-D", s.cider_d},
                             {"rouge_l", "ROUGE-L", s.rouge_l}};
  if (opt_.scenes) {
    SceneCheckSummary sc;
    check_split_captions(*opt_.scenes, opt_.scenes_name, val_, s.captions, &sc);
    out.push_back({"scene_correct", "scene-correct %", sc.correct_percent()});
    out.push_back({"scene_object_precision", "true object claims %", sc.precision_percent(ClaimKind::object)});
  }
  return out;
}

std::string CaptionTask::state_json() const { return json_fields::dropout_state(model_.dropout_generator()); }

void CaptionTask::load_state_json(const std::string& text, const std::string& what) {
  json_fields::load_dropout_state(text, what, model_.dropout_generator());
}

std::string CaptionTask::order_json() const {
  return nlohmann::json{{"batch", opt_.batch_size}, {"seed", opt_.seed}, {"bucket", opt_.bucket},
                        {"group_by_image", opt_.group_by_image}}.dump();
}

void CaptionTask::shard(Batch& batch, int rank, int size) {
  CaptionTrainBatch& b = static_cast<CaptionBatch&>(batch).data;
  const auto [lo, hi] = shard_range(static_cast<int64_t>(b.captions.size()), rank, size);
  keep_captions(b, lo, hi);
  batch.empty = b.captions.empty();
}

void CaptionTask::derive_rank_streams(int rank) {
  model_.dropout_generator() = rank_stream(model_.dropout_generator(), rank);
}

void CaptionTask::check_order(const std::string& saved, const std::string& what) const {
  if (saved.empty()) return;  // written before the options were recorded
  const nlohmann::json o = json_fields::object(saved, "training state field 'options'", what);
  const int64_t batch = json_fields::count(o, "batch", 1, what);
  const uint64_t seed = json_fields::unsigned_int(o, "seed", what);
  // A different batch size, seed or bucketing window would replay another batch order: not an
  // exact resume. (Checkpoints written before --bucket was recorded have no "bucket".)
  MRNN_CHECK(batch == opt_.batch_size && seed == opt_.seed,
             "--resume: {} was written with --batch {} --seed {}, but this run has --batch {} --seed {}; resume "
             "with the same values", what, batch, seed, opt_.batch_size, opt_.seed);
  if (o.contains("bucket")) {
    const int64_t bucket = json_fields::count(o, "bucket", 0, what);
    MRNN_CHECK(bucket == opt_.bucket,
               "--resume: {} was written with --bucket {}, but this run has --bucket {}; resume with the same value",
               what, bucket, opt_.bucket);
  }
  // Written before --group-by-image existed: those runs did not group.
  bool grouped = false;
  json_fields::ConfigFields(o, what).get_bool("group_by_image", grouped);
  MRNN_CHECK(grouped == opt_.group_by_image, "--resume: {} was written {} --group-by-image, but this run is {}; resume "
             "with the same batching", what, grouped ? "with" : "without", opt_.group_by_image ? "with it" : "without it");
}

}  // namespace mrnn
