// The CPU beam search step (kernels/beam.h): the generic decoder's CPU beam search and the
// reference of the CUDA one. Stage 1 gives each live row its log-sum-exp (cpu::logsumexp_row_f32
// for f32 rows, as the greedy decoder) and its best `keep` candidates in one scan against the
// row's current cut-off; stage 2 and the commit are the shared rules of kernels/common/beam.h run
// once per image. No limit on the beam size here (the scratch lists are per thread vectors).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/beam.h"
#include "kernels/common/beam.h"
#include "kernels/common/softmax.h"
#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

void beam_rows(const BeamSearch& s, const Tensor& logits, int64_t t) {
  const int64_t* ctl = s.ctl.data<int64_t>();
  if (ctl[1]) return;  // stopped
  const int64_t R = s.images * s.beam, V = logits.size(1), keep = s.keep;
  const double* logp = s.logp.data<double>();
  const int64_t* hw = s.hist_word.data<int64_t>();
  const int64_t* hp = s.hist_parent.data<int64_t>();
  double* cs = s.cand_score.data<double>();
  int64_t* cw = s.cand_word.data<int64_t>();
  int64_t* cn = s.cand_n.data<int64_t>();
  const bool must_end = t == s.max_length;
  const beam::Tokens tk = s.tokens;
  dispatch_float(logits.dtype(), "beam_rows", [&](auto z) {
    using T = decltype(z);
    const T* px = logits.data<T>();
#pragma omp parallel if (R * V > 65536)
    {
      std::vector<int64_t> seq(static_cast<size_t>(t) + 1), blocked(static_cast<size_t>(t) + 1);
#pragma omp for schedule(static)
      for (int64_t r = 0; r < R; ++r) {
        cn[r] = 0;
        if (!beam::is_live(logp[r])) continue;
        const T* x = px + r * V;
        double lse;
        if constexpr (std::is_same_v<T, float>) lse = logsumexp_row_f32(x, V);
        else lse = row_logsumexp(x, V);
        const double base = logp[r] - lse;
        double* score = cs + r * keep;
        int64_t* word = cw + r * keep;
        int n = 0;
        if (must_end) {
          beam::top_insert(score, word, n, static_cast<int>(keep), base + static_cast<double>(x[tk.eos]), tk.eos);
          cn[r] = n;
          continue;
        }
        int nb = 0;
        if (s.block_trigrams && t >= 3) {
          beam::trace_back(hw, hp, R, t - 1, r, seq.data());
          nb = beam::blocked_words(seq.data(), t, blocked.data());
        }
        // Words are scanned in increasing order, so a later word with the cut-off's score ranks
        // after it: `sc <= cut-off` is exactly "does not rank before" here, and cheaper.
        for (int64_t v = tk.first_word; v < V; ++v) {
          const double sc = base + static_cast<double>(x[v]);
          if (n == keep && sc <= score[n - 1]) continue;
          if (!beam::is_candidate(v, tk)) continue;
          if (nb && v != tk.eos && beam::contains(blocked.data(), nb, v)) continue;
          beam::top_insert(score, word, n, static_cast<int>(keep), sc, v);
        }
        cn[r] = n;
      }
    }
  });
}

namespace {
beam::ImageStep image_step_args(const BeamSearch& s, int64_t t, int64_t vocab) {
  const int64_t R = s.images * s.beam;
  beam::ImageStep a{};
  a.beam = s.beam;
  a.keep = s.keep;
  a.vocab = vocab;
  a.t = t;
  a.alpha = s.length_penalty;
  a.eos = s.tokens.eos;
  a.cand_score = s.cand_score.data<double>();
  a.cand_word = s.cand_word.data<int64_t>();
  a.cand_n = s.cand_n.data<int64_t>();
  a.new_logp = s.new_logp.data<double>();
  a.new_ids = s.new_ids.data<int64_t>();
  a.rows = s.rows.data<int64_t>();
  a.hist_word = s.hist_word.data<int64_t>() + t * R;
  a.hist_parent = s.hist_parent.data<int64_t>() + t * R;
  a.img_f = s.img_f.data<double>();
  a.img_i = s.img_i.data<int64_t>();
  return a;
}
}  // namespace

void beam_images(const BeamSearch& s, int64_t t) {
  int64_t* ctl = s.ctl.data<int64_t>();
  ctl[2] = 0;
  if (ctl[1]) return;
  // The key only orders candidates (beam, then word), so any vocabulary bound above every word
  // works: words are < 2^40 in practice.
  const beam::ImageStep a = image_step_args(s, t, int64_t{1} << 40);
  int64_t live = 0;
#pragma omp parallel reduction(| : live) if (s.images > 256)
  {
    std::vector<int64_t> head(static_cast<size_t>(s.beam));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < s.images; ++b) live |= beam::image_step(a, b, head.data()) > 0 ? 1 : 0;
  }
  ctl[2] = live;
}

void beam_commit(const BeamSearch& s, int64_t t) {
  int64_t* ctl = s.ctl.data<int64_t>();
  if (!ctl[2]) {
    ctl[1] = 1;
    return;
  }
  const int64_t R = s.images * s.beam;
  std::copy_n(s.new_logp.data<double>(), R, s.logp.data<double>());
  std::copy_n(s.new_ids.data<int64_t>(), R, s.ids.data<int64_t>());
  ctl[0] = t + 1;
}

void beam_result(const BeamSearch& s, const Tensor& out) {
  const int64_t B = s.images, W = 3 + s.max_length;
  for (int64_t b = 0; b < B; ++b)
    beam::image_result(b, s.beam, B * s.beam, s.length_penalty, s.ctl.data<int64_t>(), s.logp.data<double>(),
                       s.img_f.data<double>(), s.img_i.data<int64_t>(), s.hist_word.data<int64_t>(),
                       s.hist_parent.data<int64_t>(), out.data<double>() + b * W);
}

}  // namespace mrnn::cpu
