#include "models/engine/step_stats.h"

#include <vector>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

StepStats read_step_stats(const Tensor& loss, const Tensor& sumsq) {
  MRNN_CHECK(sumsq.defined() && sumsq.numel() == 1, "read_step_stats: expected one sum of squares, got {}",
             sumsq.defined() ? sumsq.desc() : std::string("an undefined tensor"));
  MRNN_CHECK(!loss.defined() || loss.numel() == 1, "read_step_stats: expected a scalar loss, got {}", loss.desc());
  StepStats s;
  if (loss.defined() && loss.device().is_cuda() && loss.device() == sumsq.device()) {
    NoGradGuard ng;
    const Tensor both = concat({reshape(loss.detach().to(DType::F64), {1}), reshape(sumsq.to(DType::F64), {1})}, 0);
    const std::vector<double> v = both.to_vector<double>();  // the one device-to-host copy
    s.loss = v[0];
    s.sum_squares = v[1];
    return s;
  }
  if (loss.defined()) s.loss = loss.item();
  s.sum_squares = sumsq.item();
  return s;
}

}  // namespace mrnn
