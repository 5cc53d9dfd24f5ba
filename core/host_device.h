// MRNN_HD marks per-element math that both backends compile: plain inline C++ for the CPU,
// __host__ __device__ under nvcc. Why: the CPU tests then exercise the very formulas the CUDA
// kernels run.
#pragma once
#if defined(__CUDACC__)
#define MRNN_HD __host__ __device__ __forceinline__
#else
#define MRNN_HD inline
#endif
