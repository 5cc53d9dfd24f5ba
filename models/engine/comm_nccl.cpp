// The NCCL communicator (compiled when the CUDA backend is built and CMake finds NCCL:
// MRNN_WITH_NCCL). Sums device buffers with ncclAllReduce on a stream of its own, so that a
// bucket's sum overlaps the kernels of the backward pass on the compute stream; completion is an
// event polled with a deadline. The small exchanges (all_gather) and the NCCL id go over the
// bootstrap communicator (MPI, or one process).
#if MRNN_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "core/error.h"
#include "kernels/cuda/device.h"
#include "models/engine/comm.h"

namespace mrnn {

namespace {

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess) MRNN_FAIL("comm (NCCL): {} failed: {}", call, cudaGetErrorString(rc));
}
void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess) MRNN_FAIL("comm (NCCL): {} failed: {}", call, ncclGetErrorString(rc));
}

class NcclComm final : public Comm {
 public:
  NcclComm(Comm& bootstrap, int device) : boot_(bootstrap), device_(device) {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    ncclUniqueId id;
    std::string mine;
    if (boot_.rank() == 0) {
      check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
      mine.assign(reinterpret_cast<const char*>(&id), sizeof id);
    }
    const std::string root = boot_.all_gather(mine, 60, "comm (NCCL): sharing the NCCL id")[0];
    MRNN_CHECK(root.size() == sizeof id, "comm (NCCL): rank 0 sent an id of {} bytes, expected {}", root.size(),
               sizeof id);
    std::memcpy(&id, root.data(), sizeof id);
    check_nccl(ncclCommInitRank(&comm_, boot_.size(), id, boot_.rank()), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }
  ~NcclComm() override {
    for (auto& [id, ev] : pending_) cudaEventDestroy(ev);
    if (stream_) cudaStreamDestroy(stream_);
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return boot_.rank(); }
  int size() const override { return boot_.size(); }
  std::string backend() const override { return "nccl"; }

  // data is a device pointer. The sum is ordered after the work already queued on this thread's
  // current stream of the device (kernels/cuda/device.h), where the gradient was produced.
  int64_t start_sum(float* data, int64_t n) override {
    MRNN_CHECK(n >= 0, "comm (NCCL): start_sum of {} floats", n);
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    cudaEvent_t ready;
    check_cuda(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(ready, static_cast<cudaStream_t>(cuda::current_stream(device_))), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, ready, 0), "cudaStreamWaitEvent");
    cudaEventDestroy(ready);
    check_nccl(ncclAllReduce(data, data, static_cast<size_t>(n), ncclFloat, ncclSum, comm_, stream_),
               "ncclAllReduce");
    cudaEvent_t done;
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord");
    const int64_t id = next_id_++;
    pending_[id] = done;
    return id;
  }

  bool test(int64_t request) override {
    auto it = pending_.find(request);
    if (it == pending_.end()) return true;
    const cudaError_t rc = cudaEventQuery(it->second);
    if (rc == cudaErrorNotReady) return false;
    check_cuda(rc, "cudaEventQuery");
    cudaEventDestroy(it->second);
    pending_.erase(it);
    return true;
  }

  void wait(int64_t request, double timeout_s, const std::string& what) override {
    const auto t0 = std::chrono::steady_clock::now();
    while (!test(request)) {
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) {
        ncclCommAbort(comm_);  // unblocks the stream; the communicator is unusable from here on
        comm_ = nullptr;
        MRNN_FAIL("{}: the NCCL sum is not complete after {} s (--comm-timeout) on rank {} of {}: another rank "
                  "died or hangs", what, timeout_s, rank(), size());
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  std::vector<std::string> all_gather(const std::string& mine, double timeout_s, const std::string& what) override {
    return boot_.all_gather(mine, timeout_s, what);
  }

  [[noreturn]] void abort(int code) override {
    boot_.abort(code);
    std::_Exit(code);  // not reached
  }

 private:
  Comm& boot_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int64_t next_id_ = 1;
  std::map<int64_t, cudaEvent_t> pending_;
};

}  // namespace

bool nccl_built() { return true; }

std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, int device) {
  return std::make_unique<NcclComm>(bootstrap, device);
}

}  // namespace mrnn
#endif  // MRNN_WITH_NCCL
