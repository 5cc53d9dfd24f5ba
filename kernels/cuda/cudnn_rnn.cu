// cuDNN's RNN API for a one-layer ReLU RNN (kernels/cuda/cudnn_rnn.h): descriptors, weight,
// work and reserve spaces set up once; forward_backward() queues the three cuDNN calls.
#include "kernels/cuda/cudnn_rnn.h"

#include <climits>
#include <vector>

#include "core/tensor.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device.h"

namespace mrnn::cuda {

namespace {

int as_int32(int64_t v, const char* what) {
  MRNN_CHECK(v >= 1 && v <= INT32_MAX, "CudnnReluRnn: {} = {} must be in [1, 2^31)", what, v);
  return static_cast<int>(v);
}

// A float tensor of at least `bytes` bytes on `dev`.
Tensor bytes_on(size_t bytes, Device dev) {
  return Tensor::empty({static_cast<int64_t>((bytes + 3) / 4) + 1}, DType::F32, dev);
}

Tensor uniform_on(int64_t n, Device dev, uint64_t seed) {
  Generator g(seed);
  return Tensor::rand({n}, g, DType::F32, -0.1, 0.1).to(dev);
}

}  // namespace

struct CudnnReluRnn::Impl {
  int device = 0;
  int batch = 0, steps = 0, input = 0, hidden = 0;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnRNNDataDescriptor_t xdesc = nullptr, ydesc = nullptr;
  cudnnTensorDescriptor_t hdesc = nullptr;
  size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  Tensor x, y, dy, dx, weights, dweights, work, reserve, seq_lengths;

  ~Impl() {
    if (hdesc) cudnnDestroyTensorDescriptor(hdesc);
    if (ydesc) cudnnDestroyRNNDataDescriptor(ydesc);
    if (xdesc) cudnnDestroyRNNDataDescriptor(xdesc);
    if (rnn) cudnnDestroyRNNDescriptor(rnn);
  }
};

CudnnReluRnn::CudnnReluRnn(int device, int64_t batch, int64_t steps, int64_t input, int64_t hidden)
    : impl_(std::make_unique<Impl>()) {
  check_device(device);
  Impl& s = *impl_;
  s.device = device;
  s.batch = as_int32(batch, "batch");
  s.steps = as_int32(steps, "steps");
  s.input = as_int32(input, "input");
  s.hidden = as_int32(hidden, "hidden");
  const Device dev = Device::cuda(device);
  DeviceGuard guard(device);
  cudnnHandle_t h = dnn_handle(device, stream_of(device));

  MRNN_CUDA_CHECK(cudnnCreateRNNDescriptor(&s.rnn));
  MRNN_CUDA_CHECK(cudnnSetRNNDescriptor_v8(s.rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_RNN_RELU, CUDNN_RNN_DOUBLE_BIAS,
                                           CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT,
                                           CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, s.input, s.hidden, s.hidden, 1, nullptr,
                                           CUDNN_RNN_PADDED_IO_ENABLED));
  const std::vector<int> lengths(static_cast<size_t>(s.batch), s.steps);
  MRNN_CUDA_CHECK(cudnnCreateRNNDataDescriptor(&s.xdesc));
  MRNN_CUDA_CHECK(cudnnSetRNNDataDescriptor(s.xdesc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
                                            s.steps, s.batch, s.input, lengths.data(), nullptr));
  MRNN_CUDA_CHECK(cudnnCreateRNNDataDescriptor(&s.ydesc));
  MRNN_CUDA_CHECK(cudnnSetRNNDataDescriptor(s.ydesc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
                                            s.steps, s.batch, s.hidden, lengths.data(), nullptr));
  const int dims[3] = {1, s.batch, s.hidden}, strides[3] = {s.batch * s.hidden, s.hidden, 1};
  MRNN_CUDA_CHECK(cudnnCreateTensorDescriptor(&s.hdesc));
  MRNN_CUDA_CHECK(cudnnSetTensorNdDescriptor(s.hdesc, CUDNN_DATA_FLOAT, 3, dims, strides));

  MRNN_CUDA_CHECK(cudnnGetRNNWeightSpaceSize(h, s.rnn, &s.weight_bytes));
  MRNN_CUDA_CHECK(cudnnGetRNNTempSpaceSizes(h, s.rnn, CUDNN_FWD_MODE_TRAINING, s.xdesc, &s.work_bytes,
                                            &s.reserve_bytes));
  const int64_t nx = batch * steps * input, ny = batch * steps * hidden;
  s.x = uniform_on(nx, dev, 1);
  s.dy = uniform_on(ny, dev, 2);
  s.weights = uniform_on(static_cast<int64_t>(s.weight_bytes / 4), dev, 3);
  s.dweights = Tensor::zeros({static_cast<int64_t>(s.weight_bytes / 4)}, DType::F32, dev);
  s.y = Tensor::empty({ny}, DType::F32, dev);
  s.dx = Tensor::empty({nx}, DType::F32, dev);
  s.work = bytes_on(s.work_bytes, dev);
  s.reserve = bytes_on(s.reserve_bytes, dev);
  s.seq_lengths = Tensor::empty({(batch + 1) / 2 * 2}, DType::I32, dev);
  std::vector<int32_t> host(static_cast<size_t>(s.seq_lengths.numel()), s.steps);
  MRNN_CUDA_CHECK(cudaMemcpy(ptr<int32_t>(s.seq_lengths), host.data(), host.size() * sizeof(int32_t),
                             cudaMemcpyHostToDevice));
}

CudnnReluRnn::~CudnnReluRnn() = default;

void CudnnReluRnn::forward_backward() {
  Impl& s = *impl_;
  DeviceGuard guard(s.device);
  cudnnHandle_t h = dnn_handle(s.device, stream_of(s.device));
  const int32_t* lengths = ptr<int32_t>(s.seq_lengths);
  MRNN_CUDA_CHECK(cudnnRNNForward(h, s.rnn, CUDNN_FWD_MODE_TRAINING, lengths, s.xdesc, ptr<float>(s.x), s.ydesc,
                                  ptr<float>(s.y), s.hdesc, nullptr, nullptr, s.hdesc, nullptr, nullptr,
                                  s.weight_bytes, ptr<float>(s.weights), s.work_bytes, ptr<float>(s.work),
                                  s.reserve_bytes, ptr<float>(s.reserve)));
  MRNN_CUDA_CHECK(cudnnRNNBackwardData_v8(h, s.rnn, lengths, s.ydesc, ptr<float>(s.y), ptr<float>(s.dy), s.xdesc,
                                          ptr<float>(s.dx), s.hdesc, nullptr, nullptr, nullptr, s.hdesc, nullptr,
                                          nullptr, nullptr, s.weight_bytes, ptr<float>(s.weights), s.work_bytes,
                                          ptr<float>(s.work), s.reserve_bytes, ptr<float>(s.reserve)));
  MRNN_CUDA_CHECK(cudnnRNNBackwardWeights_v8(h, s.rnn, CUDNN_WGRAD_MODE_ADD, lengths, s.xdesc, ptr<float>(s.x),
                                             s.hdesc, nullptr, s.ydesc, ptr<float>(s.y), s.weight_bytes,
                                             ptr<float>(s.dweights), s.work_bytes, ptr<float>(s.work),
                                             s.reserve_bytes, ptr<float>(s.reserve)));
}

}  // namespace mrnn::cuda
