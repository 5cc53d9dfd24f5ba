#include "data/scene_check.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace mrnn {

const char* claim_kind_name(ClaimKind k) {
  switch (k) {
    case ClaimKind::object: return "object";
    case ClaimKind::count: return "count";
    case ClaimKind::relation: return "relation";
    case ClaimKind::location: return "location";
  }
  return "?";
}

bool CaptionCheck::correct() const {
  return parsed && !claims.empty() && std::all_of(claims.begin(), claims.end(), [](const Claim& c) { return c.holds; });
}

double SceneCheckSummary::correct_percent() const { return captions ? 100.0 * correct / captions : 0.0; }

double SceneCheckSummary::precision_percent(ClaimKind k) const {
  const size_t i = static_cast<size_t>(k);
  return claims[i] ? 100.0 * true_claims[i] / claims[i] : 0.0;
}

void add(SceneCheckSummary& s, const CaptionCheck& c) {
  ++s.captions;
  s.parsed += c.parsed ? 1 : 0;
  s.correct += c.correct() ? 1 : 0;
  for (const Claim& cl : c.claims) {
    ++s.claims[static_cast<size_t>(cl.kind)];
    s.true_claims[static_cast<size_t>(cl.kind)] += cl.holds ? 1 : 0;
  }
}

namespace {

enum class Rel { left_of, right_of, above, below };
enum class Where { top, bottom, left, right, middle, top_left, top_right, bottom_left, bottom_right };

// A noun phrase: its determiner's claim and the attributes an object must have.
struct NounPhrase {
  std::optional<int> exactly;  // number word: exactly this many match; nullopt: "a"/"an", at least one
  std::string size, color, shape;  // "" = any
  size_t begin = 0, end = 0;
};

bool matches(const SceneObject& o, const NounPhrase& np) {
  return (np.size.empty() || o.size == np.size) && (np.color.empty() || o.color == np.color) &&
         (np.shape.empty() || o.shape == np.shape);
}

bool relation_holds(Rel r, const SceneObject& a, const SceneObject& b) {
  switch (r) {
    case Rel::left_of: return a.x + a.w <= b.x;
    case Rel::right_of: return b.x + b.w <= a.x;
    case Rel::above: return a.y + a.h <= b.y;
    case Rel::below: return b.y + b.h <= a.y;
  }
  return false;
}

bool location_holds(Where w, const SceneObject& o, const SceneImage& img, const SceneVocabulary& v) {
  const double fx = (o.x + 0.5 * o.w) / img.width, fy = (o.y + 0.5 * o.h) / img.height;
  const bool left = fx < v.left, right = fx > v.right, top = fy < v.top, bottom = fy > v.bottom;
  switch (w) {
    case Where::top: return top;
    case Where::bottom: return bottom;
    case Where::left: return left;
    case Where::right: return right;
    case Where::middle: return std::fabs(fx - 0.5) < v.middle && std::fabs(fy - 0.5) < v.middle;
    case Where::top_left: return top && left;
    case Where::top_right: return top && right;
    case Where::bottom_left: return bottom && left;
    case Where::bottom_right: return bottom && right;
  }
  return false;
}

class Parser {
 public:
  Parser(const std::vector<std::string>& words, const SceneImage& scene, const SceneVocabulary& vocab)
      : w_(words), scene_(scene), vocab_(vocab) {
    while (!w_.empty() && n_ > 0 && (w_[n_ - 1] == "." || w_[n_ - 1] == "!")) --n_;
  }

  CaptionCheck run() {
    CaptionCheck out;
    skip_prefix();
    bool ok = item(out);
    while (ok && i_ < n_) {
      // Items are joined by "and" or ","; tokenizers that drop punctuation leave nothing between.
      take({","});
      take({"and"});
      ok = item(out);
    }
    out.parsed = ok && i_ == n_;
    return out;
  }

 private:
  bool at(const std::vector<const char*>& seq) const {
    if (i_ + seq.size() > n_) return false;
    for (size_t k = 0; k < seq.size(); ++k)
      if (w_[i_ + k] != seq[k]) return false;
    return true;
  }
  bool take(const std::vector<const char*>& seq) {
    if (!at(seq)) return false;
    i_ += seq.size();
    return true;
  }

  void skip_prefix() {
    if (take({"there", "is"}) || take({"there", "are"}) || take({"an", "image", "with"}) || take({"a", "picture", "of"})) return;
  }

  static bool contains(const std::vector<std::string>& v, const std::string& w) {
    return std::find(v.begin(), v.end(), w) != v.end();
  }

