// The Trainer's device option on the CPU: a task that does not move its batches is refused a GPU,
// naming the device; a GPU the build or machine lacks is refused before any work; cpu trains.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "models/engine/trainer.h"
#include "tests/support/device_toy_task.h"

using namespace mrnn;
using namespace mrnn::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
TrainerOptions options(const std::string& name) {
  TrainerOptions o;
  o.out_dir = (fs::temp_directory_path() / ("mrnn_trainer_device_" + name + std::to_string(::getpid()))).string();
  fs::remove_all(o.out_dir);
  o.epochs = 2;
  o.val_every = 6;
  o.progress = false;
  o.warmup = 0;
  o.lr = 0.05;
  return o;
}
}  // namespace

TEST_CASE("trainer device option: refusals name the device, and the CPU trains", "[engine][device]") {
  Generator g(4);
  DeviceToyModel m(g);
  {
    DeviceToyTask cpu_only(m, false);
    TrainerOptions o = options("a");
    o.device = Device::cuda(0);
    CHECK_THROWS_WITH(fit(cpu_only, o), Contains("this task trains on the CPU only") && Contains("cuda:0"));
    fs::remove_all(o.out_dir);
  }
  {
    DeviceToyTask follows(m, true);
    TrainerOptions o = options("b");
    o.device = Device::cuda(3);
#ifndef MRNN_WITH_CUDA
    CHECK_THROWS_WITH(fit(follows, o), Contains("cuda:3 requested but") && Contains("this build has no CUDA backend"));
#else
    CHECK_THROWS_WITH(fit(follows, o), Contains("cuda:3 requested but"));  // no machine here has 4 GPUs
#endif
    CHECK(!fs::exists(fs::path(o.out_dir) / "log.jsonl"));  // refused before any work
    fs::remove_all(o.out_dir);
  }
  DeviceToyTask follows(m, true);
  TrainerOptions o = options("c");
  const FitResult r = fit(follows, o);
  CHECK(r.steps == 12);
  CHECK(m.device() == Device::cpu());
  fs::remove_all(o.out_dir);
}
