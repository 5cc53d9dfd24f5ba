// Comparing a device's decisions with the CPU reference's when candidates can nearly tie. The GPU
// sums rows in another order and contracts multiply-adds differently, so its scores differ from
// the CPU's by rounding (at most `eps` each, the caller's bound), and two candidates whose
// reference scores are within 2 * eps of each other may be ranked either way. These helpers
// compare scores within eps always, and ids only where the reference's margin exceeds 2 * eps.
// Plain C++ (no CUDA): tests/cuda_policy/test_near_tie.cpp checks them on any machine.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace mrnn::testing {

// Candidates in rank order (best first) with their scores.
struct Ranked {
  std::vector<int64_t> ids;
  std::vector<double> scores;
};

// Whether a and b can be ranked either way: within 2 * eps, or the same infinity.
inline bool near_tie(double a, double b, double eps) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 2 * eps;
}

// The reference chose `want` (the top entries of `pool`, the scores of every candidate it chose
// among, want's own included) and the device `got`, both in rank order. Empty when:
// - the lists have one length and, position by position, the scores agree within eps (the k-th
//   best of values each off by at most eps is itself off by at most eps, whichever way ties
//   went), with NaN matching only NaN and an infinity only the same infinity;
// - and got.ids[i] == want.ids[i] wherever want.scores[i] nearly ties (near_tie) no other entry of
//   `pool` (a candidate with a rival may legitimately be swapped with it or left out).
// Else a description of the first difference. `unchecked` (when given) counts the positions whose
// ids were not compared.
inline std::string compare_ranked(const Ranked& got, const Ranked& want, const std::vector<double>& pool, double eps,
                                  int64_t* unchecked = nullptr) {
  char buf[200];
  if (got.ids.size() != want.ids.size() || got.scores.size() != want.scores.size() ||
      want.ids.size() != want.scores.size()) {
    std::snprintf(buf, sizeof buf, "lengths differ: got %zu ids / %zu scores, want %zu / %zu", got.ids.size(),
                  got.scores.size(), want.ids.size(), want.scores.size());
    return buf;
  }
  int64_t skipped = 0;
  for (size_t i = 0; i < want.scores.size(); ++i) {
    const double g = got.scores[i], w = want.scores[i];
    const bool same = std::isnan(g) || std::isnan(w) ? std::isnan(g) && std::isnan(w)
                      : std::isinf(g) || std::isinf(w) ? g == w
                                                       : std::fabs(g - w) <= eps;
    if (!same) {
      std::snprintf(buf, sizeof buf, "position %zu: score %.17g, want %.17g (eps %g)", i, g, w, eps);
      return buf;
    }
    int rivals = 0;  // pool entries that nearly tie w, w itself among them
    for (double p : pool) rivals += near_tie(p, w, eps) ? 1 : 0;
    if (rivals > 1 || std::isnan(w)) {
      ++skipped;
      continue;
    }
    if (got.ids[i] != want.ids[i]) {
      std::snprintf(buf, sizeof buf, "position %zu: id %lld, want %lld (score %.17g, no rival within %g)", i,
                    static_cast<long long>(got.ids[i]), static_cast<long long>(want.ids[i]), w, 2 * eps);
      return buf;
    }
  }
  if (unchecked) *unchecked += skipped;
  return {};
}

// A sequence decided one token at a time (greedy decoding). Empty when got == want, or when at the
// first position t where they differ the reference's scores of the two tokens there (after the
// common prefix: gap(t, want[t], got[t]) = |score(want[t]) - score(got[t])|) nearly tie, i.e. the
// gap is at most 2 * eps; the rest may then differ anywhere (`*tied` set). A length difference
// counts as a difference at the shorter length (the token there versus the end). Else a
// description.
inline std::string compare_sequence(const std::vector<int64_t>& got, const std::vector<int64_t>& want,
                                    const std::function<double(size_t t, int64_t want_id, int64_t got_id)>& gap,
                                    double eps, bool* tied = nullptr) {
  if (tied) *tied = false;
  size_t t = 0;
  while (t < got.size() && t < want.size() && got[t] == want[t]) ++t;
  if (t == got.size() && t == want.size()) return {};
  const int64_t w = t < want.size() ? want[t] : -1, g = t < got.size() ? got[t] : -1;  // -1: the end
  const double d = gap(t, w, g);
  if (d <= 2 * eps) {
    if (tied) *tied = true;
    return {};
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "position %zu: id %lld, want %lld; the reference's scores differ by %.3g > %g", t,
                static_cast<long long>(g), static_cast<long long>(w), d, 2 * eps);
  return buf;
}

}  // namespace mrnn::testing
