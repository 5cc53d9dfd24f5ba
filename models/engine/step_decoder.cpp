#include "models/engine/step_decoder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <utility>

#include "core/autograd.h"
#include "kernels/beam.h"
#include "kernels/index_check.h"
#include "kernels/common/softmax.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/simd.h"
#include "kernels/ops.h"

namespace mrnn {

int64_t DecoderState::rows() const {
  MRNN_CHECK(!tensors.empty() && tensors[0].defined() && tensors[0].dim() >= 1,
             "DecoderState: a state needs at least one tensor with the rows in dim 0");
  return tensors[0].size(0);
}

DecoderState StepModel::reorder(const DecoderState& s, const Tensor& rows) const {
  DecoderState r;
  r.tensors.reserve(s.tensors.size());
  for (const Tensor& t : s.tensors) r.tensors.push_back(t.defined() ? index_select(t, rows) : t);
  return r;
}

namespace {

void check_options(const DecodeOptions& o, const char* op) {
  MRNN_CHECK(o.max_length >= 0, "{}: max_length must be >= 0, got {}", op, o.max_length);
  MRNN_CHECK(o.bos >= 0 && o.first_word >= 0 && o.eos >= o.first_word && o.eos != o.bos,
             "{}: token ids must satisfy bos >= 0, 0 <= first_word <= eos and eos != bos, got bos {}, eos {}, "
             "first_word {}",
             op, o.bos, o.eos, o.first_word);
}

// logits as the host reads them: [rows, V], floating, wide enough for bos and eos.
void check_logits(const Tensor& logits, int64_t rows, const DecodeOptions& o, const char* op) {
  MRNN_CHECK(logits.defined() && logits.dim() == 2 && logits.size(0) == rows &&
                 logits.size(1) > std::max(o.bos, o.eos) && is_floating(logits.dtype()),
             "{}: the model's step_logits must give f32/f64 logits [{}, V > {}] (bos {}, eos {}), got {}", op, rows,
             std::max(o.bos, o.eos), o.bos, o.eos, logits.defined() ? logits.desc() : std::string("nothing"));
}

// The logsumexp of one row of V logits (log p = logit - lse): the decoders never build log_softmax.
template <typename T>
double row_lse(const T* x, int64_t V) {
  if constexpr (std::is_same_v<T, float>) return cpu::logsumexp_row_f32(x, V);
  else return row_logsumexp(x, V);
}

// Index of the largest of x[lo..n) (the first one on ties). Requires lo < n.
MRNN_CPU_CLONES int64_t row_argmax(const float* x, int64_t lo, int64_t n) {
  float m = x[lo];
#pragma omp simd reduction(max : m)
  for (int64_t j = lo + 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (int64_t j = lo; j < n; ++j)
    if (x[j] == m) return j;
  return lo;
}

int64_t row_argmax(const double* x, int64_t lo, int64_t n) {
  int64_t best = lo;
  for (int64_t j = lo + 1; j < n; ++j)
    if (x[j] > x[best]) best = j;
  return best;
}

// The best candidate of a row (ids in [first_word, V) except bos; the lowest id on ties).
template <typename T>
int64_t best_candidate(const T* x, int64_t V, const DecodeOptions& o) {
  const int64_t lo = o.first_word, b = o.bos;
  if (b < lo || b >= V) return row_argmax(x, lo, V);
  int64_t best = lo < b ? row_argmax(x, lo, b) : -1;
  if (b + 1 < V) {
    const int64_t j = row_argmax(x, b + 1, V);
    if (best < 0 || x[j] > x[best]) best = j;
  }
  return best;  // >= 0: eos is a candidate
}

// The loop of greedy and sampling on the host: choose(row logits, V) picks the next id of a row
// (choose is invariant to the per-row shift from logits to log-probabilities). Only the rows still
// decoding are read, each once per step for its logsumexp and, when choose is a pure function of
// the row (`parallel_choose`: greedy), its choice, in the same pass over rows on all threads;
// sampling draws from one generator in row order, so it chooses on one thread.
template <typename Choose>
std::vector<Hypothesis> decode_one_path(const StepModel& model, const DecodeOptions& opt, const char* op,
                                        bool parallel_choose, Choose choose) {
  NoGradGuard ng;
  const Device dev = model.device();
  DecoderState st = model.initial_state();
  const int64_t B = st.rows();
  std::vector<Hypothesis> out(static_cast<size_t>(B));
  std::vector<char> done(static_cast<size_t>(B), 0);
  std::vector<int64_t> cur(static_cast<size_t>(B), opt.bos), next(static_cast<size_t>(B), opt.eos);
  std::vector<double> lse(static_cast<size_t>(B), 0.0);
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    // The host reads the logits: an explicit copy to the CPU (nothing is copied for a CPU model).
    Tensor logits = model.step_logits(Tensor::from_vector(cur).to(dev), st).to(Device::cpu()).contiguous();
    check_logits(logits, B, opt, op);
    const int64_t V = logits.size(1);
    bool all_done = true;
    const bool last = t == opt.max_length;
    dispatch_float(logits.dtype(), op, [&](auto z) {
      using T = decltype(z);
      const T* p = logits.data<T>();
#pragma omp parallel for schedule(static) if (B * V > 65536)
      for (int64_t b = 0; b < B; ++b) {
        if (done[b]) continue;
        lse[b] = row_lse(p + b * V, V);
        if (parallel_choose) next[b] = last ? opt.eos : choose(p + b * V, V);
      }
      for (int64_t b = 0; b < B; ++b) {
        if (done[b]) continue;
        const T* row = p + b * V;
        if (!parallel_choose) next[b] = last ? opt.eos : choose(row, V);
        out[b].log_prob += row[next[b]] - lse[b];
        if (next[b] == opt.eos) {
          done[b] = 1;
        } else {
          out[b].ids.push_back(next[b]);
          all_done = false;
        }
        cur[b] = next[b];
      }
    });
    if (all_done) break;
  }
  for (auto& h : out) h.score = h.log_prob;
  return out;
}

}  // namespace

std::vector<Hypothesis> greedy_decode(const StepModel& model, const DecodeOptions& opt) {
  check_options(opt, "greedy_decode");
  if (!model.device().is_cpu()) {  // the same choices, kept on the device
    DecodeOptions one = opt;
    one.beam_size = 1;
    one.length_penalty = 0;
    one.block_trigrams = false;
    return beam_decode(model, one);
  }
  return decode_one_path(model, opt, "greedy_decode", /*parallel_choose=*/true,
                         [&](const auto* row, int64_t V) { return best_candidate(row, V, opt); });
}

std::vector<Hypothesis> sample_decode(const StepModel& model, const DecodeOptions& opt, Generator& gen) {
  check_options(opt, "sample_decode");
  MRNN_CHECK(opt.temperature > 0, "sampling: temperature must be positive, got {}", opt.temperature);
  std::vector<std::pair<double, int64_t>> cand;
  return decode_one_path(model, opt, "sample_decode", /*parallel_choose=*/false, [&](const auto* row, int64_t V) {
    cand.clear();
    for (int64_t v = opt.first_word; v < V; ++v)
      if (v != opt.bos) cand.emplace_back(row[v] / opt.temperature, v);
    if (opt.top_k > 0 && opt.top_k < static_cast<int64_t>(cand.size())) {
      std::partial_sort(cand.begin(), cand.begin() + opt.top_k, cand.end(), std::greater<>());
      cand.resize(static_cast<size_t>(opt.top_k));
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

std::vector<Hypothesis> beam_decode(const StepModel& model, const DecodeOptions& opt) {
  check_options(opt, "beam_decode");
  NoGradGuard ng;
  const Device dev = model.device();
  const DecoderState first = model.initial_state();
  const int64_t B = first.rows(), K = std::max<int64_t>(opt.beam_size, 1);
  BeamSearch s = beam_search_init(B, K, opt.max_length, opt.length_penalty, opt.block_trigrams,
                                  beam::Tokens{opt.bos, opt.eos, opt.first_word}, dev);
  // Rows are (sequence b, beam k) -> b * K + k: every beam starts from its sequence's state.
  DecoderState st = first;
  if (K > 1) {
    std::vector<int64_t> rep(static_cast<size_t>(B * K));
    for (int64_t i = 0; i < B * K; ++i) rep[i] = i / K;
    st = model.reorder(first, Tensor::from_vector(rep).to(dev));
  }
  // On a GPU every step runs (a stopped search ignores the rest; asking would need a read-back);
  // on the CPU the search is left as soon as nothing is live. The embedding's index check stays on
  // the device during the loop and is read once after it (kernels/index_check.h): no step waits.
  DeferredIndexCheck deferred_check("beam_decode");
  for (int64_t t = 0; t <= opt.max_length; ++t) {
    beam_search_step(s, model.step_logits(s.ids, st), t);
    if (t == opt.max_length || (dev.is_cpu() && beam_search_stopped(s))) break;
    st = model.reorder(st, s.rows);
  }
  const std::vector<double> res = beam_search_result(s).to_vector<double>();  // the result's device->host copy
  deferred_check.finish();  // on a GPU: 24 bytes more, after the stream has finished anyway
  const int64_t W = 3 + opt.max_length;
  std::vector<Hypothesis> out(static_cast<size_t>(B));
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
