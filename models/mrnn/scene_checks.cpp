#include "models/mrnn/scene_checks.h"

#include <filesystem>

#include "core/error.h"

namespace mrnn {

std::string scene_file_for(const std::string& dataset_json, const std::string& given) {
  if (!given.empty()) return given;
  const std::filesystem::path p(dataset_json);
  const std::filesystem::path guess = p.parent_path() / (p.stem().string() + "_scenes.json");
  std::error_code ec;
  return std::filesystem::is_regular_file(guess, ec) ? guess.string() : "";
}

std::vector<CaptionCheck> check_split_captions(const SceneFile& scenes, const std::string& scenes_name,
                                               const CaptionSplit& split, const std::vector<std::string>& captions,
                                               SceneCheckSummary* summary) {
  MRNN_CHECK(captions.size() <= split.file_names.size(), "check_split_captions: {} captions for a split of {} images",
             captions.size(), split.file_names.size());
  std::vector<CaptionCheck> out;
  out.reserve(captions.size());
  for (size_t i = 0; i < captions.size(); ++i) {
    const std::string& name = split.file_names[i];
    const SceneImage* scene = scenes.find(name);
    if (!scene) scene = scenes.find(std::filesystem::path(name).filename().string());
    if (!scene) throw Error(scenes_name + ": images: no scene for image '" + name + "' of the evaluated split");
    std::vector<std::string> words;
    const std::string& c = captions[i];
    for (size_t a = 0, b; a < c.size(); a = b + 1) {
      b = c.find(' ', a);
      if (b == std::string::npos) b = c.size();
      if (b > a) words.push_back(c.substr(a, b - a));
    }
    out.push_back(check_caption(words, *scene, scenes.vocabulary));
    if (summary) add(*summary, out.back());
  }
  return out;
}

}  // namespace mrnn
