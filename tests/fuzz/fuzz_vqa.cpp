// libFuzzer target for VQA question and annotation files: the same bytes are read as both; any
// input either parses or throws mrnn::Error (or a nlohmann exception).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/vqa.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mrnn::VqaReadOptions o;
  o.skip_bad = true;
  mrnn::VqaQuestions q;
  mrnn::VqaAnnotations a;
  try {
    q = mrnn::parse_vqa_questions(text, "fuzz_questions.json", o);
    for (const auto& x : q.questions)
      if (x.question.empty()) std::abort();
  } catch (const mrnn::Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  try {
    a = mrnn::parse_vqa_annotations(text, "fuzz_annotations.json", o);
    for (const auto& x : a.annotations)
      if (x.answers.empty() || x.multiple_choice_answer.empty()) std::abort();
  } catch (const mrnn::Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  try {
    mrnn::join_vqa(q, a);
  } catch (const mrnn::Error&) {
  }
  return 0;
}
