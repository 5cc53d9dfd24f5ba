#include "data/nvc.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "data/json_util.h"
#include "data/sentence_json.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

std::vector<const NvcImage*> NvcDataset::images_of(std::string_view concept_name,
                                                   Split split) const {
  std::vector<const NvcImage*> out;
  for (const auto& img : images)
    if (img.concept_name == concept_name && img.split == split) out.push_back(&img);
  return out;
}


NvcDataset parse_nvc(std::string_view json_text, const std::string& name,
                     const NvcOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  NvcDataset out;
  if (const Json* v = jsonio::find(doc, "version")) out.version = jsonio::string(*v, root.key("version"));
  const Where concepts_at = root.key("concepts");
  const Json* concepts = jsonio::find(doc, "concepts");  // absent: the images' concepts
  if (concepts) {
    out.concepts = jsonio::string_array(*concepts, concepts_at);
    if (out.concepts.empty()) jsonio::fail(concepts_at, "expected at least one concept, found none");
  }
  std::unordered_set<std::string> concept_set;
  for (std::size_t k = 0; k < out.concepts.size(); ++k) {
    if (out.concepts[k].find_first_not_of(" \t\r\n") == std::string::npos)
      jsonio::fail(concepts_at.index(k), "empty concept name");
    if (!concept_set.insert(out.concepts[k]).second)
      jsonio::fail(concepts_at.index(k), "duplicate concept \"" + out.concepts[k] + "\"");
  }

  const Where images_at = root.key("images");
  const Json& images = jsonio::array(jsonio::member(doc, "images", root), images_at);
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_set<int64_t> image_ids, sentence_ids;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const Where at = images_at.index(i);
    try {
      const Json& js = jsonio::object(images[i], at);
      NvcImage img;
      const Json* id = jsonio::find(js, "image_id");  // absent: the position in the file
      img.image_id = id ? jsonio::integer(*id, at.key("image_id")) : static_cast<int64_t>(i);
      if (image_ids.count(img.image_id))
        jsonio::fail(at.key("image_id"), fmt::format("duplicate image_id {}{}", img.image_id,
                                                     id ? "" : " (absent: its position in the file)"));
      img.concept_name = jsonio::string(jsonio::member(js, "concept", at), at.key("concept"));
      if (concepts && !concept_set.count(img.concept_name))
        jsonio::fail(at.key("concept"), "unknown concept \"" + img.concept_name +
                                            "\": expected one of the \"concepts\" list");
      if (!concepts && img.concept_name.find_first_not_of(" \t\r\n") == std::string::npos)
        jsonio::fail(at.key("concept"), "empty concept name");
      const Where split_at = at.key("train_val_test_split");
      const std::string split = jsonio::string(jsonio::member(js, "train_val_test_split", at), split_at);
      if (split != "train" && split != "val" && split != "test")
        jsonio::fail(split_at, "unknown split value \"" + split + "\": expected train, val or test");
      img.split = parse_split(split);
      img.image_name = jsonio::nonblank_string(jsonio::member(js, "image_name", at),
                                               at.key("image_name"), "image_name");
      const jsonio::SentenceFormat format{"image_id", "sentence_id", options.retokenize, options.mode,
                                          options.skip_bad};
      img.sentences = jsonio::read_image_sentences(js, at, img.image_id, format, sentence_ids, skip);
      image_ids.insert(img.image_id);
      if (!concepts && concept_set.insert(img.concept_name).second) out.concepts.push_back(img.concept_name);
      const bool wanted = options.splits.empty() ||
                          std::find(options.splits.begin(), options.splits.end(), img.split) !=
                              options.splits.end();
      if (wanted) out.images.push_back(std::move(img));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }
  return out;
}

NvcDataset load_nvc(const std::string& path, const NvcOptions& options) {
  return parse_nvc(jsonio::read_file(path, "NVC"), path, options);
}

}  // namespace mrnn
