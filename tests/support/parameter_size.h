// The size of one named parameter of a module, for tests that check which layer a config built.
#pragma once
#include <cstdint>
#include <string>

#include "layers/module.h"

namespace mrnn::testing {

// Ensures: size(dim) of the parameter called `name` (e.g. "cnn.fc.weight"), or -1 when the module
// has no such parameter.
inline int64_t parameter_size(const Module& m, const std::string& name, int64_t dim) {
  for (const auto& [n, t] : m.named_parameters())
    if (n == name) return t.size(dim);
  return -1;
}

}  // namespace mrnn::testing
