// Host syncs of a decoding step on the GPU (kernels/cuda/host_syncs.h): the embedding's index check
// is deferred inside a decoding loop (kernels/index_check.h), so a decode makes the same number of
// host syncs whatever its length, i.e. none per step; a bad id is still reported, at finish().
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "kernels/index_check.h"
#include "data/vocab.h"
#include "models/mrnn/decoding.h"
#include "models/mrnn/mrnn.h"
#include "tests/cuda/cuda_support.h"
#include "tests/support/small_mrnn.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/host_syncs.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

TEST_CASE("host syncs on the GPU: a deferred embedding check reads nothing until finish, which names a bad id",
          "[parity][host_syncs]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  NoGradGuard ng;
  Generator g(3);
  const Tensor table = Tensor::randn({5, 3}, g).to(kGpu);
  const Tensor good = Tensor::from_vector(std::vector<int64_t>{0, 4, 2}).to(kGpu);
  const Tensor bad = Tensor::from_vector(std::vector<int64_t>{1, 9, -1}).to(kGpu);
  {
    DeferredIndexCheck d("test");
    const uint64_t before = cuda::host_sync_count();
    for (int i = 0; i < 5; ++i) embedding(table, good);
    CHECK(cuda::host_sync_count() == before);
    CHECK_NOTHROW(d.finish());
    CHECK(cuda::host_sync_count() == before + 1);
  }
  {
    DeferredIndexCheck d("test");
    embedding(table, good);
    CHECK_NOTHROW(embedding(table, bad));  // recorded on the device, not read
    embedding(table, bad);                 // the first bad index is kept
    CHECK_THROWS_WITH(d.finish(), Catch::Contains("index 9 at position 1 is outside the table of 5 rows") &&
                                      Catch::Contains("test's deferred check"));
  }
  // Outside a scope the check is immediate, as before.
  CHECK_THROWS_WITH(embedding(table, bad), Catch::Contains("index 9 at position 1"));
#endif
}

TEST_CASE("host syncs on the GPU: greedy and beam decoding make no host sync per step", "[parity][host_syncs]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  NoGradGuard ng;
  Generator g(8);
  Mrnn model(small_decoding_config("relu", true, 40), g);
  model.to(kGpu);
  model.eval();
  const Tensor feats = Tensor::randn({3, 10}, g).to(kGpu);
  for (int64_t beam : {1, 3}) {
    INFO("beam " << beam);
    uint64_t per_decode[2] = {0, 0};
    int k = 0;
    for (int64_t len : {3, 12}) {
      DecodeOptions opt;
      opt.beam_size = beam;
      opt.max_length = len;
      const uint64_t before = cuda::host_sync_count();
      const auto caps = beam == 1 ? greedy_captions(model, feats, opt) : beam_search_captions(model, feats, opt);
      per_decode[k++] = cuda::host_sync_count() - before;
      CHECK(caps.size() == 3);
    }
    CHECK(per_decode[0] == per_decode[1]);  // independent of the number of steps
    CHECK(per_decode[1] <= 2);              // the result and the deferred index check
  }
#endif
}

TEST_CASE("host syncs on the GPU: an m-RNN training forward and backward from host tokens reads nothing",
          "[parity][host_syncs]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (const char* rnn : {"relu", "lstm"}) {
    INFO(rnn);
    Generator g(12);
    Mrnn model(small_decoding_config(rnn, true, 40), g);
    model.to(kGpu);
    model.train();
    std::vector<int64_t> ids;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t t = 0; t < 7; ++t)
        ids.push_back(t == 0 ? kBosId : t < 3 + b ? 3 + (b * 5 + t * 3) % 37 : t == 3 + b ? kEosId : kPadId);
    const Tensor tokens = Tensor::from_vector(ids, {4, 7});  // on the host
    const Tensor feats = Tensor::randn({4, 10}, g).to(kGpu);
    const uint64_t before = cuda::host_sync_count();
    DeferredIndexCheck d("test");
    Tensor loss = model.loss(tokens, feats);
    loss.backward();
    CHECK(cuda::host_sync_count() == before);  // targets checked on the host, grads scaled on the device
    d.finish();
    // The same loss as from device tokens (whose targets are read back for the check).
    Tensor again;
    {
      NoGradGuard ng;
      again = model.loss(tokens.to(kGpu), feats);
    }
    CHECK(loss.item() == Approx(again.item()).epsilon(1e-6));
  }
#endif
}
