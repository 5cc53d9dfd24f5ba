// The ids that name the rows of a features file (.npy): a text file with one integer id per line,
// line i naming row i. Why a text file: every tool can write one, and a person can read it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// Requires nothing of the file. Ensures: the ids in line order, at least one; throws Error naming
// path and the line on a line that is not an integer >= 0, an empty line before the last one, or
// an id given twice (a final empty line is allowed).
std::vector<int64_t> read_id_lines(const std::string& path);

// The features .npy at path (any float type) as f32 [rows, D >= 1], where `rows` is the number of
// entries of the file `names` that names its rows. Throws Error naming both files otherwise.
Tensor read_feature_rows(const std::string& path, int64_t rows, const std::string& names);

}  // namespace mrnn
