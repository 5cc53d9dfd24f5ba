#include "models/engine/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "kernels/index_check.h"
#include "models/engine/checkpoint.h"
#include "models/engine/grad_reducer.h"
#include "models/engine/progress.h"
#include "models/engine/optim.h"
#include "models/engine/step_stats.h"
#include "models/engine/training_checkpoints.h"

namespace mrnn {

namespace {

using NamedParams = std::vector<std::pair<std::string, Tensor>>;

std::unique_ptr<Optimizer> make_optimizer(const TrainerOptions& o, std::vector<ParamGroup> groups) {
  if (o.optimizer == "adam") return std::make_unique<Adam>(std::move(groups), 0.9, 0.999, 1e-8, false);
  if (o.optimizer == "adamw") return std::make_unique<Adam>(std::move(groups), 0.9, 0.999, 1e-8, true);
  if (o.optimizer == "sgd") return std::make_unique<SGD>(std::move(groups), 0.9);
  MRNN_FAIL("unknown optimizer '{}' (adam, adamw or sgd)", o.optimizer);
}

LrSchedule make_schedule(const TrainerOptions& o, int64_t total) {
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

// The optimizer's groups from the specs: each trainable parameter in the first group whose prefix
// matches its name, the rest in "default" (which comes first, in model order, so that a run
// without groups numbers its optimizer state as before groups existed). Frozen groups get
// requires_grad_(false) and no optimizer entry. `named` ends holding the optimizer's parameters
// in its order, with their names.
std::vector<ParamGroup> build_groups(const TrainerOptions& o, NamedParams& named) {
  std::vector<ParamGroup> groups(o.groups.size() + 1);
  groups[0].name = "default";
  groups[0].weight_decay = o.weight_decay;
  for (size_t g = 0; g < o.groups.size(); ++g) {
    const ParamGroupSpec& s = o.groups[g];
    MRNN_CHECK(!s.name.empty() && s.name != "default", "train: parameter group {} needs a name other than 'default'",
               g);
    MRNN_CHECK(s.lr_scale >= 0 && std::isfinite(s.lr_scale), "train: group '{}' has lr_scale {}", s.name, s.lr_scale);
    groups[g + 1].name = s.name;
    groups[g + 1].lr_scale = s.lr_scale;
    groups[g + 1].weight_decay = s.weight_decay < 0 ? o.weight_decay : s.weight_decay;
  }
  std::vector<NamedParams> members(groups.size());
  std::set<std::string> row_names_seen;
  for (auto& [name, t] : named) {
    size_t g = 0;
    for (size_t k = 0; k < o.groups.size() && g == 0; ++k)
      for (const std::string& p : o.groups[k].prefixes)
        if (name.rfind(p, 0) == 0) {
          g = k + 1;
          break;
        }
    if (g > 0 && o.groups[g - 1].frozen) {
      t.requires_grad_(false);
      t.zero_grad();
    }
    if (!t.requires_grad()) continue;  // frozen here or by the task: no gradient, no update
    int64_t rows = 0;
    if (g > 0) {
      auto it = o.groups[g - 1].frozen_rows.find(name);
      if (it != o.groups[g - 1].frozen_rows.end()) {
        rows = it->second;
        row_names_seen.insert(name);
      }
    }
    groups[g].params.push_back(t);
    groups[g].frozen_rows.push_back(rows);
    members[g].emplace_back(name, t);
  }
  for (const ParamGroupSpec& s : o.groups)
    for (const auto& [name, rows] : s.frozen_rows)
      MRNN_CHECK(row_names_seen.count(name), "train: group '{}' freezes rows of '{}', which is not a trainable "
                 "parameter of that group", s.name, name);
  named.clear();
  for (const NamedParams& m : members) named.insert(named.end(), m.begin(), m.end());
  return groups;
}

// The names of the parameters whose gradient holds a NaN/Inf ("a, b and 3 more" past four).
std::string nonfinite_grad_names(const NamedParams& named) {
  std::vector<std::string> bad;
  for (const auto& [name, t] : named)
    if (!grads_finite({t})) bad.push_back(name);
  if (bad.empty()) return "none";
  std::string s;
  const size_t shown = std::min<size_t>(bad.size(), 4);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + bad[i];
  if (bad.size() > shown) s += fmt::format(" and {} more", bad.size() - shown);
  return s;
}

bool better(Goal goal, double value, double best) { return goal == Goal::Maximize ? value > best : value < best; }

// FNV-1a over the bytes of the parameters: equal on every rank of a data-parallel run, or a bug.
uint64_t weights_checksum(const std::vector<Tensor>& params) {
  uint64_t h = 1469598103934665603ULL;
  for (const Tensor& p : params) {
    const Tensor c = p.contiguous();
    const unsigned char* b = static_cast<const unsigned char*>(c.raw_data());
    for (size_t i = 0; i < static_cast<size_t>(c.numel()) * sizeof(float); ++i) h = (h ^ b[i]) * 1099511628211ULL;
  }
  return h;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// The loop of fit() on `comm` (one process when comm.size() == 1: then every step is exactly the
// single-process step, bit for bit).
static FitResult fit_on(Task& task, const TrainerOptions& o, Comm& comm) {
  MRNN_CHECK(!o.out_dir.empty(), "train: an output folder is required");
  MRNN_CHECK(o.epochs >= 1, "train: epochs must be positive, got {}", o.epochs);
  MRNN_CHECK(o.keep_checkpoints >= 1, "train: keep_checkpoints is {}, must be at least 1", o.keep_checkpoints);
  MRNN_CHECK(o.nan_policy == "stop" || o.nan_policy == "skip", "train: nan policy '{}' is not stop or skip",
             o.nan_policy);
  const int64_t n = task.epoch_size(), per_epoch = task.batches_per_epoch();
  MRNN_CHECK(n >= 1 && per_epoch >= 1, "train: the task has {} examples in {} batches per epoch; need at least one",
             n, per_epoch);
  int64_t total_steps = per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);
  const int64_t val_every = o.val_every > 0 ? o.val_every : per_epoch;
  BestBy best_by = task.best_by();
  if (!o.best_metric.empty()) best_by = {o.best_metric, o.best_goal};

  Module& model = task.model();
  if (model.device() != o.device || !o.device.is_cpu()) {
    MRNN_CHECK(task.batches_follow_model(), "train: this task trains on the CPU only in this version (its batches "
               "stay on the host), but the model is to train on {}; use the CPU", o.device.str());
    MRNN_CHECK(comm.size() == 1, "train: data-parallel training runs on the CPU only in this version, not on {}",
               o.device.str());
    require_device(o.device);
    if (model.device() != o.device) model.to(o.device);
  }
  NamedParams named = model.named_parameters();
  std::vector<ParamGroup> groups = build_groups(o, named);  // named: the optimizer's parameters now
  std::vector<Tensor> params;
  for (auto& [name, t] : named) params.push_back(t);
  MRNN_CHECK(!params.empty(), "train: every parameter is frozen; nothing to train");
  auto opt = make_optimizer(o, groups);
  const LrSchedule sched = make_schedule(o, total_steps);

  std::filesystem::create_directories(o.out_dir);
  const std::string best_path = o.out_dir + "/model.safetensors";
  FitResult res;
  res.best_metric = best_by.key;
  int64_t step = 0, epoch = 0, pos = 0;
  std::string resumed_from;
  std::vector<std::string> resume_warnings;
  // Data parallel: rank 0 alone writes (checkpoints, best model, log, progress); every rank computes.
  const int rank = comm.rank(), world = comm.size();
  const bool parallel = world > 1, lead = rank == 0;
  const double timeout = o.comm_timeout_s;
  MRNN_CHECK(timeout > 0, "train: the communication timeout must be positive, got {} s", timeout);
  if (parallel && rank > 0) task.derive_rank_streams(rank);  // a resume below replaces them with the saved ones
  auto restore = [&](const std::string& path, const std::map<std::string, Tensor>& tensors,
                     const std::map<std::string, std::string>& meta) {
    std::map<std::string, Tensor> task_tensors;
    const TrainState s = restore_training_checkpoint(tensors, meta, model, *opt, path, &task_tensors);
    task.check_order(s.options, path);
    // Each rank its own saved streams; a rank the writing run did not have derives its streams
    // from rank 0's (a resume at a larger world size).
    const size_t r = static_cast<size_t>(rank);
    task.load_state_json(r == 0 ? s.task : r <= s.rank_tasks.size() ? s.rank_tasks[r - 1] : s.task, path);
    if (r > s.rank_tasks.size()) task.derive_rank_streams(rank);
    task.load_state_tensors(task_tensors, path);
    step = s.step;
    epoch = s.epoch;
    pos = s.pos;
    res.has_best = s.has_best && s.best_metric == best_by.key;
    res.best_value = s.best_value;
  };
  if (o.resume && lead) {
    // The newest checkpoint that loads and verifies; corrupt newer ones are moved aside (warnings).
    resumed_from = resume_newest_checkpoint(o.out_dir, restore, &resume_warnings);
    for (const std::string& w : resume_warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  } else if (lead) {
    remove_training_checkpoints(o.out_dir);  // a fresh run: nothing of an earlier run may be resumed
  }
  if (lead) remove_checkpoint_temporaries(o.out_dir);  // left by a run killed while writing
  if (parallel) {
    // The others resume from the checkpoint rank 0 chose (after it moved corrupt ones aside).
    resumed_from = comm.all_gather(resumed_from, timeout, "train: choosing the checkpoint to resume from")[0];
    if (o.resume && !lead) {
      std::map<std::string, std::string> meta;
      const std::map<std::string, Tensor> tensors = load_tensors(resumed_from, &meta);
      restore(resumed_from, tensors, meta);
    }
  }
  std::ofstream log;
  if (lead) {
    log.open(o.out_dir + "/log.jsonl", o.resume ? std::ios::app : std::ios::trunc);
    MRNN_CHECK(log.good(), "train: cannot write {}/log.jsonl", o.out_dir);
  }
  auto log_line = [&](const nlohmann::ordered_json& j) {
    if (lead) log << j.dump() << "\n" << std::flush;
  };
  // Every rank must hold the same weights: after initialisation or resume, and at each checkpoint.
  auto check_same_weights = [&](const std::string& when, std::string payload) {
    const uint64_t h = weights_checksum(params);
    payload.insert(0, reinterpret_cast<const char*>(&h), sizeof h);
    std::vector<std::string> all = comm.all_gather(payload, timeout, "train: " + when);
    for (int r = 0; r < world; ++r) {
      uint64_t hr = 0;
      MRNN_CHECK(all[r].size() >= sizeof hr, "train: {}: rank {} sent {} bytes", when, r, all[r].size());
      std::memcpy(&hr, all[r].data(), sizeof hr);
      MRNN_CHECK(hr == h, "train: {}: the weights of rank {} differ from those of rank {} (checksums {:016x} and "
                 "{:016x}): the ranks diverged", when, r, rank, hr, h);
      all[r].erase(0, sizeof hr);
    }
    return all;
  };
  if (parallel) {
    check_same_weights(o.resume ? "after resuming" : "after initialisation", "");
    if (lead)
      log_line({{"event", "data_parallel"}, {"world_size", world}, {"backend", comm.backend()},
                {"bucket_bytes", o.bucket_bytes}, {"overlap", o.overlap}, {"comm_timeout_s", timeout}});
  }
  GradReducer reducer(comm, params, o.bucket_bytes, o.overlap, timeout);
  if (o.resume)
    log_line({{"event", "resume"}, {"step", step}, {"checkpoint", resumed_from}, {"unusable", resume_warnings}});

  std::string last_checkpoint = resumed_from;  // the newest checkpoint on disk ("" before the first)
  auto save_checkpoint = [&]() {
    std::map<std::string, Tensor> all;
    for (auto& [k, t] : model.state_dict()) all["model." + k] = t;
    for (auto& [k, t] : opt->state()) all["optim." + k] = t;
    for (auto& [k, t] : task.state_tensors()) all["task." + k] = t;
    TrainState st;
    st.step = step;
    st.epoch = epoch;
    st.pos = pos;
    st.has_best = res.has_best;
    st.best_metric = best_by.key;
    st.best_value = res.best_value;
    st.task = task.state_json();
    st.options = task.order_json();
    if (parallel) {  // every rank's streams; the weights checked equal on the way
      std::vector<std::string> states = check_same_weights(fmt::format("checkpoint at step {}", step), st.task);
      st.rank_tasks.assign(states.begin() + 1, states.end());
    }
    if (lead)
      save_training_checkpoint(o.out_dir, step, all, {{"mrnn_train_state", train_state_json(st)}},
                               o.keep_checkpoints);
    last_checkpoint = numbered_checkpoint_path(o.out_dir, step);
  };

  ProgressLine progress(o.progress && lead);
  auto validate = [&]() {
    std::vector<Metric> metrics;
    model.eval();
    {
      NoGradGuard ng;
      metrics = parallel ? task.validate_sharded(comm, timeout) : task.validate();
    }
    model.train();
    const Metric* key = nullptr;
    for (const Metric& m : metrics)
      if (m.key == best_by.key) key = &m;
    MRNN_CHECK(key, "train: the best checkpoint follows metric '{}', which validate() does not return", best_by.key);
    const bool improved = !res.has_best || better(best_by.goal, key->value, res.best_value);
    if (improved) {
      res.has_best = true;
      res.best_value = key->value;
      if (lead) save_module(best_path, model);
    }
    res.last_val = metrics;
    nlohmann::ordered_json j = {{"event", "val"}, {"step", step}};
    std::string line = fmt::format("[val] step {}", step);
    for (const Metric& m : metrics) {
      j[m.key] = m.value;
      line += fmt::format("  {} {:.3f}", m.label, m.value);
    }
    j["best"] = improved;
    log_line(j);
    progress.message(line + (improved ? "  (best)" : ""));
  };

  // One data-parallel forward and backward on this rank's shard of the batch, then the gradients
  // summed over the ranks. The rank's loss is a mean over its `norm` units (Task::loss); its
  // backward is seeded with norm, and the sum over ranks divided by the global norm, so the
  // gradient is that of the global batch's mean. lv: the global batch's mean loss. False when
  // every rank's shard was empty (no step, as one process skips an empty batch).
  auto parallel_step = [&](Batch& batch, double& lv) -> bool {
    if (!batch.empty) task.shard(batch, rank, world);
    opt->zero_grad();
    reducer.begin_step();
    double local_loss = 0;
    int64_t norm = 0;
    if (!batch.empty) {
      Tensor loss = task.loss(batch);
      local_loss = loss.item();
      norm = batch.norm > 0 ? batch.norm : batch.units;
      std::unique_ptr<LeafGradHook> hook = reducer.hook();
      loss.backward(Tensor::full(loss.shape(), static_cast<double>(norm)));
    }
    const std::string what = fmt::format("train: step {}", step);
    std::vector<double> mine = {batch.empty ? 0.0 : 1.0, static_cast<double>(norm),
                                static_cast<double>(batch.empty ? 0 : batch.units), local_loss * norm};
    for (const Tensor& p : params) mine.push_back(p.grad().defined() ? 1 : 0);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<std::string> all = comm.all_gather(pack_doubles(mine), timeout, what);
    double ranks_with_data = 0, global_norm = 0, global_units = 0, loss_sum = 0;
    std::vector<bool> defined(params.size(), false);
    for (int r = 0; r < world; ++r) {  // in rank order: the same sums on every rank
      const std::vector<double> v = unpack_doubles(all[r]);
      MRNN_CHECK(v.size() == mine.size(), "{}: rank {} sent {} numbers, rank {} {}: do the ranks train the same "
                 "model?", what, r, v.size(), rank, mine.size());
      ranks_with_data += v[0];
      global_norm += v[1];
      global_units += v[2];
      loss_sum += v[3];
      for (size_t i = 0; i < params.size(); ++i) defined[i] = defined[i] || v[4 + i] != 0;
    }
    if (ranks_with_data == 0) {
      res.comm_wait_s += seconds_since(t0);
      return false;
    }
    reducer.finish(global_norm > 0 ? static_cast<float>(1.0 / global_norm) : 0.0f, defined, what);
    res.comm_wait_s += seconds_since(t0);
    lv = loss_sum / global_norm;
    batch.units = static_cast<int64_t>(global_units);
    return true;
  };

  model.train();
  int64_t units_done = 0, run_steps = 0;
  const std::string unit = task.rate_unit();
  while (step < total_steps) {
    while (pos < n && step < total_steps) {
      std::unique_ptr<Batch> batch = task.next_batch(epoch, pos);  // the same batch for the same cursor
      MRNN_CHECK(batch && batch->consumed >= 1, "train: the task's batch at epoch {}, position {} consumes nothing",
                 epoch, pos);
      const auto t_step = std::chrono::steady_clock::now();
      double lv = 0;
      Tensor loss;  // this process's loss (one process), on the model's device
      // On a GPU the embeddings' index checks of this forward stay on the device and come back with
      // the step's one read below (kernels/index_check.h); on the CPU they are immediate as ever.
      std::optional<DeferredIndexCheck> index_check;
      index_check.emplace(fmt::format("train: step {}", step));
      if (!parallel) {
        if (batch->empty) {
          pos += batch->consumed;
          continue;
        }
        // The last step's gradients are released before the forward pass, not after it: they are dead
        // once the optimizer has stepped, and holding them through the forward adds their size
        // (every parameter's) to the step's peak memory.
        opt->zero_grad();
        loss = task.loss(*batch);
        loss.backward();
      } else if (!parallel_step(*batch, lv)) {  // every rank's shard was empty
        pos += batch->consumed;
        continue;
      }
      if (o.after_backward) o.after_backward(step, named);
      zero_frozen_grad_rows(opt->groups());
      // The finite check and the clip factor from one sum of squares, computed where the gradients
      // are; the loss and that sum come to the host in one read (models/engine/step_stats.h).
      const Tensor sumsq = grad_sum_squares(params);
      const StepStats stats = read_step_stats(parallel ? Tensor() : loss, sumsq, index_check->record());
      if (!stats.index_record.empty()) index_check->finish(stats.index_record);  // a bad id: throws, no update
      index_check.reset();  // validation and checkpoints below check their own indices
      if (!parallel) lv = stats.loss;
      loss = Tensor();
      size_t bad = 0;
      const bool finite = std::isfinite(lv) && std::isfinite(stats.sum_squares);
      if (!finite) {
        if (std::isfinite(lv)) grads_finite(params, &bad);  // which parameter (error path: reads per parameter)
        const std::string what = std::isfinite(lv) ? "gradient of " + named[bad].first : std::string("loss");
        const std::string grads = nonfinite_grad_names(named);
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
        progress.message(fmt::format("warning: non-finite {} at step {}: step skipped ({} so far)", what, step,
                                     res.skipped_steps));
      } else {
        clip_grads(params, sumsq, o.clip);
        opt->step(sched.at(step));
      }
      res.train_s += seconds_since(t_step);
      pos += batch->consumed;
      step++;
      run_steps++;
      units_done += batch->units;
      res.last_train_loss = lv;
      const double rate = units_done / std::max(progress.elapsed(), 1e-9);
      if (step % 10 == 0 || step == total_steps)
        log_line({{"event", "train"}, {"step", step}, {"epoch", epoch}, {"loss", lv}, {"lr", sched.at(step - 1)},
                  {unit + "_per_s", rate}, {"skipped_steps", res.skipped_steps}});
      if (parallel && (step % 10 == 0 || step == total_steps))
        log_line({{"event", "comm"}, {"step", step}, {"train_s", res.train_s}, {"comm_wait_s", res.comm_wait_s},
                  {"allreduce_wait_s", reducer.wait_seconds()}, {"buckets", reducer.buckets()},
                  {"buckets_started_in_backward", reducer.started_early()}});
      progress.update(fmt::format("[epoch {}] step {}/{}  loss {:.3f}  {:.0f} {}/s", epoch + 1, step, total_steps, lv,
                                  rate, unit),
                      run_steps, total_steps - step, step == total_steps);
      if (step % val_every == 0 || step == total_steps) {
        validate();
        save_checkpoint();
      }
      if (o.stop_after_steps > 0 && run_steps >= o.stop_after_steps) {
        if (step % val_every != 0 && step != total_steps) save_checkpoint();
        progress.finish();
        res.steps = step;
        return res;
      }
    }
    if (pos >= n) {
      epoch++;
      pos = 0;
    }
  }
  progress.finish();
  res.steps = step;
  return res;
}

FitResult fit(Task& task, const TrainerOptions& o) {
  Comm& comm = o.comm ? *o.comm : world_comm();
  if (comm.size() == 1) return fit_on(task, o, comm);
  // One rank's error ends the job at once: the others would otherwise wait for it until the timeout.
  try {
    return fit_on(task, o, comm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error on rank %d of %d: %s\n", comm.rank(), comm.size(), e.what());
    std::fflush(stderr);
    comm.abort(1);
  }
  return FitResult{};  // not reached: abort() ends the process
}

}  // namespace mrnn