  std::optional<NounPhrase> noun_phrase() {
    NounPhrase np;
    np.begin = i_;
    static const char* numbers[] = {"no", "one", "two", "three", "four"};
    if (take({"a"}) || take({"an"})) {
    } else if (take({"only", "one"})) {
      np.exactly = 1;
    } else {
      bool found = false;
      for (int k = 0; k < 5 && !found; ++k)
        if (take({numbers[k]})) np.exactly = k, found = true;
      if (!found) return std::nullopt;
    }
    if (i_ < n_ && contains(vocab_.sizes, w_[i_])) np.size = w_[i_++];
    if (i_ < n_ && contains(vocab_.colors, w_[i_])) np.color = w_[i_++];
    if (i_ >= n_) return std::nullopt;
    const std::string& noun = w_[i_];
    if (noun == "shape" || noun == "shapes" || noun == "object" || noun == "objects") {
      ++i_;
    } else if (vocab_.shapes.count(noun)) {
      np.shape = noun;
      ++i_;
    } else {
      auto it = std::find_if(vocab_.shapes.begin(), vocab_.shapes.end(), [&](const auto& p) { return p.second == noun; });
      if (it == vocab_.shapes.end()) return std::nullopt;
      np.shape = it->first;
      ++i_;
    }
    np.end = i_;
    return np;
  }

  std::vector<const SceneObject*> matching(const NounPhrase& np) const {
    std::vector<const SceneObject*> out;
    for (const SceneObject& o : scene_.objects)
      if (matches(o, np)) out.push_back(&o);
    return out;
  }

  std::optional<Rel> relation() {
    if (take({"to", "the", "left", "of"}) || take({"left", "of"})) return Rel::left_of;
    if (take({"to", "the", "right", "of"}) || take({"right", "of"})) return Rel::right_of;
    if (take({"above"})) return Rel::above;
    if (take({"below"})) return Rel::below;
    return std::nullopt;
  }

  std::optional<Where> location() {
    if (take({"at", "the", "top"})) return Where::top;
    if (take({"at", "the", "bottom"})) return Where::bottom;
    if (take({"on", "the", "left"})) return Where::left;
    if (take({"on", "the", "right"})) return Where::right;
    if (take({"in", "the", "middle"})) return Where::middle;
    if (take({"in", "the", "top", "left", "corner"})) return Where::top_left;
    if (take({"in", "the", "top", "right", "corner"})) return Where::top_right;
    if (take({"in", "the", "bottom", "left", "corner"})) return Where::bottom_left;
    if (take({"in", "the", "bottom", "right", "corner"})) return Where::bottom_right;
    return std::nullopt;
  }

  void add_np_claim(CaptionCheck& out, const NounPhrase& np) const {
    const size_t n = matching(np).size();
    const bool holds = np.exactly ? n == static_cast<size_t>(*np.exactly) : n >= 1;
    out.claims.push_back({np.exactly ? ClaimKind::count : ClaimKind::object, np.begin, np.end, holds});
  }

  // item := np [["is" | "are"] (relation np | location)]
  bool item(CaptionCheck& out) {
    std::optional<NounPhrase> a = noun_phrase();
    if (!a) return false;
    add_np_claim(out, *a);
    const size_t pred_begin = i_;
    const bool copula = take({"is"}) || take({"are"});
    if (std::optional<Rel> r = relation()) {
      const size_t pred_end = i_;
      std::optional<NounPhrase> b = noun_phrase();
      if (!b) return false;
      bool holds = false;
      for (const SceneObject* x : matching(*a))
        for (const SceneObject* y : matching(*b))
          holds = holds || (x != y && relation_holds(*r, *x, *y));
      out.claims.push_back({ClaimKind::relation, pred_begin, pred_end, holds});
      add_np_claim(out, *b);
      return true;
    }
    if (std::optional<Where> where = location()) {
      bool holds = false;
      for (const SceneObject* x : matching(*a)) holds = holds || location_holds(*where, *x, scene_, vocab_);
      out.claims.push_back({ClaimKind::location, pred_begin, i_, holds});
      return true;
    }
    return !copula;  // "a circle is" with nothing after it is not understood
  }

  const std::vector<std::string>& w_;
  const SceneImage& scene_;
  const SceneVocabulary& vocab_;
  size_t i_ = 0, n_ = w_.size();
};

}  // namespace

CaptionCheck check_caption(const std::vector<std::string>& words, const SceneImage& scene,
                           const SceneVocabulary& vocab) {
  return Parser(words, scene, vocab).run();
}

}  // namespace mrnn
