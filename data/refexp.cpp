#include "data/refexp.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "data/json_util.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

namespace {

Box read_box(const Json& value, const Where& at) {
  jsonio::array(value, at);
  if (value.size() != 4)
    jsonio::fail(at, fmt::format("expected a box [x, y, width, height], found an array of {} "
                                 "values", value.size()));
  Box box{};
  for (std::size_t k = 0; k < 4; ++k) box[k] = jsonio::number(value[k], at.index(k));
  if (box[2] < 0 || box[3] < 0)
    jsonio::fail(at, fmt::format("expected width and height >= 0, found {} x {}", box[2], box[3]));
  return box;
}

std::vector<RegionCandidate> read_candidates(const Json& value, const Where& at) {
  jsonio::array(value, at);
  std::vector<RegionCandidate> out;
  for (std::size_t k = 0; k < value.size(); ++k) {
    const Where c_at = at.index(k);
    const Json& c = jsonio::object(value[k], c_at);
    RegionCandidate rc;
    rc.bounding_box = read_box(jsonio::member(c, "bounding_box", c_at), c_at.key("bounding_box"));
    if (const Json* n = jsonio::find(c, "predicted_object_name"))
      rc.predicted_object_name = jsonio::string(*n, c_at.key("predicted_object_name"));
    out.push_back(std::move(rc));
  }
  return out;
}

// The entry's id: its own id field when present (which must equal the integer its key spells),
// else the integer the key spells (the field repeats the key, so it is optional).
int64_t keyed_id(const Json& entry, const std::string& key, const char* id_field, const Where& at) {
  if (const Json* v = jsonio::find(entry, id_field)) {
    const int64_t id = jsonio::integer(*v, at.key(id_field));
    if (key != std::to_string(id))
      jsonio::fail(at.key(id_field), fmt::format("expected {} (the entry's key), found {}", key, id));
    return id;
  }
  const bool digits = !key.empty() && key.size() <= 18 &&
                      key.find_first_not_of("0123456789") == std::string::npos &&
                      (key == "0" || key[0] != '0');
  if (!digits)
    jsonio::fail(at, fmt::format("expected the key to be an integer id (there is no \"{}\" field), "
                                 "found \"{}\"", id_field, key));
  return std::stoll(key);
}

// Runs read(key, value, where) over an object's members, sorted by id afterwards by the caller.
template <typename F>
void for_each_entry(const Json& obj, const Where& at, bool skip_bad, jsonio::SkipLog& skip, F read) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const Where e_at = at.key(it.key());
    try {
      read(it.key(), jsonio::object(it.value(), e_at), e_at);
    } catch (const Error& e) {
      if (!skip_bad) throw;
      skip.add(e.what());
    }
  }
}

template <typename T, typename Id>
void sort_by(std::vector<T>& v, Id id) {
  std::sort(v.begin(), v.end(), [&](const T& a, const T& b) { return a.*id < b.*id; });
}

}  // namespace

