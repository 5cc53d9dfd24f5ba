// gather (kernels/ops.h): PyTorch's torch.gather. The front-end checks shapes and every index on
// the host (for CUDA inputs from an explicit CPU copy of the index), then the device kernels
// (kernels/cpu/gather.cpp, kernels/cuda/gather.cu) only read in-range positions.
#include "core/autograd.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

void check_index_values(const Tensor& index, int64_t dim, int64_t size) {
  const Tensor ic = index.contiguous();
  const Tensor ih = ic.device().is_cpu() ? ic : ic.to(Device::cpu());  // explicit copy, never a device pointer
  const int64_t n = ih.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = ih.dtype() == DType::I64 ? ih.data<int64_t>()[i] : ih.data<int32_t>()[i];
    MRNN_CHECK(v >= 0 && v < size, "gather: index {} at flat position {} is outside [0, {}) (dim {})", v, i, size,
               dim);
  }
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_defined(op, {&x, &index});
  check_same_device(op, {&x, &index});
  require_backend(op, x);
  MRNN_CHECK(index.dtype() == DType::I64 || index.dtype() == DType::I32, "gather: index must be i64 or i32, got {}",
             index.desc());
  MRNN_CHECK(x.dim() >= 1 && index.dim() == x.dim(), "gather: index must have x's rank: x {}, index {}", x.desc(),
             index.desc());
  dim = wrap_dim(dim, x.dim(), op);
  for (int64_t d = 0; d < x.dim(); ++d)
    MRNN_CHECK(d == dim || index.size(d) <= x.size(d),
               "gather: index {} is larger than x {} in dim {} (only dim {} may differ)", index.desc(), x.desc(), d,
               dim);
  check_index_values(index, dim, x.size(dim));
  Tensor ic = index.contiguous();
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  MRNN_DISPATCH(x.device(), gather, x.detach(), dim, ic, out);
  if (needs_grad({&x})) {
    Shape xs = x.shape();
    attach_grad(out, op, {x}, [ic, dim, xs](const Tensor& g) {
      Tensor gx = Tensor::zeros(xs, g.dtype(), g.device());
      MRNN_DISPATCH(g.device(), gather_backward, g.contiguous(), dim, ic, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return out;
}

}  // namespace mrnn
