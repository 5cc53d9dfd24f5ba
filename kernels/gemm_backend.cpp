// The per-shape choice of the CPU's f32 GEMM library (kernels/gemm_backend.h): names, the
// process-wide policy and the rule. The GEMM itself is kernels/cpu/gemm.cpp.
#include "kernels/gemm_backend.h"

#include <atomic>
#include <cstdlib>

#include "core/error.h"

namespace mrnn {

SgemmBackend parse_sgemm_backend(const std::string& name) {
  if (name == "auto") return SgemmBackend::Auto;
  if (name == "openblas") return SgemmBackend::OpenBlas;
  if (name == "onednn") return SgemmBackend::OneDnn;
  MRNN_FAIL("sgemm backend '{}': expected auto, openblas or onednn", name);
}

const char* sgemm_backend_name(SgemmBackend b) {
  switch (b) {
    case SgemmBackend::Auto: return "auto";
    case SgemmBackend::OpenBlas: return "openblas";
    case SgemmBackend::OneDnn: return "onednn";
  }
  return "?";
}

bool sgemm_onednn_available() {
#ifdef MRNN_WITH_DNNL
  return true;
#else
  return false;
#endif
}

namespace {

std::atomic<int> g_backend{-1};  // -1: not set, read MRNN_SGEMM

SgemmBackend backend_from_env() {
  const char* v = std::getenv("MRNN_SGEMM");
  if (v == nullptr || *v == '\0') return SgemmBackend::Auto;
  try {
    return parse_sgemm_backend(v);
  } catch (const Error& e) {
    MRNN_FAIL("environment variable MRNN_SGEMM: {}", e.message());
  }
}

}  // namespace

void set_sgemm_backend(SgemmBackend b) { g_backend.store(static_cast<int>(b), std::memory_order_relaxed); }

SgemmBackend sgemm_backend() {
  const int v = g_backend.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<SgemmBackend>(v);
  static const SgemmBackend from_env = backend_from_env();  // a throw leaves it unset: it throws again
  return from_env;
}

SgemmBackend choose_sgemm_backend(SgemmBackend policy, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k) {
  (void)trans_b;
  if (!sgemm_onednn_available() || policy == SgemmBackend::OpenBlas) return SgemmBackend::OpenBlas;
  if (policy == SgemmBackend::OneDnn) return SgemmBackend::OneDnn;
  // Auto: the rule measured in docs/performance.md ("GEMM backend per shape").
  const double mn = static_cast<double>(m) * static_cast<double>(n), nk = static_cast<double>(n) * static_cast<double>(k);
  if (mn * static_cast<double>(k) < 65536.0) return SgemmBackend::OpenBlas;  // tiny: a call's overhead
  if (trans_a && mn >= 1048576.0) return SgemmBackend::OpenBlas;            // a large weight gradient X^T dY
  if (m <= 64 && nk >= 1048576.0) return SgemmBackend::OpenBlas;            // few rows times a large matrix
  return SgemmBackend::OneDnn;
}

}  // namespace mrnn
