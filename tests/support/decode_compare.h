// Comparing a device's decoding with the CPU reference's (tests/cuda/test_decode_cuda.cpp), with
// the near-tie rules of tests/support/near_tie.h; plain C++ on any device, so
// tests/cuda_policy/test_decode_compare.cpp checks these helpers on the CPU before a GPU uses them.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "kernels/common/beam.h"
#include "kernels/ops.h"
#include "models/mrnn/mrnn.h"
#include "tests/support/near_tie.h"

namespace mrnn::testing {

// The state of search `got` after a step against the reference `want` (same sizes), empty when
// they agree: the control words and per-row candidate counts exactly; per image, the new beams'
// log-probabilities in rank order within eps, and (parent row, word) only for beams no other
// candidate of the image (want's cand_score) nearly ties; the best finished hypothesis' score and
// log-probability within eps; the finished count, length, row and done flag exactly unless the
// image had a near tie. `unchecked` (when given) adds the beams whose ids were not compared.
inline std::string compare_beam_state(const BeamSearch& got, const BeamSearch& want, int64_t vocab, double eps,
                                      int64_t* unchecked = nullptr) {
  const int64_t K = want.beam, keep = want.keep;
  const std::vector<double> lw = want.logp.to_vector<double>(), lg = got.logp.to_vector<double>();
  const std::vector<int64_t> iw = want.ids.to_vector<int64_t>(), ig = got.ids.to_vector<int64_t>();
  const std::vector<int64_t> rw = want.rows.to_vector<int64_t>(), rg = got.rows.to_vector<int64_t>();
  const std::vector<double> cs = want.cand_score.to_vector<double>();
  const std::vector<int64_t> cn = want.cand_n.to_vector<int64_t>();
  const std::vector<double> fw = want.img_f.to_vector<double>(), fg = got.img_f.to_vector<double>();
  const std::vector<int64_t> jw = want.img_i.to_vector<int64_t>(), jg = got.img_i.to_vector<int64_t>();
  if (got.ctl.to_vector<int64_t>() != want.ctl.to_vector<int64_t>()) return "control words differ";
  if (got.cand_n.to_vector<int64_t>() != cn) return "candidate counts differ";
  for (int64_t b = 0; b < want.images; ++b) {
    const std::string at = "image " + std::to_string(b) + ": ";
    Ranked w, g;
    std::vector<double> pool;
    for (int64_t k = 0; k < K; ++k) {
      const size_t r = static_cast<size_t>(b * K + k);
      w.ids.push_back(rw[r] * vocab + iw[r]);
      w.scores.push_back(lw[r]);
      g.ids.push_back(rg[r] * vocab + ig[r]);
      g.scores.push_back(lg[r]);
      for (int64_t j = 0; j < cn[r]; ++j) pool.push_back(cs[r * keep + j]);
    }
    const std::string d = compare_ranked(g, w, pool, eps, unchecked);
    if (!d.empty()) return at + "beams (id = parent row * V + word): " + d;
    const std::string f =
        compare_ranked({{0, 0}, {fg[2 * b], fg[2 * b + 1]}}, {{0, 0}, {fw[2 * b], fw[2 * b + 1]}}, {}, eps);
    if (!f.empty()) return at + "best finished hypothesis: " + f;
    bool tie = false;
    for (size_t i = 0; i < pool.size() && !tie; ++i)
      for (size_t j = i + 1; j < pool.size() && !tie; ++j) tie = near_tie(pool[i], pool[j], eps);
    if (!tie)
      for (int64_t q = 0; q < 4; ++q)
        if (jg[4 * b + q] != jw[4 * b + q]) return at + "finished-hypothesis field " + std::to_string(q) + " differs";
  }
  return {};
}

// dst's state := src's (dst keeps its device), so that a near tie decided the other way at one
// step cannot make every later step differ.
inline void adopt_state(BeamSearch& dst, const BeamSearch& src) {
  const std::vector<std::pair<Tensor*, const Tensor*>> parts = {
      {&dst.logp, &src.logp},           {&dst.ids, &src.ids},
      {&dst.rows, &src.rows},           {&dst.new_logp, &src.new_logp},
      {&dst.new_ids, &src.new_ids},     {&dst.hist_word, &src.hist_word},
      {&dst.hist_parent, &src.hist_parent}, {&dst.cand_score, &src.cand_score},
      {&dst.cand_word, &src.cand_word}, {&dst.cand_n, &src.cand_n},
      {&dst.img_f, &src.img_f},         {&dst.img_i, &src.img_i},
      {&dst.ctl, &src.ctl}};
  for (auto [d, s] : parts) d->copy_(s->to(d->device()));
}

// Model m's log-probabilities (f64, on the CPU) of the next word for image `feats` [1, D] after
// `prefix`, teacher-forced from <bos>: the decoders' image term and steps.
inline std::vector<double> next_log_probs(const Mrnn& m, const Tensor& feats, const std::vector<int64_t>& prefix) {
  NoGradGuard ng;
  DecoderState st = m.initial_state(1);
  const Tensor img = m.image_term(feats.to(m.device()));
  auto ids = [&m](int64_t w) { return Tensor::from_vector(std::vector<int64_t>{w}).to(m.device()); };
  Tensor z = m.step_logits(ids(kBosId), st, img);
  for (int64_t w : prefix) z = m.step_logits(ids(w), st, img);
  return log_softmax(z.to(DType::F64), 1).to(Device::cpu()).to_vector<double>();
}

// Model m's log-probability of caption `ids` followed by <eos>, and its penalised score
// (kernels/common/beam.h) with length penalty alpha.
inline std::pair<double, double> caption_log_prob(const Mrnn& m, const Tensor& feats, const std::vector<int64_t>& ids,
                                                  double alpha) {
  double lp = 0;
  std::vector<int64_t> prefix;
  for (size_t t = 0; t <= ids.size(); ++t) {
    lp += next_log_probs(m, feats, prefix)[static_cast<size_t>(t < ids.size() ? ids[t] : kEosId)];
    if (t < ids.size()) prefix.push_back(ids[t]);
  }
  return {lp, beam::penalised(lp, static_cast<int64_t>(ids.size()), alpha)};
}

}  // namespace mrnn::testing
