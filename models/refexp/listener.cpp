#include "models/refexp/listener.h"

#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {
// Token ids [E, T] -> [E * R, T] with row e * R + r = row e (index_select is for floating tensors).
Tensor repeat_rows(const Tensor& ids, int64_t R) {
  const int64_t E = ids.size(0), T = ids.size(1);
  const auto v = ids.to(Device::cpu()).contiguous().to(DType::I64).to_vector<int64_t>();
  std::vector<int64_t> out;
  out.reserve(E * R * T);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t r = 0; r < R; ++r) out.insert(out.end(), v.begin() + e * T, v.begin() + (e + 1) * T);
  return Tensor::from_vector(out, {E * R, T});
}
}  // namespace

Tensor region_log_probs(const Speaker& speaker, const RegionQuery& q) {
  MRNN_CHECK(q.inputs.dim() == 2 && q.inputs.size(0) >= 1 && q.targets.defined() &&
                 q.targets.shape() == q.inputs.shape(),
             "listener: expression inputs and targets must both be [E >= 1, T], got {} and {}", q.inputs.desc(),
             q.targets.defined() ? q.targets.desc() : std::string("nothing"));
  MRNN_CHECK(q.region.defined() && q.region.dim() == 2 && q.region.size(0) >= 1,
             "listener: region features must be [R >= 1, D], got {}",
             q.region.defined() ? q.region.desc() : std::string("nothing"));
  const int64_t E = q.inputs.size(0), R = q.region.size(0);
  MRNN_CHECK(q.image.defined() && q.image.dim() == 2 && q.image.size(0) == 1,
             "listener: the image feature must be [1, D] (one image), got {}",
             q.image.defined() ? q.image.desc() : std::string("nothing"));
  MRNN_CHECK(q.location.defined() && q.location.dim() == 2 && q.location.size(0) == R,
             "listener: locations must be [{}, 5] (one per region), got {}", R,
             q.location.defined() ? q.location.desc() : std::string("nothing"));
  // Row e * R + r pairs expression e with region r.
  std::vector<int64_t> region_rows;
  region_rows.reserve(E * R);
  for (int64_t e = 0; e < E; ++e)
    for (int64_t r = 0; r < R; ++r) region_rows.push_back(r);
  const Device dev = speaker.device();
  Tensor rr = Tensor::from_vector(region_rows, {E * R}).to(dev);
  SpeakerBatch b;
  b.inputs = repeat_rows(q.inputs, R).to(dev);
  b.targets = repeat_rows(q.targets, R).to(dev);
  b.region = index_select(q.region, rr);
  b.location = index_select(q.location, rr);
  b.image = index_select(q.image, Tensor::zeros({E * R}, DType::I64).to(dev));
  return reshape(speaker.sequence_log_probs(b), {E, R});
}

Comprehension comprehend(const Speaker& speaker, const RegionQuery& q) {
  NoGradGuard ng;
  Comprehension c;
  c.scores = region_log_probs(speaker, q);
  const int64_t E = c.scores.size(0), R = c.scores.size(1);
  const auto s = c.scores.to(Device::cpu()).contiguous().to(DType::F64).to_vector<double>();
  for (int64_t e = 0; e < E; ++e) {
    int64_t best = 0;
    for (int64_t r = 1; r < R; ++r)
      if (s[e * R + r] > s[e * R + best]) best = r;
    c.best.push_back(best);
  }
  return c;
}

}  // namespace mrnn
