#include "models/refexp/refexp_results.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/raw_array.h"
#include "data/json_util.h"

namespace mrnn {

namespace {

nlohmann::json read_array(const std::string& path) {
  const std::string text = jsonio::read_file(path, "results file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    MRNN_FAIL("{}: not valid JSON: {}", path, e.what());
  }
  MRNN_CHECK(j.is_array(), "{}: expected a JSON array of results", path);
  return j;
}

int64_t integer(const nlohmann::json& e, const char* k, const std::string& path, size_t i) {
  MRNN_CHECK(e.is_object() && e.contains(k) && e[k].is_number_integer(), "{}: [{}].{}: expected an integer", path, i, k);
  return e[k].get<int64_t>();
}

}  // namespace

void write_comprehension_results(const std::string& path, const std::vector<ComprehensionResult>& results) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const ComprehensionResult& r : results) {
    nlohmann::ordered_json e;
    e["annotation_id"] = r.annotation_id;
    nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
    for (const Box& b : r.boxes) boxes.push_back({b[0], b[1], b[2], b[3]});
    e["predicted_bounding_boxes"] = boxes;
    if (r.refexp_id >= 0) e["refexp_id"] = r.refexp_id;
    if (!r.refexp.empty()) e["refexp"] = r.refexp;
    j.push_back(e);
  }
  write_file_atomic(path, j.dump(1) + "\n");
}

void write_generation_results(const std::string& path, const std::vector<GenerationResult>& results) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const GenerationResult& r : results) j.push_back({{"annotation_id", r.annotation_id}, {"refexp", r.refexp}});
  write_file_atomic(path, j.dump(1) + "\n");
}

std::vector<ComprehensionResult> read_comprehension_results(const std::string& path) {
  const nlohmann::json j = read_array(path);
  std::vector<ComprehensionResult> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    ComprehensionResult r;
    r.annotation_id = integer(e, "annotation_id", path, i);
    if (e.contains("refexp_id")) r.refexp_id = integer(e, "refexp_id", path, i);
    if (e.contains("refexp")) {
      MRNN_CHECK(e["refexp"].is_string(), "{}: [{}].refexp: expected a string", path, i);
      r.refexp = e["refexp"].get<std::string>();
    }
    MRNN_CHECK(e.contains("predicted_bounding_boxes") && e["predicted_bounding_boxes"].is_array(),
               "{}: [{}].predicted_bounding_boxes: expected an array of boxes [x, y, w, h]", path, i);
    const nlohmann::json& bs = e["predicted_bounding_boxes"];
    for (size_t k = 0; k < bs.size(); ++k) {
      const nlohmann::json& b = bs[k];
      MRNN_CHECK(b.is_array() && b.size() == 4 && b[0].is_number() && b[1].is_number() && b[2].is_number() &&
                     b[3].is_number(),
                 "{}: [{}].predicted_bounding_boxes[{}]: expected a box [x, y, w, h] of 4 numbers", path, i, k);
      r.boxes.push_back({b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()});
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<GenerationResult> read_generation_results(const std::string& path) {
  const nlohmann::json j = read_array(path);
  std::vector<GenerationResult> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    GenerationResult r;
    r.annotation_id = integer(e, "annotation_id", path, i);
    MRNN_CHECK(e.contains("refexp") && e["refexp"].is_string(), "{}: [{}].refexp: expected a string", path, i);
    r.refexp = e["refexp"].get<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mrnn
