#include "data/vqa.h"

#include <unordered_map>

#include "core/error.h"
#include "data/json_util.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

namespace {

std::string optional_string(const Json& doc, const char* key, const Where& root) {
  const Json* v = jsonio::find(doc, key);
  return v ? jsonio::string(*v, root.key(key)) : std::string();
}

}  // namespace

VqaQuestions parse_vqa_questions(std::string_view json_text, const std::string& name,
                                 const VqaReadOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  VqaQuestions out;
  out.task_type = optional_string(doc, "task_type", root);
  out.data_type = optional_string(doc, "data_type", root);
  out.data_subtype = optional_string(doc, "data_subtype", root);
  const Where qs_at = root.key("questions");
  const Json& qs = jsonio::array(jsonio::member(doc, "questions", root), qs_at);
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_map<int64_t, std::size_t> seen;
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const Where at = qs_at.index(i);
    try {
      const Json& js = jsonio::object(qs[i], at);
      VqaQuestion q;
      q.question_id = jsonio::integer(jsonio::member(js, "question_id", at), at.key("question_id"));
      q.image_id = jsonio::integer(jsonio::member(js, "image_id", at), at.key("image_id"));
      q.question = jsonio::nonblank_string(jsonio::member(js, "question", at), at.key("question"),
                                           "question");
      const auto [it, inserted] = seen.emplace(q.question_id, i);
      if (!inserted)
        jsonio::fail(at.key("question_id"), fmt::format("duplicate question_id {} (also "
                                                        "questions[{}])", q.question_id, it->second));
      out.questions.push_back(std::move(q));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }
  return out;
}

VqaQuestions load_vqa_questions(const std::string& path, const VqaReadOptions& options) {
  return parse_vqa_questions(jsonio::read_file(path, "VQA questions"), path, options);
}

VqaAnnotations parse_vqa_annotations(std::string_view json_text, const std::string& name,
                                     const VqaReadOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  VqaAnnotations out;
  out.data_type = optional_string(doc, "data_type", root);
  out.data_subtype = optional_string(doc, "data_subtype", root);
  const Where anns_at = root.key("annotations");
  const Json& anns = jsonio::array(jsonio::member(doc, "annotations", root), anns_at);
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_map<int64_t, std::size_t> seen;
  for (std::size_t i = 0; i < anns.size(); ++i) {
    const Where at = anns_at.index(i);
    try {
      const Json& js = jsonio::object(anns[i], at);
      VqaAnnotation a;
      a.question_id = jsonio::integer(jsonio::member(js, "question_id", at), at.key("question_id"));
      a.image_id = jsonio::integer(jsonio::member(js, "image_id", at), at.key("image_id"));
      a.question_type = optional_string(js, "question_type", at);
      if (const Json* t = jsonio::find(js, "answer_type"))
        a.answer_type = jsonio::nonblank_string(*t, at.key("answer_type"), "answer_type");
      a.multiple_choice_answer =
          jsonio::nonblank_string(jsonio::member(js, "multiple_choice_answer", at),
                                  at.key("multiple_choice_answer"), "answer");
      if (const Json* t = jsonio::find(js, "answer_sentence"))
        a.answer_sentence = jsonio::nonblank_string(*t, at.key("answer_sentence"), "answer sentence");
      const Where ans_at = at.key("answers");
      const Json& ans = jsonio::array(jsonio::member(js, "answers", at), ans_at);
      if (ans.empty()) jsonio::fail(ans_at, "expected at least one answer, found none");
      for (std::size_t k = 0; k < ans.size(); ++k) {
        const Where a_at = ans_at.index(k);
        const Json& aj = jsonio::object(ans[k], a_at);
        VqaAnswer v;
        v.answer = jsonio::string(jsonio::member(aj, "answer", a_at), a_at.key("answer"));
        if (const Json* c = jsonio::find(aj, "answer_confidence")) {
          v.answer_confidence = jsonio::string(*c, a_at.key("answer_confidence"));
          if (v.answer_confidence != "yes" && v.answer_confidence != "maybe" &&
              v.answer_confidence != "no")
            jsonio::fail(a_at.key("answer_confidence"),
                         "expected \"yes\", \"maybe\" or \"no\", found \"" + v.answer_confidence + "\"");
        }
        // The VQA files number the answers 1..10, so an absent answer_id is the 1-based position.
        v.answer_id = static_cast<int64_t>(k) + 1;
        if (const Json* id = jsonio::find(aj, "answer_id")) v.answer_id = jsonio::integer(*id, a_at.key("answer_id"));
        a.answers.push_back(std::move(v));
      }
      const auto [it, inserted] = seen.emplace(a.question_id, i);
      if (!inserted)
        jsonio::fail(at.key("question_id"), fmt::format("duplicate question_id {} (also "
                                                        "annotations[{}])", a.question_id, it->second));
      out.annotations.push_back(std::move(a));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }
  return out;
}

VqaAnnotations load_vqa_annotations(const std::string& path, const VqaReadOptions& options) {
  return parse_vqa_annotations(jsonio::read_file(path, "VQA annotations"), path, options);
}

std::vector<VqaExample> join_vqa(const VqaQuestions& questions, const VqaAnnotations& annotations) {
  std::unordered_map<int64_t, const VqaAnnotation*> by_id;
  for (const auto& a : annotations.annotations) by_id.emplace(a.question_id, &a);
  std::vector<VqaExample> out;
  out.reserve(questions.questions.size());
  for (const auto& q : questions.questions) {
    const auto it = by_id.find(q.question_id);
    MRNN_CHECK(it != by_id.end(), "VQA: question {} has no annotation", q.question_id);
    MRNN_CHECK(it->second->image_id == q.image_id,
               "VQA: question {} is about image {} but its annotation says image {}",
               q.question_id, q.image_id, it->second->image_id);
    out.push_back({q, *it->second});
  }
  return out;
}

}  // namespace mrnn
