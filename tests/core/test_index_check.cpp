// DeferredIndexCheck (kernels/index_check.h) on the CPU: the embedding's check stays immediate,
// finish() without a GPU embedding reads nothing and passes, and scopes nest.
#include <catch2/catch.hpp>

#include "kernels/index_check.h"
#include "kernels/ops.h"

using namespace mrnn;
using Catch::Matchers::Contains;

TEST_CASE("deferred index check: on the CPU a bad id still fails at once, and scopes nest", "[index_check]") {
  CHECK(DeferredIndexCheck::current() == nullptr);
  Tensor table = Tensor::zeros({4, 2});
  {
    DeferredIndexCheck outer("outer");
    CHECK(DeferredIndexCheck::current() == &outer);
    {
      DeferredIndexCheck inner("inner");
      CHECK(DeferredIndexCheck::current() == &inner);
      CHECK_THROWS_WITH(embedding(table, Tensor::from_vector(std::vector<int64_t>{0, 7})),
                        Contains("index 7 at position 1 is outside the table of 4 rows"));
      CHECK(!inner.record().defined());  // nothing deferred on the CPU
      CHECK_NOTHROW(inner.finish());
    }
    CHECK(DeferredIndexCheck::current() == &outer);
    CHECK(embedding(table, Tensor::from_vector(std::vector<int64_t>{3})).shape() == Shape{1, 2});
    CHECK_NOTHROW(outer.finish());
  }
  CHECK(DeferredIndexCheck::current() == nullptr);
  // finish(values): the record read by the caller; a bad entry throws naming the loop.
  DeferredIndexCheck d("a step");
  CHECK_NOTHROW(d.finish({-1, -1, -1}));
  CHECK_THROWS_WITH(d.finish({2, 11, 10}), Contains("index 11 at position 2 is outside the table of 10 rows") &&
                                               Contains("a step's deferred check"));
  CHECK_THROWS_WITH(d.finish({1}), Contains("expected 3 values"));
}
