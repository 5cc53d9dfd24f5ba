#include "models/mrnn/caption_trainer.h"

#include <cmath>

#include "core/autograd.h"
#include "eval/caption_eval.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_batches.h"
#include "models/mrnn/caption_task.h"
#include "models/mrnn/decoding.h"

namespace mrnn {

namespace {

std::string join_tokens(const Vocab& vocab, const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += (s.empty() ? "" : " ") + vocab.token(static_cast<int32_t>(id));
  return s;
}

}  // namespace

std::pair<double, int64_t> perplexity_chunk(const Mrnn& model, const CaptionSplit& split, int64_t at,
                                            int64_t batch_size) {
  NoGradGuard ng;
  const int64_t n = static_cast<int64_t>(split.captions.size());
  std::vector<int64_t> idx;
  for (int64_t i = at; i < std::min(n, at + batch_size); ++i) idx.push_back(i);
  CaptionTrainBatch batch = in_memory_batch(split, idx);  // each distinct image encoded once
  const Device dev = model.device();  // the inputs go where the model is (one copy each)
  Tensor feats = model.encode_images(batch.images.to(dev), batch.rows.to(dev));
  const Tensor tokens = caption_batch(split, idx);
  const int64_t c = count_targets(tokens);
  const double l = model.loss(tokens, feats, nullptr).item();  // host tokens (Mrnn::loss)
  return {l * static_cast<double>(c), c};
}

double perplexity_of_chunks(const std::vector<std::pair<double, int64_t>>& chunks) {
  double total = 0;
  int64_t count = 0;
  for (const auto& [sum, c] : chunks) {  // in chunk order: the same additions as one loop
    total += sum;
    count += c;
  }
  return std::exp(total / std::max<int64_t>(count, 1));
}

double split_perplexity(const Mrnn& model, const CaptionSplit& split, int64_t batch_size) {
  const int64_t n = static_cast<int64_t>(split.captions.size());
  std::vector<std::pair<double, int64_t>> chunks;
  for (int64_t at = 0; at < n; at += batch_size) chunks.push_back(perplexity_chunk(model, split, at, batch_size));
  return perplexity_of_chunks(chunks);
}

CaptionEvalSummary evaluate_split(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split, int64_t max_images,
                                  int64_t beam_size) {
  DecodeOptions opt;
  opt.beam_size = beam_size;
  return evaluate_split(model, vocab, split, max_images, opt);
}

int64_t evaluated_images(const CaptionSplit& split, int64_t max_images) {
  return max_images > 0 ? std::min(max_images, split.num_images()) : split.num_images();
}

std::vector<std::string> caption_chunk(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split, int64_t at,
                                       int64_t count, const DecodeOptions& opt) {
  NoGradGuard ng;
  Tensor feats = model.encode_images(narrow(split.images, 0, at, count).to(model.device()));
  auto caps = opt.beam_size > 1 ? beam_search_captions(model, feats, opt) : greedy_captions(model, feats, opt);
  std::vector<std::string> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(join_tokens(vocab, caps[i].ids));
  return out;
}

CaptionEvalSummary score_split_captions(const CaptionSplit& split, std::vector<std::string> captions) {
  CaptionEvalSummary out;
  eval::CaptionMap refs, res;
  for (size_t i = 0; i < captions.size(); ++i) {
    const std::string key = std::to_string(i);
    res[key] = {captions[i]};
    refs[key] = split.references[i];
  }
  eval::CaptionScores s = eval::evaluate_captions(refs, res);
  for (int k = 0; k < 4; ++k) out.bleu[k] = s.bleu.corpus[k];
  out.rouge_l = s.rouge_l.corpus;
  out.cider_d = s.cider_d.corpus;
  out.captions = std::move(captions);
  return out;
}

CaptionEvalSummary evaluate_split(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split, int64_t max_images,
                                  const DecodeOptions& opt) {
  const int64_t n = evaluated_images(split, max_images);
  std::vector<std::string> captions;
  for (int64_t at = 0; at < n; at += kEvalImageChunk) {
    const std::vector<std::string> part =
        caption_chunk(model, vocab, split, at, std::min<int64_t>(kEvalImageChunk, n - at), opt);
    captions.insert(captions.end(), part.begin(), part.end());
  }
  return score_split_captions(split, std::move(captions));
}

TrainResult train_captioner(Mrnn& model, const Vocab& vocab, const CaptionSplit& train, const CaptionSplit& val,
                            const TrainOptions& o) {
  MRNN_CHECK(o.batch_size >= 1 && o.epochs >= 1, "train: batch size and epochs must be positive");
  CaptionTaskOptions c;
  c.batch_size = o.batch_size;
  c.seed = o.seed;
  c.bucket = o.bucket;
  c.group_by_image = o.group_by_image;
  c.val_images = o.val_images;
  c.loader_threads = o.loader_threads;
  c.prefetch_batches = o.prefetch_batches;
  c.skip_bad_images = o.skip_bad_images;
  c.scenes = o.scenes;
  c.scenes_name = o.scenes_name;
  CaptionTask task(model, vocab, train, val, c);
  TrainerOptions t;
  t.out_dir = o.out_dir;
  t.epochs = o.epochs;
  t.max_steps = o.max_steps;
  t.optimizer = o.optimizer;
  t.lr = o.lr;
  t.weight_decay = o.weight_decay;
  t.clip = o.clip;
  t.schedule = o.schedule;
  t.warmup = o.warmup;
  t.val_every = o.val_every;
  t.resume = o.resume;
  t.keep_checkpoints = o.keep_checkpoints;
  t.progress = o.progress;
  t.nan_policy = o.nan_policy;
  t.stop_after_steps = o.stop_after_steps;
  t.groups = o.groups;
  t.device = o.device;
  t.after_backward = o.after_backward;
  t.comm_timeout_s = o.comm_timeout_s;
  t.bucket_bytes = o.bucket_bytes;
  t.overlap = o.overlap;
  const FitResult f = fit(task, t);
  TrainResult r;
  r.steps = f.steps;
  r.best_cider = f.has_best ? f.best_value : -1;
  r.last_train_loss = f.last_train_loss;
  for (const Metric& m : f.last_val)
    if (m.key == "perplexity") r.last_val_perplexity = m.value;
  r.skipped_steps = f.skipped_steps;
  r.skipped_images = task.skipped_images();
  r.loader_wait_s = task.loader_wait_seconds();
  return r;
}

}  // namespace mrnn
