// The argument checks and output sizes shared by the convolution and pooling front-ends
// (kernels/ops_nn.cpp) and their reference implementations (kernels/ops_conv_im2col.cpp).
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mrnn {

struct Conv2dDims {
  int64_t N, C, H, W, O, K, OH, OW;
};
struct Pool2dDims {
  int64_t N, C, H, W, OH, OW;
};

// Throws Error naming op and what is wrong unless x [N, C, H, W], w [O, C, K, K] (square kernel)
// and b ([O] or undefined) are defined, on one device, of one dtype, and the geometry is valid.
Conv2dDims check_conv2d(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride,
                        int64_t padding);
// The same for pooling; max_pool also requires padding <= kernel / 2.
Pool2dDims check_pool2d(const char* op, const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                        bool is_max);

}  // namespace mrnn
