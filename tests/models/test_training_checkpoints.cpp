// The last-K training checkpoints: rotation keeps exactly the K newest, checkpoint.safetensors is the
// newest, and resume falls back to the previous checkpoint when the newest is bit-flipped or
// truncated (moving the bad one aside, with a message naming it), or fails listing every reason.
// The training state's JSON and the restore of model + optimizer reject what does not fit.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/random.h"
#include "models/engine/checkpoint.h"
#include "layers/linear.h"
#include "models/engine/training_checkpoints.h"

using namespace mrnn;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mrnn_test_ckpts_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A "checkpoint" whose single tensor holds {step, step + 0.5} and whose metadata names the step.
void save_step(const fs::path& dir, int64_t step, int64_t keep) {
  const float s = static_cast<float>(step);
  save_training_checkpoint(dir.string(), step, {{"w", Tensor::from_vector(std::vector<float>{s, s + 0.5f}, {2})}},
                           {{"step", std::to_string(step)}}, keep);
}

// Resumes from dir; returns the step found in the tensor (checked against the metadata).
int64_t resume_step(const fs::path& dir, std::vector<std::string>* warnings) {
  int64_t found = -1;
  resume_newest_checkpoint(dir.string(), [&](const std::string&, const std::map<std::string, Tensor>& t,
                                             const std::map<std::string, std::string>& meta) {
    const std::vector<float> w = t.at("w").to_vector<float>();
    found = static_cast<int64_t>(w.at(0));
    REQUIRE(std::to_string(found) == meta.at("step"));
  }, warnings);
  return found;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  fs::remove(p);  // a new inode: do not write through a hard link
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// Flips one bit of the byte `from_end` bytes before the end, in place (hard links see it too).
void flip_bit_in_place(const fs::path& p, size_t from_end) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(-static_cast<std::streamoff>(from_end), std::ios::end);
  char c = 0;
  f.get(c);
  f.seekp(-static_cast<std::streamoff>(from_end), std::ios::end);
  f.put(static_cast<char>(c ^ 0x04));
}

}  // namespace

TEST_CASE("training checkpoints: the last K are kept and checkpoint.safetensors is the newest", "[checkpoint]") {
  const fs::path dir = fresh_dir("keep");
  for (int64_t step : {2, 4, 6, 8}) save_step(dir, step, 2);
  CHECK_FALSE(fs::exists(dir / "checkpoint-2.safetensors"));
  CHECK_FALSE(fs::exists(dir / "checkpoint-4.safetensors"));
  CHECK(fs::exists(dir / "checkpoint-6.safetensors"));
  CHECK(fs::exists(dir / "checkpoint-8.safetensors"));
  CHECK(read_bytes(dir / "checkpoint.safetensors") == read_bytes(dir / "checkpoint-8.safetensors"));
  CHECK(load_tensors((dir / "checkpoint.safetensors").string()).at("w").to_vector<float>() ==
        std::vector<float>{8.0f, 8.5f});
  std::vector<std::string> warnings;
  CHECK(resume_step(dir, &warnings) == 8);
  CHECK(warnings.empty());

  // keep = 1; a save at an earlier step (an abandoned timeline was resumed from step 4) drops the
  // later ones, so the file just written is always kept.
  save_step(dir, 4, 1);
  CHECK(fs::exists(dir / "checkpoint-4.safetensors"));
  CHECK_FALSE(fs::exists(dir / "checkpoint-6.safetensors"));
  CHECK_FALSE(fs::exists(dir / "checkpoint-8.safetensors"));
  CHECK(resume_step(dir, &warnings) == 4);
  CHECK_THROWS_WITH(save_step(dir, 5, 0), Contains("at least one checkpoint"));
  fs::remove_all(dir);
}

TEST_CASE("training checkpoints: a bit-flipped newest checkpoint falls back to the previous one", "[checkpoint]") {
  const fs::path dir = fresh_dir("flip");
  for (int64_t step : {10, 20}) save_step(dir, step, 2);
  flip_bit_in_place(dir / "checkpoint-20.safetensors", 3);  // checkpoint.safetensors is the same file

  std::vector<std::string> warnings;
  CHECK(resume_step(dir, &warnings) == 10);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("checkpoint " + (dir / "checkpoint-20.safetensors").string() + " cannot be used"));
  CHECK_THAT(warnings[0], Contains("checksum mismatch"));
  CHECK_THAT(warnings[0], Contains("renamed to " + (dir / "checkpoint-20.safetensors.corrupt").string()));
  CHECK_THAT(warnings[0], Contains("resuming from " + (dir / "checkpoint-10.safetensors").string()));
  CHECK(fs::exists(dir / "checkpoint-20.safetensors.corrupt"));
  CHECK_FALSE(fs::exists(dir / "checkpoint-20.safetensors"));
  CHECK_FALSE(fs::exists(dir / "checkpoint.safetensors"));  // it named the corrupt file: dropped
  // The run goes on from step 10; the next save is the newest again, and the corrupt file is not
  // counted among the kept ones.
  save_step(dir, 12, 2);
  CHECK(resume_step(dir, &warnings) == 12);
  CHECK(fs::exists(dir / "checkpoint-10.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("training checkpoints: a separate checkpoint.safetensors of the same step is preferred", "[checkpoint]") {
  const fs::path dir = fresh_dir("copy");
  for (int64_t step : {10, 20}) save_step(dir, step, 2);
  // Replace checkpoint-20 by a damaged copy (a new file): checkpoint.safetensors, the intact
  // step-20 bytes, is now separate, as where the file system has no hard links.
  std::string bytes = read_bytes(dir / "checkpoint-20.safetensors");
  bytes[bytes.size() - 3] ^= 0x04;
  write_bytes(dir / "checkpoint-20.safetensors", bytes);
  std::vector<std::string> warnings;
  CHECK(resume_step(dir, &warnings) == 20);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("resuming from " + (dir / "checkpoint.safetensors").string()));
  fs::remove_all(dir);
}

