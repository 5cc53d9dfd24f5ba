#include "models/engine/step_stats.h"

#include <vector>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

StepStats read_step_stats(const Tensor& loss, const Tensor& sumsq, const Tensor& index_record) {
  MRNN_CHECK(sumsq.defined() && sumsq.numel() == 1, "read_step_stats: expected one sum of squares, got {}",
             sumsq.defined() ? sumsq.desc() : std::string("an undefined tensor"));
  MRNN_CHECK(!loss.defined() || loss.numel() == 1, "read_step_stats: expected a scalar loss, got {}", loss.desc());
  MRNN_CHECK(!index_record.defined() || (index_record.numel() == 3 && index_record.dtype() == DType::I64),
             "read_step_stats: expected an index record of three i64s, got {}", index_record.desc());
  StepStats s;
  const Device dev = sumsq.device();
  const bool loss_here = loss.defined() && loss.device() == dev, rec_here = index_record.defined() &&
                                                                             index_record.device() == dev;
  if (dev.is_cuda()) {
    NoGradGuard ng;
    // f64 holds every loss and sum exactly as read alone, and the record's values (positions, ids,
    // row counts) well below 2^53.
    std::vector<Tensor> parts = {reshape(sumsq.to(DType::F64), {1})};
    if (loss_here) parts.push_back(reshape(loss.detach().to(DType::F64), {1}));
    if (rec_here) parts.push_back(index_record.to(DType::F64));
    const std::vector<double> v = concat(parts, 0).to_vector<double>();  // the one device-to-host copy
    s.sum_squares = v[0];
    if (loss_here) s.loss = v[1];
    if (rec_here)
      for (size_t i = v.size() - 3; i < v.size(); ++i) s.index_record.push_back(static_cast<int64_t>(v[i]));
  } else {  // host memory: nothing to copy
    s.sum_squares = sumsq.item();
    if (loss_here) s.loss = loss.item();
    if (rec_here) s.index_record = index_record.to_vector<int64_t>();
  }
  if (loss.defined() && !loss_here) s.loss = loss.item();
  if (index_record.defined() && !rec_here) s.index_record = index_record.to_vector<int64_t>();
  return s;
}

}  // namespace mrnn
