// One forward + backward benchmark per row of the op table (tests/support/op_table.h), so a new op
// is timed as soon as it has its row. The table's shapes are gradient-check sized (tens of
// elements), so each row runs with every dimension of every input (except size-1 dims, which
// broadcast) and the upper bound of each index input multiplied by one factor k, picked so that
// the largest input holds about kTargetElements elements. A row whose function rejects the scaled shapes (fixed split sizes, a
// fixed expand target, ...) runs at the table's own shapes; the label says which ("x1 (table)").
//   OMP_NUM_THREADS=2 ./build/bench/bench_ops --benchmark_filter='op/lstm'
// Each iteration: the op's forward on fresh leaves, then backward from a ones seed of the
// output's shape (the gradients are dropped before the next iteration, so nothing accumulates).
// CPU, f32. Counter: input elements per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "tests/support/op_table.h"

using namespace mrnn;
using mrnn::testing::Domain;
using mrnn::testing::InputSpec;
using mrnn::testing::OpCase;

namespace {

constexpr double kTargetElements = 1 << 16;

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// The factor that brings the row's largest input to about kTargetElements (at least 1).
int64_t scale_for(const OpCase& c) {
  double largest = 1;
  size_t dims = 1;
  for (const InputSpec& in : c.inputs) {
    const double n = static_cast<double>(numel_of(in.shape));
    if (n > largest) largest = n;
    dims = std::max(dims, in.shape.size());
  }
  const double k = std::floor(std::pow(kTargetElements / largest, 1.0 / static_cast<double>(dims)));
  return std::max<int64_t>(1, static_cast<int64_t>(k));
}

std::vector<InputSpec> scaled(const std::vector<InputSpec>& inputs, int64_t k) {
  std::vector<InputSpec> out = inputs;
  for (InputSpec& in : out) {
    for (int64_t& d : in.shape) d = d == 1 ? 1 : d * k;  // size-1 dims broadcast: they stay 1
    if (in.domain == Domain::Index) in.hi *= k;
  }
  return out;
}

std::vector<Tensor> make_inputs(const std::vector<InputSpec>& specs, Generator& gen) {
  std::vector<Tensor> xs;
  for (const InputSpec& spec : specs) {
    Tensor x = testing::make_input(spec, DType::F32, gen);
    if (spec.domain != Domain::Index && spec.differentiable) x.requires_grad_();
    xs.push_back(x);
  }
  return xs;
}

// One forward + backward of the row on xs; returns the output's element count.
int64_t run_once(const OpCase& c, std::vector<Tensor>& xs) {
  for (Tensor& x : xs) x.zero_grad();
  Tensor out = c.fn(xs);
  out.backward(Tensor::ones(out.shape(), out.dtype(), out.device()));
  return out.numel();
}

std::string shapes_str(const std::vector<InputSpec>& specs) {
  std::string s;
  for (const InputSpec& in : specs) s += (s.empty() ? "" : " ") + shape_str(in.shape);
  return s;
}

void register_row(const OpCase& c) {
  // Decide the shapes once, at registration: scaled if the op accepts them, else the table's.
  int64_t k = scale_for(c);
  std::vector<InputSpec> specs = scaled(c.inputs, k);
  if (k > 1) {
    try {
      Generator gen(1);
      std::vector<Tensor> xs = make_inputs(specs, gen);
      run_once(c, xs);
    } catch (const Error&) {
      k = 1;
      specs = c.inputs;
    }
  }
  const std::string label = "x" + std::to_string(k) + (k == 1 ? " (table)" : "") + ": " + shapes_str(specs);
  int64_t elements = 0;
  for (const InputSpec& in : specs) elements += numel_of(in.shape);
  benchmark::RegisterBenchmark(("op/" + c.name).c_str(), [c, specs, label, elements](benchmark::State& st) {
    Generator gen(2);
    std::vector<Tensor> xs = make_inputs(specs, gen);
    for (auto _ : st) benchmark::DoNotOptimize(run_once(c, xs));
    st.counters["elements/s"] =
        benchmark::Counter(static_cast<double>(elements), benchmark::Counter::kIsIterationInvariantRate);
    st.SetLabel(label);
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  for (const OpCase& c : testing::op_table()) register_row(c);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
