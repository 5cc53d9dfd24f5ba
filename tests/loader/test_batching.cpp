// Epoch plans: the same seed and epoch give the same batches, every caption is used once per
// epoch, the plan without bucketing is the trainer's historical shuffle, bucketing cuts padding
// while keeping the batch order random, and a plan resumes at any batch boundary.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "core/random.h"
#include "data/batching.h"
#include "data/vocab.h"

using namespace mrnn;
using Catch::Matchers::Contains;

namespace {

// The trainer's shuffle before data/batching.h existed, copied here so the plan is checked
// against it: Fisher-Yates from the end with Generator(seed * 1000003 + epoch).
std::vector<int64_t> historical_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator g(seed * 1000003ull + static_cast<uint64_t>(epoch));
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[static_cast<int64_t>(g.randint(i + 1))]);
  return p;
}

// Lengths 1..20 in a scrambled but fixed pattern.
std::vector<int64_t> varied_lengths(int64_t n) {
  std::vector<int64_t> l(n);
  for (int64_t i = 0; i < n; ++i) l[i] = 1 + (i * 7 + i / 3) % 20;
  return l;
}

std::multiset<int64_t> all_captions(const BatchPlan& plan) {
  std::multiset<int64_t> s;
  for (const auto& b : plan) s.insert(b.begin(), b.end());
  return s;
}

}  // namespace

TEST_CASE("a plan without bucketing is the historical shuffle cut into batches", "[batching]") {
  const std::vector<int64_t> lengths = varied_lengths(103);
  BatchPlanOptions o;
  o.batch_size = 10;
  o.seed = 7;
  for (int64_t epoch : {0, 1, 5}) {
    const std::vector<int64_t> order = historical_order(103, 7, epoch);
    CHECK(shuffled_order(103, 7, epoch) == order);
    BatchPlan plan = plan_epoch(lengths, epoch, o);
    REQUIRE(plan.size() == 11);
    CHECK(plan.back().size() == 3);
    std::vector<int64_t> flat;
    for (const auto& b : plan) flat.insert(flat.end(), b.begin(), b.end());
    CHECK(flat == order);
  }
  o.drop_last = true;
  BatchPlan dropped = plan_epoch(lengths, 0, o);
  CHECK(dropped.size() == 10);
  CHECK(all_captions(dropped).size() == 100);
}

TEST_CASE("plans are deterministic, differ between epochs and seeds, and use every caption once", "[batching]") {
  const std::vector<int64_t> lengths = varied_lengths(250);
  std::multiset<int64_t> want;
  for (int64_t i = 0; i < 250; ++i) want.insert(i);
  for (int64_t bucket : {0, 1, 4, 100}) {
    INFO("bucket " << bucket);
    BatchPlanOptions o;
    o.batch_size = 16;
    o.seed = 3;
    o.bucket_batches = bucket;
    BatchPlan a = plan_epoch(lengths, 2, o), b = plan_epoch(lengths, 2, o);
    CHECK(a == b);
    CHECK(a != plan_epoch(lengths, 3, o));
    o.seed = 4;
    CHECK(a != plan_epoch(lengths, 2, o));
    CHECK(all_captions(a) == want);
    CHECK(a.size() == 16);  // ceil(250 / 16)
    int64_t small = 0;
    for (const auto& batch : a) {
      CHECK(batch.size() <= 16);
      if (batch.size() < 16) small++;
    }
    CHECK(small == 1);  // 250 = 15 * 16 + 10
  }
}

TEST_CASE("length bucketing reduces padding and keeps the batch order random", "[batching]") {
  const std::vector<int64_t> lengths = varied_lengths(2000);
  BatchPlanOptions o;
  o.batch_size = 32;
  o.seed = 11;
  const double plain = padding_fraction(plan_epoch(lengths, 0, o), lengths);
  o.bucket_batches = 8;
  BatchPlan bucketed = plan_epoch(lengths, 0, o);
  const double bucket = padding_fraction(bucketed, lengths);
  INFO("padding " << plain << " without bucketing, " << bucket << " with windows of 8 batches");
  // Lengths uniform on 1..20: a random batch of 32 almost always holds a 20, so about 47% of the
  // slots are padding; sorted windows of 256 captions leave about 3 length values per batch
  // (measured: 0.473 and 0.100).
  CHECK(plain > 0.40);
  CHECK(bucket < 0.12);
  // Inside a batch the lengths are close; across batches the order is shuffled, not sorted.
  std::vector<int64_t> longest;
  for (const auto& b : bucketed) {
    int64_t lo = 100, hi = 0;
    for (int64_t c : b) {
      lo = std::min(lo, lengths[c]);
      hi = std::max(hi, lengths[c]);
    }
    CHECK(hi - lo <= 4);
    longest.push_back(hi);
  }
  CHECK_FALSE(std::is_sorted(longest.begin(), longest.end()));
  CHECK_FALSE(std::is_sorted(longest.rbegin(), longest.rend()));
}

TEST_CASE("padding fraction and batch boundaries by hand", "[batching]") {
  // Batch {0, 1}: longest 3, 6 slots, 4 used; batch {2}: 2 slots, 2 used -> 2 / 8.
  CHECK(padding_fraction({{0, 1}, {2}}, {1, 3, 2}) == Approx(0.25));
  CHECK(padding_fraction({}, {}) == 0.0);
  const BatchPlan plan = {{4, 5, 6}, {0, 1, 2}, {3}};
  CHECK(batch_at(plan, 0) == 0);
  CHECK(batch_at(plan, 3) == 1);
  CHECK(batch_at(plan, 6) == 2);
  CHECK(batch_at(plan, 7) == 3);
  CHECK_THROWS_WITH(batch_at(plan, 4), Contains("4 captions done is not a batch boundary"));
  CHECK_THROWS_WITH(batch_at(plan, 8), Contains("not a batch boundary"));
}

