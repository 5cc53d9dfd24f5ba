// The device optimizer step, clipping and finite check (kernels/cuda/optim_step.h through
// models/engine/optim.h and grad_clip.h) against the CPU reference on the same random weights and
// gradients: Adam, AdamW and SGD over parameter groups with lr scales, weight decay and frozen rows
// (bit-identical on the GPU), more parameters than one launch's table, the NaN guard, optimizer
// state moved between devices both ways, and the trainer's one read per step.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "core/autograd.h"
#include "models/engine/optim.h"
#include "models/engine/step_stats.h"
#include "tests/cuda/cuda_support.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/host_syncs.h"
#include "kernels/cuda/optim_step.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

#ifdef MRNN_WITH_CUDA
namespace {

// n_params parameters of assorted shapes; every third has frozen rows; two groups.
struct Setup {
  std::vector<ParamGroup> groups;
  std::vector<std::vector<Tensor>> grads;  // [step][param], CPU
};

Setup make_setup(uint64_t seed, int n_params, int steps, Device d) {
  Generator g(seed);
  Setup s;
  s.groups.resize(2);
  s.groups[0].name = "a";
  s.groups[0].weight_decay = 0.01;
  s.groups[1].name = "b";
  s.groups[1].lr_scale = 0.25;
  s.groups[1].weight_decay = 0.2;
  std::vector<Shape> shapes;
  for (int k = 0; k < n_params; ++k) {
    const Shape sh = k % 4 == 0 ? Shape{37, 129} : k % 4 == 1 ? Shape{5000} : k % 4 == 2 ? Shape{3, 7} : Shape{1};
    shapes.push_back(sh);
    ParamGroup& grp = s.groups[k % 2];
    grp.params.push_back(Tensor::randn(sh, g).to(d).requires_grad_());
    grp.frozen_rows.push_back(k % 3 == 0 ? std::min<int64_t>(sh[0], 2) : 0);
  }
  for (int t = 0; t < steps; ++t) {
    s.grads.emplace_back();
    for (int k = 0; k < n_params; ++k) s.grads.back().push_back(Tensor::randn(shapes[k], g, DType::F32, 0, 0.5));
  }
  return s;
}

void set_grads(const Optimizer& o, const Setup& s, int step) {
  for (size_t k = 0; k < o.params().size(); ++k) {
    // params() is in group order: group a holds the even, group b the odd parameters
    const size_t na = s.groups[0].params.size();
    const size_t orig = k < na ? 2 * k : 2 * (k - na) + 1;
    const_cast<Tensor&>(o.params()[k]).set_grad(s.grads[step][orig].to(o.params()[k].device()));
  }
}

std::unique_ptr<Optimizer> make(int kind, const Setup& s) {
  if (kind == 2) return std::make_unique<SGD>(s.groups, 0.9);
  return std::make_unique<Adam>(s.groups, 0.9, 0.999, 1e-8, kind == 1);
}

}  // namespace
#endif

TEST_CASE("optimizer on the GPU: Adam, AdamW and SGD steps match the CPU, groups, frozen rows and 100 parameters",
          "[optim][parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  for (int n_params : {7, 100}) {  // one launch; three launches of the 40-entry table
    for (int kind = 0; kind < 3; ++kind) {
      INFO(n_params << " parameters, kind " << kind);
      const Setup cpu = make_setup(40 + kind, n_params, 3, Device::cpu()),
                  gpu = make_setup(40 + kind, n_params, 3, kGpu);
      auto oc = make(kind, cpu), og = make(kind, gpu);
      CHECK(og->device() == kGpu);
      std::vector<std::vector<float>> frozen;
      for (const Tensor& p : og->params()) frozen.push_back(p.to_vector<float>());
      for (int t = 0; t < 3; ++t) {
        set_grads(*oc, cpu, t);
        set_grads(*og, gpu, t);
        oc->step(0.01 * (t + 1));
        og->step(0.01 * (t + 1));
      }
      for (size_t k = 0; k < oc->params().size(); ++k) {
        INFO("parameter " << k);
        CHECK(compare(og->params()[k], oc->params()[k], tolerance(DType::F32)) == "");
      }
      for (auto& [name, t] : oc->state()) {
        INFO("state " << name);
        const Tensor d = og->state().at(name);
        CHECK(d.device() == (name == "step" ? Device::cpu() : kGpu));
        CHECK(compare(d.to(DType::F64), t.to(DType::F64), tolerance(DType::F32)) == "");
      }
      // Frozen rows: bit-identical to the initial weights.
      size_t k = 0;
      for (const ParamGroup& g : gpu.groups)
        for (size_t i = 0; i < g.params.size(); ++i, ++k) {
          const int64_t fr = g.frozen_rows[i];
          if (fr == 0) continue;
          const int64_t n = fr * (g.params[i].numel() / g.params[i].size(0));
          const std::vector<float> now = g.params[i].to_vector<float>();
          CHECK(std::memcmp(now.data(), frozen[k].data(), static_cast<size_t>(n) * sizeof(float)) == 0);
        }
    }
  }
#endif
}

