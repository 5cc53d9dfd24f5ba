#include "models/mqa/mqa_data.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/error.h"
#include "data/id_lines.h"
#include "kernels/ops.h"
#include "models/mrnn/caption_data.h"

namespace mrnn {

namespace fs = std::filesystem;

namespace {

bool image_extension(std::string ext) {
  for (char& c : ext)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The number a file stem ends in (its last run of ASCII digits), or -1.
int64_t trailing_number(const std::string& stem) {
  size_t end = stem.find_last_of("0123456789");
  if (end == std::string::npos) return -1;
  size_t begin = end;
  while (begin > 0 && stem[begin - 1] >= '0' && stem[begin - 1] <= '9') --begin;
  const std::string digits = stem.substr(begin, end - begin + 1);
  if (digits.size() > 18) return -1;
  return std::stoll(digits);
}

std::string first_ids(const std::vector<int64_t>& ids) {
  std::vector<int64_t> head(ids.begin(), ids.begin() + std::min<size_t>(ids.size(), 5));
  return fmt::format("{}{}", fmt::join(head, ", "), ids.size() > 5 ? fmt::format(" (and {} more)", ids.size() - 5) : "");
}

}  // namespace

ImageIndex::ImageIndex(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  MRNN_CHECK(fs::is_directory(dir, ec), "--images {}: not a folder", dir);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !image_extension(it->path().extension().string())) continue;
    const int64_t id = trailing_number(it->path().stem().string());
    if (id >= 0) files_[id].push_back(it->path().string());
  }
  MRNN_CHECK(!ec, "--images {}: cannot list the folder: {}", dir, ec.message());
  for (auto& [id, paths] : files_) std::sort(paths.begin(), paths.end());
}

std::string ImageIndex::path(int64_t image_id, int64_t question_id) const {
  const auto it = files_.find(image_id);
  MRNN_CHECK(it != files_.end(),
             "question {}: its image {} is missing: no image file in {} whose name ends in the number {} "
             "(e.g. img_{:06d}.png or COCO_val2014_{:012d}.jpg)",
             question_id, image_id, dir_, image_id, image_id, image_id);
  MRNN_CHECK(it->second.size() == 1, "question {}: image {} is ambiguous: {} files in {} end in that number ({}, {})",
             question_id, image_id, it->second.size(), dir_, it->second[0], it->second[1]);
  return it->second.front();
}

