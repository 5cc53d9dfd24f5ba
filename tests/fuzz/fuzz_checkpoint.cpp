// libFuzzer target for the training-checkpoint reader: load_tensors (safetensors, checksum, tensor
// conversion) then restore_training_checkpoint (training-state JSON, model.* weights into a small
// m-RNN, optim.* into its Adam state), as caption_train --resume does; and Module::load_state_dict
// alone, as load_module does for model.safetensors. Any input must be restored or rejected with
// mrnn::Error (any other exception or a sanitizer report is a finding); what is restored must hold
// the file's values. Byte 0 picks the path: 0 = the rest as a file through load_tensors (checksum
// verified, so most mutations stop there); 1 = the rest parsed in memory without the checksum
// check, then restored; 2 = the same, then load_state_dict only.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "data/raw_array_tensor.h"
#include "data/safetensors.h"
#include "models/engine/checkpoint.h"
#include "models/engine/training_checkpoints.h"
#include "tests/fuzz/checkpoint_model.h"

namespace {

// The bytes as a file that load_tensors can open by path: a memfd, rewritten for every input.
std::string as_file(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("fuzz-checkpoint", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// Every parameter equals its source tensor, converted to f32.
void expect_loaded(const mrnn::Module& m, const std::map<std::string, mrnn::Tensor>& src, const std::string& prefix) {
  for (const auto& [name, p] : m.state_dict())
    if (p.to_vector<float>() != src.at(prefix + name).to_vector<float>()) {
      // NaN != NaN: compare bit patterns where the values differ.
      const auto a = p.to_vector<float>(), b = src.at(prefix + name).to_vector<float>();
      for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i])) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  ++data;
  --size;
  static mrnn::fuzz::CheckpointModel target;
  std::map<std::string, mrnn::Tensor> tensors;
  try {
    std::map<std::string, std::string> meta;
    if (mode == 0) {
      tensors = mrnn::load_tensors(as_file(data, size), &meta);
    } else {
      mrnn::SafetensorsFile f = mrnn::read_safetensors(data, size, "fuzz.safetensors");
      for (const auto& [name, a] : f.tensors) tensors.emplace(name, mrnn::to_tensor(a, name));
      meta = f.metadata;
    }
    if (mode == 2) {
      target.model.load_state_dict(tensors, true);
      expect_loaded(target.model, tensors, "");
      return 0;
    }
    const mrnn::TrainState s = mrnn::restore_training_checkpoint(tensors, meta, target.model, target.opt, "fuzz");
    if (s.step < 0 || s.epoch < 0 || s.pos < 0) std::abort();
    // What the Trainer hands to the task's parsers is a JSON object (or, options, nothing).
    if (!nlohmann::json::parse(s.task, nullptr, false).is_object()) std::abort();
    if (!s.options.empty() && !nlohmann::json::parse(s.options, nullptr, false).is_object()) std::abort();
  } catch (const mrnn::Error&) {
    return 0;
  }
  expect_loaded(target.model, tensors, "model.");
  return 0;
}
