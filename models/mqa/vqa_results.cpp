#include "models/mqa/vqa_results.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace mrnn {

namespace {

std::string few(const std::vector<int64_t>& ids) {
  std::vector<int64_t> head(ids.begin(), ids.begin() + std::min<size_t>(ids.size(), 5));
  return fmt::format("{}{}", fmt::join(head, ", "), ids.size() > 5 ? fmt::format(" (and {} more)", ids.size() - 5) : "");
}

}  // namespace

void write_vqa_results(const std::string& path, const std::vector<int64_t>& question_ids,
                       const std::vector<std::string>& answers) {
  MRNN_CHECK(question_ids.size() == answers.size(), "{}: {} question ids but {} answers", path, question_ids.size(),
             answers.size());
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (size_t i = 0; i < answers.size(); ++i)
    j.push_back(nlohmann::ordered_json{{"question_id", question_ids[i]}, {"answer", answers[i]}});
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
    f << j.dump(1) << "\n";
    MRNN_CHECK(f.good(), "{}: cannot write", tmp);
  }
  std::filesystem::rename(tmp, path);
}

std::vector<std::string> read_vqa_results(const std::string& path, const std::vector<int64_t>& question_ids) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot read the results file", path);
  nlohmann::json j;
  try {
    f >> j;
  } catch (const nlohmann::json::exception& e) {
    MRNN_FAIL("{}: not valid JSON: {}", path, e.what());
  }
  MRNN_CHECK(j.is_array(), "{}: expected a JSON array of {{\"question_id\", \"answer\"}} objects", path);
  std::unordered_map<int64_t, size_t> want;
  for (size_t i = 0; i < question_ids.size(); ++i) want.emplace(question_ids[i], i);
  std::vector<std::string> out(question_ids.size());
  std::vector<bool> seen(question_ids.size(), false);
  std::vector<int64_t> dups, unknown, missing;
  std::unordered_set<int64_t> dup_set;
  for (size_t k = 0; k < j.size(); ++k) {
    const nlohmann::json& e = j[k];
    MRNN_CHECK(e.is_object() && e.contains("question_id") && e["question_id"].is_number_integer() &&
                   e.contains("answer") && e["answer"].is_string(),
               "{}: entry [{}] must be an object with an integer \"question_id\" and a string \"answer\"", path, k);
    const int64_t id = e["question_id"].get<int64_t>();
    const auto it = want.find(id);
    if (it == want.end()) {
      unknown.push_back(id);
      continue;
    }
    if (seen[it->second]) {
      if (dup_set.insert(id).second) dups.push_back(id);
      continue;
    }
    seen[it->second] = true;
    out[it->second] = e["answer"].get<std::string>();
  }
  for (size_t i = 0; i < question_ids.size(); ++i)
    if (!seen[i]) missing.push_back(question_ids[i]);
  MRNN_CHECK(dups.empty(), "{}: {} question ids have more than one answer: {}", path, dups.size(), few(dups));
  MRNN_CHECK(unknown.empty(), "{}: {} answers are for question ids that are not among the questions: {}", path,
             unknown.size(), few(unknown));
  MRNN_CHECK(missing.empty(), "{}: {} question ids have no answer: {}", path, missing.size(), few(missing));
  return out;
}

std::string vqa_report_json(const eval::VqaReport& r, int64_t questions) {
  nlohmann::ordered_json j;
  j["overall"] = r.overall;
  j["perQuestionType"] = r.per_question_type;
  j["perAnswerType"] = r.per_answer_type;
  j["questions"] = questions;
  j["questionTypeCounts"] = r.question_type_counts;
  j["answerTypeCounts"] = r.answer_type_counts;
  return j.dump(2) + "\n";
}

}  // namespace mrnn
