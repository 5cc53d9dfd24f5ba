// Front-end of the batched beam search (kernels/beam.h): allocates the state on the device,
// checks the logits, and dispatches each stage to kernels/cpu/beam_step.cpp or
// kernels/cuda/beam_search.cu.
#include <cmath>
#include <vector>

#include "kernels/beam.h"
#include "kernels/common/beam.h"
#include "kernels/dispatch.h"

namespace mrnn {

BeamSearch beam_search_init(int64_t images, int64_t beam, int64_t max_length, double length_penalty,
                            bool block_trigrams, Device device) {
  MRNN_CHECK(images >= 1, "beam search: expected at least one image, got {}", images);
  MRNN_CHECK(beam >= 1 && beam <= beam::kMaxBeam, "beam search: beam size must be in [1, {}], got {}", beam::kMaxBeam,
             beam);
  MRNN_CHECK(max_length >= 0, "beam search: max_length must be >= 0, got {}", max_length);
  MRNN_CHECK(std::isfinite(length_penalty), "beam search: length_penalty must be finite, got {}", length_penalty);
  BeamSearch s;
  s.images = images;
  s.beam = beam;
  s.keep = 2 * beam;  // K can end at once and K still go on
  s.max_length = max_length;
  s.length_penalty = length_penalty;
  s.block_trigrams = block_trigrams;
  const int64_t R = images * beam;
  // Built on the host (tiny) and copied once.
  std::vector<double> logp(static_cast<size_t>(R), -INFINITY);
  for (int64_t b = 0; b < images; ++b) logp[static_cast<size_t>(b * beam)] = 0;
  std::vector<int64_t> ids(static_cast<size_t>(R), 2 /* <bos> */), rows(static_cast<size_t>(R));
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
  MRNN_CHECK(logits.dim() == 2 && logits.size(0) == R && logits.size(1) > beam::kFirstWord,
             "{}: expected logits [{}, V > {}] ({} images x beam {}), got {}", op, R, beam::kFirstWord, s.images,
             s.beam, logits.desc());
  MRNN_CHECK(is_floating(logits.dtype()), "{}: logits must be f32 or f64, got {}", op, logits.desc());
  check_same_device(op, {&logits, &s.logp});
  require_backend(op, logits);
  MRNN_CHECK(t >= 0 && t <= s.max_length, "{}: step {} is outside [0, {}]", op, t, s.max_length);
  const Tensor lc = logits.contiguous();
  MRNN_DISPATCH(lc.device(), beam_rows, s, lc, t);
  MRNN_DISPATCH(lc.device(), beam_images, s, t);
  MRNN_DISPATCH(lc.device(), beam_commit, s, t);
}

Tensor beam_search_result(const BeamSearch& s) {
  Tensor out = Tensor::zeros({s.images, 3 + s.max_length}, DType::F64, s.logp.device());
  MRNN_DISPATCH(s.logp.device(), beam_result, s, out);
  return out;
}

}  // namespace mrnn
