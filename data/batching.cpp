#include "data/batching.h"

#include <algorithm>
#include <unordered_map>

#include "core/random.h"
#include "data/vocab.h"

namespace mrnn {

namespace {

uint64_t epoch_key(uint64_t seed, int64_t epoch) { return seed * 1000003ull + static_cast<uint64_t>(epoch); }

void fisher_yates(std::vector<int64_t>& v, Generator& g) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i)
    std::swap(v[i], v[static_cast<int64_t>(g.randint(static_cast<uint64_t>(i + 1)))]);
}

}  // namespace

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch) {
  MRNN_CHECK(n >= 0, "shuffled_order: n must be >= 0, got {}", n);
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator g(epoch_key(seed, epoch));
  fisher_yates(p, g);
  return p;
}

BatchPlan plan_epoch(const std::vector<int64_t>& lengths, int64_t epoch, const BatchPlanOptions& o) {
  MRNN_CHECK(o.batch_size >= 1, "batch plan: batch_size must be >= 1, got {}", o.batch_size);
  MRNN_CHECK(o.bucket_batches >= 0, "batch plan: bucket_batches must be >= 0 (0 = off), got {}", o.bucket_batches);
  MRNN_CHECK(epoch >= 0, "batch plan: epoch must be >= 0, got {}", epoch);
  const int64_t n = static_cast<int64_t>(lengths.size()), B = o.batch_size;
  for (int64_t i = 0; i < n; ++i)
    MRNN_CHECK(lengths[i] >= 0, "batch plan: length of caption {} is {}, expected >= 0", i, lengths[i]);

  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  Generator g(epoch_key(o.seed, epoch));
  fisher_yates(order, g);  // == shuffled_order(n, seed, epoch); g continues for the batch order

  if (!o.group_of.empty()) {
    MRNN_CHECK(static_cast<int64_t>(o.group_of.size()) == n,
               "batch plan: group_of has {} entries for {} captions", o.group_of.size(), n);
    MRNN_CHECK(o.bucket_batches == 0, "batch plan: grouping captions by image and length bucketing "
               "(bucket_batches = {}) cannot be combined", o.bucket_batches);
    std::unordered_map<int64_t, int64_t> first;  // group -> position of its first caption in order
    first.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) first.emplace(o.group_of[order[i]], i);
    std::vector<int64_t> key(static_cast<size_t>(n));  // caption -> its group's first position
    for (int64_t c = 0; c < n; ++c) key[c] = first.at(o.group_of[c]);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return key[a] < key[b]; });
  }

  if (o.bucket_batches > 0) {
    const int64_t window = o.bucket_batches * B;
    for (int64_t w = 0; w < n; w += window) {
      auto first = order.begin() + w, last = order.begin() + std::min(n, w + window);
      // Stable: captions of equal length keep their shuffled order.
      std::stable_sort(first, last, [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
    }
  }
  BatchPlan plan;
  plan.reserve(static_cast<size_t>((n + B - 1) / B));
  for (int64_t at = 0; at < n; at += B) {
    const int64_t end = std::min(n, at + B);
    if (o.drop_last && end - at < B) break;
    plan.emplace_back(order.begin() + at, order.begin() + end);
  }
  if (o.bucket_batches > 0) {
    for (int64_t i = static_cast<int64_t>(plan.size()) - 1; i > 0; --i)
      std::swap(plan[i], plan[static_cast<int64_t>(g.randint(static_cast<uint64_t>(i + 1)))]);
  }
  return plan;
}

int64_t batch_at(const BatchPlan& plan, int64_t captions_done) {
  int64_t done = 0;
  for (size_t b = 0; b < plan.size(); ++b) {
    if (done == captions_done) return static_cast<int64_t>(b);
    if (done > captions_done) break;
    done += static_cast<int64_t>(plan[b].size());
  }
  if (done == captions_done) return static_cast<int64_t>(plan.size());
  MRNN_FAIL("batch plan: {} captions done is not a batch boundary of this epoch's plan ({} batches, {} captions); "
            "was the position saved with another batch size or bucketing?", captions_done, plan.size(), done);
}

double padding_fraction(const BatchPlan& plan, const std::vector<int64_t>& lengths) {
  double slots = 0, pad = 0;
  for (const auto& batch : plan) {
    int64_t longest = 0, total = 0;
    for (int64_t c : batch) {
      longest = std::max(longest, lengths.at(static_cast<size_t>(c)));
      total += lengths[static_cast<size_t>(c)];
    }
    const double s = static_cast<double>(longest) * static_cast<double>(batch.size());
    slots += s;
    pad += s - static_cast<double>(total);
  }
  return slots > 0 ? pad / slots : 0.0;
}

TokenBatch pad_token_batch(const std::vector<std::vector<int32_t>>& seqs, const std::vector<int64_t>& idx) {
  MRNN_CHECK(!idx.empty(), "pad_token_batch: no sequences selected");
  size_t longest = 0;
  for (int64_t i : idx) {
    MRNN_CHECK(i >= 0 && i < static_cast<int64_t>(seqs.size()), "pad_token_batch: sequence index {} is out of "
               "range (there are {} sequences)", i, seqs.size());
    longest = std::max(longest, seqs[static_cast<size_t>(i)].size());
  }
  const int64_t B = static_cast<int64_t>(idx.size()), L = static_cast<int64_t>(longest) + 2;
  std::vector<int64_t> tok(static_cast<size_t>(B * L), Vocab::kPad);
  std::vector<float> mask(static_cast<size_t>(B * L), 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[static_cast<size_t>(idx[b])];
    const int64_t len = static_cast<int64_t>(s.size());
    tok[b * L] = Vocab::kBos;
    for (int64_t j = 0; j < len; ++j) tok[b * L + 1 + j] = s[static_cast<size_t>(j)];
    tok[b * L + 1 + len] = Vocab::kEos;
    std::fill(mask.begin() + b * L, mask.begin() + b * L + len + 2, 1.0f);
  }
  return {Tensor::from_vector(tok, {B, L}), Tensor::from_vector(mask, {B, L})};
}

}  // namespace mrnn
