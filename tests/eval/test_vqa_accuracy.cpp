// VQA accuracy and the official answer normalization, on hand-computed cases.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.h"
#include "eval/vqa_accuracy.h"

using namespace mrnn::eval;

namespace {
std::vector<std::string> answers(std::initializer_list<std::pair<const char*, int>> groups) {
  std::vector<std::string> out;
  for (const auto& [a, n] : groups) out.insert(out.end(), n, a);
  return out;
}
}  // namespace

TEST_CASE("VQA prediction normalization: case, digits, punctuation, articles", "[eval][vqa]") {
  CHECK(vqa_question_accuracy("Two", answers({{"2", 10}})) == 1.0);
  CHECK(vqa_question_accuracy("yes.", answers({{"yes", 10}})) == 1.0);
  CHECK(vqa_question_accuracy("a dog", answers({{"dog", 10}})) == 1.0);
  CHECK(vqa_question_accuracy(" yes\n", answers({{"yes", 10}})) == 1.0);
  CHECK(vqa_question_accuracy("cat", answers({{"dog", 10}})) == 0.0);

  CHECK(vqa_normalize_prediction("The Dog") == "dog");
  CHECK(vqa_normalize_prediction("none") == "0");
  CHECK(vqa_normalize_prediction("ten apples") == "10 apples");
  CHECK(vqa_normalize_prediction("eleven") == "eleven");
  CHECK(vqa_normalize_prediction("Dont know") == "don't know");
  CHECK(vqa_normalize_prediction("isnt it") == "isn't it");
  CHECK(vqa_normalize_prediction("an a the") == "");
}

TEST_CASE("VQA punctuation rules", "[eval][vqa]") {
  CHECK(vqa_process_punctuation("1,000") == "1000");          // digit,digit: delete all punctuation
  CHECK(vqa_process_punctuation("red,blue") == "red blue");   // otherwise replace by a space
  CHECK(vqa_process_punctuation("yes, sir") == "yes sir");    // ", " present: delete
  CHECK(vqa_process_punctuation("hello-world") == "hello world");
  CHECK(vqa_process_punctuation("a - b") == "a  b");
  CHECK(vqa_process_punctuation("3.5") == "3.5");             // '.' before a digit stays
  CHECK(vqa_process_punctuation("e.g.") == "eg");
  CHECK(vqa_process_punctuation("it's") == "it's");           // apostrophe is not in the list
  CHECK(vqa_process_punctuation("1,000 (approx)") == "1000 approx");
  // Only the first 32 periods go (re.sub's count = re.UNICODE = 32 in the official call).
  CHECK(vqa_process_punctuation(std::string(33, '.') + "x") == ".x");
  CHECK(vqa_normalize_prediction("A - B") == "b");
}

TEST_CASE("VQA leave-one-out accuracy by hand", "[eval][vqa]") {
  // 2 "dog" + 8 "cat", predict dog: left-out dog -> 1 other dog (1/3); left-out cat -> 2 (2/3).
  // (2 * 1/3 + 8 * 2/3) / 10 = 0.6.
  CHECK(vqa_question_accuracy("dog", answers({{"dog", 2}, {"cat", 8}})) == Approx(0.6).epsilon(1e-15));
  // 3 "red" + 7 "blue", predict red: (3 * 2/3 + 7 * 1) / 10 = 0.9.
  CHECK(vqa_question_accuracy("red", answers({{"red", 3}, {"blue", 7}})) == Approx(0.9).epsilon(1e-15));
  // 4 or more matches: 1.
  CHECK(vqa_question_accuracy("red", answers({{"red", 4}, {"blue", 6}})) == 1.0);
  // One match: left out itself -> 0, otherwise 1/3: 9/10 * 1/3 = 0.3.
  CHECK(vqa_question_accuracy("red", answers({{"red", 1}, {"blue", 9}})) == Approx(0.3).epsilon(1e-15));
}

TEST_CASE("VQA human answers get only the punctuation step", "[eval][vqa]") {
  // Mixed human answers are punctuation-processed but not lowercased or digit-mapped, as in the
  // official code: 8 "Two" + 2 "2", predict "two" (-> "2"): only the 2 "2" answers match.
  CHECK(vqa_question_accuracy("two", answers({{"Two", 8}, {"2", 2}})) == Approx(0.6).epsilon(1e-15));
  // "yes." among mixed answers loses its '.', so it matches a prediction "yes" ...
  CHECK(vqa_question_accuracy("yes", answers({{"yes.", 3}, {"no", 7}})) == Approx(0.9).epsilon(1e-15));
  // ... but "yes!" becomes "yes " ('!' turns into a space and nothing strips it): no match.
  CHECK(vqa_question_accuracy("yes", answers({{"yes!", 3}, {"no", 7}})) == 0.0);
  // All-identical human answers are used raw: "yes!" x 10 never matches "yes".
  CHECK(vqa_question_accuracy("yes", answers({{"yes!", 10}})) == 0.0);
}

TEST_CASE("VQA overall accuracy and errors", "[eval][vqa]") {
  const VqaAccuracy acc = vqa_accuracy({"2", "dog"}, {answers({{"2", 10}}), answers({{"dog", 2}, {"cat", 8}})});
  CHECK(acc.per_question.size() == 2);
  CHECK(acc.overall_percent == Approx(80.0).epsilon(1e-15));
  CHECK_THROWS_AS(vqa_accuracy({"a"}, {}), mrnn::Error);
  CHECK_THROWS_AS(vqa_accuracy({"a"}, {{}}), mrnn::Error);
}