RefexpDataset parse_refexp(std::string_view json_text, const std::string& name,
                           const RefexpOptions& options) {
  const Json doc = jsonio::parse(json_text, name);
  const Where root{name, {}};
  jsonio::object(doc, root);
  const Json& images = jsonio::object(jsonio::member(doc, "images", root), root.key("images"));
  const Json& anns = jsonio::object(jsonio::member(doc, "annotations", root), root.key("annotations"));
  const Json& refs = jsonio::object(jsonio::member(doc, "refexps", root), root.key("refexps"));

  RefexpDataset out;
  jsonio::SkipLog skip{out.skipped, out.skip_reasons};

  for_each_entry(refs, root.key("refexps"), options.skip_bad, skip,
                 [&](const std::string& key, const Json& js, const Where& at) {
    Refexp r;
    r.refexp_id = keyed_id(js, key, "refexp_id", at);
    // raw is only needed to retokenize; otherwise it is optional ("").
    if (const Json* raw = options.retokenize ? &jsonio::member(js, "raw", at) : jsonio::find(js, "raw"))
      r.raw = jsonio::string(*raw, at.key("raw"));
    r.tokens = jsonio::string_array(jsonio::member(js, "tokens", at), at.key("tokens"));
    for (std::size_t k = 0; k < r.tokens.size(); ++k)
      if (r.tokens[k].empty()) jsonio::fail(at.key("tokens").index(k), "empty token");
    if (options.retokenize) r.tokens = tokenize(r.raw, options.mode);
    if (r.tokens.empty())
      jsonio::fail(at.key(options.retokenize ? "raw" : "tokens"),
                   "empty caption: expected at least one token");
    out.refexps.push_back(std::move(r));
  });
  std::unordered_set<int64_t> refexp_ids;
  for (const auto& r : out.refexps) refexp_ids.insert(r.refexp_id);

  for_each_entry(images, root.key("images"), options.skip_bad, skip,
                 [&](const std::string& key, const Json& js, const Where& at) {
    RefexpImage img;
    img.image_id = keyed_id(js, key, "image_id", at);
    if (const Json* f = jsonio::find(js, "file_name"))
      img.file_name = jsonio::nonblank_string(*f, at.key("file_name"), "file_name");
    jsonio::optional_size(js, "width", at, img.width);
    jsonio::optional_size(js, "height", at, img.height);
    if (const Json* rc = jsonio::find(js, "region_candidates"))
      img.region_candidates = read_candidates(*rc, at.key("region_candidates"));
    out.images.push_back(std::move(img));
  });
  std::unordered_set<int64_t> image_ids;
  for (const auto& img : out.images) image_ids.insert(img.image_id);

  std::unordered_map<int64_t, int64_t> owner;  // refexp id -> annotation id
  for_each_entry(anns, root.key("annotations"), options.skip_bad, skip,
                 [&](const std::string& key, const Json& js, const Where& at) {
    RefexpAnnotation a;
    a.annotation_id = keyed_id(js, key, "annotation_id", at);
    a.image_id = jsonio::integer(jsonio::member(js, "image_id", at), at.key("image_id"));
    if (!image_ids.count(a.image_id))
      jsonio::fail(at.key("image_id"),
                   fmt::format("expected the id of an entry of \"images\", found {}", a.image_id));
    if (const Json* c = jsonio::find(js, "category_id"))
      a.category_id = jsonio::integer(*c, at.key("category_id"));
    a.bbox = read_box(jsonio::member(js, "bbox", at), at.key("bbox"));
    if (const Json* rc = jsonio::find(js, "region_candidates"))
      a.region_candidates = read_candidates(*rc, at.key("region_candidates"));
    const Where ids_at = at.key("refexp_ids");
    const std::vector<int64_t> ids = jsonio::integer_array(jsonio::member(js, "refexp_ids", at), ids_at);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      try {
        if (!refexp_ids.count(ids[k]))
          jsonio::fail(ids_at.index(k),
                       fmt::format("expected the id of an entry of \"refexps\", found {}", ids[k]));
        const auto [it, inserted] = owner.emplace(ids[k], a.annotation_id);
        if (!inserted && it->second != a.annotation_id)
          jsonio::fail(ids_at.index(k), fmt::format("refexp {} already belongs to annotation {}",
                                                    ids[k], it->second));
        if (inserted) a.refexp_ids.push_back(ids[k]);
      } catch (const Error& e) {
        if (!options.skip_bad) throw;
        skip.add(e.what());
      }
    }
    out.annotations.push_back(std::move(a));
  });

  sort_by(out.images, &RefexpImage::image_id);
  sort_by(out.annotations, &RefexpAnnotation::annotation_id);
  sort_by(out.refexps, &Refexp::refexp_id);
  return out;
}

RefexpDataset load_refexp(const std::string& path, const RefexpOptions& options) {
  return parse_refexp(jsonio::read_file(path, "Google Refexp"), path, options);
}

}  // namespace mrnn
