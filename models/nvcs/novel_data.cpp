#include "models/nvcs/novel_data.h"

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/nvc.h"

namespace mrnn {

namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  MRNN_CHECK(f.good(), "{}: cannot open the novel-concept file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    MRNN_FAIL("{}: not valid JSON: {}", path, e.what());
  }
}

bool is_shapes_format(const json& j) {
  if (!j.is_object()) return false;
  if (j.contains("novel_words")) return true;
  return j.contains("images") && j["images"].is_array() && !j["images"].empty() && j["images"][0].is_object() &&
         j["images"][0].contains("filename");
}

int concept_index(std::vector<NovelConcept>& concepts, const std::string& name, bool may_add, const std::string& at) {
  for (size_t c = 0; c < concepts.size(); ++c)
    if (concepts[c].name == name) return static_cast<int>(c);
  MRNN_CHECK(may_add, "{}: unknown concept \"{}\": expected one of the root \"concepts\" list", at, name);
  concepts.push_back({name, {name}});
  return static_cast<int>(concepts.size()) - 1;
}

// ShapesWorld's file: Karpathy image entries plus "concept"; root "concepts" of {"word", "plural"}.
NovelData load_shapes_format(const std::string& path, const json& j, const NovelDataOptions& o) {
  NovelData d;
  d.path = path;
  if (j.contains("concepts")) {
    MRNN_CHECK(j["concepts"].is_array(), "{}: field 'concepts' must be an array", path);
    for (size_t k = 0; k < j["concepts"].size(); ++k) {
      const json& c = j["concepts"][k];
      const std::string at = fmt::format("{}: concepts[{}]", path, k);
      NovelConcept nc;
      if (c.is_string()) {
        nc.name = c.get<std::string>();
      } else {
        MRNN_CHECK(c.is_object() && c.contains("word") && c["word"].is_string(),
                   "{}: expected a string or an object with a string \"word\"", at);
        nc.name = c["word"].get<std::string>();
      }
      MRNN_CHECK(!nc.name.empty(), "{}: empty concept word", at);
      nc.words.push_back(nc.name);
      if (c.is_object() && c.contains("plural")) {
        MRNN_CHECK(c["plural"].is_string() && !c["plural"].get<std::string>().empty(),
                   "{}.plural: expected a non-empty string", at);
        if (c["plural"] != nc.name) nc.words.push_back(c["plural"].get<std::string>());
      }
      for (const NovelConcept& e : d.concepts) MRNN_CHECK(e.name != nc.name, "{}: duplicate concept \"{}\"", at, nc.name);
      d.concepts.push_back(std::move(nc));
    }
  }
  const bool listed = !d.concepts.empty();
  KarpathyOptions ko;
  ko.retokenize = o.retokenize;
  ko.mode = o.mode;
  d.images = parse_karpathy(j.dump(), path, ko);
  const json& ims = j["images"];  // parse_karpathy checked it is an array of objects, one per image
  MRNN_CHECK(ims.size() == d.images.images.size(), "{}: read {} of {} images", path, d.images.images.size(),
             ims.size());
  for (size_t i = 0; i < ims.size(); ++i) {
    const std::string at = fmt::format("{}: images[{}].concept", path, i);
    MRNN_CHECK(ims[i].contains("concept") && ims[i]["concept"].is_string(), "{}: expected the concept's name (a string)",
               at);
    d.concept_of.push_back(concept_index(d.concepts, ims[i]["concept"].get<std::string>(), !listed, at));
  }
  return d;
}

// The NVC dataset's own format (data/nvc.h); image files are <concept>/<image_name>.jpg.
NovelData load_nvc_format(const std::string& path, const NovelDataOptions& o) {
  NvcOptions no;
  no.retokenize = o.retokenize;
  no.mode = o.mode;
  const NvcDataset nvc = load_nvc(path, no);
  NovelData d;
  d.path = path;
  for (const std::string& c : nvc.concepts) d.concepts.push_back({c, {c}});
  d.images.dataset = "nvc";
  for (const NvcImage& im : nvc.images) {
    KImage k;
    k.filename = im.concept_name + "/" + im.image_name + ".jpg";
    k.split = im.split;
    k.imgid = im.image_id;
    k.sentences = im.sentences;
    d.images.images.push_back(std::move(k));
    d.concept_of.push_back(concept_index(d.concepts, im.concept_name, false, path));
  }
  return d;
}

}  // namespace

int NovelData::concept_of_id(int64_t image_id) const {
  for (size_t i = 0; i < images.images.size(); ++i)
    if (images.images[i].imgid == image_id) return concept_of[i];
  return -1;
}

int64_t NovelData::count(int c, Split split) const {
  int64_t n = 0;
  for (size_t i = 0; i < images.images.size(); ++i) n += concept_of[i] == c && images.images[i].split == split;
  return n;
}

NovelData load_novel_data(const std::string& path, const NovelDataOptions& o) {
  MRNN_CHECK(o.examples >= 0, "--examples must be >= 0, got {}", o.examples);
  const json j = read_json(path);
  NovelData d = is_shapes_format(j) ? load_shapes_format(path, j, o) : load_nvc_format(path, o);
  MRNN_CHECK(!d.concepts.empty(), "{}: field 'concepts': no novel concept (and no image names one)", path);
  for (size_t c = 0; c < d.concepts.size(); ++c) {
    const int64_t train = d.count(static_cast<int>(c), Split::train);
    MRNN_CHECK(train > 0, "{}: concept \"{}\" has no training images (no image with \"concept\": \"{}\" in split "
               "train)", path, d.concepts[c].name, d.concepts[c].name);
    MRNN_CHECK(d.count(static_cast<int>(c), Split::test) > 0, "{}: concept \"{}\" has no test images", path,
               d.concepts[c].name);
    MRNN_CHECK(o.examples <= train, "--examples {}: concept \"{}\" has only {} training images in {}", o.examples,
               d.concepts[c].name, train, path);
  }
  if (o.examples > 0) {
    std::vector<int64_t> kept(d.concepts.size(), 0);
    for (size_t i = 0; i < d.images.images.size(); ++i) {
      KImage& im = d.images.images[i];
      if (im.split != Split::train) continue;
      if (kept[d.concept_of[i]]++ >= o.examples) im.split = Split::restval;  // kept in place: feature rows line up
    }
  }
  return d;
}

}  // namespace mrnn
