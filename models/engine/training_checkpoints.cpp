#include "models/engine/training_checkpoints.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/engine/checkpoint.h"
#include "models/engine/json_fields.h"

namespace mrnn {

namespace fs = std::filesystem;

namespace {

const char* const kLatest = "checkpoint.safetensors";

// (step, path) of dir's checkpoint-<step>.safetensors files, newest first.
std::vector<std::pair<int64_t, fs::path>> numbered_checkpoints(const std::string& dir) {
  static const std::regex name_re(R"(checkpoint-([0-9]{1,18})\.safetensors)");
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (std::regex_match(name, m, name_re)) out.emplace_back(std::stoll(m[1].str()), it->path());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

void fsync_dir(const std::string& dir) {  // best effort: makes a rename durable
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

}  // namespace

std::string train_state_json(const TrainState& s) {
  nlohmann::ordered_json j = {{"step", s.step}, {"epoch", s.epoch}, {"pos", s.pos}};
  if (s.has_best) j["best"] = {{"metric", s.best_metric}, {"value", s.best_value}};
  j["task"] = nlohmann::ordered_json::parse(s.task.empty() ? "{}" : s.task);
  if (!s.options.empty()) j["options"] = nlohmann::ordered_json::parse(s.options);
  if (!s.rank_tasks.empty()) {
    j["world_size"] = s.rank_tasks.size() + 1;
    nlohmann::ordered_json ranks = nlohmann::ordered_json::array();
    for (const std::string& t : s.rank_tasks) ranks.push_back(nlohmann::ordered_json::parse(t.empty() ? "{}" : t));
    j["rank_tasks"] = ranks;
  }
  return j.dump();
}

TrainState parse_train_state(const std::string& text, const std::string& what) {
  const nlohmann::json j = json_fields::object(text, "training state", what);
  TrainState s;
  s.step = json_fields::count(j, "step", 0, what);
  s.epoch = json_fields::count(j, "epoch", 0, what);
  s.pos = json_fields::count(j, "pos", 0, what);
  if (j.contains("best")) {
    const nlohmann::json& b = j["best"];
    MRNN_CHECK(b.is_object() && b.contains("metric") && b["metric"].is_string() && b.contains("value") &&
                   b["value"].is_number(),
               "{}: training state field 'best' must be {{\"metric\": string, \"value\": number}}, got {}", what,
               b.dump());
    s.has_best = true;
    s.best_metric = b["metric"].get<std::string>();
    s.best_value = b["value"].get<double>();
  } else if (j.contains("best_cider")) {  // written before the engine: captioning, best by CIDEr-D
    MRNN_CHECK(j["best_cider"].is_number(), "{}: training state field 'best_cider' must be a number", what);
    s.best_value = j["best_cider"].get<double>();
    s.has_best = s.best_value != -1;
    s.best_metric = "cider_d";
  }
  if (j.contains("task")) {
    MRNN_CHECK(j["task"].is_object(), "{}: training state field 'task' must be an object", what);
    s.task = j["task"].dump();
  } else {  // older checkpoints kept the task's fields at the top level
    nlohmann::json t = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "step" && it.key() != "epoch" && it.key() != "pos" && it.key() != "best_cider" &&
          it.key() != "options" && it.key() != "world_size" && it.key() != "rank_tasks")
        t[it.key()] = it.value();
    s.task = t.dump();
  }
  if (j.contains("options")) {
    MRNN_CHECK(j["options"].is_object(), "{}: training state field 'options' must be an object", what);
    s.options = j["options"].dump();
  }
  if (j.contains("rank_tasks")) {
    const nlohmann::json& r = j["rank_tasks"];
    MRNN_CHECK(r.is_array(), "{}: training state field 'rank_tasks' must be an array of objects", what);
    for (size_t i = 0; i < r.size(); ++i) {
      MRNN_CHECK(r[i].is_object(), "{}: training state field 'rank_tasks[{}]' must be an object", what, i);
      s.rank_tasks.push_back(r[i].dump());
    }
  }
  return s;
}

TrainState restore_training_checkpoint(const std::map<std::string, Tensor>& tensors,
                                       const std::map<std::string, std::string>& metadata, Module& model,
                                       Optimizer& opt, const std::string& what,
                                       std::map<std::string, Tensor>* task_tensors) {
  auto state = metadata.find("mrnn_train_state");
  MRNN_CHECK(state != metadata.end(), "{}: no 'mrnn_train_state' in the metadata (not a training checkpoint)", what);
  const TrainState s = parse_train_state(state->second, what);
  std::map<std::string, Tensor> weights, ostate;
  for (const auto& [name, t] : tensors) {
    if (name.rfind("model.", 0) == 0) weights[name.substr(6)] = t;
    else if (name.rfind("optim.", 0) == 0) ostate[name.substr(6)] = t;
    else if (task_tensors && name.rfind("task.", 0) == 0) (*task_tensors)[name.substr(5)] = t;
    else MRNN_FAIL("{}: unexpected tensor '{}' (a checkpoint holds model.*, optim.* and task.* tensors)", what, name);
    // What caption_train writes: f32 state and one i64 step count (a float step would be cast to
    // an integer, undefined for NaN or huge values; found by fuzz_checkpoint).
    if (name == "optim.step") {
      MRNN_CHECK(t.dtype() == DType::I64 && t.numel() == 1 && t.to_vector<int64_t>()[0] >= 0,
                 "{}: tensor 'optim.step' must be one i64 value >= 0, got {}", what, t.desc());
    } else {
      MRNN_CHECK(t.dtype() == DType::F32, "{}: tensor '{}' must be f32, got {}", what, name, t.desc());
    }
  }
  try {
    model.load_state_dict(weights);
    opt.load_state(ostate);
  } catch (const std::exception& e) {
    MRNN_FAIL("{}: {}", what, e.what());
  }
  return s;
}

std::string numbered_checkpoint_path(const std::string& dir, int64_t step) {
  return fmt::format("{}/checkpoint-{}.safetensors", dir, step);
}

void save_training_checkpoint(const std::string& dir, int64_t step, const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata, int64_t keep) {
  MRNN_CHECK(step >= 0, "save_training_checkpoint: step {} is negative", step);
  MRNN_CHECK(keep >= 1, "save_training_checkpoint: keep = {}: at least one checkpoint must be kept", keep);
  const std::string numbered = numbered_checkpoint_path(dir, step);
  save_tensors(numbered, tensors, metadata);

  // checkpoint.safetensors -> the same bytes, replaced atomically (link to a temporary name, rename).
  const std::string latest = dir + "/" + kLatest;
  const std::string tmp = fmt::format("{}.tmp-{}-link", latest, ::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(numbered, tmp, ec);
  if (ec) {
    save_tensors(latest, tensors, metadata);  // no hard links here: a second copy
  } else {
    fs::rename(tmp, latest, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      MRNN_FAIL("{}: cannot replace it with {}: {}", latest, numbered, ec.message());
    }
    fsync_dir(dir);
  }

  // Keep the `keep` newest numbered checkpoints at or below `step`.
  int64_t kept = 0;
  for (const auto& [s, path] : numbered_checkpoints(dir)) {
    if (s <= step && kept < keep) {
      ++kept;
      continue;
    }
    fs::remove(path, ec);
  }
}

std::string resume_newest_checkpoint(const std::string& dir, const RestoreCheckpoint& restore,
                                     std::vector<std::string>* warnings) {
  // Newest first: checkpoint.safetensors is written right after the newest numbered checkpoint, so
  // it comes second (it is tried only when it is a separate file, not a hard link to a numbered one).
  std::vector<fs::path> candidates;
  for (const auto& [s, path] : numbered_checkpoints(dir)) candidates.push_back(path);
  const fs::path latest = fs::path(dir) / kLatest;
  std::error_code ec;
  if (fs::exists(latest, ec)) {
    bool linked = false;
    for (const fs::path& c : candidates) linked |= same_file(c, latest);
    if (!linked) candidates.insert(candidates.begin() + (candidates.empty() ? 0 : 1), latest);
  }
  MRNN_CHECK(!candidates.empty(),
             "--resume: {} holds no checkpoint ({} or checkpoint-<step>.safetensors) to resume from", dir, kLatest);

  std::vector<std::pair<fs::path, std::string>> failed;
  std::string used;
  for (const fs::path& c : candidates) {
    try {
      std::map<std::string, std::string> meta;
      std::map<std::string, Tensor> tensors = load_tensors(c.string(), &meta);
      MRNN_CHECK(meta.count("mrnn_checksum"),
                 "{}: the metadata has no 'mrnn_checksum' (not a checkpoint written by caption_train)", c.string());
      restore(c.string(), tensors, meta);
      used = c.string();
      break;
    } catch (const std::exception& e) {
      failed.emplace_back(c, e.what());
    }
  }
  if (used.empty()) {
    std::string all;
    for (const auto& [path, why] : failed) all += fmt::format("\n  {}: {}", path.string(), why);
    MRNN_FAIL("--resume: none of the checkpoints in {} can be used:{}", dir, all);
  }

  // Move the unusable newer checkpoints aside, so that pruning and later resumes skip them.
  for (const auto& [path, why] : failed) {
    const std::string aside = path.string() + ".corrupt";
    fs::rename(path, aside, ec);
    if (warnings)
      warnings->push_back(fmt::format("checkpoint {} cannot be used: {}\n  {}; resuming from {} instead",
                                      path.string(), why,
                                      ec ? "it could not be renamed: " + ec.message() : "renamed to " + aside, used));
  }
  // checkpoint.safetensors may name one of the files just moved aside: drop that name too.
  if (!failed.empty() && fs::exists(latest, ec) && !same_file(latest, used))
    for (const auto& [path, why] : failed)
      if (same_file(latest, path.string() + ".corrupt")) {
        fs::remove(latest, ec);
        break;
      }
  return used;
}

void remove_training_checkpoints(const std::string& dir) {
  std::error_code ec;
  for (const auto& [s, path] : numbered_checkpoints(dir)) fs::remove(path, ec);
  fs::remove(fs::path(dir) / kLatest, ec);
}

int remove_checkpoint_temporaries(const std::string& dir) {
  static const std::regex tmp_re(R"((checkpoint(-[0-9]+)?|model)\.safetensors\.tmp-[0-9]+-[0-9a-z]+)");
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (std::regex_match(it->path().filename().string(), tmp_re)) stale.push_back(it->path());
  for (const fs::path& p : stale) removed += fs::remove(p, ec) ? 1 : 0;
  return removed;
}

}  // namespace mrnn