TEST_CASE("training checkpoints: a truncated newest checkpoint falls back, and none usable is an error", "[checkpoint]") {
  const fs::path dir = fresh_dir("trunc");
  for (int64_t step : {3, 6}) save_step(dir, step, 2);
  const auto size = fs::file_size(dir / "checkpoint-6.safetensors");
  fs::resize_file(dir / "checkpoint-6.safetensors", size / 2);
  CHECK(fs::file_size(dir / "checkpoint.safetensors") == size / 2);  // a hard link: both truncated

  std::vector<std::string> warnings;
  CHECK(resume_step(dir, &warnings) == 3);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("checkpoint-6.safetensors"));
  CHECK(fs::exists(dir / "checkpoint-6.safetensors.corrupt"));

  // Now damage the only one left: the error names it and its reason, and renames nothing.
  flip_bit_in_place(dir / "checkpoint-3.safetensors", 1);
  CHECK_THROWS_WITH(resume_step(dir, &warnings),
                    Contains("none of the checkpoints") && Contains("checkpoint-3.safetensors") &&
                        Contains("checksum mismatch"));
  CHECK(fs::exists(dir / "checkpoint-3.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("training checkpoints: restore failures, legacy directories, empty directories, leftovers",
          "[checkpoint]") {
  const fs::path dir = fresh_dir("misc");
  CHECK_THROWS_WITH(resume_step(dir, nullptr), Contains("holds no checkpoint") && Contains(dir.string()));

  // A directory from before numbered checkpoints: only checkpoint.safetensors.
  save_tensors((dir / "checkpoint.safetensors").string(),
               {{"w", Tensor::from_vector(std::vector<float>{7.0f, 7.5f}, {2})}}, {{"step", "7"}});
  CHECK(resume_step(dir, nullptr) == 7);

  // A checkpoint that loads but is rejected (no checksum: a file from another tool) is skipped like
  // a corrupt one. Renaming the metadata key keeps the header's length and offsets valid.
  save_step(dir, 9, 2);
  std::string b = read_bytes(dir / "checkpoint-9.safetensors");
  const auto at = b.find("mrnn_checksum");
  REQUIRE(at != std::string::npos);
  b.replace(at, 13, "xxxx_checksum");
  write_bytes(dir / "checkpoint-11.safetensors", b);
  std::vector<std::string> warnings;
  CHECK(resume_step(dir, &warnings) == 9);
  CHECK_THAT(joined(warnings), Contains("no 'mrnn_checksum'"));

  // Temporary files of killed writers go; everything else stays.
  for (const char* name : {"checkpoint-9.safetensors.tmp-123-0", "checkpoint.safetensors.tmp-77-link",
                           "model.safetensors.tmp-5-3", "notes.tmp-1-2"})
    write_bytes(dir / name, "partial");
  CHECK(remove_checkpoint_temporaries(dir.string()) == 3);
  CHECK(fs::exists(dir / "notes.tmp-1-2"));
  CHECK(fs::exists(dir / "checkpoint-9.safetensors"));

  remove_training_checkpoints(dir.string());
  CHECK_FALSE(fs::exists(dir / "checkpoint-9.safetensors"));
  CHECK_FALSE(fs::exists(dir / "checkpoint.safetensors"));
  CHECK(fs::exists(dir / "checkpoint-11.safetensors.corrupt"));
  fs::remove_all(dir);
}

TEST_CASE("training state: round trip, and each malformed field named", "[checkpoint]") {
  TrainState s;
  s.step = 12;
  s.epoch = 3;
  s.pos = 48;
  s.has_best = true;
  s.best_metric = "perplexity";
  s.best_value = 0.25;
  s.task = R"({"dropout_seed":18446744073709551615,"dropout_offset":7})";  // the full unsigned range survives
  s.options = R"({"batch":16,"seed":11})";
  const TrainState t = parse_train_state(train_state_json(s), "x.safetensors");
  CHECK(t.step == 12);
  CHECK(t.epoch == 3);
  CHECK(t.pos == 48);
  CHECK(t.has_best);
  CHECK(t.best_metric == "perplexity");
  CHECK(t.best_value == 0.25);
  CHECK(nlohmann::json::parse(t.task)["dropout_seed"].get<uint64_t>() == 18446744073709551615ull);
  CHECK(nlohmann::json::parse(t.options) == nlohmann::json::parse(s.options));
  s.has_best = false;
  s.options.clear();
  CHECK_FALSE(parse_train_state(train_state_json(s), "x").has_best);
  CHECK(parse_train_state(train_state_json(s), "x").options.empty());

  // A checkpoint written before the engine: best_cider and the task's fields at the top level.
  const TrainState old = parse_train_state(
      R"({"step":5,"epoch":0,"pos":40,"best_cider":0.5,"dropout_seed":1,"dropout_offset":9,"options":{"batch":8,"seed":3}})",
      "old");
  CHECK(old.has_best);
  CHECK(old.best_metric == "cider_d");
  CHECK(old.best_value == 0.5);
  CHECK(nlohmann::json::parse(old.task) == nlohmann::json::parse(R"({"dropout_seed":1,"dropout_offset":9})"));
  CHECK(nlohmann::json::parse(old.options) == nlohmann::json::parse(R"({"batch":8,"seed":3})"));
  CHECK_FALSE(parse_train_state(R"({"step":0,"epoch":0,"pos":0,"best_cider":-1,"dropout_seed":1,"dropout_offset":0})",
                                "old").has_best);

  const std::string ok = R"("epoch":0,"pos":0,"task":{})";
  CHECK_THROWS_WITH(parse_train_state("[1]", "a.st"), Contains("a.st: the training state is not a JSON object"));
  CHECK_THROWS_WITH(parse_train_state("{" + ok + "}", "a.st"), Contains("a.st: training state field 'step' is missing"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":-2,)" + ok + "}", "a.st"),
                    Contains("field 'step' must be an integer >= 0, got -2"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":"3",)" + ok + "}", "a.st"),
                    Contains("field 'step' must be an integer >= 0, got \"3\""));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":1e3,)" + ok + "}", "a.st"), Contains("field 'step'"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":18446744073709551615,)" + ok + "}", "a.st"),
                    Contains("field 'step' is too large"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":1,)" + ok + R"(,"best":{"metric":1,"value":2}})", "a.st"),
                    Contains("a.st: training state field 'best' must be"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":1,)" + ok + R"(,"options":[1]})", "a.st"),
                    Contains("field 'options' must be an object"));
  CHECK_THROWS_WITH(parse_train_state(R"({"step":1,"epoch":0,"pos":0,"task":3})", "a.st"),
                    Contains("field 'task' must be an object"));
}

