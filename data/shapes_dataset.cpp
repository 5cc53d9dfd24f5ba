// The ShapesWorld dataset (data/shapes_world.h): options, per-split image generation, and the
// files generate_shapes_world writes (PNG images, Karpathy, NVC, RefExp, VQA and shapes_info JSON).
// Scenes themselves come from data/shapes_world.cpp.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <system_error>

#include <omp.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/shapes_language.h"
#include "data/shapes_related.h"
#include "data/shapes_render.h"
#include "data/shapes_world.h"

namespace mrnn {

// ---- the dataset -------------------------------------------------------------------------------
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using shapes::Rng;

constexpr ShapesSplit kSplits[kNumShapesSplits] = {ShapesSplit::train, ShapesSplit::val, ShapesSplit::test,
                                                   ShapesSplit::novel};
constexpr shapes::Shape kNovelShapes[2] = {shapes::Shape::star, shapes::Shape::hexagon};

std::array<int, kNumShapesSplits> split_sizes(const ShapesWorldOptions& o) {
  return {o.n_train, o.n_val, o.n_test, o.n_novel};
}

int split_offset(const ShapesWorldOptions& o, ShapesSplit split) {
  auto n = split_sizes(o);
  int off = 0;
  for (int s = 0; s < static_cast<int>(split); ++s) off += n[s];
  return off;
}

std::string image_filename(int image_id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shapes_%06d.png", image_id);
  return buf;
}

void write_atomic(const fs::path& path, const void* data, size_t size) {
  fs::path tmp = path;
  tmp += ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  MRNN_CHECK(f != nullptr, "cannot write '{}': {}", tmp.string(),
             std::error_code(errno, std::generic_category()).message());
  size_t written = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  bool ok = written == size && std::fflush(f) == 0;
  ok = (std::fclose(f) == 0) && ok;
  MRNN_CHECK(ok, "cannot write '{}': short write ({} of {} bytes)", tmp.string(), written, size);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  MRNN_CHECK(!ec, "cannot rename '{}' to '{}': {}", tmp.string(), path.string(), ec.message());
}

void write_json(const fs::path& path, const json& j) {
  std::string text = j.dump();
  text += '\n';
  write_atomic(path, text.data(), text.size());
}

double round2(double v) { return std::round(v * 100.0) / 100.0; }

json box_json(const shapes::Box& b) { return json::array({b.x, b.y, b.w, b.h}); }

json karpathy_image(const ShapesImage& im, const std::string& split) {
  json sentences = json::array(), sentids = json::array();
  const int n = static_cast<int>(im.captions.size());
  for (int k = 0; k < n; ++k) {
    int sentid = im.image_id * n + k;
    sentids.push_back(sentid);
    sentences.push_back({{"tokens", shapes::words_of(im.captions[k])},
                         {"raw", im.captions[k]},
                         {"imgid", im.image_id},
                         {"sentid", sentid}});
  }
  return {{"filename", im.filename},
          {"imgid", im.image_id},
          {"split", split},
          {"sentids", sentids},
          {"sentences", sentences}};
}

json region_json(const std::vector<shapes::RegionCandidate>& regions) {
  json out = json::array();
  for (const auto& r : regions)
    out.push_back({{"bounding_box", box_json(r.box)}, {"predicted_object_name", r.name}});
  return out;
}

json refexp_file(const std::vector<const ShapesImage*>& image_list) {
  json j_images = json::object(), j_anns = json::object(), j_refs = json::object();
  for (const ShapesImage* image : image_list) {
    const ShapesImage& im = *image;
    json regions = region_json(im.regions);
    j_images[std::to_string(im.image_id)] = {{"file_name", im.filename},
                                             {"height", im.scene.height},
                                             {"width", im.scene.width},
                                             {"image_id", im.image_id},
                                             {"region_candidates", regions}};
    for (int i = 0; i < static_cast<int>(im.scene.objects.size()); ++i) {
      const shapes::Object& o = im.scene.objects[i];
      const int ann_id = im.image_id * 10 + i;
      json seg = json::array();
      double area2 = 0;
      auto outline = shapes::unit_outline(o.shape);
      for (size_t v = 0; v < outline.size(); ++v) {
        seg.push_back(round2(o.cx + o.radius * outline[v].first));
        seg.push_back(round2(o.cy + o.radius * outline[v].second));
        const auto& a = outline[v];
        const auto& b = outline[(v + 1) % outline.size()];
        area2 += a.first * b.second - b.first * a.second;
      }
      json ref_ids = json::array();
      for (int k = 0; k < static_cast<int>(im.refexps[i].size()); ++k) {
        const int ref_id = ann_id * 10 + k;
        ref_ids.push_back(ref_id);
        std::vector<std::string> tokens = shapes::words_of(im.refexps[i][k]);
        json amods = json::array();
        for (const std::string& t : tokens)
          if (t == shapes::name(o.size) || t == shapes::name(o.color)) amods.push_back(t);
        j_refs[std::to_string(ref_id)] = {
            {"refexp_id", ref_id},
            {"raw", im.refexps[i][k]},
            {"tokens", tokens},
            {"parse", {{"referent", {{"word", shapes::name(o.shape)}, {"amods", amods}}}}}};
      }
      j_anns[std::to_string(ann_id)] = {
          {"annotation_id", ann_id},
          {"image_id", im.image_id},
          {"category_id", static_cast<int>(o.shape) + 1},
          {"bbox", box_json(o.box)},
          {"area", round2(std::fabs(area2) / 2 * o.radius * o.radius)},
          {"iscrowd", 0},
          {"segmentation", json::array({seg})},
          {"refexp_ids", ref_ids},
          {"region_candidates", regions}};
    }
  }
  json cats = json::array();
  for (int s = 0; s < shapes::kNumShapes; ++s)
    cats.push_back({{"id", s + 1}, {"name", shapes::name(static_cast<shapes::Shape>(s))}, {"supercategory", "shape"}});
  return {{"images", j_images}, {"annotations", j_anns}, {"refexps", j_refs}, {"categories", cats}};
}

json vqa_info(const ShapesWorldOptions& o) {
  return {{"description", "ShapesWorld synthetic visual questions (mrnn)"},
          {"version", "1.0"},
          {"contributor", "mrnn ShapesWorld generator"},
          {"url", ""},
          {"seed", o.seed}};
}

json vqa_license() {
  return {{"name", "CC0 1.0 (generated data)"}, {"url", "https://creativecommons.org/publicdomain/zero/1.0/"}};
}

json vqa_questions(const ShapesWorldOptions& o, const std::string& split,
                   const std::vector<const ShapesImage*>& images) {
  json qs = json::array();
  for (const ShapesImage* im : images)
    for (int k = 0; k < static_cast<int>(im->questions.size()); ++k)
      qs.push_back({{"image_id", im->image_id}, {"question", im->questions[k].question},
                    {"question_id", im->image_id * 10 + k}});
  return {{"info", vqa_info(o)},      {"task_type", "Open-Ended"}, {"data_type", "shapes"},
          {"license", vqa_license()}, {"data_subtype", split},     {"questions", std::move(qs)}};
}

json vqa_annotations(const ShapesWorldOptions& o, const std::string& split,
                     const std::vector<const ShapesImage*>& images) {
  json as = json::array();
  for (const ShapesImage* im : images) {
    for (int k = 0; k < static_cast<int>(im->questions.size()); ++k) {
      const shapes::Question& q = im->questions[k];
      json answers = json::array();
      for (int a = 1; a <= 10; ++a)
        answers.push_back({{"answer", q.answer}, {"answer_confidence", "yes"}, {"answer_id", a}});
      as.push_back({{"question_id", im->image_id * 10 + k},
                    {"image_id", im->image_id},
                    {"question_type", q.question_type},
                    {"answer_type", q.answer_type},
                    {"multiple_choice_answer", q.answer},
                    {"answers", std::move(answers)},
                    {"answer_sentence", q.answer_sentence},
                    {"question_category", q.category}});
    }
  }
  return {{"info", vqa_info(o)},   {"license", vqa_license()}, {"data_type", "shapes"},
          {"data_subtype", split}, {"annotations", std::move(as)}};
}

json nvc_file(const ShapesWorldOptions& o, const std::vector<const ShapesImage*>& novel) {
  json images = json::array(), concepts = json::array(), words = json::array();
  std::array<int, 2> per_concept{};
  for (const ShapesImage* im : novel) per_concept[im->index_in_split % 2]++;
  std::array<json, 2> imgids = {json::array(), json::array()};
  for (const ShapesImage* image : novel) {
    const ShapesImage& im = *image;
    const int c = im.index_in_split % 2, q = im.index_in_split / 2;
    const int n_train = static_cast<int>(std::lround(o.novel_train_fraction * per_concept[c]));
    json entry = karpathy_image(im, q < n_train ? "train" : "test");
    entry["concept"] = shapes::name(kNovelShapes[c]);
    images.push_back(entry);
    imgids[c].push_back(im.image_id);
  }
  for (int c = 0; c < 2; ++c) {
    words.push_back(shapes::name(kNovelShapes[c]));
    concepts.push_back({{"word", shapes::name(kNovelShapes[c])},
                        {"plural", shapes::plural(kNovelShapes[c])},
                        {"imgids", imgids[c]}});
  }
  return {{"dataset", "shapes_nvc"}, {"novel_words", words}, {"concepts", concepts}, {"images", images}};
}

// The scene file (data/scene_file.h): every image's objects with their words and boxes, and the
// location bands location_of uses, so captions can be checked claim by claim.
json scene_file(const std::vector<const ShapesImage*>& images) {
  json shapes_words = json::object(), colors = json::array(), sizes = json::array();
  for (int s = 0; s < shapes::kNumShapes; ++s) {
    const auto shape = static_cast<shapes::Shape>(s);
    shapes_words[shapes::name(shape)] = shapes::plural(shape);
  }
  for (int c = 0; c < shapes::kNumColors; ++c) colors.push_back(shapes::name(static_cast<shapes::Color>(c)));
  for (int z = 0; z < shapes::kNumSizes; ++z) sizes.push_back(shapes::name(static_cast<shapes::Size>(z)));
  json list = json::array();
  for (const ShapesImage* im : images) {
    json objects = json::array();
    for (const shapes::Object& o : im->scene.objects)
      objects.push_back({{"shape", shapes::name(o.shape)},
                         {"color", shapes::name(o.color)},
                         {"size", shapes::name(o.size)},
                         {"bbox", {o.box.x, o.box.y, o.box.w, o.box.h}}});
    list.push_back({{"file_name", im->filename},
                    {"image_id", im->image_id},
                    {"split", split_name(im->split)},
                    {"width", im->scene.width},
                    {"height", im->scene.height},
                    {"objects", std::move(objects)}});
  }
  return json{{"vocabulary", {{"shapes", shapes_words}, {"colors", colors}, {"sizes", sizes}}},
              {"locations",
               {{"left", shapes::kLocationBands.left},
                {"right", shapes::kLocationBands.right},
                {"top", shapes::kLocationBands.top},
                {"bottom", shapes::kLocationBands.bottom},
                {"middle", shapes::kLocationBands.middle}}},
              {"images", std::move(list)}};
}

}  // namespace

