// A tiny regression Task that trains on any device (Task::batches_follow_model): y = head(embed(id))
// over 24 examples in batches of 4, with dropout from the task's own stream. For the Trainer's
// device tests (tests/models/test_trainer_device.cpp, tests/cuda/test_train_cuda.cpp).
#pragma once
#include <cmath>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/ops.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "models/engine/task.h"

namespace mrnn::testing {

class DeviceToyModel : public Module {
 public:
  explicit DeviceToyModel(Generator& g) {
    embed = register_module("embed", std::make_shared<Embedding>(10, 6, g));
    head = register_module("head", std::make_shared<Linear>(6, 1, g));
  }
  std::shared_ptr<Embedding> embed;
  std::shared_ptr<Linear> head;
};

struct DeviceToyBatch : Batch {
  Tensor ids, y;  // on the host; loss() copies them to the model's device
};

class DeviceToyTask : public Task {
 public:
  DeviceToyTask(DeviceToyModel& m, bool follows) : m_(m), follows_(follows) {}
  Module& model() override { return m_; }
  int64_t epoch_size() const override { return 24; }
  int64_t batches_per_epoch() const override { return 6; }
  bool batches_follow_model() const override { return follows_; }
  std::unique_ptr<Batch> next_batch(int64_t epoch, int64_t pos) override {
    auto b = std::make_unique<DeviceToyBatch>();
    std::vector<int64_t> ids;
    std::vector<float> y;
    for (int64_t k = pos; k < pos + 4; ++k) {
      const int64_t id = (k * 7 + epoch * 3) % 10;
      ids.push_back(id);
      y.push_back(static_cast<float>(std::sin(static_cast<double>(id))));
    }
    b->ids = Tensor::from_vector(ids);
    b->y = Tensor::from_vector(y);
    b->consumed = 4;
    return b;
  }
  Tensor loss(Batch& batch) override {
    auto& b = static_cast<DeviceToyBatch&>(batch);
    batch.units = 4;
    const Device d = m_.device();
    Tensor e = dropout(m_.embed->forward(b.ids.to(d)), 0.2, true, drop_);
    return mean(square(sub(reshape(m_.head->forward(e), {-1}), b.y.to(d))));
  }
  std::vector<Metric> validate() override {
    std::vector<int64_t> ids;
    std::vector<float> y;
    for (int64_t i = 0; i < 10; ++i) {
      ids.push_back(i);
      y.push_back(static_cast<float>(std::sin(static_cast<double>(i))));
    }
    const Device d = m_.device();
    const Tensor pred = reshape(m_.head->forward(m_.embed->forward(Tensor::from_vector(ids).to(d))), {-1});
    return {{"mse", "MSE", mean(square(sub(pred, Tensor::from_vector(y).to(d)))).item()}};
  }
  BestBy best_by() const override { return {"mse", Goal::Minimize}; }
  std::string state_json() const override {
    return nlohmann::json{{"seed", drop_.seed()}, {"offset", drop_.offset()}}.dump();
  }
  void load_state_json(const std::string& text, const std::string&) override {
    const auto j = nlohmann::json::parse(text);
    drop_.set_state(j.at("seed").get<uint64_t>(), j.at("offset").get<uint64_t>());
  }

 private:
  DeviceToyModel& m_;
  bool follows_;
  Generator drop_{77};
};

}  // namespace mrnn::testing
