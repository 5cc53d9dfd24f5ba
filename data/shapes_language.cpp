#include "data/shapes_language.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "core/error.h"

namespace mrnn {
namespace shapes {
namespace {

const char* number_word(int n) {
  static const char* words[] = {"no", "one", "two", "three", "four"};
  MRNN_CHECK(n >= 0 && n <= 4, "number_word: {} is outside 0..4", n);
  return words[n];
}

std::string join(const std::vector<std::string>& parts, const char* sep = " ") {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// "a" or "an" by the first letter of the phrase that follows.
std::string with_article(const std::string& phrase) {
  const char c = phrase.empty() ? 'x' : phrase[0];
  const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return (vowel ? "an " : "a ") + phrase;
}

// "A, B and C".
std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// Capitalized, with a final mark.
std::string sentence(std::string s, char mark) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  s += mark;
  return s;
}

template <typename T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[rng.below(static_cast<int>(v.size()))];
}

// Attribute words of an object at one of four detail levels: shape, colour shape, size shape,
// size colour shape.
std::string object_words(const Object& o, int level, bool plural_form = false) {
  const bool size = level >= 2, color = (level == 1 || level == 3);
  return join({size ? name(o.size) : "", color ? name(o.color) : "", plural_form ? plural(o.shape) : name(o.shape)});
}

std::string random_np(const Object& o, Rng& rng) { return with_article(object_words(o, rng.below(4))); }

const char* relation_phrase(Relation r, Rng* rng) {
  switch (r) {
    case Relation::left_of: return (rng && rng->below(2)) ? "left of" : "to the left of";
    case Relation::right_of: return (rng && rng->below(2)) ? "right of" : "to the right of";
    case Relation::above: return "above";
    case Relation::below: return "below";
  }
  return "";
}

std::vector<Relation> true_relations(const Object& a, const Object& b) {
  std::vector<Relation> out;
  for (Relation r : {Relation::left_of, Relation::right_of, Relation::above, Relation::below})
    if (holds(r, a.box, b.box)) out.push_back(r);
  return out;
}

std::vector<std::string> location_phrases(const Location& l) {
  std::vector<std::string> out;
  if (l.top) out.push_back("at the top");
  if (l.bottom) out.push_back("at the bottom");
  if (l.left) out.push_back("on the left");
  if (l.right) out.push_back("on the right");
  if ((l.top || l.bottom) && (l.left || l.right))
    out.push_back(std::string("in the ") + (l.top ? "top" : "bottom") + " " + (l.left ? "left" : "right") +
                  " corner");
  if (l.middle) out.push_back("in the middle");
  return out;
}

// ---- captions ----------------------------------------------------------------------------------

// Every object, grouped by colour and shape: "there are two red circles and a small blue square".
std::string list_caption(const Scene& s, Rng& rng) {
  std::vector<std::vector<int>> groups;
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i) {
    const Object& o = s.objects[i];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const std::vector<int>& g) {
      return s.objects[g[0]].color == o.color && s.objects[g[0]].shape == o.shape;
    });
    if (it == groups.end())
      groups.push_back({i});
    else
      it->push_back(i);
  }
  for (int i = static_cast<int>(groups.size()) - 1; i > 0; --i) std::swap(groups[i], groups[rng.below(i + 1)]);
  std::vector<std::string> parts;
  for (const std::vector<int>& g : groups) {
    const Object& o = s.objects[g[0]];
    const int c = static_cast<int>(g.size());
    bool same_size = std::all_of(g.begin(), g.end(), [&](int i) { return s.objects[i].size == o.size; });
    std::string words = object_words(o, (same_size && rng.below(2)) ? 3 : 1, c > 1);
    parts.push_back(c == 1 ? with_article(words) : std::string(number_word(c)) + " " + words);
  }
  std::string body = join_list(parts);
  switch (rng.below(4)) {
    case 1: return (parts[0].rfind("a ", 0) == 0 || parts[0].rfind("an ", 0) == 0 ? "there is " : "there are ") + body;
    case 2: return "an image with " + body;
    case 3: return "a picture of " + body;
    default: return body;
  }
}

// "there are three shapes".
std::string total_caption(const Scene& s, Rng& rng) {
  const int n = static_cast<int>(s.objects.size());
  if (n == 1) {
    static const std::vector<std::string> forms = {"there is one shape", "one shape", "there is only one shape",
                                                   "an image with one object"};
    return pick(forms, rng);
  }
  const std::string num = number_word(n);
  const std::vector<std::string> forms = {"there are " + num + " shapes", num + " shapes", num + " objects",
                                          "an image with " + num + " shapes"};
  return pick(forms, rng);
}

