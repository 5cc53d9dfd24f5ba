// Walks N operands that share one logical shape but have their own strides (0 for broadcast
// dims). Why: one loop handles contiguous tensors, transposed/sliced views and broadcasting, so
// kernels never need to copy an input just to make it contiguous.
#pragma once
#include <array>
#include <cstdint>

#include "core/shape.h"

namespace mrnn {

// Calls f(i, off[0..N)) for every element i (row-major order over `shape`) where off[k] is the
// element offset of operand k. Parallel over rows with OpenMP when the tensor is large; f must be
// safe to call concurrently for distinct i.
template <size_t N, typename F>
void for_each_strided(const Shape& shape, const std::array<const int64_t*, N>& strides, F&& f) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t total = shape_numel(shape);
  if (total == 0) return;
  if (nd == 0) {
    std::array<int64_t, N> off{};
    f(int64_t{0}, off);
    return;
  }
  const int64_t inner = shape[nd - 1];
  const int64_t rows = total / inner;
  std::array<int64_t, N> inner_stride;
  for (size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][nd - 1];
#pragma omp parallel for schedule(static) if (total > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    std::array<int64_t, N> base{};
    int64_t rem = r;
    for (int64_t d = nd - 2; d >= 0; --d) {
      int64_t idx = rem % shape[d];
      rem /= shape[d];
      for (size_t k = 0; k < N; ++k) base[k] += idx * strides[k][d];
    }
    std::array<int64_t, N> off;
    for (int64_t j = 0; j < inner; ++j) {
      for (size_t k = 0; k < N; ++k) off[k] = base[k] + j * inner_stride[k];
      f(r * inner + j, off);
    }
  }
}

// Strides of a tensor with `shape`/`strides` viewed as broadcast to `out` (0 where broadcast).
inline Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& out) {
  Shape r(out.size(), 0);
  size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) r[lead + i] = shape[i] == 1 ? 0 : strides[i];
  return r;
}

}  // namespace mrnn
