// The small m-RNN and optimizer that fuzz_checkpoint restores into and make_fuzz_seeds writes
// checkpoints of: features input (no CNN), every other layer of the real model, a few hundred
// parameters, so each execution is cheap.
#pragma once
#include "core/random.h"
#include "models/mrnn/mrnn.h"
#include "models/engine/optim.h"

namespace mrnn::fuzz {

inline MrnnConfig checkpoint_model_config() {
  MrnnConfig c;
  c.vocab = 7;
  c.embed1 = 3;
  c.embed2 = 4;
  c.rnn = 5;
  c.multimodal = 4;
  c.image_input = "features";
  c.image_dim = 3;
  return c;
}

struct CheckpointModel {
  Generator gen{1};
  Mrnn model{checkpoint_model_config(), gen};
  Adam opt{model.parameters()};
};

}  // namespace mrnn::fuzz
