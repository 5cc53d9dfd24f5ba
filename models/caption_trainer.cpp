#include "models/caption_trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "eval/caption_eval.h"
#include "kernels/ops.h"
#include "models/engine/checkpoint.h"
#include "models/caption_batches.h"
#include "models/decoding.h"
#include "models/optim.h"
#include "models/training_checkpoints.h"

namespace mrnn {

namespace {

using Clock = std::chrono::steady_clock;

std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = static_cast<int64_t>(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60) : fmt::format("{}m{:02}s", t / 60, t % 60);
}

std::unique_ptr<Optimizer> make_optimizer(const TrainOptions& o, const std::vector<Tensor>& params) {
  if (o.optimizer == "adam") return std::make_unique<Adam>(params, 0.9, 0.999, 1e-8, o.weight_decay, false);
  if (o.optimizer == "adamw") return std::make_unique<Adam>(params, 0.9, 0.999, 1e-8, o.weight_decay, true);
  if (o.optimizer == "sgd") return std::make_unique<SGD>(params, 0.9, o.weight_decay);
  MRNN_FAIL("unknown optimizer '{}' (adam, adamw or sgd)", o.optimizer);
}

LrSchedule make_schedule(const TrainOptions& o, int64_t total) {
  LrSchedule s;
  s.base_lr = o.lr;
  s.warmup_steps = o.warmup;
  s.total_steps = total;
  s.min_lr = o.lr * 0.05;
  if (o.schedule == "constant") s.kind = LrSchedule::Kind::Constant;
  else if (o.schedule == "cosine") s.kind = LrSchedule::Kind::Cosine;
  else if (o.schedule == "step") { s.kind = LrSchedule::Kind::Step; s.step_every = std::max<int64_t>(total / 3, 1); }
  else MRNN_FAIL("unknown schedule '{}' (constant, cosine or step)", o.schedule);
  return s;
}

// The names of the parameters whose gradient holds a NaN/Inf ("a, b and 3 more" past four).
std::string nonfinite_grad_names(const std::vector<std::pair<std::string, Tensor>>& named,
                                 const std::vector<Tensor>& params) {
  std::vector<std::string> bad;
  for (size_t k = 0; k < params.size(); ++k)
    if (!grads_finite({params[k]})) bad.push_back(named[k].first);
  if (bad.empty()) return "none";
  std::string s;
  const size_t shown = std::min<size_t>(bad.size(), 4);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + bad[i];
  if (bad.size() > shown) s += fmt::format(" and {} more", bad.size() - shown);
  return s;
}

std::string join_tokens(const Vocab& vocab, const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += (s.empty() ? "" : " ") + vocab.token(static_cast<int32_t>(id));
  return s;
}

}  // namespace

double split_perplexity(const Mrnn& model, const CaptionSplit& split, int64_t batch_size) {
  NoGradGuard ng;
  const int64_t n = static_cast<int64_t>(split.captions.size());
  double total = 0;
  int64_t count = 0;
  for (int64_t at = 0; at < n; at += batch_size) {
    std::vector<int64_t> idx;
    for (int64_t i = at; i < std::min(n, at + batch_size); ++i) idx.push_back(i);
    CaptionTrainBatch batch = in_memory_batch(split, idx);  // each distinct image encoded once
    Tensor feats = model.encode_images(batch.images, batch.rows);
    int64_t c = 0;
    double l = model.loss(caption_batch(split, idx), feats, &c).item();
    total += l * static_cast<double>(c);
    count += c;
  }
  return std::exp(total / std::max<int64_t>(count, 1));
}

CaptionEvalSummary evaluate_split(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split, int64_t max_images,
                                  int64_t beam_size) {
  NoGradGuard ng;
  const int64_t n = max_images > 0 ? std::min(max_images, split.num_images()) : split.num_images();
  CaptionEvalSummary out;
  eval::CaptionMap refs, res;
  DecodeOptions opt;
  opt.beam_size = beam_size;
  for (int64_t at = 0; at < n; at += 128) {
    const int64_t b = std::min<int64_t>(128, n - at);
    Tensor feats = model.encode_images(narrow(split.images, 0, at, b));
    auto caps = beam_size > 1 ? beam_search_captions(model, feats, opt) : greedy_captions(model, feats, opt);
    for (int64_t i = 0; i < b; ++i) {
      std::string text = join_tokens(vocab, caps[i].ids);
      out.captions.push_back(text);
      const std::string key = std::to_string(at + i);
      res[key] = {text};
      refs[key] = split.references[at + i];
    }
  }
  eval::CaptionScores s = eval::evaluate_captions(refs, res);
  for (int k = 0; k < 4; ++k) out.bleu[k] = s.bleu.corpus[k];
  out.rouge_l = s.rouge_l.corpus;
  out.cider_d = s.cider_d.corpus;
  return out;
}