// "a small red circle to the left of a blue square".
std::string relation_caption(const Scene& s, Rng& rng) {
  const int n = static_cast<int>(s.objects.size());
  int a = rng.below(n), b = rng.below(n - 1);
  if (b >= a) ++b;
  const Object &oa = s.objects[a], &ob = s.objects[b];
  std::vector<Relation> rels = true_relations(oa, ob);
  MRNN_CHECK(!rels.empty(), "relation_caption: objects {} and {} have no relation (overlapping boxes)", a, b);
  const std::string rel = relation_phrase(pick(rels, rng), &rng);
  const std::string np_a = random_np(oa, rng), np_b = random_np(ob, rng);
  switch (rng.below(3)) {
    case 1: return np_a + " is " + rel + " " + np_b;
    case 2: return "there is " + np_a + " " + rel + " " + np_b;
    default: return np_a + " " + rel + " " + np_b;
  }
}

// "there is a large yellow diamond at the top".
std::optional<std::string> location_caption(const Scene& s, Rng& rng) {
  std::vector<int> located;
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i)
    if (!location_phrases(location_of(s.objects[i].box, s.width, s.height)).empty()) located.push_back(i);
  if (located.empty()) return std::nullopt;
  const Object& o = s.objects[pick(located, rng)];
  const std::string loc = pick(location_phrases(location_of(o.box, s.width, s.height)), rng);
  const std::string np = random_np(o, rng);
  switch (rng.below(3)) {
    case 1: return np + " is " + loc;
    case 2: return "there is " + np + " " + loc;
    default: return np + " " + loc;
  }
}

// "two green triangles", "there is only one red shape".
std::string group_caption(const Scene& s, Rng& rng) {
  const Object& o = s.objects[rng.below(static_cast<int>(s.objects.size()))];
  const int key = rng.below(4);  // 0 colour+shape, 1 shape, 2 colour, 3 size
  int count = 0;
  for (const Object& p : s.objects) {
    bool match = (key == 0 && p.color == o.color && p.shape == o.shape) || (key == 1 && p.shape == o.shape) ||
                 (key == 2 && p.color == o.color) || (key == 3 && p.size == o.size);
    count += match ? 1 : 0;
  }
  const bool many = count > 1;
  std::string np;
  switch (key) {
    case 0: np = std::string(name(o.color)) + " " + (many ? plural(o.shape) : name(o.shape)); break;
    case 1: np = many ? plural(o.shape) : name(o.shape); break;
    case 2: np = std::string(name(o.color)) + (many ? " shapes" : " shape"); break;
    default: np = std::string(name(o.size)) + (many ? " shapes" : " shape"); break;
  }
  if (!many) {
    const std::vector<std::string> forms = {"there is only one " + np, "only one " + np, "there is one " + np};
    return pick(forms, rng);
  }
  const std::string num = number_word(count);
  return rng.below(2) ? "there are " + num + " " + np : num + " " + np;
}

// ---- questions ---------------------------------------------------------------------------------

std::optional<Question> color_question(const Scene& s, Rng& rng) {
  std::vector<int> ok;
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i)
    if (!unique_descriptions(s, i, true, false).empty()) ok.push_back(i);
  if (ok.empty()) return std::nullopt;
  const int i = pick(ok, rng);
  const std::string ref = description_text(s, i, pick(unique_descriptions(s, i, true, false), rng));
  Question q;
  q.question = sentence("what color is " + ref, '?');
  q.answer = name(s.objects[i].color);
  q.answer_sentence = ref + " is " + q.answer;
  q.category = "color";
  q.question_type = "what color is the";
  q.answer_type = "other";
  return q;
}

std::optional<Question> shape_question(const Scene& s, Rng& rng) {
  std::vector<int> ok;
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i)
    if (!unique_descriptions(s, i, false, true).empty()) ok.push_back(i);
  if (ok.empty()) return std::nullopt;
  const int i = pick(ok, rng);
  const std::string ref = description_text(s, i, pick(unique_descriptions(s, i, false, true), rng));
  Question q;
  q.question = sentence("what shape is " + ref, '?');
  q.answer = name(s.objects[i].shape);
  q.answer_sentence = ref + " is " + with_article(q.answer);
  q.category = "shape";
  q.question_type = "what shape is the";
  q.answer_type = "other";
  return q;
}

// Attributes to count or look for: any of them may be unset.
struct Query {
  std::optional<Size> size;
  std::optional<Color> color;
  std::optional<Shape> shape;
  bool matches(const Object& o) const {
    return (!size || *size == o.size) && (!color || *color == o.color) && (!shape || *shape == o.shape);
  }
  std::string words(bool plural_form) const {
    const std::string noun = shape ? (plural_form ? plural(*shape) : name(*shape)) : (plural_form ? "shapes" : "shape");
    return join({size ? name(*size) : "", color ? name(*color) : "", noun});
  }
};

