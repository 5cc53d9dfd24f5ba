// Retrieval R@K / median / mean rank on hand-computed score matrices.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "eval/retrieval.h"

using namespace mrnn::eval;
using Catch::Matchers::Contains;

TEST_CASE("retrieval ranks on a 3-image, 6-sentence matrix with uneven captions", "[eval][retrieval]") {
  // Image 0 owns sentences 0-2, image 1 owns sentence 3, image 2 owns 4-5.
  const std::vector<size_t> owner = {0, 0, 0, 1, 2, 2};
  const std::vector<double> s = {
      0.9, 0.1, 0.5, 0.3, 0.2, 0.8,  // image 0
      0.4, 0.6, 0.5, 0.1, 0.0, 0.7,  // image 1
      0.1, 0.2, 0.5, 0.9, 0.3, 0.6,  // image 2
  };
  const RetrievalMetrics m = retrieval_metrics(s, 3, 6, owner);
  // Sentence 2 ties (0.5 everywhere): strictly better = 0, rank 1.
  CHECK(m.text_to_image.ranks == std::vector<size_t>{1, 3, 1, 3, 1, 3});
  CHECK(m.text_to_image.r1 == Approx(50.0));
  CHECK(m.text_to_image.r5 == Approx(100.0));
  CHECK(m.text_to_image.median_rank == 2.0);  // median of {1,1,1,3,3,3} = 2
  CHECK(m.text_to_image.mean_rank == Approx(2.0));
  // Image 0: best own 0.9, rank 1. Image 1: own 0.1, four better -> 5. Image 2: best own 0.6,
  // one better (0.9) -> 2.
  CHECK(m.image_to_text.ranks == std::vector<size_t>{1, 5, 2});
  CHECK(m.image_to_text.r1 == Approx(100.0 / 3));
  CHECK(m.image_to_text.r5 == Approx(100.0));
  CHECK(m.image_to_text.r10 == Approx(100.0));
  CHECK(m.image_to_text.median_rank == 2.0);
  CHECK(m.image_to_text.mean_rank == Approx(8.0 / 3));

  const std::vector<float> f(s.begin(), s.end());
  const RetrievalMetrics mf = retrieval_metrics(f, 3, 6, owner);
  CHECK(mf.text_to_image.ranks == m.text_to_image.ranks);
  CHECK(mf.image_to_text.ranks == m.image_to_text.ranks);
}

TEST_CASE("retrieval R@K boundaries and the floored median", "[eval][retrieval]") {
  // 12 images, one sentence each; for sentence s, images 0..s-1 score 1, its own image 0.5:
  // text->image ranks are 1..12.
  const size_t n = 12;
  std::vector<double> s(n * n, 0.0);
  std::vector<size_t> owner(n);
  for (size_t j = 0; j < n; ++j) {
    owner[j] = j;
    for (size_t i = 0; i < j; ++i) s[i * n + j] = 1.0;
    s[j * n + j] = 0.5;
  }
  const RankMetrics t = retrieval_metrics(s, n, n, owner).text_to_image;
  CHECK(t.r1 == Approx(100.0 / 12));
  CHECK(t.r5 == Approx(500.0 / 12));
  CHECK(t.r10 == Approx(1000.0 / 12));
  CHECK(t.median_rank == 6.0);  // median 6.5, floored
  CHECK(t.mean_rank == Approx(6.5));
}

TEST_CASE("a constant score matrix ranks every target first", "[eval][retrieval]") {
  const RetrievalMetrics m = retrieval_metrics(std::vector<double>(2 * 4, 1.0), 2, 4, {0, 0, 1, 1});
  CHECK(m.text_to_image.r1 == 100.0);
  CHECK(m.image_to_text.r1 == 100.0);
}

TEST_CASE("retrieval input errors", "[eval][retrieval][errors]") {
  CHECK_THROWS_WITH(retrieval_metrics(std::vector<double>(6, 0.0), 2, 4, {0, 0, 1, 1}),
                    Contains("6 values"));
  CHECK_THROWS_WITH(retrieval_metrics(std::vector<double>(8, 0.0), 2, 4, {0, 0, 0, 0}),
                    Contains("image 1 has no sentence"));
  CHECK_THROWS_WITH(retrieval_metrics(std::vector<double>(8, 0.0), 2, 4, {0, 0, 5, 1}),
                    Contains("sentence_image[2] = 5"));
  std::vector<double> nan(8, 0.0);
  nan[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(retrieval_metrics(nan, 2, 4, {0, 0, 1, 1}), Contains("image 1, sentence 1"));
}
