#include "models/engine/grad_reducer.h"

#include <chrono>
#include <cstring>

#include "core/error.h"

namespace mrnn {

GradReducer::GradReducer(Comm& comm, std::vector<Tensor> params, int64_t bucket_bytes, bool overlap, double timeout_s)
    : comm_(comm), params_(std::move(params)), overlap_(overlap), timeout_s_(timeout_s) {
  MRNN_CHECK(bucket_bytes >= 4, "train: gradient buckets of {} bytes; need at least one float", bucket_bytes);
  bucket_of_.resize(params_.size());
  const int64_t cap = bucket_bytes / 4;
  for (size_t k = params_.size(); k-- > 0;) {  // reverse model order: backward's order, roughly
    const Tensor& p = params_[k];
    MRNN_CHECK(p.dtype() == DType::F32 && p.device().is_cpu(), "train: data-parallel gradients must be f32 on the "
               "CPU, parameter {} is {}", k, p.desc());
    if (buckets_.empty() || (!buckets_.back().buffer.empty() &&
                             static_cast<int64_t>(buckets_.back().buffer.size()) + p.numel() > cap))
      buckets_.emplace_back();
    Bucket& b = buckets_.back();
    b.params.push_back(k);
    b.offsets.push_back(static_cast<int64_t>(b.buffer.size()));
    b.buffer.resize(b.buffer.size() + static_cast<size_t>(p.numel()));
    bucket_of_[k] = buckets_.size() - 1;
    index_[&p.impl()] = k;
  }
}

std::unique_ptr<LeafGradHook> GradReducer::hook() {
  if (!overlap_ || comm_.size() == 1) return nullptr;
  return std::make_unique<LeafGradHook>([this](const Tensor& leaf) { on_ready(leaf); });
}

void GradReducer::begin_step() {
  for (Bucket& b : buckets_) {
    b.pending = static_cast<int64_t>(b.params.size());
    b.request = -1;
  }
  next_to_start_ = 0;
}

void GradReducer::start(Bucket& b) {
  for (size_t i = 0; i < b.params.size(); ++i) {
    const Tensor& p = params_[b.params[i]];
    float* dst = b.buffer.data() + b.offsets[i];
    const Tensor g = p.grad();
    if (!g.defined()) {
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(p.numel()));
    } else {
      const Tensor c = g.contiguous();
      std::memcpy(dst, c.data<float>("train: gradient bucket"), sizeof(float) * static_cast<size_t>(p.numel()));
    }
  }
  b.request = comm_.start_sum(b.buffer.data(), static_cast<int64_t>(b.buffer.size()));
}

void GradReducer::start_ready_in_order() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].pending == 0) {
    start(buckets_[next_to_start_++]);
    ++started_early_;
  }
}

void GradReducer::on_ready(const Tensor& leaf) {
  auto it = index_.find(&leaf.impl());
  if (it == index_.end()) return;  // not a parameter this reducer sums (an input, a frozen tensor)
  Bucket& b = buckets_[bucket_of_[it->second]];
  if (b.request >= 0 || b.pending == 0) return;
  --b.pending;
  start_ready_in_order();
  for (size_t k = 0; k < next_to_start_; ++k) comm_.test(buckets_[k].request);  // MPI progresses only in calls
}

void GradReducer::finish(float scale, const std::vector<bool>& any_defined, const std::string& what) {
  MRNN_CHECK(any_defined.size() == params_.size(), "train: {} gradient flags for {} parameters", any_defined.size(),
             params_.size());
  while (next_to_start_ < buckets_.size()) start(buckets_[next_to_start_++]);
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t k = 0; k < buckets_.size(); ++k)
    comm_.wait(buckets_[k].request, timeout_s_, what + fmt::format(" (gradient bucket {} of {})", k + 1, buckets_.size()));
  wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Bucket& b : buckets_)
    for (size_t i = 0; i < b.params.size(); ++i) {
      Tensor p = params_[b.params[i]];
      if (!any_defined[b.params[i]]) {
        p.zero_grad();
        continue;
      }
      Tensor g = Tensor::zeros(p.shape());
      float* dst = g.data<float>("train: gradient bucket");
      const float* src = b.buffer.data() + b.offsets[i];
      for (int64_t j = 0; j < p.numel(); ++j) dst[j] = src[j] * scale;
      p.set_grad(g);
    }
}

}  // namespace mrnn