int count_matches(const Scene& s, const Query& q) {
  return static_cast<int>(std::count_if(s.objects.begin(), s.objects.end(), [&](const Object& o) { return q.matches(o); }));
}

std::optional<Question> count_question(const Scene& s, Rng& rng) {
  Query query;
  const int key = rng.below(5);  // 0 all, 1 colour, 2 shape, 3 colour+shape, 4 size
  const bool from_scene = rng.uniform() < 0.8;
  const Object& o = s.objects[rng.below(static_cast<int>(s.objects.size()))];
  // Random attributes come from the base shapes only: novel words stay out of the base splits.
  const Color color = from_scene ? o.color : static_cast<Color>(rng.below(kNumColors));
  const Shape shape = from_scene ? o.shape : static_cast<Shape>(rng.below(kNumBaseShapes));
  const Size size = from_scene ? o.size : static_cast<Size>(rng.below(kNumSizes));
  if (key == 1 || key == 3) query.color = color;
  if (key == 2 || key == 3) query.shape = shape;
  if (key == 4) query.size = size;
  const int n = count_matches(s, query);
  Question q;
  q.question = sentence("how many " + query.words(true) + " are there", '?');
  q.answer = std::to_string(n);
  if (n == 0)
    q.answer_sentence = "there are no " + query.words(true);
  else if (n == 1)
    q.answer_sentence = "there is one " + query.words(false);
  else
    q.answer_sentence = std::string("there are ") + number_word(n) + " " + query.words(true);
  q.category = "count";
  q.question_type = "how many";
  q.answer_type = "number";
  return q;
}

std::optional<Question> existence_question(const Scene& s, Rng& rng) {
  Query query;
  const int level = rng.below(4);  // shape, colour shape, size shape, size colour shape
  bool yes = rng.below(2) == 1;
  if (!yes) {
    bool found = false;
    for (int attempt = 0; attempt < 20 && !found; ++attempt) {
      query = Query{};
      query.shape = static_cast<Shape>(rng.below(kNumBaseShapes));
      if (level == 1 || level == 3) query.color = static_cast<Color>(rng.below(kNumColors));
      if (level >= 2) query.size = static_cast<Size>(rng.below(kNumSizes));
      found = count_matches(s, query) == 0;
    }
    yes = !found;
  }
  if (yes) {
    const Object& o = s.objects[rng.below(static_cast<int>(s.objects.size()))];
    query = Query{};
    query.shape = o.shape;
    if (level == 1 || level == 3) query.color = o.color;
    if (level >= 2) query.size = o.size;
  }
  const std::string np = with_article(query.words(false));
  Question q;
  q.question = sentence("is there " + np, '?');
  q.answer = yes ? "yes" : "no";
  q.answer_sentence = yes ? "yes there is " + np : "no there is no " + query.words(false);
  q.category = "existence";
  q.question_type = "is there a";
  q.answer_type = "yes/no";
  return q;
}

std::optional<Question> relation_question(const Scene& s, Rng& rng) {
  // Objects nameable by attributes alone (no location words, which would mix with the relation).
  std::vector<int> ok;
  std::vector<Description> desc(s.objects.size());
  for (int i = 0; i < static_cast<int>(s.objects.size()); ++i) {
    for (const Description& d : unique_descriptions(s, i)) {
      if (d.where == Extreme::none) {
        desc[i] = d;
        ok.push_back(i);
        break;
      }
    }
  }
  if (ok.size() < 2) return std::nullopt;
  const int a = pick(ok, rng);
  int b = a;
  while (b == a) b = pick(ok, rng);
  const bool want_true = rng.below(2) == 1;
  std::vector<Relation> candidates;
  for (Relation r : {Relation::left_of, Relation::right_of, Relation::above, Relation::below})
    if (holds(r, s.objects[a].box, s.objects[b].box) == want_true) candidates.push_back(r);
  const Relation r = pick(candidates, rng);
  const std::string ra = description_text(s, a, desc[a]), rb = description_text(s, b, desc[b]);
  const std::string rel = relation_phrase(r, nullptr);
  Question q;
  q.question = sentence("is " + ra + " " + rel + " " + rb, '?');
  q.answer = want_true ? "yes" : "no";
  q.answer_sentence = want_true ? "yes " + ra + " is " + rel + " " + rb : "no " + ra + " is not " + rel + " " + rb;
  q.category = "relation";
  q.question_type = "is the";
  q.answer_type = "yes/no";
  return q;
}

}  // namespace

