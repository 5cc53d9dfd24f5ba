// How a per-row loss is reduced (cross_entropy in kernels/ops.h, linear_cross_entropy in
// kernels/fused.h). Why a separate header: the CPU and CUDA kernel headers need the enum too, and
// they must not pull in the whole op API.
#pragma once

namespace mrnn {

// None: one loss per row ([N], 0 for ignored rows), differentiable with a vector upstream
// gradient (e.g. to sum a sequence's token losses into -log p(sentence)). Sum: the scalar sum over
// rows. Mean: the sum divided by the number of rows that are not ignored (0 when there are none).
enum class Reduction { None, Sum, Mean };

}  // namespace mrnn
