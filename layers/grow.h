// Growing a parameter along dim 0 in place (new words for a trained model, NVCS).
// Why in place: layers share parameter handles (the TWS output holds the embedding table), so the
// grown tensor must be the same TensorImpl; only its storage and shape change.
#pragma once
#include "core/tensor.h"

namespace mrnn {

// Requires: param is a defined leaf, contiguous, at offset 0 and the only tensor on its storage
// (storage bytes == numel x dtype size); rows has param's dtype, device and trailing dims.
// Ensures: param is [R + rows.size(0), ...] with rows [0, R) bit-identical to before and the new
// rows equal to `rows`; its accumulated gradient is dropped; requires_grad is unchanged. Every
// handle of param sees the new shape. Optimizer state made for the old shape must be made anew.
// Throws Error naming what is wrong otherwise (nothing changes then).
void append_rows(const Tensor& param, const Tensor& rows);

}  // namespace mrnn
