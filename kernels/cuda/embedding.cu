// The embedding gather (with an index check on the device) and its backward: a deterministic
// sort-and-segment-sum, or atomics when deterministic() is off.
#include <climits>

#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/common.cuh"
#include "kernels/index_check.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"

namespace mrnn::cuda {

namespace {

// One block scans all indices: info[0] = first position whose index is outside [0, v), or -1.
template <typename I>
__global__ void check_indices_kernel(const I* idx, int64_t n, int64_t v, int64_t* info) {
  __shared__ long long s[kThreads];
  long long bad = LLONG_MAX;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t id = static_cast<int64_t>(idx[i]);
    if ((id < 0 || id >= v) && i < bad) bad = i;
  }
  s[threadIdx.x] = bad;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k && s[threadIdx.x + k] < s[threadIdx.x]) s[threadIdx.x] = s[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) info[0] = s[0] == LLONG_MAX ? -1 : s[0];
}

template <typename T, typename I>
__global__ void gather_rows_kernel(const T* w, const I* idx, T* out, int64_t n, int64_t d, int64_t v) {
  const int64_t total = n * d, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t / d, j = t % d, id = static_cast<int64_t>(idx[i]);
    out[t] = (id >= 0 && id < v) ? w[id * d + j] : T(0);  // bad rows are reported by the host
  }
}

template <typename T, typename I>
__global__ void scatter_add_atomic_kernel(const T* g, const I* idx, T* gw, int64_t n, int64_t d) {
  const int64_t total = n * d, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += step) {
    const int64_t i = t / d, j = t % d;
    atomicAdd(gw + static_cast<int64_t>(idx[i]) * d + j, g[t]);
  }
}

template <typename I>
__global__ void make_keys_kernel(const I* idx, uint64_t* keys, int64_t* pos, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    keys[i] = static_cast<uint64_t>(static_cast<int64_t>(idx[i]));
    pos[i] = i;
  }
}

// Block i handles sorted position i if it starts a run of equal keys: each thread owns columns and
// sums the run's gradient rows in their original order (the stable sort kept it), then writes the
// weight row once. Same additions in the same order as the CPU loop, hence the same bits.
template <typename T>
__global__ void segment_sum_kernel(const uint64_t* keys, const int64_t* pos, const T* g, T* gw, int64_t n, int64_t d) {
  const int64_t i = blockIdx.x;
  const uint64_t key = keys[i];
  if (i > 0 && keys[i - 1] == key) return;
  int64_t end = i + 1;
  while (end < n && keys[end] == key) ++end;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    T acc = T(0);
    for (int64_t r = i; r < end; ++r) acc += g[pos[r] * d + j];
    gw[static_cast<int64_t>(key) * d + j] = acc;
  }
}

int bits_for(int64_t v) {  // bits needed for values in [0, v)
  int b = 1;
  while (b < 63 && (int64_t{1} << b) < v) ++b;
  return b;
}

}  // namespace

// rec := [info[0], idx[info[0]], v] when rec holds no bad index yet and info[0] names one.
template <typename I>
__global__ void record_bad_index_kernel(const int64_t* info, const I* idx, int64_t v, int64_t* rec) {
  if (rec[0] < 0 && info[0] >= 0) {
    rec[0] = info[0];
    rec[1] = static_cast<int64_t>(idx[info[0]]);
    rec[2] = v;
  }
}