TEST_CASE("VQA accuracy: the mean over the 10 leave-one-out subsets of 9", "[eval][vqa]") {
  // 5 matches: every subset of 9 still has >= 4 matches -> 1.
  CHECK(vqa_question_accuracy("red", answers({{"red", 5}, {"blue", 5}})) == 1.0);
  // Exactly 3 matches is not 1: leaving out one of them leaves 2 -> 2/3 (3 of the 10 subsets).
  CHECK(vqa_question_accuracy("red", answers({{"red", 3}, {"blue", 7}})) < 1.0);
  // 2 matches among 10: (2 * 1/3 + 8 * 2/3) / 10 = 0.6, not min(1, 2/3) = 0.667 (no averaging).
  CHECK(vqa_question_accuracy("red", answers({{"red", 2}, {"blue", 4}, {"green", 4}})) ==
        Approx(0.6).epsilon(1e-15));
  // Fewer than 10 answers: the mean over as many subsets as there are answers (len(gtAcc)).
  // 3 answers, 2 match: left-out match -> 1 other (1/3), left-out other -> 2 (2/3): (2/3 + 2/3) / 3.
  CHECK(vqa_question_accuracy("red", answers({{"red", 2}, {"blue", 1}})) == Approx(4.0 / 9.0).epsilon(1e-15));
  // A single answer: its own subset is empty -> 0 even when it matches.
  CHECK(vqa_question_accuracy("red", answers({{"red", 1}})) == 0.0);
}

TEST_CASE("VQA accuracy: prediction and human answers are cleaned differently", "[eval][vqa]") {
  // The prediction loses its article, the human answers keep theirs: no match either way.
  CHECK(vqa_question_accuracy("the dog", answers({{"the dog", 4}, {"cat", 6}})) == 0.0);
  CHECK(vqa_question_accuracy("dog", answers({{"the dog", 4}, {"cat", 6}})) == 0.0);
  CHECK(vqa_question_accuracy("the dog", answers({{"dog", 4}, {"cat", 6}})) == 1.0);
  // Number words become digits only in the prediction.
  CHECK(vqa_question_accuracy("two", answers({{"two", 4}, {"2", 6}})) == 1.0);   // -> "2": the six "2"
  CHECK(vqa_question_accuracy("2", answers({{"two", 6}, {"3", 4}})) == 0.0);
  // Lowercasing only in the prediction.
  CHECK(vqa_question_accuracy("YES", answers({{"yes", 10}})) == 1.0);
  CHECK(vqa_question_accuracy("yes", answers({{"Yes", 10}})) == 0.0);
  CHECK(vqa_question_accuracy("yes", answers({{"Yes", 5}, {"yes", 5}})) == 1.0);  // the five "yes"
  // Contractions table on the prediction: "dont" -> "don't" matches a human "don't".
  CHECK(vqa_question_accuracy("dont know", answers({{"don't know", 4}, {"no", 6}})) == 1.0);
  CHECK(vqa_question_accuracy("don't know", answers({{"dont know", 4}, {"no", 6}})) == 0.0);
  // Punctuation on both sides when the human answers differ: "t-shirt" -> "t shirt" on both.
  CHECK(vqa_question_accuracy("T-shirt", answers({{"t-shirt", 4}, {"shirt", 6}})) == 1.0);
  CHECK(vqa_process_punctuation("t-shirt") == "t shirt");
  // Tabs and line breaks in the prediction become spaces, then strip.
  CHECK(vqa_question_accuracy("\tred\n", answers({{"red", 4}, {"blue", 6}})) == 1.0);
}

TEST_CASE("VQA report: overall, per question type, per answer type, rounded as Python's round(x, 2)",
          "[eval][vqa]") {
  CHECK(python_round2(2.0 / 3.0 * 100) == 66.67);
  CHECK(python_round2(0.125) == 0.12);   // an exact binary tie: to even
  CHECK(python_round2(0.375) == 0.38);
  CHECK(python_round2(2.675) == 2.67);   // 2.675 is 2.67499999... in binary
  CHECK(python_round2(100.0) == 100.0);
  const VqaReport r = vqa_report({1.0, 0.6, 0.0, 1.0 / 3.0}, {"what color is the", "how many", "how many", "is the"},
                                 {"other", "number", "number", "yes/no"});
  CHECK(r.overall == python_round2(100.0 * (1.0 + 0.6 + 0.0 + 1.0 / 3.0) / 4.0));
  CHECK(r.overall == 48.33);
  CHECK(r.per_question_type.at("what color is the") == 100.0);
  CHECK(r.per_question_type.at("how many") == 30.0);
  CHECK(r.per_question_type.at("is the") == 33.33);
  CHECK(r.per_answer_type.at("number") == 30.0);
  CHECK(r.per_answer_type.at("yes/no") == 33.33);
  CHECK(r.question_type_counts.at("how many") == 2);
  CHECK_THROWS_AS(vqa_report({1.0}, {}, {"other"}), mrnn::Error);
}
