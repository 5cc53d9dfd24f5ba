// A count of the times this library's copies made the host wait for a GPU. Why: a training or
// decoding step that reads device memory back stalls the host until the stream has caught up,
// which is invisible in the code that calls it (an index check, a loss count); the GPU tests
// assert the number per step (tests/cuda/test_optim_cuda.cpp), so a new hidden read fails a test.
// Plain C++ header; defined only in builds with the CUDA backend.
#pragma once
#include <cstdint>

namespace mrnn::cuda {

// Host synchronisations made by the copies in kernels/cuda/elementwise.cu since the process
// started, all devices together: each device-to-host copy (item, to_vector, to(cpu), the kernels'
// own read-backs, which use them), each host-to-device copy staged through the pinned buffers (it
// waits for its last DMA) and each copy between two GPUs counts one. Always counted — one relaxed
// atomic add per copy — so the count is available in Release builds, which gpu-check runs.
// Thread-safe; differences between two reads on one thread count that thread's copies only when no
// other thread copies meanwhile.
uint64_t host_sync_count();

}  // namespace mrnn::cuda
