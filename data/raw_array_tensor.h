// Conversions between the file-format arrays (RawArray: .npy / .safetensors) and Tensors.
#pragma once
#include "core/tensor.h"
#include "data/raw_array.h"

namespace mrnn {

// Requires: a CPU tensor of any layout. Ensures: a C-ordered copy with the same dtype.
RawArray to_raw_array(const Tensor& t);
// Requires: type F32, F64, I32 or I64 (F16/BF16/U8... are converted to f32 / i64); `what` names the
// array in errors (e.g. "features.npy"). Ensures: a fresh contiguous CPU tensor.
Tensor to_tensor(const RawArray& a, const std::string& what);

}  // namespace mrnn
