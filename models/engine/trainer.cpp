#include "models/engine/trainer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "models/engine/checkpoint.h"
#include "models/engine/progress.h"
#include "models/engine/optim.h"
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

}  // namespace

FitResult fit(Task& task, const TrainerOptions& o) {
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
  if (o.resume) {
    // The newest checkpoint that loads and verifies; corrupt newer ones are moved aside (warnings).
    resumed_from = resume_newest_checkpoint(
        o.out_dir,
        [&](const std::string& path, const std::map<std::string, Tensor>& tensors,
            const std::map<std::string, std::string>& meta) {
          std::map<std::string, Tensor> task_tensors;
          const TrainState s = restore_training_checkpoint(tensors, meta, model, *opt, path, &task_tensors);
          task.check_order(s.options, path);
          task.load_state_json(s.task, path);
          task.load_state_tensors(task_tensors, path);
          step = s.step;
          epoch = s.epoch;
          pos = s.pos;
          res.has_best = s.has_best && s.best_metric == best_by.key;
          res.best_value = s.best_value;
        },
        &resume_warnings);
    for (const std::string& w : resume_warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
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
    save_training_checkpoint(o.out_dir, step, all, {{"mrnn_train_state", train_state_json(st)}}, o.keep_checkpoints);
    last_checkpoint = numbered_checkpoint_path(o.out_dir, step);
  };

  ProgressLine progress(o.progress);
  auto validate = [&]() {
    std::vector<Metric> metrics;
    model.eval();
    {
      NoGradGuard ng;
      metrics = task.validate();
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
      save_module(best_path, model);
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

  model.train();
  int64_t units_done = 0, run_steps = 0;
  const std::string unit = task.rate_unit();
  while (step < total_steps) {
    while (pos < n && step < total_steps) {
      std::unique_ptr<Batch> batch = task.next_batch(epoch, pos);  // the same batch for the same cursor
      MRNN_CHECK(batch && batch->consumed >= 1, "train: the task's batch at epoch {}, position {} consumes nothing",
                 epoch, pos);
      if (batch->empty) {
        pos += batch->consumed;
        continue;
      }
      Tensor loss = task.loss(*batch);
      const double lv = loss.item();
      opt->zero_grad();
      loss.backward();
      if (o.after_backward) o.after_backward(step, named);
      zero_frozen_grad_rows(opt->groups());
      size_t bad = 0;
      const bool finite = std::isfinite(lv) && grads_finite(params, &bad);
      if (!finite) {
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
        clip_grad_norm(params, o.clip);
        opt->step(sched.at(step));
      }
      pos += batch->consumed;
      step++;
      run_steps++;
      units_done += batch->units;
      res.last_train_loss = lv;
      const double rate = units_done / std::max(progress.elapsed(), 1e-9);
      if (step % 10 == 0 || step == total_steps)
        log_line({{"event", "train"}, {"step", step}, {"epoch", epoch}, {"loss", lv}, {"lr", sched.at(step - 1)},
                  {unit + "_per_s", rate}, {"skipped_steps", res.skipped_steps}});
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

}  // namespace mrnn