TrainResult train_captioner(Mrnn& model, const Vocab& vocab, const CaptionSplit& train, const CaptionSplit& val,
                            const TrainOptions& o) {
  MRNN_CHECK(!o.out_dir.empty(), "train: an output folder is required");
  MRNN_CHECK(o.batch_size >= 1 && o.epochs >= 1, "train: batch size and epochs must be positive");
  MRNN_CHECK(o.keep_checkpoints >= 1, "train: keep_checkpoints is {}, must be at least 1", o.keep_checkpoints);
  MRNN_CHECK(o.nan_policy == "stop" || o.nan_policy == "skip", "train: nan policy '{}' is not stop or skip",
             o.nan_policy);
  std::filesystem::create_directories(o.out_dir);
  const std::string best = o.out_dir + "/model.safetensors";
  const int64_t n = static_cast<int64_t>(train.captions.size());
  const int64_t per_epoch = (n + o.batch_size - 1) / o.batch_size;
  int64_t total_steps = per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);
  const int64_t val_every = o.val_every > 0 ? o.val_every : per_epoch;

  auto named = model.named_parameters();
  std::vector<Tensor> params;
  for (auto& [name, t] : named) params.push_back(t);
  auto opt = make_optimizer(o, params);
  LrSchedule sched = make_schedule(o, total_steps);
  Generator& drop = model.dropout_generator();

  TrainResult res;
  int64_t step = 0, epoch = 0, pos = 0;
  std::string resumed_from;
  std::vector<std::string> resume_warnings;
  TrainState saved;  // what the checkpoint resumed from recorded
  if (o.resume) {
    // The newest checkpoint that loads and verifies; corrupt newer ones are moved aside (warnings).
    resumed_from = resume_newest_checkpoint(o.out_dir, [&](const std::string& path,
                                                           const std::map<std::string, Tensor>& tensors,
                                                           const std::map<std::string, std::string>& meta) {
      saved = restore_training_checkpoint(tensors, meta, model, *opt, path);
      step = saved.step;
      epoch = saved.epoch;
      pos = saved.pos;
      res.best_cider = saved.best_cider;
      drop.set_state(saved.dropout_seed, saved.dropout_offset);
    }, &resume_warnings);
    for (const std::string& w : resume_warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    // A different batch size, seed or bucketing window would replay another batch order: not an
    // exact resume. (Checkpoints written before --bucket was recorded carry bucket = -1.)
    MRNN_CHECK(!saved.has_options || (saved.batch == o.batch_size && saved.seed == o.seed),
               "--resume: {} was written with --batch {} --seed {}, but this run has --batch {} --seed {}; resume "
               "with the same values", resumed_from, saved.batch, saved.seed, o.batch_size, o.seed);
    MRNN_CHECK(!saved.has_options || saved.bucket < 0 || saved.bucket == o.bucket,
               "--resume: {} was written with --bucket {}, but this run has --bucket {}; resume with the same value",
               resumed_from, saved.bucket, o.bucket);
  } else {
    remove_training_checkpoints(o.out_dir);  // a fresh run: nothing of an earlier run may be resumed
  }
  remove_checkpoint_temporaries(o.out_dir);  // left by a run killed while writing
  std::ofstream log(o.out_dir + "/log.jsonl", o.resume ? std::ios::app : std::ios::trunc);
  MRNN_CHECK(log.good(), "train: cannot write {}/log.jsonl", o.out_dir);
  auto log_line = [&](const nlohmann::ordered_json& j) { log << j.dump() << "\n" << std::flush; };
  if (o.resume)
    log_line({{"event", "resume"}, {"step", step}, {"checkpoint", resumed_from}, {"unusable", resume_warnings}});

  std::string last_checkpoint = resumed_from;  // the newest checkpoint on disk ("" before the first)
  auto save_checkpoint = [&]() {
    std::map<std::string, Tensor> all;
    for (auto& [k, t] : model.state_dict()) all["model." + k] = t;
    for (auto& [k, t] : opt->state()) all["optim." + k] = t;
    const TrainState st{step, epoch, pos, res.best_cider, drop.seed(), drop.offset(), true, o.batch_size, o.seed,
                        o.bucket};
    save_training_checkpoint(o.out_dir, step, all, {{"mrnn_train_state", train_state_json(st)}}, o.keep_checkpoints);
    last_checkpoint = numbered_checkpoint_path(o.out_dir, step);
  };

  auto validate = [&]() {
    model.eval();
    const double ppl = split_perplexity(model, val);
    CaptionEvalSummary s = evaluate_split(model, vocab, val, o.val_images, 1);
    model.train();
    res.last_val_perplexity = ppl;
    const bool improved = s.cider_d > res.best_cider;
    if (improved) {
      res.best_cider = s.cider_d;
      save_module(best, model);
    }
    nlohmann::ordered_json j = {{"event", "val"},         {"step", step},          {"perplexity", ppl},
                                {"bleu4", s.bleu[3]},     {"cider_d", s.cider_d},  {"rouge_l", s.rouge_l},
                                {"best", improved}};
    log_line(j);
    if (o.progress)
      std::fprintf(stderr, "\n[val] step %lld  perplexity %.3f  BLEU-4 %.3f  CIDEr-D %.3f%s\n",
                   static_cast<long long>(step), ppl, s.bleu[3], s.cider_d, improved ? "  (best)" : "");
  };

  model.train();
  const auto t0 = Clock::now();
  auto last_print = t0;
  int64_t words_done = 0, run_steps = 0;
  const bool tty = isatty(2);
  CaptionBatchOptions bopt;
  bopt.plan.batch_size = o.batch_size;
  bopt.plan.seed = o.seed;
  bopt.plan.bucket_batches = o.bucket;
  bopt.loader_threads = o.loader_threads;
  bopt.prefetch_batches = o.prefetch_batches;
  bopt.skip_bad = o.skip_bad_images;
  CaptionBatches batches(train, bopt);
  while (step < total_steps) {
    while (pos < n && step < total_steps) {
      CaptionTrainBatch batch = batches.fetch(epoch, pos);  // the epoch plan's batch after `pos` captions
      res.skipped_images = batches.skipped_images();
      res.loader_wait_s = batches.wait_seconds();
      if (batch.captions.empty()) {  // every image of the batch was unreadable (skip_bad_images)
        pos += batch.planned;
        continue;
      }
      const std::vector<int64_t>& idx = batch.captions;
      Tensor tokens = caption_batch(train, idx);
      Tensor feats = model.encode_images(batch.images, batch.rows);  // each distinct image encoded once
      int64_t count = 0;
      Tensor loss = model.loss(tokens, feats, &count);
      const double lv = loss.item();
      opt->zero_grad();
      loss.backward();
      if (o.after_backward) o.after_backward(step, named);
      size_t bad = 0;
      const bool finite = std::isfinite(lv) && grads_finite(params, &bad);
      if (!finite) {
        const std::string what = std::isfinite(lv) ? "gradient of " + named[bad].first : std::string("loss");
        const std::string grads = nonfinite_grad_names(named, params);
        log_line({{"event", "nonfinite"}, {"step", step}, {"what", what}, {"loss", lv}, {"nonfinite_grads", grads},
                  {"action", o.nan_policy}});
        if (o.nan_policy == "stop") {
          const std::string where =
              last_checkpoint.empty()
                  ? fmt::format("no checkpoint has been written yet (the first comes at step {})",
                                std::min(val_every, total_steps))
                  : "the last good checkpoint is " + last_checkpoint;
          MRNN_FAIL("train: non-finite {} at step {} (loss {}; non-finite gradients: {}); the weights were not "
                    "updated; stopping (use --nan-policy skip to skip such steps); {}", what, step, lv, grads, where);
        }
        res.skipped_steps++;
        if (o.progress)
          std::fprintf(stderr, "%swarning: non-finite %s at step %lld: step skipped (%lld so far)\n", tty ? "\n" : "",
                       what.c_str(), static_cast<long long>(step), static_cast<long long>(res.skipped_steps));
      } else {
        clip_grad_norm(params, o.clip);
        opt->step(sched.at(step));
      }
      pos += batch.planned;
      step++;
      run_steps++;
      words_done += count;
      res.last_train_loss = lv;
      const auto now = Clock::now();
      const double secs = std::chrono::duration<double>(now - t0).count();
      if (step % 10 == 0 || step == total_steps)
        log_line({{"event", "train"}, {"step", step}, {"epoch", epoch}, {"loss", lv}, {"lr", sched.at(step - 1)},
                  {"words_per_s", words_done / std::max(secs, 1e-9)}, {"skipped_steps", res.skipped_steps}});
      if (o.progress && (std::chrono::duration<double>(now - last_print).count() > (tty ? 0.5 : 10.0) ||
                         step == total_steps)) {
        last_print = now;
        const double rate = run_steps / std::max(secs, 1e-9);
        std::fprintf(stderr, "%s[epoch %lld] step %lld/%lld  loss %.3f  %.0f words/s  ETA %s%s",
                     tty ? "\r" : "", static_cast<long long>(epoch + 1), static_cast<long long>(step),
                     static_cast<long long>(total_steps), lv, words_done / std::max(secs, 1e-9),
                     fmt_duration((total_steps - step) / std::max(rate, 1e-9)).c_str(), tty ? "   " : "\n");
      }
      if (step % val_every == 0 || step == total_steps) {
        validate();
        save_checkpoint();
      }
      if (o.stop_after_steps > 0 && run_steps >= o.stop_after_steps) {
        save_checkpoint();
        res.steps = step;
        return res;
      }
    }
    if (pos >= n) {
      epoch++;
      pos = 0;
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  res.steps = step;
  return res;
}

}  // namespace mrnn