MqaSplit load_mqa_split(const std::string& questions_path, const std::string& annotations_path,
                        const MqaDataOptions& o) {
  MRNN_CHECK(o.answers == "word" || o.answers == "sentence", "answers must be word or sentence, got '{}'", o.answers);
  const VqaQuestions qs = load_vqa_questions(questions_path);
  const VqaAnnotations as = load_vqa_annotations(annotations_path);
  // The two files must cover the same question ids: name the first few that only one file has.
  std::unordered_set<int64_t> q_ids, a_ids;
  for (const auto& q : qs.questions) q_ids.insert(q.question_id);
  for (const auto& a : as.annotations) a_ids.insert(a.question_id);
  std::vector<int64_t> only_q, only_a;
  for (const auto& q : qs.questions)
    if (!a_ids.count(q.question_id)) only_q.push_back(q.question_id);
  for (const auto& a : as.annotations)
    if (!q_ids.count(a.question_id)) only_a.push_back(a.question_id);
  MRNN_CHECK(only_q.empty() && only_a.empty(),
             "{} and {} do not hold the same question ids: {} question ids have no annotation{}{}; {} annotation ids "
             "have no question{}{}",
             questions_path, annotations_path, only_q.size(), only_q.empty() ? "" : ": ", first_ids(only_q),
             only_a.size(), only_a.empty() ? "" : ": ", first_ids(only_a));
  MRNN_CHECK(!qs.questions.empty(), "{}: no questions", questions_path);
  std::vector<VqaExample> ex = join_vqa(qs, as);
  if (o.max_questions > 0 && static_cast<int64_t>(ex.size()) > o.max_questions) ex.resize(o.max_questions);

  MRNN_CHECK(o.features.empty() == o.feature_ids.empty(), "give both a features file and its feature ids, or neither");
  MRNN_CHECK(o.features.empty() || o.images_dir.empty(), "give an image folder or a features file, not both");
  std::unique_ptr<ImageIndex> index;
  if (!o.images_dir.empty()) index = std::make_unique<ImageIndex>(o.images_dir);
  Tensor feats;
  std::unordered_map<int64_t, int64_t> feature_row;  // image id -> row of feats
  if (!o.features.empty()) {
    const std::vector<int64_t> ids = read_id_lines(o.feature_ids);
    feats = read_feature_rows(o.features, static_cast<int64_t>(ids.size()), o.feature_ids);
    for (size_t r = 0; r < ids.size(); ++r) feature_row[ids[r]] = static_cast<int64_t>(r);
  }
  std::vector<int64_t> used_rows;  // features: the row of each distinct image
  MqaSplit s;
  s.name = questions_path;
  std::unordered_map<std::string, int64_t> row_of;
  auto cut = [&](std::vector<std::string> t) {
    if (static_cast<int64_t>(t.size()) > o.max_words) t.resize(o.max_words);
    return t;
  };
  for (const VqaExample& e : ex) {
    const int64_t qid = e.question.question_id;
    const VqaAnnotation& a = e.annotation;
    std::vector<std::string> qw = cut(tokenize(e.question.question, o.tokenizer));
    MRNN_CHECK(!qw.empty(), "{}: question {} (\"{}\") has no words after tokenization", questions_path, qid,
               e.question.question);
    std::string target = a.multiple_choice_answer;
    if (o.answers == "sentence") {
      MRNN_CHECK(!a.answer_sentence.empty(),
                 "{}: question {} has no \"answer_sentence\" (--answers sentence needs one in every annotation)",
                 annotations_path, qid);
      target = a.answer_sentence;
    }
    std::vector<std::string> aw = cut(tokenize(target, o.tokenizer));
    MRNN_CHECK(!aw.empty(), "{}: the answer of question {} (\"{}\") has no words after tokenization", annotations_path,
               qid, target);
    int64_t row = -1;
    if (index || feats.defined()) {
      std::string key;
      if (index) {
        key = index->path(e.question.image_id, qid);
      } else {
        const auto f = feature_row.find(e.question.image_id);
        MRNN_CHECK(f != feature_row.end(), "question {}: its image {} has no row in {} (the ids of {})", qid,
                   e.question.image_id, o.feature_ids, o.features);
        key = fmt::format("{} row {}", o.features, f->second);
      }
      auto [it, fresh] = row_of.emplace(key, static_cast<int64_t>(s.image_paths.size()));
      if (fresh) {
        s.image_paths.push_back(key);
        if (!index) used_rows.push_back(feature_row.at(e.question.image_id));
      }
      row = it->second;
    }
    s.question_ids.push_back(qid);
    s.image_ids.push_back(e.question.image_id);
    s.questions.push_back(e.question.question);
    s.question_words.push_back(std::move(qw));
    s.answer_words.push_back(std::move(aw));
    std::vector<std::string> humans;
    for (const VqaAnswer& h : a.answers) humans.push_back(h.answer);
    s.human_answers.push_back(std::move(humans));
    s.mc_answers.push_back(a.multiple_choice_answer);
    s.question_types.push_back(a.question_type);
    s.answer_types.push_back(a.answer_type);
    s.answer_sentences.push_back(a.answer_sentence);
    s.image_row.push_back(row);
  }
  if (feats.defined()) s.images = index_select(feats, Tensor::from_vector(used_rows)).contiguous();
  if (o.load_images && index) {
    const int64_t S = o.image_size, U = static_cast<int64_t>(s.image_paths.size());
    std::vector<float> pixels(static_cast<size_t>(U * 3 * S * S));
    std::vector<std::string> errors(static_cast<size_t>(U));
#pragma omp parallel for schedule(static)
    for (int64_t u = 0; u < U; ++u) {
      try {
        std::vector<float> p = load_image_chw(s.image_paths[u], S);
        std::copy(p.begin(), p.end(), pixels.begin() + u * 3 * S * S);
      } catch (const std::exception& e) {
        errors[u] = e.what();
      }
    }
    for (const std::string& e : errors) MRNN_CHECK(e.empty(), "{}", e);
    s.images = Tensor::from_vector(pixels, {U, 3, S, S});
  }
  return s;
}

