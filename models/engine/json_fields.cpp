#include "models/engine/json_fields.h"

#include <algorithm>

#include <fmt/format.h>

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

int64_t ConfigFields::int_in(const nlohmann::json& v, const char* k, int64_t lo, int64_t hi) const {
  MRNN_CHECK(v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) &&
                 v.get<int64_t>() >= lo && v.get<int64_t>() <= hi,
             "{}: field '{}' must be an integer in [{}, {}]", what_, k, lo, hi);
  return v.get<int64_t>();
}

void ConfigFields::get_int(const char* k, int64_t& dst, int64_t lo, int64_t hi) const {
  if (j_.contains(k)) dst = int_in(j_[k], k, lo, hi);
}

void ConfigFields::get_real(const char* k, double& dst, double lo, double hi) const {
  if (!j_.contains(k)) return;
  MRNN_CHECK(j_[k].is_number() && j_[k].get<double>() >= lo && j_[k].get<double>() < hi,
             "{}: field '{}' must be a number in [{}, {})", what_, k, lo, hi);
  dst = j_[k].get<double>();
}

void ConfigFields::get_bool(const char* k, bool& dst) const {
  if (!j_.contains(k)) return;
  MRNN_CHECK(j_[k].is_boolean(), "{}: field '{}' must be true or false", what_, k);
  dst = j_[k].get<bool>();
}

void ConfigFields::get_choice(const char* k, std::string& dst, const std::vector<std::string>& allowed) const {
  if (!j_.contains(k)) return;
  MRNN_CHECK(j_[k].is_string(), "{}: field '{}' must be a string, one of {}", what_, k, fmt::join(allowed, ", "));
  const std::string v = j_[k].get<std::string>();
  MRNN_CHECK(std::find(allowed.begin(), allowed.end(), v) != allowed.end(), "{}: field '{}' is '{}', expected one of {}",
             what_, k, v, fmt::join(allowed, ", "));
  dst = v;
}

void ConfigFields::get_int_list(const char* k, std::vector<int64_t>& dst, size_t max_n, int64_t lo, int64_t hi) const {
  if (!j_.contains(k)) return;
  const nlohmann::json& a = j_[k];
  MRNN_CHECK(a.is_array() && !a.empty() && a.size() <= max_n, "{}: field '{}' must be an array of 1 to {} integers",
             what_, k, max_n);
  dst.clear();
  for (const auto& v : a) dst.push_back(int_in(v, k, lo, hi));
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
