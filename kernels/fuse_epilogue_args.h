// The contract of the fusing layer's epilogues (kernels/cpu/fuse.cpp, kernels/cuda/fuse.cu), checked
// in one place so that both backends refuse the same arguments with the same message.
#pragma once
#include <algorithm>
#include <initializer_list>

#include "core/tensor.h"

namespace mrnn {

// Throws naming op unless every defined tensor of ts is contiguous with first's dtype (the
// epilogue kernels index raw rows; undefined tensors are optional terms).
inline void require_contiguous_like(const char* op, const Tensor& first, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    MRNN_CHECK(!t->defined() || (t->is_contiguous() && t->dtype() == first.dtype()),
               "{}: expected contiguous tensors of one dtype, got {}", op, t->desc());
}

// Forward: out [rows, M] with rows = B x steps; seq_term [B, M] and bias [M], each optional.
inline void check_fuse_forward_args(const char* op, const Tensor& seq_term, const Tensor& bias, int64_t steps,
                                    const Tensor& out) {
  require_contiguous_like(op, out, {&out, &seq_term, &bias});
  const int64_t rows = out.size(0), m = out.size(1);
  MRNN_CHECK(steps > 0 && rows % steps == 0 &&
                 (!seq_term.defined() || (seq_term.size(0) * steps == rows && seq_term.size(1) == m)) &&
                 (!bias.defined() || bias.numel() == m),
             "{}: out {} does not match the per-sequence term {} x {} steps and bias {}", op, out.desc(),
             seq_term.defined() ? seq_term.desc() : "(none)", steps, bias.defined() ? bias.desc() : "(none)");
}

// Backward: y, g, dpre [rows, M] with rows = B x steps; dseq [B, M]; dbias [M].
inline void check_fuse_backward_args(const char* op, const Tensor& y, const Tensor& g, int64_t steps,
                                     const Tensor& dpre, const Tensor& dseq, const Tensor& dbias) {
  require_contiguous_like(op, y, {&y, &g, &dpre, &dseq, &dbias});
  const int64_t rows = y.size(0), m = y.size(1), b = rows / std::max<int64_t>(steps, 1);
  MRNN_CHECK(steps > 0 && b * steps == rows && g.shape() == y.shape() && dpre.shape() == y.shape() &&
                 dseq.size(0) == b && dseq.size(1) == m && dbias.numel() == m,
             "{}: bad shapes y {}, g {}, dpre {}, dseq {}, dbias {} for {} steps", op, y.desc(), g.desc(), dpre.desc(),
             dseq.desc(), dbias.desc(), steps);
}

}  // namespace mrnn
