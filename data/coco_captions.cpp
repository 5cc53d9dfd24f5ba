#include "data/coco_captions.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "data/json_util.h"
#include "data/tokenizer.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

std::map<int64_t, std::vector<std::string>> CocoCaptions::captions_by_image() const {
  std::map<int64_t, std::vector<std::string>> out;
  for (const auto& a : annotations) out[a.image_id].push_back(a.caption);
  return out;
}

CocoCaptions parse_coco_captions(std::string_view json_text, const std::string& name,
                                 const CocoReadOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  const Where images_at = root.key("images");
  const Where anns_at = root.key("annotations");
  const Json& images = jsonio::array(jsonio::member(doc, "images", root), images_at);
  const Json& anns = jsonio::array(jsonio::member(doc, "annotations", root), anns_at);

  CocoCaptions out;
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_map<int64_t, std::size_t> image_index;  // id -> position in images[]
  for (std::size_t i = 0; i < images.size(); ++i) {
    const Where at = images_at.index(i);
    try {
      const Json& js = jsonio::object(images[i], at);
      CocoImage img;
      img.id = jsonio::integer(jsonio::member(js, "id", at), at.key("id"));
      if (const Json* f = jsonio::find(js, "file_name"))
        img.file_name = jsonio::nonblank_string(*f, at.key("file_name"), "file_name");
      jsonio::optional_size(js, "width", at, img.width);
      jsonio::optional_size(js, "height", at, img.height);
      const auto [it, inserted] = image_index.emplace(img.id, i);
      if (!inserted)
        jsonio::fail(at.key("id"), fmt::format("duplicate image id {} (also images[{}])", img.id,
                                               it->second));
      out.images.push_back(std::move(img));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }

  std::unordered_map<int64_t, std::size_t> ann_index;
  for (std::size_t i = 0; i < anns.size(); ++i) {
    const Where at = anns_at.index(i);
    try {
      const Json& js = jsonio::object(anns[i], at);
      CocoCaption c;
      const Json* id = jsonio::find(js, "id");
      if (id) c.id = jsonio::integer(*id, at.key("id"));
      c.image_id = jsonio::integer(jsonio::member(js, "image_id", at), at.key("image_id"));
      c.caption = jsonio::nonblank_string(jsonio::member(js, "caption", at), at.key("caption"),
                                          "caption");
      if (!image_index.count(c.image_id))
        jsonio::fail(at.key("image_id"),
                     fmt::format("expected the id of an entry of \"images\", found {}", c.image_id));
      if (id) {
        const auto [it, inserted] = ann_index.emplace(c.id, i);
        if (!inserted)
          jsonio::fail(at.key("id"), fmt::format("duplicate annotation id {} (also annotations[{}])",
                                                 c.id, it->second));
      }
      out.annotations.push_back(std::move(c));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }
  return out;
}

CocoCaptions load_coco_captions(const std::string& path, const CocoReadOptions& options) {
  return parse_coco_captions(jsonio::read_file(path, "COCO captions"), path, options);
}

CocoResults parse_coco_results(std::string_view json_text, const std::string& name,
                               const CocoResultsOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::array(doc, root);
  CocoResults out;
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};
  std::unordered_map<int64_t, std::size_t> seen;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const Where at = root.index(i);
    try {
      const Json& js = jsonio::object(doc[i], at);
      CocoResult r;
      r.image_id = jsonio::integer(jsonio::member(js, "image_id", at), at.key("image_id"));
      const Json& cap = jsonio::member(js, "caption", at);
      r.caption = options.allow_empty_captions
                      ? jsonio::string(cap, at.key("caption"))
                      : jsonio::nonblank_string(cap, at.key("caption"), "caption");
      const auto [it, inserted] = seen.emplace(r.image_id, i);
      if (!inserted)
        jsonio::fail(at.key("image_id"),
                     fmt::format("duplicate image_id {} (also [{}]): expected one caption per image",
                                 r.image_id, it->second));
      out.results.push_back(std::move(r));
    } catch (const Error& e) {
      if (!options.skip_bad) throw;
      skip.add(e.what());
    }
  }
  return out;
}

CocoResults load_coco_results(const std::string& path, const CocoResultsOptions& options) {
  return parse_coco_results(jsonio::read_file(path, "COCO results"), path, options);
}

std::string format_coco_results(const std::vector<CocoResult>& results) {
  Json arr = Json::array();
  std::unordered_set<int64_t> seen;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const CocoResult& r = results[i];
    MRNN_CHECK(r.image_id >= 0, "COCO results entry {}: image_id {} must be >= 0", i, r.image_id);
    MRNN_CHECK(seen.insert(r.image_id).second,
               "COCO results entry {}: duplicate image_id {}: expected one caption per image", i,
               r.image_id);
    MRNN_CHECK(find_invalid_utf8(r.caption) == std::string_view::npos,
               "COCO results entry {} (image_id {}): caption is not valid UTF-8", i, r.image_id);
    arr.push_back(Json{{"image_id", r.image_id}, {"caption", r.caption}});
  }
  return arr.dump();
}

void write_coco_results(const std::string& path, const std::vector<CocoResult>& results) {
  const std::string text = format_coco_results(results);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MRNN_CHECK(out.good(), "cannot write COCO results file '{}': {}", tmp, std::strerror(errno));
    out << text << '\n';
    out.flush();
    MRNN_CHECK(out.good(), "error writing COCO results file '{}'", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    MRNN_FAIL("cannot replace COCO results file '{}': {}", path, std::strerror(err));
  }
}

}  // namespace mrnn
