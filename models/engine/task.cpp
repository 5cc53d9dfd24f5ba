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

}  // namespace mrnn
