#include "layers/grow.h"

#include "core/autograd.h"
#include "kernels/ops.h"

namespace mrnn {

void append_rows(const Tensor& param, const Tensor& rows) {
  MRNN_CHECK(param.defined() && rows.defined(), "append_rows: undefined tensor");
  MRNN_CHECK(param.is_leaf() && param.dim() >= 1, "append_rows: {} must be a leaf tensor with at least one dim",
             param.desc());
  MRNN_CHECK(param.is_contiguous() && param.offset() == 0 &&
                 param.storage()->bytes() == static_cast<size_t>(param.numel()) * dtype_size(param.dtype()),
             "append_rows: {} must own its whole storage, contiguously (a view or a shared block cannot grow)",
             param.desc());
  MRNN_CHECK(rows.dtype() == param.dtype() && rows.device() == param.device() && rows.dim() == param.dim(),
             "append_rows: rows {} do not match the parameter {} (dtype, device and rank)", rows.desc(), param.desc());
  for (int64_t d = 1; d < param.dim(); ++d)
    MRNN_CHECK(rows.size(d) == param.size(d), "append_rows: rows {} do not match the parameter {} in dim {}",
               rows.desc(), param.desc(), d);
  NoGradGuard ng;
  const int64_t old_rows = param.size(0), added = rows.size(0);
  Shape shape = param.shape();
  shape[0] = old_rows + added;
  Tensor grown = Tensor::empty(shape, param.dtype(), param.device());
  if (old_rows) narrow(grown, 0, 0, old_rows).copy_(param.detach());
  if (added) narrow(grown, 0, old_rows, added).copy_(rows);
  TensorImpl& impl = param.impl();
  impl.storage = grown.storage();
  impl.shape = grown.shape();
  impl.strides = grown.strides();
  impl.offset = 0;
  impl.grad.reset();
}

}  // namespace mrnn
