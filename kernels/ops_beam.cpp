// Front-end of the batched beam search (kernels/beam.h): allocates the state on the device,
// checks the logits, and dispatches each stage to kernels/cpu/beam_step.cpp or
// kernels/cuda/beam_search.cu.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/beam.h"
#include "kernels/common/beam.h"
#include "kernels/dispatch.h"

namespace mrnn {

BeamSearch beam_search_init(int64_t images, int64_t beam, int64_t max_length, double length_penalty,
                            bool block_trigrams, const beam::Tokens& tokens, Device device) {
  constexpr int64_t kMaxCpuBeam = int64_t{1} << 20;  // keeps beam * 2^40 (the candidate key) in range
  MRNN_CHECK(images >= 1, "beam search: expected at least one image, got {}", images);
  if (device.is_cpu())
    MRNN_CHECK(beam >= 1 && beam <= kMaxCpuBeam, "beam search: beam size must be in [1, {}], got {}", kMaxCpuBeam,
               beam);
  else
    MRNN_CHECK(beam >= 1 && beam <= beam::kMaxBeam,
               "beam search on {}: beam size must be in [1, {}] on a GPU (the kernels' per-thread lists), got {}; "
               "decode on the CPU for larger beams",
               device.str(), beam::kMaxBeam, beam);
  MRNN_CHECK(max_length >= 0, "beam search: max_length must be >= 0, got {}", max_length);
  MRNN_CHECK(std::isfinite(length_penalty), "beam search: length_penalty must be finite, got {}", length_penalty);
  MRNN_CHECK(tokens.bos >= 0 && tokens.first_word >= 0 && tokens.eos >= tokens.first_word && tokens.eos != tokens.bos,
             "beam search: token ids must satisfy bos >= 0, 0 <= first_word <= eos and eos != bos, got bos {}, eos {}, "
             "first_word {}",
             tokens.bos, tokens.eos, tokens.first_word);
  MRNN_CHECK(images <= (int64_t{1} << 40) / beam, "beam search: {} images x beam {} rows are too many", images, beam);
  BeamSearch s;
  s.images = images;
  s.beam = beam;
  s.keep = 2 * beam;  // K can end at once and K still go on
  s.max_length = max_length;
  s.length_penalty = length_penalty;
  s.block_trigrams = block_trigrams;
  s.tokens = tokens;
  const int64_t R = images * beam;
  // Built on the host (tiny) and copied once.
  std::vector<double> logp(static_cast<size_t>(R), -INFINITY);
  for (int64_t b = 0; b < images; ++b) logp[static_cast<size_t>(b * beam)] = 0;
  std::vector<int64_t> ids(static_cast<size_t>(R), tokens.bos), rows(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) rows[static_cast<size_t>(r)] = r;
  s.logp = Tensor::from_vector(logp).to(device);
  s.ids = Tensor::from_vector(ids).to(device);
  s.rows = Tensor::from_vector(rows).to(device);
  s.new_logp = Tensor::zeros({R}, DType::F64, device);
  s.new_ids = Tensor::zeros({R}, DType::I64, device);
  s.hist_word = Tensor::zeros({max_length + 1, R}, DType::I64, device);
  s.hist_parent = Tensor::zeros({max_length + 1, R}, DType::I64, device);
  s.cand_score = Tensor::zeros({R, s.keep}, DType::F64, device);
  s.cand_word = Tensor::zeros({R, s.keep}, DType::I64, device);
  s.cand_n = Tensor::zeros({R}, DType::I64, device);
  s.img_f = Tensor::zeros({images, 2}, DType::F64, device);
  s.img_i = Tensor::zeros({images, 4}, DType::I64, device);
  s.ctl = Tensor::zeros({3}, DType::I64, device);
  return s;
}

void beam_search_step(BeamSearch& s, const Tensor& logits, int64_t t) {
  const char* op = "beam_search_step";
  check_defined(op, {&logits});
  const int64_t R = s.images * s.beam;
  const int64_t top_id = std::max(s.tokens.bos, s.tokens.eos);
  MRNN_CHECK(logits.dim() == 2 && logits.size(0) == R && logits.size(1) > top_id,
             "{}: expected logits [{}, V > {}] ({} images x beam {}; bos {}, eos {}), got {}", op, R, top_id,
             s.images, s.beam, s.tokens.bos, s.tokens.eos, logits.desc());
  MRNN_CHECK(is_floating(logits.dtype()), "{}: logits must be f32 or f64, got {}", op, logits.desc());
  check_same_device(op, {&logits, &s.logp});
  require_backend(op, logits);
  MRNN_CHECK(t >= 0 && t <= s.max_length, "{}: step {} is outside [0, {}]", op, t, s.max_length);
  const Tensor lc = logits.contiguous();
  MRNN_DISPATCH(lc.device(), beam_rows, s, lc, t);
  MRNN_DISPATCH(lc.device(), beam_images, s, t);
  MRNN_DISPATCH(lc.device(), beam_commit, s, t);
}

bool beam_search_stopped(const BeamSearch& s) {
  check_defined("beam_search_stopped", {&s.ctl});
  return (s.ctl.device().is_cpu() ? s.ctl.data<int64_t>()[1] : s.ctl.to_vector<int64_t>()[1]) != 0;
}

Tensor beam_search_result(const BeamSearch& s) {
  Tensor out = Tensor::zeros({s.images, 3 + s.max_length}, DType::F64, s.logp.device());
  MRNN_DISPATCH(s.logp.device(), beam_result, s, out);
  return out;
}

}  // namespace mrnn
