// The NCCL communicator (models/engine/comm.h make_nccl_comm): on one GPU as a world of one rank,
// a device buffer is summed in place on NCCL's own stream (the identity for one rank), after the
// work queued before it, and a second sum reuses the communicator. Skipped (exit 4, reported by
// CTest as skipped) without a GPU or in a build without NCCL.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "models/engine/comm.h"
#include "tests/cuda/cuda_support.h"

using namespace mrnn;

TEST_CASE("NCCL communicator: one rank sums device buffers in place on its own stream") {
  MRNN_REQUIRE_GPU();
  if (!nccl_built()) {
    std::printf("mrnn built without NCCL: skipped\n");
    std::fflush(stdout);
    std::exit(4);
  }
  auto boot = make_local_comm();
  auto comm = make_nccl_comm(*boot, 0);
  CHECK(comm->backend() == "nccl");
  CHECK(comm->size() == 1);
  const std::vector<float> values = {1.5f, -2.f, 3.25f, 0.f, 1e-3f};
  Tensor d = Tensor::from_vector(values).to(Device::cuda(0));
  const int64_t r = comm->start_sum(static_cast<float*>(d.raw_data()), d.numel());
  comm->wait(r, 30, "test");
  CHECK(d.to(Device::cpu()).to_vector<float>() == values);
  Tensor e = mul_scalar(d, 2.0);  // queued on the compute stream before the second sum
  const int64_t r2 = comm->start_sum(static_cast<float*>(e.raw_data()), e.numel());
  comm->wait(r2, 30, "test");
  const std::vector<float> twice = e.to(Device::cpu()).to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i) CHECK(twice[i] == 2 * values[i]);
}

TEST_CASE("NCCL communicator: a build without NCCL says so instead of failing later") {
  if (nccl_built()) return;  // nothing to check: the case above runs
  auto boot = make_local_comm();
  CHECK_THROWS_WITH(make_nccl_comm(*boot, 0), Catch::Contains("no NCCL"));
}