void encode_split(MqaSplit& split, const Vocab& vocab) {
  split.question_ids_tok.clear();
  split.answer_ids_tok.clear();
  for (const auto& q : split.question_words) split.question_ids_tok.push_back(vocab.encode(q));
  for (const auto& a : split.answer_words) split.answer_ids_tok.push_back(vocab.encode(a));
}

Vocab build_mqa_vocab(const MqaSplit& split, int64_t min_count) {
  std::vector<std::vector<std::string>> sents = split.question_words;
  sents.insert(sents.end(), split.answer_words.begin(), split.answer_words.end());
  return Vocab::build(sents, min_count);
}

QuestionBatch question_batch(const std::vector<std::vector<int32_t>>& questions, const std::vector<int64_t>& rows) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t T = 1;
  for (int64_t r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(questions.at(r).size()));
  std::vector<int64_t> ids(static_cast<size_t>(B * T), kPadId);
  std::vector<float> mask(static_cast<size_t>(B * T), 0.f);
  for (int64_t b = 0; b < B; ++b) {
    const auto& q = questions.at(rows[b]);
    for (size_t t = 0; t < q.size(); ++t) {
      ids[b * T + t] = q[t];
      mask[b * T + t] = 1.f;
    }
  }
  return {Tensor::from_vector(ids, {B, T}), Tensor::from_vector(mask, {B, T})};
}

void answer_batch(const MqaSplit& split, const std::vector<int64_t>& rows, Tensor* inputs, Tensor* targets) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t T = 1;
  for (int64_t r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(split.answer_ids_tok.at(r).size()) + 1);
  std::vector<int64_t> in(static_cast<size_t>(B * T), kPadId), out(static_cast<size_t>(B * T), kPadId);
  for (int64_t b = 0; b < B; ++b) {
    const auto& a = split.answer_ids_tok.at(rows[b]);
    in[b * T] = kBosId;
    for (size_t t = 0; t < a.size(); ++t) {
      in[b * T + t + 1] = a[t];
      out[b * T + t] = a[t];
    }
    out[b * T + a.size()] = kEosId;
  }
  *inputs = Tensor::from_vector(in, {B, T});
  *targets = Tensor::from_vector(out, {B, T});
}

void image_rows(const MqaSplit& split, const std::vector<int64_t>& rows, Tensor* distinct, Tensor* position) {
  std::vector<int64_t> uniq, pos;
  std::unordered_map<int64_t, int64_t> at;
  for (int64_t r : rows) {
    const int64_t img = split.image_row.at(r);
    auto [it, fresh] = at.emplace(img, static_cast<int64_t>(uniq.size()));
    if (fresh) uniq.push_back(img);
    pos.push_back(it->second);
  }
  *distinct = Tensor::from_vector(uniq);
  *position = Tensor::from_vector(pos);
}

std::string join_answer(const std::vector<std::string>& tokens, TokenizerMode mode) {
  auto ascii = [](const std::string& t) {
    return std::all_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  };
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const bool space = i > 0 && (mode == TokenizerMode::word || (ascii(tokens[i - 1]) && ascii(tokens[i])));
    out += (space ? " " : "") + tokens[i];
  }
  return out;
}

}  // namespace mrnn