std::vector<std::string> describe_scene(const Scene& scene, uint64_t seed, int count) {
  MRNN_CHECK(count >= 1, "describe_scene: count must be >= 1, got {}", count);
  MRNN_CHECK(!scene.objects.empty(), "describe_scene: the scene has no objects");
  Rng rng(seed);
  std::vector<std::string> out = {list_caption(scene, rng)};
  // Weighted forms: list 1, total 1, relation 3, location 2, group count 2.
  std::vector<int> kinds = {0, 1, 3, 3, 4, 4};
  if (scene.objects.size() >= 2) kinds.insert(kinds.end(), {2, 2, 2});
  for (int attempt = 0; attempt < 60 * count && static_cast<int>(out.size()) < count; ++attempt) {
    std::optional<std::string> c;
    switch (pick(kinds, rng)) {
      case 0: c = list_caption(scene, rng); break;
      case 1: c = total_caption(scene, rng); break;
      case 2: c = relation_caption(scene, rng); break;
      case 3: c = location_caption(scene, rng); break;
      default: c = group_caption(scene, rng); break;
    }
    if (c && std::find(out.begin(), out.end(), *c) == out.end()) out.push_back(*c);
  }
  for (size_t i = 0; static_cast<int>(out.size()) < count; ++i) out.push_back(out[i]);
  for (std::string& c : out) c = sentence(c, '.');
  return out;
}

std::string description_text(const Scene& scene, int target, const Description& d) {
  const Object& o = scene.objects.at(target);
  const char* where = "";
  switch (d.where) {
    case Extreme::left: where = "on the left"; break;
    case Extreme::right: where = "on the right"; break;
    case Extreme::top: where = "at the top"; break;
    case Extreme::bottom: where = "at the bottom"; break;
    case Extreme::none: break;
  }
  return join({"the", d.size ? name(o.size) : "", d.color ? name(o.color) : "", d.shape ? name(o.shape) : "object",
               where});
}

std::vector<std::vector<std::string>> refer_to_objects(const Scene& scene, int per_object) {
  MRNN_CHECK(per_object >= 1, "refer_to_objects: per_object must be >= 1, got {}", per_object);
  std::vector<std::vector<std::string>> out(scene.objects.size());
  for (int i = 0; i < static_cast<int>(scene.objects.size()); ++i) {
    std::vector<Description> ds = unique_descriptions(scene, i);
    MRNN_CHECK(!ds.empty(), "refer_to_objects: object {} of the scene has no unique description", i);
    for (int k = 0; k < per_object && k < static_cast<int>(ds.size()); ++k)
      out[i].push_back(description_text(scene, i, ds[k]));
  }
  return out;
}

std::vector<Question> ask_questions(const Scene& scene, uint64_t seed, int count) {
  MRNN_CHECK(count >= 1, "ask_questions: count must be >= 1, got {}", count);
  MRNN_CHECK(!scene.objects.empty(), "ask_questions: the scene has no objects");
  using Maker = std::optional<Question> (*)(const Scene&, Rng&);
  const Maker makers[5] = {color_question, shape_question, count_question, existence_question, relation_question};
  Rng rng(seed);
  std::vector<Question> out;
  auto fresh = [&](const std::optional<Question>& q) {
    return q && std::none_of(out.begin(), out.end(), [&](const Question& p) { return p.question == q->question; });
  };
  for (int k = 0; k < count; ++k) {
    std::optional<Question> q = makers[k % 5](scene, rng);
    // Fall back to count and existence questions, which apply to every scene.
    for (int attempt = 0; attempt < 30 && !fresh(q); ++attempt) q = makers[2 + attempt % 2](scene, rng);
    if (!q) q = count_question(scene, rng);
    out.push_back(*q);
  }
  return out;
}

std::vector<std::string> words_of(const std::string& raw) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : raw) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c)) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> shapes_vocabulary() {
  std::set<std::string> v = {"a",     "above", "an",     "and",   "are",   "at",    "below",   "bottom", "color",
                             "corner", "four", "how",    "image", "in",    "is",    "left",    "many",   "middle",
                             "no",    "not",   "object", "objects", "of",   "on",    "one",     "only",   "picture",
                             "right", "shape", "shapes", "the",   "there", "three", "to",      "top",    "two",
                             "what",  "with",  "yes"};
  for (int s = 0; s < kNumShapes; ++s) {
    v.insert(name(static_cast<Shape>(s)));
    v.insert(plural(static_cast<Shape>(s)));
  }
  for (int c = 0; c < kNumColors; ++c) v.insert(name(static_cast<Color>(c)));
  for (int z = 0; z < kNumSizes; ++z) v.insert(name(static_cast<Size>(z)));
  return {v.begin(), v.end()};
}

}  // namespace shapes
}  // namespace mrnn