TEST_CASE("training checkpoint restore: weights and optimizer state, or an error naming the file", "[checkpoint]") {
  Generator g(5);
  Linear a(3, 2, g), b(3, 2, g);
  Adam oa(a.parameters()), ob(b.parameters());
  std::map<std::string, Tensor> all;
  for (auto& [k, t] : a.state_dict()) all["model." + k] = t;
  for (auto& [k, t] : oa.state()) all["optim." + k] = t;
  TrainState s;
  s.step = 4;
  const std::map<std::string, std::string> meta = {{"mrnn_train_state", train_state_json(s)}};

  CHECK(restore_training_checkpoint(all, meta, b, ob, "c.st").step == 4);
  for (auto& [k, t] : a.state_dict()) CHECK(b.state_dict().at(k).to_vector<float>() == t.to_vector<float>());

  CHECK_THROWS_WITH(restore_training_checkpoint(all, {}, b, ob, "c.st"), Contains("c.st: no 'mrnn_train_state'"));
  auto extra = all;
  extra["notes"] = Tensor::zeros({1});
  CHECK_THROWS_WITH(restore_training_checkpoint(extra, meta, b, ob, "c.st"), Contains("c.st: unexpected tensor 'notes'"));
  auto no_step = all;
  no_step.erase("optim.step");
  CHECK_THROWS_WITH(restore_training_checkpoint(no_step, meta, b, ob, "c.st"), Contains("c.st: optimizer state: tensor 'step' is missing"));
  auto nan_step = all;
  nan_step["optim.step"] = Tensor::from_vector(std::vector<double>{std::nan("")}, {1});
  CHECK_THROWS_WITH(restore_training_checkpoint(nan_step, meta, b, ob, "c.st"),
                    Contains("c.st: tensor 'optim.step' must be one i64 value >= 0, got f64[1]"));
  auto f64 = all;
  f64["model.bias"] = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  CHECK_THROWS_WITH(restore_training_checkpoint(f64, meta, b, ob, "c.st"), Contains("'model.bias' must be f32"));
  auto wrong = all;
  wrong["model.weight"] = Tensor::zeros({2, 4});
  CHECK_THROWS_WITH(restore_training_checkpoint(wrong, meta, b, ob, "c.st"), Contains("c.st: load_state_dict: 'weight'"));
}
