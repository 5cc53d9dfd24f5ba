// Per-hypothesis math of the batched beam search (kernels/beam.h) that the CPU search
// (kernels/cpu/beam_step.cpp, also the generic decoder's CPU beam search) and the CUDA kernels
// (kernels/cuda/beam_search.cu) both run: the length penalty, the candidate set and order, bounded
// sorted top lists, trigram blocking and the per-image bookkeeping of one step. Why shared: the
// rules exist once, and the device search makes the very decisions the CPU makes, given the same
// candidate scores. Token ids are parameters (kernels know no vocabulary; models pass
// data/vocab.h's).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/host_device.h"

namespace mrnn::beam {

constexpr int kMaxBeam = 16;  // the CUDA search's limit on the beam size (its per-thread lists)
constexpr int kMaxKeep = 2 * kMaxBeam;

// The token ids a search uses, given by the caller. Candidates at a step are the ids v in
// [first_word, V) with v != bos (so <pad>, <unk>, <bos> are never chosen); eos >= first_word.
struct Tokens {
  int64_t bos, eos, first_word;
};

MRNN_HD bool is_candidate(int64_t v, const Tokens& tk) { return v >= tk.first_word && v != tk.bos; }

// Ranking score of a hypothesis with log-probability lp and `words` words (+1 for <eos>):
// lp / (words + 1)^alpha, or lp itself when alpha == 0.
MRNN_HD double penalised(double lp, int64_t words, double alpha) {
  return alpha == 0 ? lp : lp / std::pow(static_cast<double>(words + 1), alpha);
}

// A live hypothesis has a finite log-probability (dead rows hold -inf); false for NaN too.
MRNN_HD bool is_live(double lp) { return lp > -INFINITY && lp < INFINITY; }

// The candidate order: higher score first, then the lower key (key = beam * V + word, so the lower
// beam, then the lower word). Scores are never NaN here.
MRNN_HD bool ranks_before(double s1, int64_t k1, double s2, int64_t k2) { return s1 > s2 || (s1 == s2 && k1 < k2); }

// Inserts (s, k) into the sorted list (score[0..n), key[0..n)) of capacity cap, dropping the last
// entry when full; does nothing when full and (s, k) does not rank before the last entry.
MRNN_HD void top_insert(double* score, int64_t* key, int& n, int cap, double s, int64_t k) {
  if (n == cap && !ranks_before(s, k, score[n - 1], key[n - 1])) return;
  int i = n < cap ? n++ : n - 1;
  for (; i > 0 && ranks_before(s, k, score[i - 1], key[i - 1]); --i) {
    score[i] = score[i - 1];
    key[i] = key[i - 1];
  }
  score[i] = s;
  key[i] = k;
}

// Words that would repeat a trigram of seq[0..len): every seq[i + 2] whose (seq[i], seq[i + 1])
// equals the last two words. Writes them to out (room for len entries) and returns how many.
MRNN_HD int blocked_words(const int64_t* seq, int64_t len, int64_t* out) {
  int n = 0;
  if (len < 3) return 0;
  const int64_t a = seq[len - 2], b = seq[len - 1];
  for (int64_t i = 0; i + 2 < len; ++i)
    if (seq[i] == a && seq[i + 1] == b) out[n++] = seq[i + 2];
  return n;
}

MRNN_HD bool contains(const int64_t* list, int n, int64_t v) {
  for (int i = 0; i < n; ++i)
    if (list[i] == v) return true;
  return false;
}

// Everything one image's bookkeeping reads and writes in one step, as raw pointers into the
// search state of kernels/beam.h (rows b*K .. b*K+K-1 of the per-row arrays).
struct ImageStep {
  int64_t beam, keep, vocab, t;
  double alpha;
  int64_t eos;
  // per-row candidates (input): row r has cand_n[r] entries, sorted, words in cand_word
  const double* cand_score;
  const int64_t* cand_word;
  const int64_t* cand_n;
  // per-row outputs
  double* new_logp;
  int64_t* new_ids;
  int64_t* rows;
  int64_t* hist_word;    // level t of the history: [R]
  int64_t* hist_parent;  // level t: [R]
  // per-image state: img_f [2] = best score, its log-probability; img_i [4] = finished count,
  // the step the best finished at (= its word count), the row it came from, done flag
  double* img_f;
  int64_t* img_i;
};

// One image's step: merge the K rows' sorted candidates into the best
// `keep` over the image; walk them best first while fewer than K beams are filled: an <eos>
// candidate finishes a hypothesis (the best finished one is kept: the first maximum of the
// penalised score), another word extends one into the next free row. The image is done once K
// hypotheses finished and the best live one cannot beat the best finished one. Returns the number
// of rows filled (0: nothing of this image goes on). head: scratch for s.beam entries (the caller's,
// so the CPU has no limit on the beam and a GPU thread uses a local array of kMaxBeam).
MRNN_HD int64_t image_step(const ImageStep& s, int64_t b, int64_t* head) {
  const int64_t K = s.beam, r0 = b * K;
  for (int64_t k = 0; k < K; ++k) head[k] = 0;
  int64_t filled = 0;
  bool done = s.img_i[4 * b + 3] != 0;
  for (int64_t i = 0; i < s.keep && filled < K && !done; ++i) {
    // The best head among the K rows' lists (ties: the lower beam, then the lower word).
    int64_t best = -1;
    double bs = 0;
    int64_t bkey = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t r = r0 + k;
      if (head[k] >= s.cand_n[r]) continue;
      const double sc = s.cand_score[r * s.keep + head[k]];
      const int64_t key = k * s.vocab + s.cand_word[r * s.keep + head[k]];
      if (best < 0 || ranks_before(sc, key, bs, bkey)) {
        best = k;
        bs = sc;
        bkey = key;
      }
    }
    if (best < 0) break;
    const int64_t word = s.cand_word[(r0 + best) * s.keep + head[best]];
    ++head[best];
    const int64_t src = r0 + best;
    if (word == s.eos) {
      const double pen = penalised(bs, s.t, s.alpha);
      const int64_t count = ++s.img_i[4 * b];
      if (count == 1 || pen > s.img_f[2 * b]) {
        s.img_f[2 * b] = pen;
        s.img_f[2 * b + 1] = bs;
        s.img_i[4 * b + 1] = s.t;
        s.img_i[4 * b + 2] = src;
      }
      continue;
    }
    const int64_t dst = r0 + filled++;
    s.rows[dst] = src;
    s.hist_word[dst] = word;
    s.hist_parent[dst] = src;
    s.new_logp[dst] = bs;
    s.new_ids[dst] = word;
  }
  if (!done && s.img_i[4 * b] >= K) {
    const double best_live = filled ? penalised(s.new_logp[r0], s.t + 1, s.alpha) : -INFINITY;
    if (s.img_f[2 * b] >= best_live) {
      s.img_i[4 * b + 3] = 1;
      for (int64_t k = 0; k < filled; ++k) s.new_logp[r0 + k] = -INFINITY;
    }
  }
  for (int64_t k = filled; k < K; ++k) {  // dead rows: any valid source, no hypothesis
    s.rows[r0 + k] = r0;
    s.hist_word[r0 + k] = s.eos;
    s.hist_parent[r0 + k] = r0;
    s.new_logp[r0 + k] = -INFINITY;
    s.new_ids[r0 + k] = s.eos;
  }
  return filled;
}

