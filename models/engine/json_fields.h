// Checked reads of fields of untrusted JSON (checkpoint metadata): each failure throws Error naming
// `what` (the file) and the field. Internal to the engine and the tasks' state parsers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/random.h"

namespace mrnn::json_fields {

// Requires nothing. Ensures: obj[key] is an integer in [lo, INT64_MAX] (lo >= 0), returned.
int64_t count(const nlohmann::json& obj, const char* key, int64_t lo, const std::string& what);
// Ensures: obj[key] is an integer in [0, UINT64_MAX], returned.
uint64_t unsigned_int(const nlohmann::json& obj, const char* key, const std::string& what);
// Ensures: text parses as a JSON object (else Error "<what>: the <name> is not a JSON object").
nlohmann::json object(const std::string& text, const char* name, const std::string& what);
// A model folder's config.json: text parses (else "<what>: not valid JSON: <parser's reason>") and
// is an object (else "<what>: expected a JSON object"). Shared by every model's from_json.
nlohmann::json config_object(const std::string& text, const std::string& what);

// Typed, range-checked reads of a config object's optional fields, for the models' from_json: an
// absent field leaves dst as it is, a present one must have the type and range, else Error
// "<what>: field '<key>' must be ...". Why: every config parser needs the same checks and messages.
class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& obj, const std::string& what) : j_(obj), what_(what) {}
  // v (the field, or an element of it) is an integer in [lo, hi]; returned.
  int64_t int_in(const nlohmann::json& v, const char* key, int64_t lo, int64_t hi) const;
  void get_int(const char* key, int64_t& dst, int64_t lo, int64_t hi) const;
  void get_real(const char* key, double& dst, double lo, double hi) const;  // a number in [lo, hi)
  void get_bool(const char* key, bool& dst) const;
  // A string that is one of `allowed` (the message lists them).
  void get_choice(const char* key, std::string& dst, const std::vector<std::string>& allowed) const;
  // An array of 1 to max_n integers, each in [lo, hi].
  void get_int_list(const char* key, std::vector<int64_t>& dst, size_t max_n, int64_t lo, int64_t hi) const;

 private:
  const nlohmann::json& j_;
  const std::string& what_;
};

// A task's dropout stream as its checkpoint state: {"dropout_seed", "dropout_offset"} (the text of
// Task::state_json), and back (load_dropout_state throws Error naming `what` and the field).
std::string dropout_state(const Generator& g);
void load_dropout_state(const std::string& text, const std::string& what, Generator& g);

}  // namespace mrnn::json_fields
