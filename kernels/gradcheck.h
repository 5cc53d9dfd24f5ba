// A finite-difference gradient checker for users' ops and layers (the one the library's own op
// table runs, tests/core/test_gradcheck.cpp). Why public: a user who writes an op with attach_grad,
// or a layer, needs the same proof its gradient is right that every built-in op has.
//
// Method: loss = sum(fn(inputs) * W) with a fixed random W (so every output element matters with
// its own weight); backward() gives the analytic gradient, central differences
// (L(x+e) - L(x-e)) / 2e the numeric one, element by element, in f64.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

struct GradcheckOptions {
  double eps = 1e-5;    // the finite-difference step
  double rtol = 1e-6;   // an element passes when |analytic - numeric| <= rtol * max(|a|, |n|) + atol
  double atol = 1e-8;
  uint64_t seed = 1234; // the weights W of the output
};

struct GradcheckResult {
  bool ok = true;
  double max_rel_error = 0;  // over the checked elements whose gradient magnitude exceeds 1e-6
  int64_t checked = 0;       // elements compared
  int64_t skipped_kinks = 0; // elements within eps of a kink (one-sided slopes differ): not compared
  std::string message;       // the first failure: input, element, analytic and numeric values
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Requires: every floating input is an f64 CPU tensor (a layer: Module::to(DType::F64) first);
// inputs that do not require grad (indices, constants) are passed through unchecked; fn is
// deterministic (a dropout inside must reseed its generator on every call). fn may ignore its
// arguments and read the same tensors another way: inputs are perturbed in place, so passing a
// module's parameters() and calling the module inside fn checks the layer's parameter gradients.
// Ensures: the inputs hold their original values again and their .grad() holds the analytic
// gradient. Throws mrnn::Error naming the input when a requirement does not hold.
GradcheckResult gradcheck(const GradcheckFn& fn, std::vector<Tensor> inputs, const GradcheckOptions& options = {});

}  // namespace mrnn
