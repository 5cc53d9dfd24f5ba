// A split's generated captions checked against the dataset's scene file (data/scene_check.h).
// Why: caption_eval and validation during training both report "scene-correct %", from one place.
#pragma once
#include <string>
#include <vector>

#include "data/scene_check.h"
#include "data/scene_file.h"
#include "models/mrnn/caption_data.h"

namespace mrnn {

// Ensures: `given` when non-empty, else X_scenes.json beside the dataset X.json when that file
// exists, else "" (the dataset has no scene file).
std::string scene_file_for(const std::string& dataset_json, const std::string& given);

// Requires: captions[i] (tokens joined by ' ') is the caption of image i of `split`, for the first
// captions.size() images. Ensures: one check per caption, each also added to *summary when given.
// Throws Error naming `scenes_name` and the image when the scene file has no scene for an image
// (looked up by file name, then by base name).
std::vector<CaptionCheck> check_split_captions(const SceneFile& scenes, const std::string& scenes_name,
                                               const CaptionSplit& split, const std::vector<std::string>& captions,
                                               SceneCheckSummary* summary = nullptr);

}  // namespace mrnn
