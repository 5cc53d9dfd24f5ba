#include "models/engine/task.h"

#include <nlohmann/json.hpp>

#include "models/engine/json_fields.h"

namespace mrnn {

void Task::check_order(const std::string& saved, const std::string& what) const {
  if (saved.empty()) return;
  const nlohmann::json a = json_fields::object(saved, "training state field 'options'", what);
  const nlohmann::json b = nlohmann::json::parse(order_json());
  for (auto it = a.begin(); it != a.end(); ++it)
    if (b.contains(it.key()))
      MRNN_CHECK(b[it.key()] == it.value(), "--resume: {} was written with {} = {}, but this run has {}; resume with "
                 "the same value", what, it.key(), it.value().dump(), b[it.key()].dump());
}

void Task::shard(Batch&, int, int) {
  MRNN_FAIL("train: this task cannot train data-parallel (it does not implement Task::shard); run it as one process");
}

std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size) {
  MRNN_CHECK(size >= 1 && rank >= 0 && rank < size, "shard_range: rank {} of {}", rank, size);
  return {n * rank / size, n * (rank + 1) / size};
}

Generator rank_stream(const Generator& g, int rank) {
  // splitmix64 of (seed, rank): distinct seeds per rank, a pure function of both.
  uint64_t z = g.seed() + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(rank) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  Generator out;
  out.set_state(z ^ (z >> 31), g.offset());
  return out;
}

}  // namespace mrnn
