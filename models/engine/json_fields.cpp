#include "models/engine/json_fields.h"

#include "core/error.h"

namespace mrnn::json_fields {

int64_t count(const nlohmann::json& obj, const char* key, int64_t lo, const std::string& what) {
  MRNN_CHECK(obj.contains(key), "{}: training state field '{}' is missing", what, key);
  const nlohmann::json& v = obj[key];
  MRNN_CHECK(v.is_number_unsigned() ? v.get<uint64_t>() >= static_cast<uint64_t>(lo)
                                    : v.is_number_integer() && v.get<int64_t>() >= lo,
             "{}: training state field '{}' must be an integer >= {}, got {}", what, key, lo, v.dump());
  MRNN_CHECK(!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX),
             "{}: training state field '{}' is too large: {}", what, key, v.dump());
  return v.get<int64_t>();
}

uint64_t unsigned_int(const nlohmann::json& obj, const char* key, const std::string& what) {
  MRNN_CHECK(obj.contains(key), "{}: training state field '{}' is missing", what, key);
  const nlohmann::json& v = obj[key];
  MRNN_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0),
             "{}: training state field '{}' must be an unsigned integer, got {}", what, key, v.dump());
  return v.get<uint64_t>();
}

nlohmann::json object(const std::string& text, const char* name, const std::string& what) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  MRNN_CHECK(!j.is_discarded() && j.is_object(), "{}: the {} is not a JSON object", what, name);
  return j;
}

nlohmann::json config_object(const std::string& text, const std::string& what) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    MRNN_FAIL("{}: not valid JSON: {}", what, e.what());
  }
  MRNN_CHECK(j.is_object(), "{}: expected a JSON object", what);
  return j;
}

std::string dropout_state(const Generator& g) {
  return nlohmann::json{{"dropout_seed", g.seed()}, {"dropout_offset", g.offset()}}.dump();
}

void load_dropout_state(const std::string& text, const std::string& what, Generator& g) {
  const nlohmann::json j = object(text, "training state field 'task'", what);
  const uint64_t seed = unsigned_int(j, "dropout_seed", what);
  const uint64_t offset = unsigned_int(j, "dropout_offset", what);
  g.set_state(seed, offset);
}

}  // namespace mrnn::json_fields
