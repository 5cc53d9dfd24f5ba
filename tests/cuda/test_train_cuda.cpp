// The Trainer on a GPU (TrainerOptions::device): a run there matches the same run on the CPU, and a
// run stopped on one device resumes on the other from its checkpoint (weights, optimizer state,
// task streams), ending where the uninterrupted CPU run ends, within the f32 tolerance.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "models/engine/trainer.h"
#include "tests/cuda/cuda_support.h"
#include "tests/support/device_toy_task.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/host_syncs.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;
namespace fs = std::filesystem;

#ifdef MRNN_WITH_CUDA
namespace {
TrainerOptions options(const std::string& name, const std::string& optimizer, Device d) {
  TrainerOptions o;
  o.out_dir = (fs::temp_directory_path() / ("mrnn_train_cuda_" + name + std::to_string(::getpid()))).string();
  o.epochs = 3;  // 18 steps
  o.val_every = 3;
  o.progress = false;
  o.warmup = 2;
  o.lr = 0.05;
  o.clip = 0.5;  // clipping active on most steps
  o.optimizer = optimizer;
  o.weight_decay = 0.01;
  o.device = d;
  return o;
}

// Trains a fresh model (seed 4) on `first` for `stop` steps (0 = all), then resumes on `second`.
std::vector<Tensor> run(const std::string& name, const std::string& opt, Device first, Device second, int64_t stop) {
  TrainerOptions o = options(name, opt, first);
  fs::remove_all(o.out_dir);
  Generator g(4);
  DeviceToyModel m(g);
  {
    DeviceToyTask t(m, true);
    o.stop_after_steps = stop;
    fit(t, o);
  }
  if (stop > 0) {
    Generator g2(99);  // other initial weights: the checkpoint must replace them
    DeviceToyModel m2(g2);
    DeviceToyTask t2(m2, true);
    TrainerOptions r = o;
    r.device = second;
    r.resume = true;
    r.stop_after_steps = 0;
    fit(t2, r);
    std::vector<Tensor> w;
    for (auto& [n, p] : m2.named_parameters()) w.push_back(p.to(Device::cpu()));
    fs::remove_all(o.out_dir);
    return w;
  }
  std::vector<Tensor> w;
  for (auto& [n, p] : m.named_parameters()) w.push_back(p.to(Device::cpu()));
  fs::remove_all(o.out_dir);
  return w;
}
}  // namespace
#endif

TEST_CASE("training on the GPU: fit() there matches the CPU, and checkpoints resume across devices", "[train_cuda]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Tolerance tol{1e-3, 1e-4};  // 18 steps of f32 updates from slightly different sums
  for (const std::string opt : {"adam", "adamw", "sgd"}) {
    INFO(opt);
    const std::vector<Tensor> cpu = run("cpu", opt, Device::cpu(), Device::cpu(), 0);
    const std::vector<Tensor> gpu = run("gpu", opt, kGpu, kGpu, 0);
    const std::vector<Tensor> gpu_then_cpu = run("g2c", opt, kGpu, Device::cpu(), 7);
    const std::vector<Tensor> cpu_then_gpu = run("c2g", opt, Device::cpu(), kGpu, 7);
    const std::vector<Tensor> gpu_resumed = run("g2g", opt, kGpu, kGpu, 7);
    for (size_t k = 0; k < cpu.size(); ++k) {
      INFO("parameter " << k);
      CHECK(compare(gpu[k], cpu[k], tol) == "");
      CHECK(compare(gpu_then_cpu[k], cpu[k], tol) == "");
      CHECK(compare(cpu_then_gpu[k], cpu[k], tol) == "");
      // On one GPU a resumed run is the uninterrupted one bit for bit (deterministic kernels).
      CHECK(compare(gpu_resumed[k], gpu[k], Tolerance{0, 0}) == "");
    }
  }
#endif
}

TEST_CASE("training on the GPU: a whole step of fit() makes one host sync", "[train_cuda][host_syncs]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  TrainerOptions o = options("syncs", "adam", kGpu);
  fs::remove_all(o.out_dir);
  o.val_every = 1000;  // validation and the checkpoint only after the last step
  std::vector<uint64_t> at;
  o.after_backward = [&](int64_t, const std::vector<std::pair<std::string, Tensor>>&) {
    at.push_back(cuda::host_sync_count());
  };
  Generator g(4);
  DeviceToyModel m(g);
  DeviceToyTask t(m, true);
  fit(t, o);
  REQUIRE(at.size() == 18);
  // From one backward to the next: the step's read (loss, sum of squares, index check), the update,
  // and the next batch's forward and backward (its ids and targets are uploaded without a wait).
  for (size_t k = 1; k < at.size(); ++k) {
    INFO("step " << k);
    CHECK(at[k] - at[k - 1] == 1);
  }
  fs::remove_all(o.out_dir);
#endif
}
