// The CUDA runtime as mrnn code sees it: device discovery, streams and events as RAII types, the
// backend's switches (TF32, determinism, poisoned allocations) and the allocator's statistics.
// Plain C++ with no CUDA headers, so layers, tests and benchmarks can include it; the definitions
// exist only in builds with the CUDA backend (MRNN_WITH_CUDA defined).
#pragma once
#include <cstdint>
#include <string>

#include "core/allocator.h"  // AllocatorStats

namespace mrnn {
class Tensor;
}

namespace mrnn::cuda {

// ---------------- devices ----------------
// Number of visible CUDA devices; 0 when there is no driver or no GPU. Never throws.
int device_count();
// device_count() > 0.
bool is_available();
// Throws mrnn::Error naming the device (and how many there are) unless 0 <= device < device_count().
void check_device(int device);
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)". Requires: a valid device.
std::string device_description(int device);
// Blocks until all work queued on `device` (every stream) has finished.
void synchronize(int device = 0);

// ---------------- streams and events ----------------
// An owned CUDA stream on one device. Created with default flags, so it stays ordered with the
// legacy default stream: work queued on the default stream waits for it and vice versa.
class Stream {
 public:
  // Requires: a valid device. Ensures: a fresh stream on it.
  explicit Stream(int device = 0);
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int device() const { return device_; }
  void* handle() const { return stream_; }  // the cudaStream_t
  void synchronize() const;                 // blocks until the stream's work is done

 private:
  int device_ = 0;
  void* stream_ = nullptr;
};

// The stream this thread queues work on for `device`: the one named by the innermost live
// StreamGuard, else the legacy default stream (handle nullptr). Ops, copies and the allocator's
// per-stream free lists all use it.
void* current_stream(int device);

// Makes `s` this thread's current stream for s.device() until the guard dies. Requires: `s`
// outlives the guard.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& s);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  void* previous_;
};

// An owned CUDA event with timing enabled, created on `device`.
class Event {
 public:
  explicit Event(int device = 0);
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record();                   // on current_stream(device())
  void record(const Stream& s);    // requires: s.device() == device()
  void synchronize() const;        // blocks until the recorded work is done
  bool ready() const;              // true when the recorded work is done (or nothing was recorded)
  void wait(const Stream& s) const;  // s waits for this event on the device, the host does not block
  // Requires: both events recorded and complete. Ensures: milliseconds from this event to `end`.
  float elapsed_ms(const Event& end) const;
  int device() const { return device_; }

 private:
  int device_ = 0;
  void* event_ = nullptr;
};

// ---------------- switches (process-wide, read at each op) ----------------
// TF32 tensor-core math for f32 GEMMs and convolutions (about 1e-3 relative error instead of 1e-6).
// Default off, so CUDA results match the CPU within f32 rounding.
void set_allow_tf32(bool on);
bool allow_tf32();
// Deterministic algorithms: sort-based embedding backward (bit-identical to the CPU) and
// deterministic cuDNN convolution algorithms. Default on; off selects atomics (faster, run-to-run
// differences in the last bits).
void set_deterministic(bool on);
bool deterministic();
// Convolution algorithms: on (default), cuDNN's heuristic ranking first, then the fallback of
// every algorithm cuDNN has (kernels/cuda/cudnn_conv.cu); off, only the fallback, so the tests can
// run that path on any GPU.
void set_conv_heuristics(bool on);
bool conv_heuristics();
// Debug aid for tests: every block the CUDA allocator hands out is filled with 0xFF bytes (NaN for
// floats, -1 for integers), so an output element a kernel forgot to write shows up. Default off.
void set_poison_allocations(bool on);
bool poison_allocations();

// ---------------- the caching allocator (kernels/cuda/caching_allocator.h) ----------------
// Statistics of `device`'s allocator (all zeros before its first allocation).
AllocatorStats memory_stats(int device = 0);
// Peak counters of `device` := current values.
void reset_peak_memory(int device = 0);
// Returns every cached, wholly free segment of every device to the driver (cudaFree).
void empty_cache();
// Bytes the allocator holds in segments but has not handed out, on `device`.
size_t cached_bytes(int device = 0);
// Cached blocks of at least this many bytes are never split (PyTorch's max_split_size): requests
// below it never take one, requests at or above it only one that wastes under 20 MiB. Default
// 256 MiB, or MRNN_CUDA_MAX_SPLIT_SIZE_MB (a whole number above 20, or "unlimited"), read when a
// device's allocator is created. Requires: bytes above 20 MiB (SIZE_MAX: no cap); applies to every
// device's allocator from now on.
void set_max_split_size(size_t bytes);
size_t max_split_size();
// The stream rule: a block belongs to the stream current at its allocation and, once freed, is
// reused only by that stream. Streams made by Stream are ordered with the legacy default stream
// (there is no way to make a non-blocking one), so work on the default stream and one other stream
// is always safe. A tensor allocated on one stream and used by work queued on another must be
// named with record_stream(t, other) before it is freed: its block then returns to the cache only
// once the work queued on `other` up to the free has finished (an event, the host does not wait).
// Requires: t on s's device. A no-op for an empty tensor or under MRNN_CUDA_NO_CACHING.
void record_stream(const Tensor& t, const Stream& s);
// (The allocator reaches core through the registered CUDA backend, core/device_backend.h.)

}  // namespace mrnn::cuda
