// MRNN_CPU_CLONES: compile a hot loop twice, for x86-64-v3 (AVX2 + FMA) and for the baseline, and
// pick one at load time (GCC/Clang target_clones, an ifunc). Why: the library is built for any
// x86-64, but the exp/softmax loops run twice as fast with 8-float vectors where the CPU has them.
// Put it on a plain function holding the loop (not on a function with an OpenMP parallel region:
// the outlined parallel body would not inherit the target).
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__) && \
    !defined(__SANITIZE_ADDRESS__)
#define MRNN_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MRNN_CPU_CLONES
#endif