const char* split_name(ShapesSplit s) {
  static const char* names[kNumShapesSplits] = {"train", "val", "test", "novel"};
  return names[static_cast<int>(s)];
}

void validate(const ShapesWorldOptions& o) {
  MRNN_CHECK(o.n_train >= 0 && o.n_val >= 0 && o.n_test >= 0 && o.n_novel >= 0,
             "ShapesWorldOptions: split sizes must be >= 0, got train {} val {} test {} novel {}", o.n_train,
             o.n_val, o.n_test, o.n_novel);
  MRNN_CHECK(static_cast<int64_t>(o.n_train) + o.n_val + o.n_test + o.n_novel <= 999999,
             "ShapesWorldOptions: at most 999999 images in total (6-digit file names)");
  MRNN_CHECK(o.image_size >= 32 && o.image_size <= 1024, "ShapesWorldOptions.image_size must be in [32, 1024], got {}",
             o.image_size);
  MRNN_CHECK(o.min_objects >= 1 && o.min_objects <= o.max_objects && o.max_objects <= 4,
             "ShapesWorldOptions.min_objects/max_objects must satisfy 1 <= min <= max <= 4, got {} and {}",
             o.min_objects, o.max_objects);
  MRNN_CHECK(o.captions_per_image >= 1 && o.captions_per_image <= 9,
             "ShapesWorldOptions.captions_per_image must be in [1, 9], got {}", o.captions_per_image);
  MRNN_CHECK(o.refexps_per_object >= 1 && o.refexps_per_object <= 9,
             "ShapesWorldOptions.refexps_per_object must be in [1, 9], got {}", o.refexps_per_object);
  MRNN_CHECK(o.questions_per_image >= 1 && o.questions_per_image <= 9,
             "ShapesWorldOptions.questions_per_image must be in [1, 9], got {}", o.questions_per_image);
  MRNN_CHECK(o.noise >= 0 && o.noise <= 32, "ShapesWorldOptions.noise must be in [0, 32], got {}", o.noise);
  MRNN_CHECK(o.novel_train_fraction >= 0.0 && o.novel_train_fraction <= 1.0,
             "ShapesWorldOptions.novel_train_fraction must be in [0, 1], got {}", o.novel_train_fraction);
  MRNN_CHECK(o.threads >= 0, "ShapesWorldOptions.threads must be >= 0, got {}", o.threads);
}

