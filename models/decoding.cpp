#include "models/decoding.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// Per-row logsumexp of logits [rows, V] (log p = logit - lse): the decoders never build log_softmax.
std::vector<double> rows_lse(const Tensor& logits) {
  const int64_t rows = logits.size(0), V = logits.size(1);
  const float* p = logits.data<float>();
  std::vector<double> lse(rows);
#pragma omp parallel for schedule(static) if (rows * V > 65536)
  for (int64_t r = 0; r < rows; ++r) lse[r] = cpu::logsumexp_row_f32(p + r * V, V);
  return lse;
}

// Index of the largest of x[lo..n) (the first one on ties).
MRNN_CPU_CLONES int64_t row_argmax(const float* x, int64_t lo, int64_t n) {
  float m = x[lo];
#pragma omp simd reduction(max : m)
  for (int64_t j = lo + 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (int64_t j = lo; j < n; ++j)
    if (x[j] == m) return j;
  return lo;
}

// t on `dev` (Tensor::to copies only when it lives elsewhere).
Tensor on(const Tensor& t, Device dev) { return t.to(dev); }

// Shared loop of greedy and sampling: choose(row log-probs, V) picks the next id per row.
template <typename Choose>
std::vector<Caption> decode_one_path(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt, Choose choose) {
  NoGradGuard ng;
  const int64_t B = feats.size(0), V = model.config().vocab;
  const Device dev = model.device();
  Tensor img = model.image_term(on(feats, dev));
  RecurrentState st = model.initial_state(B);
  std::vector<Caption> out(B);
  std::vector<bool> done(B, false);
  std::vector<int64_t> cur(B, kBosId);
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    Tensor logits = on(model.step_logits(on(Tensor::from_vector(cur), dev), st, img), Device::cpu()).contiguous();
    const float* p = logits.data<float>();
    const std::vector<double> lse = rows_lse(logits);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      const float* row = p + b * V;  // logits: choose() is invariant to the per-row shift
      int64_t next = t == opt.max_length ? kEosId : choose(row, V);
      out[b].log_prob += row[next] - lse[b];
      if (next == kEosId) {
        done[b] = true;
      } else {
        out[b].ids.push_back(next);
        all_done = false;
      }
      cur[b] = next;
    }
    if (all_done) break;
  }
  for (auto& c : out) c.score = c.log_prob;
  return out;
}

}  // namespace

std::vector<Caption> greedy_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  if (!model.device().is_cpu()) {
    DecodeOptions one = opt;
    one.beam_size = 1;
    one.length_penalty = 0;
    one.block_trigrams = false;
    return beam_search_captions_batched(model, feats, one);
  }
  return decode_one_path(model, feats, opt, [](const float* row, int64_t V) {
    return row_argmax(row, kBosId + 1, V);  // never <pad>/<unk>/<bos>
  });
}

std::vector<Caption> sample_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt,
                                     Generator& gen) {
  MRNN_CHECK(opt.temperature > 0, "sampling: temperature must be positive, got {}", opt.temperature);
  std::vector<std::pair<double, int64_t>> cand;
  return decode_one_path(model, feats, opt, [&](const float* row, int64_t V) {
    cand.clear();
    for (int64_t v = kBosId + 1; v < V; ++v) cand.emplace_back(row[v] / opt.temperature, v);
    if (opt.top_k > 0 && opt.top_k < static_cast<int64_t>(cand.size())) {
      std::partial_sort(cand.begin(), cand.begin() + opt.top_k, cand.end(), std::greater<>());
      cand.resize(opt.top_k);
    }
    double mx = -INFINITY;
    for (auto& c : cand) mx = std::max(mx, c.first);
    double total = 0;
    for (auto& c : cand) total += std::exp(c.first - mx);
    double u = gen.uniform() * total;
    for (auto& c : cand) {
      u -= std::exp(c.first - mx);
      if (u <= 0) return c.second;
    }
    return cand.back().second;
  });
}

namespace {
struct Candidate {
  double score;
  int64_t beam, word;
};
}  // namespace

std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  if (!model.device().is_cpu()) return beam_search_captions_batched(model, feats, opt);
  NoGradGuard ng;
  const int64_t B = feats.size(0), K = std::max<int64_t>(opt.beam_size, 1), V = model.config().vocab;
  // Rows are (image b, beam k) -> b * K + k; every image starts with one live beam.
  std::vector<int64_t> rep(B * K);
  for (int64_t i = 0; i < B * K; ++i) rep[i] = i / K;
  Tensor img = index_select(model.image_term(feats), Tensor::from_vector(rep));
  RecurrentState st = model.initial_state(B * K);
  std::vector<std::vector<int64_t>> seqs(B * K);
  std::vector<double> logp(B * K, -INFINITY);
  for (int64_t b = 0; b < B; ++b) logp[b * K] = 0;
  std::vector<int64_t> cur(B * K, kBosId);
  std::vector<std::vector<Caption>> finished(B);
  std::vector<char> image_done(B, 0);  // char, not bool: images are processed in parallel
  auto penalised = [&](double lp, size_t len) {
    return opt.length_penalty == 0 ? lp : lp / std::pow(static_cast<double>(len + 1), opt.length_penalty);
  };
  auto makes_repeat_trigram = [](const std::vector<int64_t>& s, int64_t next) {
    if (s.size() < 2) return false;
    const int64_t a = s[s.size() - 2], b = s.back();
    for (size_t i = 0; i + 2 < s.size(); ++i)
      if (s[i] == a && s[i + 1] == b && s[i + 2] == next) return true;
    return false;
  };

  const int64_t keep = 2 * K;  // candidates kept per image: K can end at once and K still go on
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    Tensor logits = model.step_logits(Tensor::from_vector(cur), st, img).contiguous();
    const float* p = logits.data<float>();
    const std::vector<double> lse = rows_lse(logits);
    const bool must_end = t == opt.max_length;
    std::vector<int64_t> rows(B * K);
    std::vector<std::vector<int64_t>> new_seqs(B * K);
    std::vector<double> new_logp(B * K, -INFINITY);
    std::vector<int64_t> new_cur(B * K, kEosId);
    bool any_live = false;