TEST_CASE("optimizer on the GPU: a non-finite guard on the device skips the update without a host read",
          "[optim][parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  const Setup s = make_setup(9, 5, 1, kGpu);
  auto o = make(0, s);
  set_grads(*o, s, 0);
  std::vector<std::vector<float>> before;
  for (const Tensor& p : o->params()) before.push_back(p.to_vector<float>());
  o->step(0.1, Tensor::full({1}, std::numeric_limits<double>::quiet_NaN(), DType::F64, kGpu));
  for (size_t k = 0; k < before.size(); ++k) CHECK(o->params()[k].to_vector<float>() == before[k]);
  o->step(0.1, Tensor::full({1}, 3.0, DType::F64, kGpu));
  CHECK(o->params()[1].to_vector<float>() != before[1]);
#endif
}

TEST_CASE("clipping on the GPU: the sum of squares, clip factor and finite check match the CPU", "[optim][parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator g(5);
  std::vector<Tensor> pc, pg;
  for (int64_t n : {100000, 17, 40000, 4096, 4097}) {
    Tensor w = Tensor::randn({n}, g), gr = Tensor::randn({n}, g, DType::F32, 0, 2);
    pc.push_back(w.clone().requires_grad_());
    pc.back().set_grad(gr.clone());
    pg.push_back(w.to(kGpu).requires_grad_());
    pg.back().set_grad(gr.to(kGpu));
  }
  const Tensor sc = grad_sum_squares(pc), sg = grad_sum_squares(pg);
  CHECK(sg.device() == kGpu);
  CHECK(compare(sg, sc, tolerance(DType::F64)) == "");
  const double again = grad_sum_squares(pg).item();
  CHECK(again == sg.item());  // deterministic run to run
  clip_grads(pc, sc, 2.0);
  clip_grads(pg, sg, 2.0);
  for (size_t k = 0; k < pc.size(); ++k) CHECK(compare(pg[k].grad(), pc[k].grad(), tolerance(DType::F32)) == "");
  CHECK(clip_grad_norm(pg, 0) == Approx(2.0).epsilon(1e-5));
  // NaN and Inf show in the sum; the named parameter is the first bad one.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> v = pg[3].grad().to_vector<float>();
    v[4095] = bad;
    pg[3].set_grad(Tensor::from_vector(v).to(kGpu));
    CHECK(!std::isfinite(grad_sum_squares(pg).item()));
    size_t which = 99;
    CHECK(!grads_finite(pg, &which));
    CHECK(which == 3);
    const std::vector<float> g0 = pg[0].grad().to_vector<float>();
    clip_grads(pg, grad_sum_squares(pg), 1.0);  // a non-finite sum changes nothing
    CHECK(pg[0].grad().to_vector<float>() == g0);
  }
  // The step's one read: loss and sum together.
  const StepStats st = read_step_stats(Tensor::full({}, 1.5, DType::F32, kGpu), sc.to(kGpu));
  CHECK(st.loss == 1.5);
  CHECK(st.sum_squares == sc.item());
#endif
}

TEST_CASE("optimizer state moves between devices: a CPU checkpoint resumes on the GPU and the other way round",
          "[optim][parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (int kind = 0; kind < 3; ++kind) {
    INFO("kind " << kind);
    for (bool cpu_first : {true, false}) {
      const Device d1 = cpu_first ? Device::cpu() : kGpu, d2 = cpu_first ? kGpu : Device::cpu();
      const Setup s1 = make_setup(70, 6, 2, d1), s2 = make_setup(70, 6, 2, d2), ref = make_setup(70, 6, 2, d1);
      auto a = make(kind, s1), b = make(kind, s2), r = make(kind, ref);
      set_grads(*a, s1, 0);
      set_grads(*r, ref, 0);
      a->step(0.01);
      r->step(0.01);
      {
        NoGradGuard ng;
        for (size_t k = 0; k < a->params().size(); ++k) const_cast<Tensor&>(b->params()[k]).copy_(a->params()[k]);
      }
      b->load_state(a->state());  // tensors of the other device
      set_grads(*b, s2, 1);
      set_grads(*r, ref, 1);
      b->step(0.02);
      r->step(0.02);
      for (size_t k = 0; k < r->params().size(); ++k)
        CHECK(compare(b->params()[k], r->params()[k], tolerance(DType::F32)) == "");
    }
  }
#endif
}

TEST_CASE("host syncs on the GPU: the trainer's step after backward reads once, the guarded step never",
          "[optim][parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  for (int kind = 0; kind < 3; ++kind) {
    INFO("kind " << kind);
    const Setup s = make_setup(90 + kind, 60, 2, kGpu);  // 60 parameters: two launches of the table
    auto o = make(kind, s);
    set_grads(*o, s, 0);
    const Tensor loss = Tensor::full({}, 2.0, DType::F32, kGpu);
    // What fit() does after backward: the sum, one read of loss + sum, clipping, the update.
    const uint64_t before = cuda::host_sync_count();
    const Tensor sumsq = grad_sum_squares(o->params());
    const StepStats st = read_step_stats(loss, sumsq);
    clip_grads(o->params(), sumsq, 1.0);
    o->step(0.01);
    const uint64_t after = cuda::host_sync_count();
    CHECK(after - before == 1);
    CHECK(st.loss == 2.0);
    CHECK(std::isfinite(st.sum_squares));
    // Logging off: the device guard decides, nothing is read.
    set_grads(*o, s, 1);
    const uint64_t b2 = cuda::host_sync_count();
    const Tensor ss2 = grad_sum_squares(o->params());
    clip_grads(o->params(), ss2, 1.0);
    o->step(0.01, ss2);
    CHECK(cuda::host_sync_count() - b2 == 0);
  }
#endif
}
