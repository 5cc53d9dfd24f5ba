#include "layers/linear.h"

#include <cmath>

#include "kernels/ops.h"
#include "layers/init.h"

namespace mrnn {

Linear::Linear(int64_t in, int64_t out, Generator& gen, bool has_bias) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = register_parameter("weight", init::uniform({out, in}, bound, gen));
  if (has_bias) bias = register_parameter("bias", init::uniform({out}, bound, gen));
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias); }

}  // namespace mrnn