#pragma omp parallel for schedule(dynamic, 4) reduction(|| : any_live) if (B * K * V > 65536)
    for (int64_t b = 0; b < B; ++b) {
      // The best `keep` (score, beam, word) over this image's live beams, best first: one scan of
      // each row against the current cut-off instead of sorting all K x V candidates.
      std::vector<Candidate> top;
      top.reserve(keep + 1);
      auto offer = [&](double score, int64_t k, int64_t v) {
        if (static_cast<int64_t>(top.size()) == keep && score <= top.back().score) return;
        auto at = std::upper_bound(top.begin(), top.end(), score,
                                   [](double sc, const Candidate& c) { return sc > c.score; });
        top.insert(at, {score, k, v});
        if (static_cast<int64_t>(top.size()) > keep) top.pop_back();
      };
      for (int64_t k = 0; k < K; ++k) {
        const int64_t row = b * K + k;
        if (!std::isfinite(logp[row])) continue;
        const float* r = p + row * V;
        const double base = logp[row] - lse[row];
        if (must_end) {
          offer(base + r[kEosId], k, kEosId);
          continue;
        }
        for (int64_t v = kBosId + 1; v < V; ++v) {
          const double score = base + r[v];
          if (static_cast<int64_t>(top.size()) == keep && score <= top.back().score) continue;
          if (opt.block_trigrams && v != kEosId && makes_repeat_trigram(seqs[row], v)) continue;
          offer(score, k, v);
        }
      }
      int64_t filled = 0;
      for (size_t i = 0; i < top.size() && filled < K && !image_done[b]; ++i) {
        const Candidate& c = top[i];
        const int64_t src = b * K + c.beam;
        if (c.word == kEosId) {
          finished[b].push_back({seqs[src], c.score, penalised(c.score, seqs[src].size())});
          continue;
        }
        const int64_t dst = b * K + filled++;
        rows[dst] = src;
        new_seqs[dst] = seqs[src];
        new_seqs[dst].push_back(c.word);
        new_logp[dst] = c.score;
        new_cur[dst] = c.word;
        any_live = true;
      }
      // Done once K hypotheses finished and none of the live ones can still beat the best of them
      // (log-probabilities only fall as a hypothesis grows).
      if (!image_done[b] && static_cast<int64_t>(finished[b].size()) >= K) {
        double best_done = -INFINITY;
        for (const Caption& c : finished[b]) best_done = std::max(best_done, c.score);
        const double best_live = filled ? penalised(new_logp[b * K], new_seqs[b * K].size()) : -INFINITY;
        if (best_done >= best_live) {
          image_done[b] = 1;
          for (int64_t k = 0; k < filled; ++k) new_logp[b * K + k] = -INFINITY;
        }
      }
      for (int64_t k = filled; k < K; ++k) rows[b * K + k] = b * K;  // dead rows: any valid source
    }
    if (!any_live) break;
    st = Mrnn::select_rows(st, Tensor::from_vector(rows));
    seqs.swap(new_seqs);
    logp.swap(new_logp);
    cur.swap(new_cur);
  }
  std::vector<Caption> out(B);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t k = 0; k < K; ++k)  // unfinished live beams count as finished at max length
      if (std::isfinite(logp[b * K + k]) && finished[b].empty())
        finished[b].push_back({seqs[b * K + k], logp[b * K + k], penalised(logp[b * K + k], seqs[b * K + k].size())});
    auto best = std::max_element(finished[b].begin(), finished[b].end(),
                                 [](const Caption& x, const Caption& y) { return x.score < y.score; });
    if (best != finished[b].end()) out[b] = *best;
  }
  return out;
}

std::vector<Caption> beam_search_captions_batched(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
  NoGradGuard ng;
  const Device dev = model.device();
  const int64_t B = feats.size(0), K = std::max<int64_t>(opt.beam_size, 1);
  BeamSearch s = beam_search_init(B, K, opt.max_length, opt.length_penalty, opt.block_trigrams, dev);
  std::vector<int64_t> rep(B * K);
  for (int64_t i = 0; i < B * K; ++i) rep[i] = i / K;
  Tensor img = index_select(model.image_term(on(feats, dev)), on(Tensor::from_vector(rep), dev));
  RecurrentState st = model.initial_state(B * K);
  // Every step runs (a stopped search ignores the rest): deciding to leave early would need a read-back.
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    beam_search_step(s, model.step_logits(s.ids, st, img), t);
    if (t < opt.max_length) st = Mrnn::select_rows(st, s.rows);
  }
  const std::vector<double> res = beam_search_result(s).to_vector<double>();  // the one read-back
  const int64_t W = 3 + opt.max_length;
  std::vector<Caption> out(B);
  for (int64_t b = 0; b < B; ++b) {
    const double* r = res.data() + b * W;
    const int64_t n = static_cast<int64_t>(r[0]);
    out[b].log_prob = r[1];
    out[b].score = r[2];
    for (int64_t i = 0; i < n; ++i) out[b].ids.push_back(static_cast<int64_t>(r[3 + i]));
  }
  return out;
}

}  // namespace mrnn