TEST_CASE("a plan resumes mid-epoch at a batch boundary", "[batching]") {
  const std::vector<int64_t> lengths = varied_lengths(90);
  BatchPlanOptions o;
  o.batch_size = 8;
  o.seed = 5;
  o.bucket_batches = 3;
  const BatchPlan full = plan_epoch(lengths, 1, o);
  // "Killed" after 5 batches: the position saved is the number of captions done.
  int64_t done = 0;
  for (int b = 0; b < 5; ++b) done += static_cast<int64_t>(full[b].size());
  const BatchPlan again = plan_epoch(lengths, 1, o);  // a fresh process recomputes the plan
  const int64_t at = batch_at(again, done);
  REQUIRE(at == 5);
  for (size_t b = static_cast<size_t>(at); b < full.size(); ++b) CHECK(again[b] == full[b]);
}

TEST_CASE("plan options are checked", "[batching]") {
  BatchPlanOptions o;
  o.batch_size = 0;
  CHECK_THROWS_WITH(plan_epoch({1, 2}, 0, o), Contains("batch_size must be >= 1, got 0"));
  o.batch_size = 2;
  o.bucket_batches = -1;
  CHECK_THROWS_WITH(plan_epoch({1, 2}, 0, o), Contains("bucket_batches must be >= 0"));
  o.bucket_batches = 0;
  CHECK_THROWS_WITH(plan_epoch({1, -2}, 0, o), Contains("length of caption 1 is -2"));
  CHECK(plan_epoch({}, 0, o).empty());
}

TEST_CASE("token batches are framed, padded and masked", "[batching]") {
  const std::vector<std::vector<int32_t>> seqs = {{5, 6, 7}, {8}, {}};
  TokenBatch t = pad_token_batch(seqs, {1, 0, 2});
  REQUIRE(t.tokens.shape() == Shape{3, 5});
  const int64_t P = Vocab::kPad, S = Vocab::kBos, E = Vocab::kEos;
  CHECK(t.tokens.to_vector<int64_t>() == std::vector<int64_t>{S, 8, E, P, P, S, 5, 6, 7, E, S, E, P, P, P});
  CHECK(t.mask.to_vector<float>() == std::vector<float>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0});
  CHECK_THROWS_WITH(pad_token_batch(seqs, {3}), Contains("sequence index 3 is out of range (there are 3 sequences)"));
  CHECK_THROWS_WITH(pad_token_batch(seqs, {}), Contains("no sequences selected"));
}

TEST_CASE("grouping by image keeps each image's captions together, in a random image order", "[batching]") {
  // 60 images with 1 to 5 captions each, the captions of an image not adjacent in index order.
  std::vector<int64_t> image_of;
  for (int64_t round = 0; round < 5; ++round)
    for (int64_t img = 0; img < 60; ++img)
      if (img % 5 >= round) image_of.push_back(img);
  const int64_t n = static_cast<int64_t>(image_of.size());
  const std::vector<int64_t> lengths = varied_lengths(n);
  BatchPlanOptions o;
  o.batch_size = 16;
  o.seed = 5;
  o.group_of = image_of;
  const BatchPlan plan = plan_epoch(lengths, 1, o);
  std::multiset<int64_t> want;
  for (int64_t i = 0; i < n; ++i) want.insert(i);
  CHECK(all_captions(plan) == want);
  CHECK(plan == plan_epoch(lengths, 1, o));
  CHECK(plan != plan_epoch(lengths, 2, o));

  std::vector<int64_t> flat, images_in_order;
  for (const auto& b : plan) flat.insert(flat.end(), b.begin(), b.end());
  for (size_t i = 0; i < flat.size(); ++i) {
    if (i == 0 || image_of[flat[i]] != image_of[flat[i - 1]]) images_in_order.push_back(image_of[flat[i]]);
  }
  // Contiguous: each image appears as one run.
  CHECK(std::set<int64_t>(images_in_order.begin(), images_in_order.end()).size() == images_in_order.size());
  CHECK(images_in_order.size() == 60);
  // The image order is the order of first appearance in the plain shuffle; captions of one image
  // keep their shuffled order.
  const std::vector<int64_t> order = shuffled_order(n, 5, 1);
  std::vector<int64_t> first_seen;
  std::set<int64_t> seen;
  for (int64_t c : order)
    if (seen.insert(image_of[c]).second) first_seen.push_back(image_of[c]);
  CHECK(images_in_order == first_seen);
  std::vector<int64_t> expected;
  for (int64_t img : first_seen)
    for (int64_t c : order)
      if (image_of[c] == img) expected.push_back(c);
  CHECK(flat == expected);

  // A batch of 16 captions of 3-caption-average images touches few distinct images.
  size_t distinct = 0;
  for (const auto& b : plan) {
    std::set<int64_t> imgs;
    for (int64_t c : b) imgs.insert(image_of[c]);
    distinct += imgs.size();
  }
  CHECK(distinct < plan.size() * 9);

  o.group_of.pop_back();
  CHECK_THROWS_WITH(plan_epoch(lengths, 0, o), Contains("group_of has 179 entries for 180 captions"));
  o.group_of = image_of;
  o.bucket_batches = 2;
  CHECK_THROWS_WITH(plan_epoch(lengths, 0, o), Contains("cannot be combined"));
}
