#include "eval/vqa_accuracy.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "core/error.h"
#include "eval/split.h"

namespace mrnn::eval {
namespace {

constexpr std::string_view kPunctuation = ";/[]\"{}()=+\\_-><@`,?!";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

const std::unordered_map<std::string_view, std::string_view>& number_words() {
  static const std::unordered_map<std::string_view, std::string_view> map = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"},   {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};
  return map;
}

// The official contractions table, verbatim (including its odd entries such as
// "somebody'd" -> "somebodyd" and capitalised keys that can never match after lowercasing).
const std::unordered_map<std::string_view, std::string_view>& contractions() {
  static const std::unordered_map<std::string_view, std::string_view> map = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"},
      {"couldnt", "couldn't"}, {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
      {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"}, {"hadnt", "hadn't"},
      {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
      {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
      {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"},
      {"Id've", "I'd've"}, {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"},
      {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
      {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"},
      {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
      {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"},
      {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"},
      {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"},
      {"shed've", "she'd've"}, {"she'dve", "she'd've"}, {"she's", "she's"},
      {"shouldve", "should've"}, {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"},
      {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"},
      {"somebodyll", "somebody'll"}, {"somebodys", "somebody's"}, {"someoned", "someone'd"},
      {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"},
      {"someonell", "someone'll"}, {"someones", "someone's"}, {"somethingd", "something'd"},
      {"somethingd've", "something'd've"}, {"something'dve", "something'd've"},
      {"somethingll", "something'll"}, {"thats", "that's"}, {"thered", "there'd"},
      {"thered've", "there'd've"}, {"there'dve", "there'd've"}, {"therere", "there're"},
      {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"},
      {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"},
      {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"},
      {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
      {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"},
      {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"},
      {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"},
      {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"},
      {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
      {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"},
      {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"},
      {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"},
      {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"},
      {"youre", "you're"}, {"youve", "you've"}};
  return map;
}

std::string_view python_strip(std::string_view s) {
  while (!s.empty() && is_python_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_python_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string vqa_process_punctuation(std::string_view text) {
  bool digit_comma_digit = false;
  for (size_t i = 0; i + 2 < text.size(); ++i)
    digit_comma_digit |= is_digit(text[i]) && text[i + 1] == ',' && is_digit(text[i + 2]);

  // Per punctuation character: delete it (true) or turn it into a space (false). The tests look
  // at the original text, as the official code does.
  bool delete_char[256] = {};
  for (char p : kPunctuation) {
    bool spaced = false;
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == p && ((i + 1 < text.size() && text[i + 1] == ' ') || (i > 0 && text[i - 1] == ' ')))
        spaced = true;
    delete_char[static_cast<unsigned char>(p)] = spaced || digit_comma_digit;
  }
  std::string replaced;
  replaced.reserve(text.size());
  for (char c : text) {
    if (kPunctuation.find(c) == std::string_view::npos)
      replaced += c;
    else if (!delete_char[static_cast<unsigned char>(c)])
      replaced += ' ';
  }
  // re.sub(r"(?!<=\d)(\.)(?!\d)", "", s, 32): the first 32 periods not followed by a digit go.
  std::string out;
  out.reserve(replaced.size());
  int removed = 0;
  for (size_t i = 0; i < replaced.size(); ++i) {
    const bool followed_by_digit = i + 1 < replaced.size() && is_digit(replaced[i + 1]);
    if (replaced[i] == '.' && !followed_by_digit && removed < 32) {
      ++removed;
      continue;
    }
    out += replaced[i];
  }
  return out;
}

std::string vqa_process_digit_article(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  std::vector<std::string_view> words;
  split_whitespace(lower, words);
  std::vector<std::string_view> kept;
  for (std::string_view w : words) {
    const auto number = number_words().find(w);
    if (number != number_words().end()) w = number->second;
    if (w != "a" && w != "an" && w != "the") kept.push_back(w);
  }
  std::string out;
  for (size_t i = 0; i < kept.size(); ++i) {
    const auto expanded = contractions().find(kept[i]);
    if (i > 0) out += ' ';
    out += expanded != contractions().end() ? expanded->second : kept[i];
  }
  return out;
}

std::string vqa_normalize_prediction(std::string_view answer) {
  std::string flat(answer);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::replace(flat.begin(), flat.end(), '\t', ' ');
  return vqa_process_digit_article(vqa_process_punctuation(python_strip(flat)));
}

double vqa_question_accuracy(std::string_view predicted, const std::vector<std::string>& human_answers) {
  MRNN_CHECK(!human_answers.empty(), "VQA accuracy: no human answers (expected 10, at least 1)");
  const std::string pred = vqa_normalize_prediction(predicted);
  const bool all_same = std::all_of(human_answers.begin(), human_answers.end(),
                                    [&](const std::string& a) { return a == human_answers.front(); });
  std::vector<std::string> humans;
  humans.reserve(human_answers.size());
  for (const std::string& a : human_answers)
    humans.push_back(all_same ? a : vqa_process_punctuation(a));

  double sum = 0.0;
  for (size_t i = 0; i < humans.size(); ++i) {
    size_t matches = 0;
    for (size_t j = 0; j < humans.size(); ++j) matches += j != i && humans[j] == pred;
    sum += std::min(1.0, static_cast<double>(matches) / 3.0);
  }
  return sum / static_cast<double>(humans.size());
}

VqaAccuracy vqa_accuracy(const std::vector<std::string>& predicted,
                         const std::vector<std::vector<std::string>>& human_answers) {
  MRNN_CHECK(!predicted.empty(), "VQA accuracy: no questions (expected at least one prediction)");
  MRNN_CHECK(predicted.size() == human_answers.size(),
             "VQA accuracy: {} predictions for {} questions' human answers (expected one each)",
             predicted.size(), human_answers.size());
  VqaAccuracy out;
  out.per_question.reserve(predicted.size());
  double sum = 0.0;
  for (size_t q = 0; q < predicted.size(); ++q) {
    MRNN_CHECK(!human_answers[q].empty(), "VQA accuracy: question {} has no human answers "
               "(expected 10, at least 1)", q);
    out.per_question.push_back(vqa_question_accuracy(predicted[q], human_answers[q]));
    sum += out.per_question.back();
  }
  out.overall_percent = 100.0 * sum / static_cast<double>(predicted.size());
  return out;
}

double python_round2(double x) {
  // printf's %.2f rounds the exact binary value to the nearest decimal, ties to even (glibc), as
  // Python's round(x, 2) does; reading the text back gives the double Python prints.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return std::strtod(buf, nullptr);
}

VqaReport vqa_report(const std::vector<double>& per_question, const std::vector<std::string>& question_types,
                     const std::vector<std::string>& answer_types) {
  MRNN_CHECK(!per_question.empty() && per_question.size() == question_types.size() &&
                 per_question.size() == answer_types.size(),
             "VQA report: {} accuracies, {} question types and {} answer types (expected one each, at least one)",
             per_question.size(), question_types.size(), answer_types.size());
  std::map<std::string, double> q_sum, a_sum;
  VqaReport r;
  double total = 0;
  for (size_t i = 0; i < per_question.size(); ++i) {
    total += per_question[i];
    q_sum[question_types[i]] += per_question[i];
    a_sum[answer_types[i]] += per_question[i];
    ++r.question_type_counts[question_types[i]];
    ++r.answer_type_counts[answer_types[i]];
  }
  // Summed in question order as Python's sum() does, then 100 * sum / n as setAccuracy computes it.
  r.overall = python_round2(100.0 * total / static_cast<double>(per_question.size()));
  for (const auto& [k, v] : q_sum)
    r.per_question_type[k] = python_round2(100.0 * v / static_cast<double>(r.question_type_counts[k]));
  for (const auto& [k, v] : a_sum)
    r.per_answer_type[k] = python_round2(100.0 * v / static_cast<double>(r.answer_type_counts[k]));
  return r;
}

}  // namespace mrnn::eval
