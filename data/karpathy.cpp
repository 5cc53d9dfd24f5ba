#include "data/karpathy.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "data/json_util.h"
#include "data/sentence_json.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

Split parse_split(std::string_view name) {
  if (name == "train") return Split::train;
  if (name == "val") return Split::val;
  if (name == "test") return Split::test;
  if (name == "restval") return Split::restval;
  MRNN_FAIL("unknown split value \"{}\": expected train, val, test or restval", name);
}

const char* split_name(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
    default: return "restval";
  }
}

namespace {

Split read_split(const Json& value, const Where& at) {
  const std::string s = jsonio::string(value, at);
  if (s == "train" || s == "val" || s == "test" || s == "restval") return parse_split(s);
  jsonio::fail(at, "unknown split value \"" + s + "\": expected train, val, test or restval");
}

}  // namespace

KarpathyDataset parse_karpathy(std::string_view json_text, const std::string& name,
                               const KarpathyOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  KarpathyDataset out;
  if (const Json* d = jsonio::find(doc, "dataset")) out.dataset = jsonio::string(*d, root.key("dataset"));
  const Where images_at = root.key("images");
  const Json& images = jsonio::array(jsonio::member(doc, "images", root), images_at);
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_set<int64_t> imgids, sentids;

  for (std::size_t i = 0; i < images.size(); ++i) {
    const Where at = images_at.index(i);
    try {
      const Json& js = jsonio::object(images[i], at);
      KImage img;
      img.filename = jsonio::nonblank_string(jsonio::member(js, "filename", at), at.key("filename"),
                                             "filename");
      if (const Json* fp = jsonio::find(js, "filepath")) img.filepath = jsonio::string(*fp, at.key("filepath"));
      img.split = read_split(jsonio::member(js, "split", at), at.key("split"));
      // imgid is the image's position in the file in every Karpathy release, so that is its default.
      img.imgid = static_cast<int64_t>(i);
      if (const Json* v = jsonio::find(js, "imgid")) {
        img.imgid = jsonio::integer(*v, at.key("imgid"));
        if (img.imgid < 0) jsonio::fail(at.key("imgid"), fmt::format("expected an id >= 0, found {}", img.imgid));
      }
      if (const Json* c = jsonio::find(js, "cocoid")) img.cocoid = jsonio::integer(*c, at.key("cocoid"));
      if (imgids.count(img.imgid))
        jsonio::fail(at.key("imgid"), fmt::format("duplicate imgid {}{}", img.imgid,
                                                  jsonio::find(js, "imgid") ? "" : " (absent: its position in the file)"));

      const jsonio::SentenceFormat format{"imgid", "sentid", options.retokenize, options.mode, options.skip_bad};
      img.sentences = jsonio::read_image_sentences(js, at, img.imgid, format, sentids, skip);
      imgids.insert(img.imgid);
      if (options.restval_into_train && img.split == Split::restval) img.split = Split::train;
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

KarpathyDataset load_karpathy(const std::string& path, const KarpathyOptions& options) {
  return parse_karpathy(jsonio::read_file(path, "Karpathy split"), path, options);
}

}  // namespace mrnn
