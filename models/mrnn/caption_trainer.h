// Captioning training with the options caption_train exposes: the CaptionTask (models/mrnn/caption_task.h)
// on the one Trainer (models/engine/trainer.h), which owns the optimizer, schedule, clipping, NaN
// policy, checkpoints, exact resume, best model by CIDEr-D, JSON-lines log and progress line.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/scene_file.h"
#include "data/vocab.h"
#include "models/mrnn/caption_data.h"
#include "models/engine/step_decoder.h"
#include "models/engine/trainer.h"
#include "models/mrnn/mrnn.h"

namespace mrnn {

struct TrainOptions {
  std::string out_dir;            // config.json, vocab.txt, model.safetensors (best), checkpoint*.safetensors, log.jsonl
  int64_t epochs = 10;
  int64_t max_steps = 0;          // stop after this many steps in total (0 = epochs decide)
  int64_t batch_size = 64;
  std::string optimizer = "adam"; // adam | adamw | sgd
  double lr = 2e-3;
  double weight_decay = 0;
  double clip = 5;                // global gradient-norm clip (0 = off)
  std::string schedule = "cosine";  // constant | cosine | step
  int64_t warmup = 50;
  uint64_t seed = 1;
  int64_t val_every = 0;          // steps between validations (0 = once per epoch)
  int64_t val_images = 200;       // images decoded for validation BLEU/CIDEr (0 = all)
  bool resume = false;            // continue from the newest usable checkpoint in out_dir
  int64_t keep_checkpoints = 2;   // checkpoint-<step>.safetensors files kept (>= 1), see training_checkpoints.h
  bool progress = true;           // progress line on stderr
  // stop | skip: what a step with a NaN/Inf loss or gradient does. stop: throw Error naming the
  // step, the loss or the first parameter whose gradient is not finite, and the newest checkpoint
  // that exists (the weights are left as before the step). skip: leave the weights and the optimizer
  // untouched for that step and go on; each skip is a "nonfinite" event in log.jsonl and is counted
  // ("skipped_steps" in the train events and TrainResult::skipped_steps).
  std::string nan_policy = "stop";
  int64_t stop_after_steps = 0;   // testing aid: return (as if killed) after this many steps of this run
  // Batching (data/batching.h, models/mrnn/caption_batches.h). bucket: length-bucketing window in
  // batches (0 = off: plain shuffled batches, as before bucketing existed).
  int64_t bucket = 0;
  bool group_by_image = false;    // batches hold all captions of their images (caption_task.h)
  int loader_threads = 0;         // streamed train split: decoding threads (0 = hardware threads)
  int64_t prefetch_batches = 4;   // streamed train split: batches decoded ahead
  bool skip_bad_images = false;   // streamed train split: drop unreadable images' captions instead of failing
  const SceneFile* scenes = nullptr;  // when set: validation also reports scene_correct (caption_task.h)
  std::string scenes_name;
  std::vector<ParamGroupSpec> groups;  // parameter groups (models/engine/trainer.h); empty = one group
  Device device = Device::cpu();  // where the model trains (TrainerOptions::device)
  // Called after each backward pass, before the finite check and the update, with the step number
  // (0-based) and the model's named parameters (gradients in .grad()): to inspect or edit gradients,
  // e.g. to log them or to inject a fault in a test. Empty: not called.
  std::function<void(int64_t step, const std::vector<std::pair<std::string, Tensor>>& params)> after_backward;
  // Data parallel under mpirun (models/engine/trainer.h TrainerOptions).
  double comm_timeout_s = 60;
  int64_t bucket_bytes = 4 << 20;
  bool overlap = true;
};

struct TrainResult {
  int64_t steps = 0;
  double best_cider = -1;
  double last_train_loss = 0;
  double last_val_perplexity = 0;
  int64_t skipped_steps = 0;
  int64_t skipped_images = 0;     // streamed train split: unreadable images dropped (skip_bad_images)
  double loader_wait_s = 0;       // streamed train split: seconds training waited for image decoding
};

// Trains `model` in place (it ends holding the last step's weights; the best are in
// out_dir/model.safetensors). Throws mrnn::Error on bad options or (nan_policy=stop) a non-finite
// loss/gradient, naming the parameter.
TrainResult train_captioner(Mrnn& model, const Vocab& vocab, const CaptionSplit& train, const CaptionSplit& val,
                            const TrainOptions& options);

// Greedy-decodes `split` (first max_images images; 0 = all) and scores it against its references.
struct CaptionEvalSummary {
  double bleu[4] = {0, 0, 0, 0};
  double rouge_l = 0, cider_d = 0;
  std::vector<std::string> captions;  // per image, tokens joined by ' '
};
CaptionEvalSummary evaluate_split(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split,
                                  int64_t max_images, int64_t beam_size);
// The same with every decoding setting given (beam size, length penalty, trigram blocking, max
// length): greedy when opt.beam_size == 1 and no penalty is set.
CaptionEvalSummary evaluate_split(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split,
                                  int64_t max_images, const DecodeOptions& opt);
// Perplexity of the split's captions (exp of the mean NLL per predicted token incl. <eos>).
double split_perplexity(const Mrnn& model, const CaptionSplit& split, int64_t batch_size = 128);

// The chunks the two functions above work in, so that data-parallel ranks can each compute some
// of them and every rank gets the same numbers as one process (CaptionTask::validate_sharded).
// split_perplexity = perplexity_of_chunks of perplexity_chunk(at) for at = 0, batch_size, ...:
// (sum of the NLL, predicted tokens) of captions [at, at + batch_size).
std::pair<double, int64_t> perplexity_chunk(const Mrnn& model, const CaptionSplit& split, int64_t at,
                                            int64_t batch_size);
double perplexity_of_chunks(const std::vector<std::pair<double, int64_t>>& chunks);
// evaluate_split = score_split_captions of the caption_chunk's of images [at, at + kEvalImageChunk)
// for at = 0, kEvalImageChunk, ... below evaluated_images (the first max_images, 0 = all).
constexpr int64_t kEvalImageChunk = 128;
int64_t evaluated_images(const CaptionSplit& split, int64_t max_images);
std::vector<std::string> caption_chunk(const Mrnn& model, const Vocab& vocab, const CaptionSplit& split, int64_t at,
                                       int64_t count, const DecodeOptions& opt);
// Requires: captions[i] is image i's caption, i < split.num_images().
CaptionEvalSummary score_split_captions(const CaptionSplit& split, std::vector<std::string> captions);

}  // namespace mrnn
