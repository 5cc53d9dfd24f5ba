// A VQA v1/v2-format pair of files (questions + annotations) and an image folder, read for mQA:
// tokenized questions and answers, the human answers and types for scoring, and the images decoded
// once each. Why here: every mQA program reads its data this one way, with the same checks.
//
// Images: a VQA file names images only by image_id. The file of image N is the one image file
// (.png, .jpg, .jpeg, .bmp) in the folder whose name's last run of digits is the number N, which
// fits COCO (COCO_val2014_000000000042.jpg) and any zero-padded numbering (img_000042.png).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "data/vqa.h"
#include "models/mqa/mqa.h"

namespace mrnn {

struct MqaDataOptions {
  std::string images_dir;        // "" : no images at all (scoring a results file): image_row -1
  // Or precomputed features: .npy [N, D] (any float type) with feature_ids, a text file of N lines,
  // line i the image_id of row i (extract_features --questions writes both). Excludes images_dir.
  std::string features, feature_ids;
  int64_t image_size = 64;
  TokenizerMode tokenizer = TokenizerMode::word;
  std::string answers = "word";  // word: multiple_choice_answer | sentence: answer_sentence
  int64_t max_questions = 0;     // only the first N questions of the file (0 = all)
  int64_t max_words = 30;        // questions and answers are cut to this many tokens
  bool load_images = true;       // false: only check that every image file exists
};

struct MqaSplit {
  std::string name;  // the questions file, for messages
  std::vector<int64_t> question_ids, image_ids;
  std::vector<std::string> questions;                    // raw text
  std::vector<std::vector<std::string>> question_words;  // tokens
  std::vector<std::vector<std::string>> answer_words;    // tokens of the training answer (word or sentence)
  std::vector<std::vector<int32_t>> question_ids_tok, answer_ids_tok;  // filled by encode_split
  std::vector<std::vector<std::string>> human_answers;   // the annotation's answers, raw
  std::vector<std::string> mc_answers;                   // multiple_choice_answer
  std::vector<std::string> question_types, answer_types, answer_sentences;
  std::vector<int64_t> image_row;                        // question -> row of images / image_paths
  std::vector<std::string> image_paths;                  // distinct images, first-use order ("features row N" with features)
  Tensor images;                                         // f32 [U, 3, S, S] (load_images), or features [U, D]
  int64_t size() const { return static_cast<int64_t>(question_ids.size()); }
};

// The image files of a folder by the number their name ends in (see the header comment).
class ImageIndex {
 public:
  // Throws Error naming dir when it is not a readable folder.
  explicit ImageIndex(const std::string& dir);
  // The file of image `id`. Throws Error naming the question, the image id and the folder when no
  // file (or more than one) carries that number.
  std::string path(int64_t image_id, int64_t question_id) const;

 private:
  std::string dir_;
  std::map<int64_t, std::vector<std::string>> files_;
};

// Requires nothing of the files. Ensures, else throws Error naming the file and what is wrong:
// both files parse (data/vqa.h: every annotation has at least one answer, ...); the question ids of
// the two files are the same set (the first few ids only in one of them are named); every
// question's image exists in options.images_dir (or has a row in options.features: the ids file has
// one integer per line, no id twice, as many lines as the .npy has rows); with answers = sentence
// every annotation has an answer_sentence; every question and training answer has at least one token.
MqaSplit load_mqa_split(const std::string& questions_path, const std::string& annotations_path,
                        const MqaDataOptions& options);

// Fills question_ids_tok / answer_ids_tok (unknown words -> <unk>).
void encode_split(MqaSplit& split, const Vocab& vocab);
// A vocabulary from the split's question and answer tokens (data/vocab.h Vocab::build).
Vocab build_mqa_vocab(const MqaSplit& split, int64_t min_count);

// The questions of `rows` as a padded batch (models/mqa/mqa.h).
QuestionBatch question_batch(const std::vector<std::vector<int32_t>>& questions, const std::vector<int64_t>& rows);
// Teacher-forcing tensors for the answers of `rows`: inputs <bos> a.. <pad>.., targets a.. <eos> <pad>..
void answer_batch(const MqaSplit& split, const std::vector<int64_t>& rows, Tensor* inputs, Tensor* targets);
// The distinct image rows of `rows` (i64 [U]) and each row's position among them (i64 [B]).
void image_rows(const MqaSplit& split, const std::vector<int64_t>& rows, Tensor* distinct, Tensor* position);

// Joins answer tokens into the answer text: with spaces (word tokenizer), or without spaces except
// between two ASCII tokens (char tokenizer, e.g. Chinese).
std::string join_answer(const std::vector<std::string>& tokens, TokenizerMode mode);

}  // namespace mrnn