uint64_t shapes_image_seed(uint64_t seed, ShapesSplit split, int index) {
  return Rng(seed).child(1000 + static_cast<uint64_t>(split)).child(static_cast<uint64_t>(index)).key();
}

ShapesImage make_shapes_image(const ShapesWorldOptions& o, ShapesSplit split, int index) {
  const int n = split_sizes(o)[static_cast<int>(split)];
  MRNN_CHECK(index >= 0 && index < n, "make_shapes_image: index {} out of range for split '{}' of {} images",
             index, split_name(split), n);
  ShapesImage im;
  im.split = split;
  im.index_in_split = index;
  im.image_id = split_offset(o, split) + index;
  im.filename = image_filename(im.image_id);
  const Rng root(shapes_image_seed(o.seed, split, index));
  shapes::SceneOptions so;
  so.image_size = o.image_size;
  so.min_objects = o.min_objects;
  so.max_objects = o.max_objects;
  so.noise = o.noise;
  if (split == ShapesSplit::novel) so.novel_shape = kNovelShapes[index % 2];
  im.scene = shapes::generate_scene(root.child(0).key(), so);
  im.captions = shapes::describe_scene(im.scene, root.child(1).key(), o.captions_per_image);
  im.refexps = shapes::refer_to_objects(im.scene, o.refexps_per_object);
  im.regions = shapes::region_candidates(im.scene, root.child(2).key());
  im.questions = shapes::ask_questions(im.scene, root.child(3).key(), o.questions_per_image);
  return im;
}

