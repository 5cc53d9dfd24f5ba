// Readers for VQA (v1/v2) question and annotation files
// (v2_OpenEnded_mscoco_train2014_questions.json, v2_mscoco_train2014_annotations.json) and for
// ShapesWorld's question files in the same format. Why: the mQA model trains on and is scored
// against exactly these fields (the ten human answers feed the VQA accuracy).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mrnn {

struct VqaQuestion {
  int64_t question_id = -1;
  int64_t image_id = -1;
  std::string question;  // never blank
};

struct VqaQuestions {
  std::string task_type, data_type, data_subtype;  // "" when absent
  std::vector<VqaQuestion> questions;              // file order
  int64_t skipped = 0;                             // entries dropped under skip_bad
  std::vector<std::string> skip_reasons;           // the first 20 errors that caused a skip
};

struct VqaAnswer {
  std::string answer;             // may be empty (an annotator left it blank)
  std::string answer_confidence;  // "yes", "maybe" or "no"; "" when absent
  int64_t answer_id = -1;         // when absent, the 1-based position in "answers"
};

struct VqaAnnotation {
  int64_t question_id = -1;
  int64_t image_id = -1;
  std::string question_type;           // e.g. "what is the"; "" when absent
  std::string answer_type;             // "yes/no", "number" or "other"; "" when absent
  std::string multiple_choice_answer;  // the most common answer; never blank
  std::vector<VqaAnswer> answers;      // 10 in VQA v1/v2; at least 1
  // A whole-sentence answer ("the small circle is red"): not a VQA field; ShapesWorld and other
  // sentence-answer datasets (FM-IQA style) add it. "" when absent; checked not blank when present.
  std::string answer_sentence;
};

struct VqaAnnotations {
  std::string data_type, data_subtype;
  std::vector<VqaAnnotation> annotations;  // file order
  int64_t skipped = 0;
  std::vector<std::string> skip_reasons;
};

struct VqaReadOptions {
  bool skip_bad = false;  // drop bad entries instead of throwing
};

// Reads {"questions": [{"image_id", "question", "question_id"}, ...], "task_type"?,
// "data_type"?, "data_subtype"?, ...}: every question field is required (the ids join questions
// to annotations and images); the top-level strings default to "". Ensures question ids unique and questions not blank;
// violations, wrong types and missing fields throw mrnn::Error naming the file, the JSON path
// ("questions[4].question") and what was expected, or are skipped and counted with skip_bad.
// Missing file, invalid JSON or no "questions" array always throws.
VqaQuestions load_vqa_questions(const std::string& path, const VqaReadOptions& options = {});
VqaQuestions parse_vqa_questions(std::string_view json_text, const std::string& name,
                                 const VqaReadOptions& options = {});

// Reads {"annotations": [{"question_id", "image_id", "question_type"?, "answer_type"?,
// "multiple_choice_answer", "answers": [{"answer", "answer_confidence"?, "answer_id"?}, ...]}],
// ...}. Required: the ids (they join questions to answers), the answers (they feed the VQA
// accuracy) and multiple_choice_answer (the training target). Optional: question_type and
// answer_type (""; only per-type breakdowns use them), answer_confidence (""), answer_id (the
// 1-based position). A present optional field is checked (answer_type not blank, confidence
// among yes/maybe/no). Ensures question ids unique, at least one answer, multiple_choice_answer
// not blank. Errors as for questions.
VqaAnnotations load_vqa_annotations(const std::string& path, const VqaReadOptions& options = {});
VqaAnnotations parse_vqa_annotations(std::string_view json_text, const std::string& name,
                                     const VqaReadOptions& options = {});

// A question with its annotation.
struct VqaExample {
  VqaQuestion question;
  VqaAnnotation annotation;
};

// Pairs every question with the annotation of the same question_id, in question order.
// Requires: each question has an annotation with the same image_id (else Error naming the
// question id); annotations without a question are ignored.
std::vector<VqaExample> join_vqa(const VqaQuestions& questions, const VqaAnnotations& annotations);

}  // namespace mrnn
