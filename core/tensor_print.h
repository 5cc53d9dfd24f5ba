// Printing a tensor's values, PyTorch-style: nested brackets with aligned columns, and for a large
// tensor (more than `threshold` elements) only the first and last `edge` entries of each dim with
// "..." between. Why bounded: printing a 10k x 512 embedding by accident must not flood a
// terminal. CUDA tensors are copied to the host to print.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/tensor.h"

namespace mrnn {

struct PrintOptions {
  int64_t threshold = 1000;  // above this many elements, summarise
  int64_t edge = 3;          // entries kept at each end of a dim when summarising
  int precision = 4;         // digits after the point for floating values
};

// Ensures: "tensor([...], shape=[2, 3], dtype=f32)" plus ", device=cuda:0" off the CPU and
// ", requires_grad" when set; "tensor(undefined)" for an undefined tensor. Floats use fixed
// notation, or scientific when the shown values span more than 1e5 or are tiny; inf and nan print
// as inf/nan.
std::string to_string(const Tensor& t, const PrintOptions& options = {});
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace mrnn
