#include "data/scene_file.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "data/json_util.h"

namespace mrnn {

using jsonio::Json;
using jsonio::Where;

const SceneImage* SceneFile::find(const std::string& file_name) const {
  auto it = by_file_name.find(file_name);
  return it == by_file_name.end() ? nullptr : &images[it->second];
}

namespace {

// A non-empty word list with no repeats.
std::vector<std::string> word_list(const Json& v, const Where& at) {
  std::vector<std::string> words = jsonio::string_array(v, at);
  std::set<std::string> seen;
  for (size_t k = 0; k < words.size(); ++k) {
    if (words[k].find_first_not_of(" \t\r\n") == std::string::npos) jsonio::fail(at.index(k), "expected a word, found an empty string");
    if (!seen.insert(words[k]).second) jsonio::fail(at.index(k), "repeated word \"" + words[k] + "\"");
  }
  return words;
}

SceneVocabulary read_vocabulary(const Json& doc, const Where& root) {
  SceneVocabulary v;
  const Where at = root.key("vocabulary");
  const Json& js = jsonio::object(jsonio::member(doc, "vocabulary", root), at);
  const Where shapes_at = at.key("shapes");
  const Json& shapes = jsonio::object(jsonio::member(js, "shapes", at), shapes_at);
  if (shapes.empty()) jsonio::fail(shapes_at, "expected at least one shape word, found none");
  for (auto it = shapes.begin(); it != shapes.end(); ++it)
    v.shapes[it.key()] = jsonio::nonblank_string(it.value(), shapes_at.key(it.key()), "plural");
  if (const Json* c = jsonio::find(js, "colors")) v.colors = word_list(*c, at.key("colors"));
  if (const Json* s = jsonio::find(js, "sizes")) v.sizes = word_list(*s, at.key("sizes"));
  if (const Json* l = jsonio::find(doc, "locations")) {
    const Where lat = root.key("locations");
    jsonio::object(*l, lat);
    for (auto [key, out] : {std::pair<const char*, double*>{"left", &v.left}, {"right", &v.right}, {"top", &v.top},
                            {"bottom", &v.bottom}, {"middle", &v.middle}}) {
      if (const Json* x = jsonio::find(*l, key)) {
        *out = jsonio::number(*x, lat.key(key));
        if (!(*out >= 0 && *out <= 1)) jsonio::fail(lat.key(key), "expected a fraction of the image in [0, 1]");
      }
    }
  }
  return v;
}

// The word at `key` of an object, which must be one of `allowed` (when present).
std::string vocab_word(const Json& obj, const char* key, const Where& at, bool required,
                       const std::vector<std::string>& allowed, const char* list_name) {
  const Json* v = required ? &jsonio::member(obj, key, at) : jsonio::find(obj, key);
  if (!v) return "";
  std::string w = jsonio::string(*v, at.key(key));
  if (std::find(allowed.begin(), allowed.end(), w) == allowed.end())
    jsonio::fail(at.key(key), "\"" + w + "\" is not in vocabulary." + list_name);
  return w;
}

}  // namespace

SceneFile load_scene_file(const std::string& path) {
  const Json doc = jsonio::parse(jsonio::read_file(path, "scene"), path);
  const Where root{path, {}};
  jsonio::object(doc, root);
  SceneFile out;
  out.vocabulary = read_vocabulary(doc, root);
  std::vector<std::string> shape_words;
  for (const auto& [s, p] : out.vocabulary.shapes) shape_words.push_back(s);

  const Where images_at = root.key("images");
  const Json& images = jsonio::array(jsonio::member(doc, "images", root), images_at);
  out.images.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const Where at = images_at.index(i);
    const Json& js = jsonio::object(images[i], at);
    SceneImage img;
    img.file_name = jsonio::nonblank_string(jsonio::member(js, "file_name", at), at.key("file_name"), "file name");
    if (const Json* id = jsonio::find(js, "image_id")) img.image_id = jsonio::integer(*id, at.key("image_id"));
    for (auto [key, out_v] : {std::pair<const char*, int*>{"width", &img.width}, {"height", &img.height}}) {
      const int64_t v = jsonio::integer(jsonio::member(js, key, at), at.key(key));
      if (v < 1 || v > (1 << 20)) jsonio::fail(at.key(key), "expected a size in pixels >= 1, found " + std::to_string(v));
      *out_v = static_cast<int>(v);
    }
    const Where objs_at = at.key("objects");
    const Json& objs = jsonio::array(jsonio::member(js, "objects", at), objs_at);
    for (size_t k = 0; k < objs.size(); ++k) {
      const Where oat = objs_at.index(k);
      const Json& jo = jsonio::object(objs[k], oat);
      SceneObject o;
      o.shape = vocab_word(jo, "shape", oat, true, shape_words, "shapes");
      o.color = vocab_word(jo, "color", oat, false, out.vocabulary.colors, "colors");
      o.size = vocab_word(jo, "size", oat, false, out.vocabulary.sizes, "sizes");
      const Where bat = oat.key("bbox");
      const Json& box = jsonio::array(jsonio::member(jo, "bbox", oat), bat);
      if (box.size() != 4) jsonio::fail(bat, "expected [x, y, w, h], found " + std::to_string(box.size()) + " numbers");
      o.x = jsonio::number(box[0], bat.index(0));
      o.y = jsonio::number(box[1], bat.index(1));
      o.w = jsonio::number(box[2], bat.index(2));
      o.h = jsonio::number(box[3], bat.index(3));
      if (!(o.w >= 0 && o.h >= 0)) jsonio::fail(bat, "expected a box with width and height >= 0");
      img.objects.push_back(std::move(o));
    }
    if (!out.by_file_name.emplace(img.file_name, out.images.size()).second)
      jsonio::fail(at.key("file_name"), "repeated file name \"" + img.file_name + "\"");
    out.images.push_back(std::move(img));
  }
  return out;
}

}  // namespace mrnn
