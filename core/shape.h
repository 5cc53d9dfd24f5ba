// Shapes and strides are small vectors of int64 (elements, not bytes).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mrnn {

using Shape = std::vector<int64_t>;

// Product of the dimensions (1 for a 0-d shape).
int64_t shape_numel(const Shape& s);
// Row-major strides for `s`.
Shape contiguous_strides(const Shape& s);
// "[2, 3, 4]".
std::string shape_str(const Shape& s);
// Maps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// NumPy broadcasting of two shapes; throws naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace mrnn
