// The ids that name the rows of a features file (.npy): a text file with one integer id per line,
// line i naming row i. Why a text file: every tool can write one, and a person can read it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mrnn {

// Requires nothing of the file. Ensures: the ids in line order, at least one; throws Error naming
// path and the line on a line that is not an integer >= 0, an empty line before the last one, or
// an id given twice (a final empty line is allowed).
std::vector<int64_t> read_id_lines(const std::string& path);

}  // namespace mrnn
