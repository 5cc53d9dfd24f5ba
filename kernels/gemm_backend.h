// Which library runs an f32 GEMM on the CPU: OpenBLAS or oneDNN's sgemm, chosen per shape.
// Why: neither wins everywhere. Measured on the step's shapes (docs/performance.md, "GEMM backend
// per shape"; bench_kernels BM_sgemm_backends), oneDNN was faster for most products, by up to 1.3x
// at the output layer's input gradient [205, 10000]·[10000, 512]; OpenBLAS for large weight
// gradients X^T·dY, for a few rows times a large matrix (greedy decoding's 64 rows) and for tiny
// products, where a call's overhead dominates.
// f64 GEMMs always run OpenBLAS (oneDNN has no dgemm).
#pragma once
#include <cstdint>
#include <string>

namespace mrnn {

enum class SgemmBackend { Auto, OpenBlas, OneDnn };

// "auto" | "openblas" | "onednn"; throws Error naming the value otherwise.
SgemmBackend parse_sgemm_backend(const std::string& name);
const char* sgemm_backend_name(SgemmBackend b);

// Whether this build can run oneDNN's sgemm (built with MRNN_DNNL). Without it, every choice is
// OpenBLAS.
bool sgemm_onednn_available();

// The process-wide policy. Starts as the environment variable MRNN_SGEMM (auto, openblas or
// onednn; unset means auto; another value makes the first f32 GEMM throw, naming it). Why: the
// bench compares the two libraries in one run, and a user can pin one to rule it out.
// Not synchronised: set it before GEMMs run on other threads.
void set_sgemm_backend(SgemmBackend b);
SgemmBackend sgemm_backend();

// The library that runs C[m, n] = op(A)[m, k] · op(B)[k, n] under policy `policy`: OpenBLAS or
// OneDnn, never Auto. Ensures: a pure function of its arguments and of the build, so a run is
// deterministic at a fixed thread count. Auto picks OpenBLAS when m·n·k < 2^16, when trans_a
// and m·n >= 2^20, or when m <= 64 and n·k >= 2^20; else oneDNN. OneDnn falls back to OpenBLAS
// in a build without oneDNN.
SgemmBackend choose_sgemm_backend(SgemmBackend policy, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k);

}  // namespace mrnn
