#include "models/decoding.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// Shared loop of greedy and sampling: choose(row log-probs, V) picks the next id per row.
template <typename Choose>
std::vector<Caption> decode_one_path(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt, Choose choose) {
  NoGradGuard ng;
  const int64_t B = feats.size(0), V = model.config().vocab;
  Tensor img = model.image_term(feats);
  RecurrentState st = model.initial_state(B);
  std::vector<Caption> out(B);
  std::vector<bool> done(B, false);
  std::vector<int64_t> cur(B, kBosId);
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    Tensor lp = model.step_log_probs(Tensor::from_vector(cur), st, img);
    const float* p = lp.data<float>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      const float* row = p + b * V;
      int64_t next = t == opt.max_length ? kEosId : choose(row, V);
      out[b].log_prob += row[next];
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
  return decode_one_path(model, feats, opt, [](const float* row, int64_t V) {
    return static_cast<int64_t>(std::max_element(row + kBosId + 1, row + V) - row);  // never <pad>/<unk>/<bos>
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

std::vector<Caption> beam_search_captions(const Mrnn& model, const Tensor& feats, const DecodeOptions& opt) {
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
  std::vector<bool> image_done(B, false);
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

  for (int64_t t = 0; t <= opt.max_length; ++t) {
    Tensor lp = model.step_log_probs(Tensor::from_vector(cur), st, img);
    const float* p = lp.data<float>();
    std::vector<int64_t> rows(B * K);
    std::vector<std::vector<int64_t>> new_seqs(B * K);
    std::vector<double> new_logp(B * K, -INFINITY);
    std::vector<int64_t> new_cur(B * K, kEosId);
    bool any_live = false;
    for (int64_t b = 0; b < B; ++b) {
      // Candidates (score, beam, word) over this image's live beams; top 2K per image.
      std::vector<std::tuple<double, int64_t, int64_t>> cand;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t row = b * K + k;
        if (!std::isfinite(logp[row])) continue;
        const float* r = p + row * V;
        const bool must_end = t == opt.max_length;
        for (int64_t v = kBosId + 1; v < V; ++v) {
          if (must_end && v != kEosId) continue;
          if (opt.block_trigrams && v != kEosId && makes_repeat_trigram(seqs[row], v)) continue;
          cand.emplace_back(logp[row] + r[v], k, v);
        }
      }
      const size_t keep = std::min(cand.size(), static_cast<size_t>(2 * K));
      std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(),
                        [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
      int64_t filled = 0;
      for (size_t i = 0; i < keep && filled < K && !image_done[b]; ++i) {
        auto [score, k, v] = cand[i];
        const int64_t src = b * K + k;
        if (v == kEosId) {
          finished[b].push_back({seqs[src], score, penalised(score, seqs[src].size())});
          continue;
        }
        const int64_t dst = b * K + filled++;
        rows[dst] = src;
        new_seqs[dst] = seqs[src];
        new_seqs[dst].push_back(v);
        new_logp[dst] = score;
        new_cur[dst] = v;
        any_live = true;
      }
      // Done once K hypotheses finished and none of the live ones can still beat the best of them
      // (log-probabilities only fall as a hypothesis grows).
      if (!image_done[b] && static_cast<int64_t>(finished[b].size()) >= K) {
        double best_done = -INFINITY;
        for (const Caption& c : finished[b]) best_done = std::max(best_done, c.score);
        const double best_live = filled ? penalised(new_logp[b * K], new_seqs[b * K].size()) : -INFINITY;
        if (best_done >= best_live) {
          image_done[b] = true;
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

}  // namespace mrnn