ShapesWorldSummary generate_shapes_world(const ShapesWorldOptions& o, const std::string& out_dir) {
  validate(o);
  const fs::path root(out_dir);
  std::error_code ec;
  fs::create_directories(root / "images", ec);
  MRNN_CHECK(!ec && fs::is_directory(root / "images"), "cannot create output folder '{}': {}",
             (root / "images").string(), ec ? ec.message() : "not a directory");

  const auto sizes = split_sizes(o);
  const int total = sizes[0] + sizes[1] + sizes[2] + sizes[3];
  std::vector<ShapesImage> images(total);
  std::vector<std::pair<ShapesSplit, int>> where;
  where.reserve(total);
  for (ShapesSplit s : kSplits)
    for (int i = 0; i < sizes[static_cast<int>(s)]; ++i) where.emplace_back(s, i);

  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  constexpr int kBatch = 256;
  for (int start = 0; start < total; start += kBatch) {
    const int end = std::min(total, start + kBatch);
    std::string error;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (int i = start; i < end; ++i) {
      try {
        ShapesImage im = make_shapes_image(o, where[i].first, where[i].second);
        std::vector<uint8_t> png = shapes::encode_png(shapes::render_scene(im.scene));
        write_atomic(root / "images" / im.filename, png.data(), png.size());
        images[i] = std::move(im);
      } catch (const std::exception& e) {
#pragma omp critical(shapes_world_error)
        if (error.empty()) error = e.what();
      }
    }
    if (!error.empty()) throw Error(error);
    if (o.progress) o.progress(end, total);
  }

  ShapesWorldSummary summary;
  summary.images = sizes;
  std::array<std::vector<const ShapesImage*>, kNumShapesSplits> by_split;
  std::vector<const ShapesImage*> all;
  for (const ShapesImage& im : images) {
    summary.captions += static_cast<int64_t>(im.captions.size());
    for (const auto& r : im.refexps) summary.refexps += static_cast<int64_t>(r.size());
    summary.questions += static_cast<int64_t>(im.questions.size());
    all.push_back(&im);
    by_split[static_cast<int>(im.split)].push_back(&im);
  }

  // The JSON files are independent: build and write them in parallel (the order of the file list
  // is fixed, so the summary and the files stay deterministic).
  std::vector<std::pair<std::string, std::function<json()>>> jobs;
  jobs.emplace_back("dataset_shapes.json", [&] {
    json list = json::array();
    // Karpathy files know only train/val/test/restval: the novel images live in the NVC file.
    for (const ShapesImage* im : all)
      if (im->split != ShapesSplit::novel) list.push_back(karpathy_image(*im, split_name(im->split)));
    return json{{"images", std::move(list)}, {"dataset", "shapes"}};
  });
  jobs.emplace_back("dataset_shapes_scenes.json", [&] { return scene_file(all); });
  jobs.emplace_back("dataset_shapes_nvc.json",
                    [&] { return nvc_file(o, by_split[static_cast<int>(ShapesSplit::novel)]); });
  for (ShapesSplit s : kSplits) {
    const std::string split = split_name(s);
    const auto& ims = by_split[static_cast<int>(s)];
    jobs.emplace_back("google_refexp_" + split + "_shapes_coco_aligned.json", [&ims] { return refexp_file(ims); });
    jobs.emplace_back("v2_OpenEnded_shapes_" + split + "_questions.json",
                      [&o, &ims, split] { return vqa_questions(o, split, ims); });
    jobs.emplace_back("v2_shapes_" + split + "_annotations.json",
                      [&o, &ims, split] { return vqa_annotations(o, split, ims); });
  }
  {  // the related-phrase test (data/shapes_related.h): truth from the rendered world
    const std::string tsv = shapes::related_items_tsv(o.image_size);
    write_atomic(root / "dataset_shapes_related_pairs.tsv", tsv.data(), tsv.size());
  }
  std::string error;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int k = 0; k < static_cast<int>(jobs.size()); ++k) {
    try {
      write_json(root / jobs[k].first, jobs[k].second());
    } catch (const std::exception& e) {
#pragma omp critical(shapes_world_error)
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) throw Error(error);
  for (const auto& job : jobs) summary.files.push_back(job.first);
  summary.files.push_back("dataset_shapes_related_pairs.tsv");

  const std::vector<std::string> vocab = shapes::shapes_vocabulary();
  summary.vocabulary_size = static_cast<int>(vocab.size());
  json split_json = json::object(), shape_names = json::array(), color_names = json::array();
  for (ShapesSplit s : kSplits) split_json[split_name(s)] = sizes[static_cast<int>(s)];
  for (int s = 0; s < shapes::kNumShapes; ++s) shape_names.push_back(shapes::name(static_cast<shapes::Shape>(s)));
  for (int c = 0; c < shapes::kNumColors; ++c) color_names.push_back(shapes::name(static_cast<shapes::Color>(c)));
  summary.files.push_back("shapes_info.json");
  json info = {{"dataset", "shapes"},
               {"format_version", 1},
               {"seed", o.seed},
               {"image_size", o.image_size},
               {"objects_per_image", json::array({o.min_objects, o.max_objects})},
               {"captions_per_image", o.captions_per_image},
               {"refexps_per_object", o.refexps_per_object},
               {"questions_per_image", o.questions_per_image},
               {"noise", o.noise},
               {"novel_train_fraction", o.novel_train_fraction},
               {"splits", split_json},
               {"image_folder", "images"},
               {"shapes", shape_names},
               {"novel_shapes", json::array({shapes::name(kNovelShapes[0]), shapes::name(kNovelShapes[1])})},
               {"colors", color_names},
               {"sizes", json::array({shapes::name(shapes::Size::small), shapes::name(shapes::Size::large)})},
               {"vocabulary", vocab},
               {"files", summary.files}};
  write_json(root / "shapes_info.json", info);
  return summary;
}

}  // namespace mrnn
