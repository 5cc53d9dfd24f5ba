// VQA results files in the official format, [{"question_id": 1, "answer": "red"}, ...], and the
// official accuracy report of them as JSON. Why: the VQA challenge's loader refuses results that
// do not cover exactly the questions, and scores only this format; mqa_eval writes and reads it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/vqa_accuracy.h"

namespace mrnn {

// Writes the results atomically. Requires question_ids.size() == answers.size().
void write_vqa_results(const std::string& path, const std::vector<int64_t>& question_ids,
                       const std::vector<std::string>& answers);

// Reads a results file and returns the answers in the order of question_ids. Ensures, else throws
// Error naming the file: a JSON array of objects with an integer "question_id" and a string
// "answer"; no question id twice (the first few duplicates named); every id one of question_ids
// (the first few others named); every id of question_ids present (the first few missing named).
std::vector<std::string> read_vqa_results(const std::string& path, const std::vector<int64_t>& question_ids);

// The report as JSON: {"overall", "perQuestionType": {...}, "perAnswerType": {...}, "questions",
// "questionTypeCounts", "answerTypeCounts"} (the official field names for the first three).
std::string vqa_report_json(const eval::VqaReport& report, int64_t questions);

}  // namespace mrnn