void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  common_device("embedding", {&weight, &indices, &out});
  MRNN_CHECK(weight.is_contiguous() && indices.is_contiguous() && out.is_contiguous() && weight.dim() == 2 &&
                 out.dtype() == weight.dtype() && out.numel() == indices.numel() * weight.size(1),
             "cuda::embedding: expected contiguous weight [V, D], indices and output [..., D]; got {}, {}, {}",
             weight.desc(), indices.desc(), out.desc());
  const int64_t v = weight.size(0), d = weight.size(1), n = indices.numel();
  if (n == 0) return;
  Launch l(weight);
  Tensor info = Tensor::empty({1}, DType::I64, weight.device());
  with_index_type(indices, [&](auto iz) {
    using I = decltype(iz);
    check_indices_kernel<I><<<1, kThreads, 0, l.stream>>>(ptr<I>(indices), n, v, ptr<int64_t>(info));
    MRNN_CUDA_CHECK_LAUNCH("embedding(check)", l.stream);
    if (d == 0) return;
    dispatch_float(weight.dtype(), "embedding", [&](auto z) {
      using T = decltype(z);
      gather_rows_kernel<T, I><<<grid_for(n * d, l.device), kThreads, 0, l.stream>>>(ptr<T>(weight), ptr<I>(indices),
                                                                                     ptr<T>(out), n, d, v);
      MRNN_CUDA_CHECK_LAUNCH("embedding", l.stream);
    });
  }, "embedding");
  // Inside a DeferredIndexCheck (kernels/index_check.h) the result stays on the device: the first
  // bad index is recorded there and read once by the scope's finish().
  if (DeferredIndexCheck* scope = DeferredIndexCheck::current()) {
    Tensor& rec = scope->record();
    if (!rec.defined()) rec = Tensor::full({3}, -1, DType::I64, weight.device());
    if (rec.device() == weight.device()) {
      with_index_type(indices, [&](auto iz) {
        using I = decltype(iz);
        record_bad_index_kernel<I><<<1, 1, 0, l.stream>>>(ptr<int64_t>(info), ptr<I>(indices), v, ptr<int64_t>(rec));
        MRNN_CUDA_CHECK_LAUNCH("embedding(record)", l.stream);
      }, "embedding");
      return;
    }
  }
  const int64_t bad = info.to_vector<int64_t>()[0];  // blocks the host
  if (bad >= 0) {
    const int64_t id = indices.detach().to(Device::cpu()).to_vector<int64_t>()[bad];
    MRNN_FAIL("embedding: index {} at position {} is outside the table of {} rows", id, bad, v);
  }
}

void embedding_backward(const Tensor& g, const Tensor& indices, const Tensor& gweight) {
  common_device("embedding_backward", {&g, &indices, &gweight});
  MRNN_CHECK(g.is_contiguous() && indices.is_contiguous() && gweight.is_contiguous() && gweight.dim() == 2 &&
                 g.dtype() == gweight.dtype() && g.numel() == indices.numel() * gweight.size(1),
             "cuda::embedding_backward: expected contiguous g [..., D], indices and gweight [V, D]; got {}, {}, {}",
             g.desc(), indices.desc(), gweight.desc());
  const int64_t v = gweight.size(0), d = gweight.size(1), n = indices.numel();
  if (n == 0 || d == 0) return;
  Launch l(g);
  with_index_type(indices, [&](auto iz) {
    using I = decltype(iz);
    dispatch_float(g.dtype(), "embedding_backward", [&](auto z) {
      using T = decltype(z);
      if (!deterministic()) {
        scatter_add_atomic_kernel<T, I><<<grid_for(n * d, l.device), kThreads, 0, l.stream>>>(
            ptr<T>(g), ptr<I>(indices), ptr<T>(gweight), n, d);
        MRNN_CUDA_CHECK_LAUNCH("embedding_backward(atomic)", l.stream);
        return;
      }
      const Device dev = g.device();
      Tensor keys = Tensor::empty({n}, DType::I64, dev), pos = Tensor::empty({n}, DType::I64, dev);
      Tensor keys_sorted = Tensor::empty({n}, DType::I64, dev), pos_sorted = Tensor::empty({n}, DType::I64, dev);
      make_keys_kernel<I><<<grid_for(n, l.device), kThreads, 0, l.stream>>>(
          ptr<I>(indices), reinterpret_cast<uint64_t*>(ptr<int64_t>(keys)), ptr<int64_t>(pos), n);
      MRNN_CUDA_CHECK_LAUNCH("embedding_backward(keys)", l.stream);
      auto* k_in = reinterpret_cast<uint64_t*>(ptr<int64_t>(keys));
      auto* k_out = reinterpret_cast<uint64_t*>(ptr<int64_t>(keys_sorted));
      const int end_bit = bits_for(v);
      size_t temp_bytes = 0;
      MRNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, k_in, k_out, ptr<int64_t>(pos),
                                                      ptr<int64_t>(pos_sorted), n, 0, end_bit, l.stream));
      Tensor temp = Tensor::empty({static_cast<int64_t>((temp_bytes + 7) / 8) + 1}, DType::I64, dev);
      MRNN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, k_in, k_out, ptr<int64_t>(pos),
                                                      ptr<int64_t>(pos_sorted), n, 0, end_bit, l.stream));
      const unsigned threads = static_cast<unsigned>(std::min<int64_t>(kThreads, (d + 31) / 32 * 32));
      segment_sum_kernel<T><<<grid_dim(n, "embedding_backward"), threads, 0, l.stream>>>(
          k_out, ptr<int64_t>(pos_sorted), ptr<T>(g), ptr<T>(gweight), n, d);
      MRNN_CUDA_CHECK_LAUNCH("embedding_backward(sorted)", l.stream);
    });
  }, "embedding");
}

}  // namespace mrnn::cuda
