// A small mQA configuration for the model tests on the CPU (tests/mqa) and the GPU
// (tests/cuda/test_extensions_cuda.cpp): 8-pixel images through a one-block CNN, tiny sizes, no
// dropout (so both devices compute one function).
#pragma once
#include "models/mqa/mqa.h"

namespace mrnn::testing {

inline MqaConfig small_mqa_config() {
  MqaConfig c;
  c.vocab = 12;
  c.embed = 6;
  c.lstm = 5;
  c.fusing = 7;
  c.image_size = 8;
  c.cnn_channels = {2};
  c.image_dim = 4;
  c.dropout = 0;
  return c;
}

}  // namespace mrnn::testing
