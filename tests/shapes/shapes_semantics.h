// Test-side reading of ShapesWorld language: parses captions, referring expressions and questions
// back into claims and checks them against a scene's object boxes. Written independently of
// data/shapes_language.cpp (it re-derives relations and locations from the boxes with the
// thresholds documented in docs/shapesworld.md), so a generator bug shows up as a false claim.
#pragma once
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/shapes_world.h"

namespace shapes_test {

using mrnn::shapes::Box;
using mrnn::shapes::Object;
using mrnn::shapes::Scene;

inline int word_index(const std::string& w, const std::vector<std::string>& words) {
  for (size_t i = 0; i < words.size(); ++i)
    if (words[i] == w) return static_cast<int>(i);
  return -1;
}

inline const std::vector<std::string> kShapes = {"circle", "square", "triangle", "diamond", "cross", "star", "hexagon"};
inline const std::vector<std::string> kShapePlurals = {"circles", "squares", "triangles", "diamonds",
                                                       "crosses", "stars",   "hexagons"};
inline const std::vector<std::string> kColors = {"red", "green", "blue", "yellow", "purple", "orange", "gray"};
inline const std::vector<std::string> kSizes = {"small", "large"};
inline const std::vector<std::string> kNumbers = {"no", "one", "two", "three", "four"};

// Relations from boxes: strictly separated along the axis.
inline bool left_of(const Box& a, const Box& b) { return a.x + a.w <= b.x; }
inline bool above(const Box& a, const Box& b) { return a.y + a.h <= b.y; }

// A noun phrase: optional attributes; count -1 = "a"/"an" (at least one), else exactly `count`.
struct Phrase {
  int count = -1;
  int size = -1, color = -1, shape = -1;  // -1: not said ("shapes", "object")
  bool matches(const Object& o) const {
    return (size < 0 || size == static_cast<int>(o.size)) && (color < 0 || color == static_cast<int>(o.color)) &&
           (shape < 0 || shape == static_cast<int>(o.shape));
  }
  std::vector<int> matching(const Scene& s) const {
    std::vector<int> out;
    for (size_t i = 0; i < s.objects.size(); ++i)
      if (matches(s.objects[i])) out.push_back(static_cast<int>(i));
    return out;
  }
};

// Token cursor with the parse error recorded (never throws: the tests report the sentence).
struct Cursor {
  explicit Cursor(std::vector<std::string> tokens) : t(std::move(tokens)) {}
  std::vector<std::string> t;
  size_t i = 0;
  std::string error;
  bool done() const { return i >= t.size(); }
  const std::string& peek(size_t k = 0) const {
    static const std::string none;
    return i + k < t.size() ? t[i + k] : none;
  }
  bool eat(const std::vector<std::string>& words) {
    for (size_t k = 0; k < words.size(); ++k)
      if (peek(k) != words[k]) return false;
    i += words.size();
    return true;
  }
  void fail(const std::string& what) {
    if (error.empty()) error = what + " at word " + std::to_string(i) + " ('" + peek() + "')";
  }
};

// [determiner] [size] [colour] noun. `need_det`: a/an/one/.../only one must come first.
inline std::optional<Phrase> parse_phrase(Cursor& c, bool need_det, bool allow_the = false) {
  Phrase p;
  bool det = false;
  if (c.eat({"a"}) || c.eat({"an"})) {
    det = true;
  } else if (c.eat({"only", "one"})) {
    p.count = 1;
    det = true;
  } else if (allow_the && c.eat({"the"})) {
    det = true;
  } else if (int n = word_index(c.peek(), kNumbers); n >= 1) {
    p.count = n;
    ++c.i;
    det = true;
  }
  if (need_det && !det) {
    c.fail("expected a determiner");
    return std::nullopt;
  }
  if (int z = word_index(c.peek(), kSizes); z >= 0) {
    p.size = z;
    ++c.i;
  }
  if (int k = word_index(c.peek(), kColors); k >= 0) {
    p.color = k;
    ++c.i;
  }
  const std::string& noun = c.peek();
  if (int s = word_index(noun, kShapes); s >= 0) {
    p.shape = s;
  } else if (int s2 = word_index(noun, kShapePlurals); s2 >= 0) {
    p.shape = s2;
  } else if (noun != "shape" && noun != "shapes" && noun != "object" && noun != "objects") {
    c.fail("expected a noun");
    return std::nullopt;
  }
  ++c.i;
  return p;
}

enum class Rel { none, left, right, above, below };

inline Rel parse_relation(Cursor& c) {
  if (c.eat({"to", "the", "left", "of"}) || c.eat({"left", "of"})) return Rel::left;
  if (c.eat({"to", "the", "right", "of"}) || c.eat({"right", "of"})) return Rel::right;
  if (c.eat({"above"})) return Rel::above;
  if (c.eat({"below"})) return Rel::below;
  return Rel::none;
}

inline bool relation_holds(Rel r, const Box& a, const Box& b) {
  switch (r) {
    case Rel::left: return left_of(a, b);
    case Rel::right: return left_of(b, a);
    case Rel::above: return above(a, b);
    case Rel::below: return above(b, a);
    case Rel::none: return false;
  }
  return false;
}

// Absolute location phrase → predicate on the box centre (docs: outer 35% bands, middle 10%).
struct Where {
  bool left = false, right = false, top = false, bottom = false, middle = false;
};
inline std::optional<Where> parse_location(Cursor& c) {
  Where w;
  if (c.eat({"at", "the", "top"})) w.top = true;
  else if (c.eat({"at", "the", "bottom"})) w.bottom = true;
  else if (c.eat({"on", "the", "left"})) w.left = true;
  else if (c.eat({"on", "the", "right"})) w.right = true;
  else if (c.eat({"in", "the", "middle"})) w.middle = true;
  else if (c.peek() == "in" && c.peek(1) == "the" && c.peek(4) == "corner") {
    w.top = c.peek(2) == "top";
    w.bottom = c.peek(2) == "bottom";
    w.left = c.peek(3) == "left";
    w.right = c.peek(3) == "right";
    if (!(w.top || w.bottom) || !(w.left || w.right)) return std::nullopt;
    c.i += 5;
  } else {
    return std::nullopt;
  }
  return w;
}
inline bool location_holds(const Where& w, const Box& b, int width, int height) {
  const double fx = (b.x + b.w / 2.0) / width, fy = (b.y + b.h / 2.0) / height;
  if (w.left && !(fx < 0.35)) return false;
  if (w.right && !(fx > 0.65)) return false;
  if (w.top && !(fy < 0.35)) return false;
  if (w.bottom && !(fy > 0.65)) return false;
  if (w.middle && !(std::abs(fx - 0.5) < 0.1 && std::abs(fy - 0.5) < 0.1)) return false;
  return true;
}

// Checks a phrase's own claim: exact count, or at least one.
inline bool phrase_true(const Phrase& p, const Scene& s) {
  const int n = static_cast<int>(p.matching(s).size());
  return p.count < 0 ? n >= 1 : n == p.count;
}

// Parses a caption's tokens and checks every claim it makes. Returns "" when the caption parses
// completely and is true, else what went wrong. `features` (if given) collects the claim kinds seen.
inline std::string check_caption(const std::vector<std::string>& tokens, const Scene& s,
                                 std::vector<std::string>* features = nullptr) {
  Cursor c{tokens};
  auto note = [&](const char* f) {
    if (features) features->push_back(f);
  };
  if (c.eat({"there", "is"}) || c.eat({"there", "are"}) || c.eat({"an", "image", "with"}) ||
      c.eat({"a", "picture", "of"}))
    note("prefix");
  std::optional<Phrase> first = parse_phrase(c, false);
  if (!first) return c.error;
  std::vector<Phrase> list = {*first};
  while (!c.done()) {
    // List items: "A, B and C" (commas are not tokens, so B follows A directly).
    const std::string& next = c.peek();
    if (c.eat({"and"}) || next == "a" || next == "an" || word_index(next, kNumbers) >= 1) {
      auto p = parse_phrase(c, true);
      if (!p) return c.error;
      list.push_back(*p);
      note("list");
      continue;
    }
    const bool copula = c.eat({"is"});
    if (Rel r = parse_relation(c); r != Rel::none) {
      auto other = parse_phrase(c, true);
      if (!other) return c.error;
      note("relation");
      bool ok = false;
      for (int a : list.back().matching(s))
        for (int b : other->matching(s))
          if (a != b && relation_holds(r, s.objects[a].box, s.objects[b].box)) ok = true;
      if (!ok) return "false relation";
      list.push_back(*other);
      continue;
    }
    if (auto w = parse_location(c)) {
      note("location");
      bool ok = false;
      for (int a : list.back().matching(s))
        if (location_holds(*w, s.objects[a].box, s.width, s.height)) ok = true;
      if (!ok) return "false location";
      continue;
    }
    (void)copula;
    c.fail("unexpected words");
    return c.error;
  }
  for (const Phrase& p : list) {
    if (p.count >= 0) note("count");
    if (!phrase_true(p, s)) return "false count/existence";
  }
  return "";
}

// Resolves "the [size] [colour] noun [on the left|...]" with the relative-location meaning
// (among the attribute matches, the one strictly beyond all others). Returns matched objects, or
// nullopt if the words do not parse completely (`c.i` is left after the expression).
inline std::optional<std::vector<int>> resolve_reference(Cursor& c, const Scene& s) {
  if (!c.eat({"the"})) {
    c.fail("expected 'the'");
    return std::nullopt;
  }
  auto p = parse_phrase(c, false);
  if (!p) return std::nullopt;
  std::vector<int> m = p->matching(s);
  Rel beyond = Rel::none;
  if (c.eat({"on", "the", "left"})) beyond = Rel::left;
  else if (c.eat({"on", "the", "right"})) beyond = Rel::right;
  else if (c.eat({"at", "the", "top"})) beyond = Rel::above;
  else if (c.eat({"at", "the", "bottom"})) beyond = Rel::below;
  if (beyond == Rel::none) return m;
  std::vector<int> out;
  for (int a : m) {
    bool all = true;
    for (int b : m)
      if (a != b && !relation_holds(beyond, s.objects[a].box, s.objects[b].box)) all = false;
    if (all) out.push_back(a);
  }
  return out;
}

// Parses a question and computes its one-word answer from the scene; "" + error on failure.
struct Answer {
  std::string answer, category, error;
};
inline Answer answer_question(const std::vector<std::string>& tokens, const Scene& s) {
  Cursor c{tokens};
  Answer a;
  auto unique = [&](const std::optional<std::vector<int>>& m) -> int {
    if (!m) return -1;
    if (m->size() != 1) {
      a.error = "reference matches " + std::to_string(m->size()) + " objects";
      return -1;
    }
    return (*m)[0];
  };
  if (c.eat({"what", "color", "is"}) || c.eat({"what", "shape", "is"})) {
    const bool color = tokens[1] == "color";
    a.category = color ? "color" : "shape";
    const int i = unique(resolve_reference(c, s));
    if (i < 0) return a.error.empty() ? Answer{"", "", c.error} : a;
    a.answer = color ? kColors[static_cast<int>(s.objects[i].color)] : kShapes[static_cast<int>(s.objects[i].shape)];
  } else if (c.eat({"how", "many"})) {
    a.category = "count";
    auto p = parse_phrase(c, false);
    if (!p || !c.eat({"are", "there"})) return {"", "", "bad count question " + c.error};
    a.answer = std::to_string(p->matching(s).size());
  } else if (c.eat({"is", "there"})) {
    a.category = "existence";
    auto p = parse_phrase(c, true);
    if (!p) return {"", "", c.error};
    a.answer = p->matching(s).empty() ? "no" : "yes";
  } else if (c.peek() == "is" && c.peek(1) == "the") {
    c.i += 1;
    a.category = "relation";
    const int i = unique(resolve_reference(c, s));
    if (i < 0) return a.error.empty() ? Answer{"", "", c.error} : a;
    Rel r = parse_relation(c);
    if (r == Rel::none) return {"", "", "no relation"};
    const int j = unique(resolve_reference(c, s));
    if (j < 0) return a.error.empty() ? Answer{"", "", c.error} : a;
    a.answer = relation_holds(r, s.objects[i].box, s.objects[j].box) ? "yes" : "no";
  } else {
    return {"", "", "unknown question form"};
  }
  if (!c.done()) return {"", "", "trailing words at " + std::to_string(c.i)};
  return a;
}

}  // namespace shapes_test
