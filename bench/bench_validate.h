// Benchmarks validate before they time (llm.c's rule): each benchmark first runs its kernel on
// fresh random inputs (another seed than the timed ones) and compares every output with a
// reference: on a GPU the CPU implementation (the tested truth) on the same inputs, on the CPU the
// same computation in f64 or an independent composition. A mismatch marks the benchmark with
// SkipWithError("validation failed: ...") instead of timing it, and the program exits non-zero
// (validation_exit_code(), called by the programs' main). Each benchmark (by its key) is validated
// once per process, though Google Benchmark calls its function several times.
// MRNN_BENCH_VALIDATE_SELFTEST=1 perturbs every device output by 1e-2 of its norm before the
// comparison, so every validation must fail: the check is shown to be able to fail.
#pragma once
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace mrnn::bench {

using Outputs = std::vector<Tensor>;
using Kernel = std::function<Outputs(const std::vector<Tensor>& inputs)>;

namespace detail {
inline std::map<std::string, std::string>& results() {  // key -> "" (passed) or the failure
  static std::map<std::string, std::string> r;
  return r;
}
inline int& failures() {
  static int n = 0;
  return n;
}
inline bool selftest() {
  const char* v = std::getenv("MRNN_BENCH_VALIDATE_SELFTEST");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}
// Relative L2 error ||got - want|| / ||want|| in f64 (absolute when want is all zeros); NaN when
// got has a NaN or infinity where want has none, or the shapes differ.
inline double rel_error(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape()) return NAN;
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(w[i])) {
      if (!(g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i])))) return NAN;
      continue;
    }
    if (!std::isfinite(g[i])) return NAN;
    num += (g[i] - w[i]) * (g[i] - w[i]);
    den += w[i] * w[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
}  // namespace detail

// Copies of host tensors on `dev` (CPU: clones), optionally in f64: fresh leaves for a kernel.
inline std::vector<Tensor> inputs_on(const std::vector<Tensor>& host, Device dev, bool f64 = false) {
  std::vector<Tensor> out;
  for (const Tensor& t : host) {
    Tensor c = f64 && is_floating(t.dtype()) ? t.to(DType::F64) : t.clone();
    out.push_back(dev.is_cpu() ? c : c.to(dev));
  }
  return out;
}

// Empty when two outputs (on the CPU, f64) agree, else why not.
using Comparison = std::function<std::string(size_t output, const Tensor& got, const Tensor& want)>;

// Every output's relative L2 error at most `tol`.
inline Comparison relative_l2(double tol) {
  return [tol](size_t i, const Tensor& got, const Tensor& want) -> std::string {
    const double e = detail::rel_error(got, want);
    if (e <= tol) return {};
    char buf[160];
    std::snprintf(buf, sizeof buf, "output %zu %s: relative error %.3g > %.3g", i, got.desc().c_str(), e, tol);
    return buf;
  };
}

// Validates the benchmark `key` once: kernel(inputs on dev) against reference(inputs on the CPU,
// in f64 when ref_f64), every output compared by `compare`. Returns true when it passed (now or
// before); else marks `st` skipped with the reason, counts the failure, and returns false (the
// caller returns without timing).
inline bool validated(benchmark::State& st, const std::string& key, Device dev, const std::vector<Tensor>& host,
                      const Kernel& kernel, const Kernel& reference, bool ref_f64, const Comparison& compare) {
  auto& res = detail::results();
  auto it = res.find(key);
  if (it == res.end()) {
    std::string why;
    try {
      Outputs got = kernel(inputs_on(host, dev));
      const Outputs want = reference(inputs_on(host, Device::cpu(), ref_f64));
      if (got.size() != want.size()) why = "the kernel and its reference give different numbers of outputs";
      for (size_t i = 0; i < got.size() && why.empty(); ++i) {
        Tensor g = got[i].to(Device::cpu()).to(DType::F64);
        if (detail::selftest()) {
          NoGradGuard ng;
          Generator noise(99);
          const double scale = 1e-2 * std::sqrt(sum(square(g)).item() / std::max<int64_t>(g.numel(), 1));
          g = add(g, mul_scalar(Tensor::randn(g.shape(), noise, DType::F64), scale > 0 ? scale : 1e-2));
        }
        why = compare(i, g, want[i].to(Device::cpu()).to(DType::F64));
      }
    } catch (const std::exception& ex) {
      why = std::string("threw: ") + ex.what();
    }
    it = res.emplace(key, why).first;
    if (!why.empty()) {
      ++detail::failures();
      std::fprintf(stderr, "bench validation FAILED: %s: %s\n", key.c_str(), why.c_str());
    } else {
      std::fprintf(stderr, "bench validation ok: %s\n", key.c_str());
    }
  }
  if (it->second.empty()) return true;
  st.SkipWithError(("validation failed: " + it->second).c_str());
  return false;
}

inline bool validated(benchmark::State& st, const std::string& key, Device dev, const std::vector<Tensor>& host,
                      const Kernel& kernel, const Kernel& reference, bool ref_f64, double tol) {
  return validated(st, key, dev, host, kernel, reference, ref_f64, relative_l2(tol));
}

// The same kernel as its own reference (a GPU against the CPU implementation; on the CPU, the
// kernel in f64).
inline bool validated(benchmark::State& st, const std::string& key, Device dev, const std::vector<Tensor>& host,
                      const Kernel& kernel, double tol) {
  return validated(st, key, dev, host, kernel, kernel, dev.is_cpu(), tol);
}

// Fresh random host input (seeds 1000 and up: the timed inputs use others).
inline Tensor fresh(const Shape& shape, uint64_t seed, double scale = 1.0) {
  Generator g(1000 + seed);
  NoGradGuard ng;
  Tensor t = Tensor::randn(shape, g);
  return scale == 1.0 ? t : mul_scalar(t, scale);
}

// The gradients of `leaves` after out.backward(seed) (leaves must require gradients), after out.
inline Outputs with_grads(const Tensor& out, const Tensor& seed, const std::vector<Tensor>& leaves) {
  out.backward(seed.to(out.device()).to(out.dtype()));
  Outputs r{out.detach()};
  for (const Tensor& l : leaves) r.push_back(l.grad());
  return r;
}

// The exit status: 1 when any validation failed, after a summary line on stderr.
inline int validation_exit_code() {
  const int n = detail::failures();
  std::fprintf(stderr, "bench validation: %zu checked, %d failed\n", detail::results().size(), n);
  return n > 0 ? 1 : 0;
}

}  // namespace mrnn::bench

// BENCHMARK_MAIN with the validation verdict as the exit status.
#define MRNN_BENCH_MAIN_VALIDATED()                                     \
  int main(int argc, char** argv) {                                     \
    ::benchmark::Initialize(&argc, argv);                               \
    if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    ::benchmark::RunSpecifiedBenchmarks();                              \
    ::benchmark::Shutdown();                                            \
    return ::mrnn::bench::validation_exit_code();                       \
  }
