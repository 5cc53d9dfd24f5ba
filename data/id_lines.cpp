#include "data/id_lines.h"

#include <fstream>
#include <unordered_set>

#include "core/error.h"
#include "data/npy.h"
#include "data/raw_array_tensor.h"

namespace mrnn {

std::vector<int64_t> read_id_lines(const std::string& path) {
  std::ifstream f(path);
  MRNN_CHECK(f.good(), "{}: cannot open the ids file", path);
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> seen;
  std::string line;
  int64_t n = 0;
  bool blank = false;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    MRNN_CHECK(!blank, "{}:{}: an empty line before the last one (one image id per line expected)", path, n - 1);
    if (line.empty()) {
      blank = true;
      continue;
    }
    size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(line, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    MRNN_CHECK(used == line.size() && id >= 0, "{}:{}: expected an image id (an integer >= 0), got '{}'", path, n, line);
    MRNN_CHECK(seen.insert(id).second, "{}:{}: image id {} is given twice", path, n, id);
    ids.push_back(id);
  }
  MRNN_CHECK(!ids.empty(), "{}: no image ids", path);
  return ids;
}

Tensor read_feature_rows(const std::string& path, int64_t rows, const std::string& names) {
  Tensor t = to_tensor(read_npy(path), path).to(DType::F32);
  MRNN_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) >= 1,
             "{}: expected features [{} rows, one per line of {}, D], got {}", path, rows, names, t.desc());
  return t;
}

}  // namespace mrnn