// Writes the words of the hypothesis that ends in row `row` at history level `level` (its words
// are at levels 0..level) to out[0..level], following the parents back. hist_* are [levels, R].
template <typename O>
MRNN_HD void trace_back(const int64_t* hist_word, const int64_t* hist_parent, int64_t R, int64_t level, int64_t row,
                        O* out) {
  for (int64_t l = level; l >= 0; --l) {
    out[l] = static_cast<O>(hist_word[l * R + row]);
    row = hist_parent[l * R + row];
  }
}

// Image b's caption into out[0 .. 3 + max_length) (already zeroed): word count, log-probability,
// score, words. The best finished hypothesis; without one, the first live row counts as finished
// at the committed length ctl[0]; without that either, nothing is written. Arrays as in
// kernels/beam.h's BeamSearch.
MRNN_HD void image_result(int64_t b, int64_t K, int64_t R, double alpha, const int64_t* ctl, const double* logp,
                          const double* img_f, const int64_t* img_i, const int64_t* hist_word,
                          const int64_t* hist_parent, double* out) {
  int64_t n = 0, row = -1;
  if (img_i[4 * b] > 0) {
    n = img_i[4 * b + 1];
    row = img_i[4 * b + 2];
    out[1] = img_f[2 * b + 1];
    out[2] = img_f[2 * b];
  } else {
    for (int64_t k = 0; k < K && row < 0; ++k)
      if (is_live(logp[b * K + k])) {
        row = b * K + k;
        n = ctl[0];
        out[1] = logp[row];
        out[2] = penalised(logp[row], n, alpha);
      }
    if (row < 0) return;
  }
  out[0] = static_cast<double>(n);
  if (n > 0) trace_back(hist_word, hist_parent, R, n - 1, row, out + 3);
}

}  // namespace mrnn::beam
