// ShapesWorld language: captions are true of their scene, referring expressions are unique and
// shortest, questions' answers are right. Checked by the independent reader in shapes_semantics.h.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "data/shapes_language.h"
#include "data/shapes_world.h"
#include "shapes_semantics.h"

using namespace mrnn::shapes;
using shapes_test::check_caption;

namespace {

// 300 base scenes and 100 novel ones.
std::vector<Scene> sample_scenes() {
  std::vector<Scene> out;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    SceneOptions o;
    if (seed >= 300) o.novel_shape = seed % 2 ? Shape::star : Shape::hexagon;
    out.push_back(generate_scene(1000 + seed, o));
  }
  return out;
}

const std::vector<Scene>& scenes() {
  static const std::vector<Scene> s = sample_scenes();
  return s;
}

// A hand-made scene: red circle (left, top), blue square (right), small red circle (bottom right).
Scene hand_scene() {
  Scene s;
  auto obj = [](Shape sh, Color c, Size z, Box b) {
    Object o;
    o.shape = sh;
    o.color = c;
    o.size = z;
    o.box = b;
    o.cx = static_cast<float>(b.cx());
    o.cy = static_cast<float>(b.cy());
    o.radius = b.w / 2.0f;
    return o;
  };
  s.objects = {obj(Shape::circle, Color::red, Size::large, {2, 2, 20, 20}),
               obj(Shape::square, Color::blue, Size::large, {40, 4, 18, 18}),
               obj(Shape::circle, Color::red, Size::small, {44, 48, 12, 12})};
  return s;
}

}  // namespace

TEST_CASE("words_of lowercases and drops punctuation") {
  CHECK(words_of("A small red circle, a blue square and two stars.") ==
        std::vector<std::string>{"a", "small", "red", "circle", "a", "blue", "square", "and", "two", "stars"});
  CHECK(words_of("What color is the circle?") == std::vector<std::string>{"what", "color", "is", "the", "circle"});
  CHECK(words_of("").empty());
}

TEST_CASE("the semantic checker rejects false captions (so the truth test can fail)") {
  const Scene s = hand_scene();
  CHECK(check_caption(words_of("Two red circles and a blue square."), s).empty());
  CHECK(check_caption(words_of("A red circle to the left of a blue square."), s).empty());
  CHECK(check_caption(words_of("There is a large red circle in the top left corner."), s).empty());
  CHECK(check_caption(words_of("A small red circle is below a blue square."), s).empty());
  CHECK(check_caption(words_of("Three shapes."), s).empty());
  CHECK_FALSE(check_caption(words_of("Three red circles."), s).empty());
  CHECK_FALSE(check_caption(words_of("A blue square to the left of a red circle."), s) == "");  // the large one is left
  CHECK(check_caption(words_of("A blue square to the left of a small red circle."), s) == "false relation");
  CHECK(check_caption(words_of("A blue square is at the bottom."), s) == "false location");
  CHECK(check_caption(words_of("There is a green circle."), s) == "false count/existence");
  CHECK_FALSE(check_caption(words_of("A red circle beside a square."), s).empty());  // not in the grammar
}

TEST_CASE("captions: five, distinct, true of the scene, from a small vocabulary, varied forms") {
  const std::vector<std::string> vocab = shapes_vocabulary();
  CHECK(vocab.size() < 100);
  CHECK(std::is_sorted(vocab.begin(), vocab.end()));
  std::map<std::string, int> features;
  std::set<std::string> all_captions;
  int n_distinct_sets = 0;
  for (size_t k = 0; k < scenes().size(); ++k) {
    const Scene& s = scenes()[k];
    std::vector<std::string> caps = describe_scene(s, 77 + k, 5);
    REQUIRE(caps.size() == 5);
    n_distinct_sets += std::set<std::string>(caps.begin(), caps.end()).size() == 5;
    for (size_t c = 0; c < caps.size(); ++c) {
      const std::string& cap = caps[c];
      INFO("scene " << k << ": " << cap);
      CHECK(std::isupper(static_cast<unsigned char>(cap[0])));
      CHECK(cap.back() == '.');
      const auto tokens = words_of(cap);
      for (const std::string& t : tokens) CHECK(std::binary_search(vocab.begin(), vocab.end(), t));
      std::vector<std::string> f;
      CHECK(check_caption(tokens, s, &f) == "");
      for (const std::string& x : f) features[x]++;
      all_captions.insert(cap);
    }
    // The first caption names every object: the counts of its phrases add up to the scene's size.
    shapes_test::Cursor cur{words_of(caps[0])};
    (void)(cur.eat({"there", "is"}) || cur.eat({"there", "are"}) || cur.eat({"an", "image", "with"}) ||
           cur.eat({"a", "picture", "of"}));
    int named = 0;
    while (!cur.done()) {
      auto p = shapes_test::parse_phrase(cur, true);
      REQUIRE(p);
      named += p->count < 0 ? 1 : p->count;
      cur.eat({"and"});
    }
    CHECK(named == static_cast<int>(s.objects.size()));
    CHECK(describe_scene(s, 77 + k, 5) == caps);  // deterministic
  }
  CHECK(n_distinct_sets == static_cast<int>(scenes().size()));
  for (const char* f : {"prefix", "list", "relation", "location", "count"}) {
    INFO(f);
    CHECK(features[f] > 50);
  }
  CHECK(all_captions.size() > 1200);  // 2000 captions, mostly different sentences
}

TEST_CASE("base scenes never mention the novel shapes, novel scenes mention theirs first") {
  for (size_t k = 0; k < scenes().size(); ++k) {
    const Scene& s = scenes()[k];
    bool novel_scene = std::any_of(s.objects.begin(), s.objects.end(), [](const Object& o) { return is_novel(o.shape); });
    std::vector<std::string> text = describe_scene(s, k, 5);
    for (const auto& q : ask_questions(s, k, 5)) {
      text.push_back(q.question);
      text.push_back(q.answer_sentence);
    }
    for (const auto& r : refer_to_objects(s, 3)) text.insert(text.end(), r.begin(), r.end());
    bool mentions = false;
    for (const std::string& t : text)
      for (const std::string& w : words_of(t))
        mentions |= w == "star" || w == "stars" || w == "hexagon" || w == "hexagons";
    CHECK(mentions == novel_scene);
    if (novel_scene) {
      auto w = words_of(describe_scene(s, k, 5)[0]);
      CHECK(std::any_of(w.begin(), w.end(), [](const std::string& x) {
        return x == "star" || x == "stars" || x == "hexagon" || x == "hexagons";
      }));
    }
  }
}

TEST_CASE("referring expressions pick out exactly their object and the first is the shortest") {
  int with_location = 0, total = 0;
  for (size_t k = 0; k < scenes().size(); ++k) {
    const Scene& s = scenes()[k];
    auto refs = refer_to_objects(s, 3);
    REQUIRE(refs.size() == s.objects.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      REQUIRE(!refs[i].empty());
      std::set<std::string> distinct(refs[i].begin(), refs[i].end());
      CHECK(distinct.size() == refs[i].size());
      for (const std::string& r : refs[i]) {
        INFO("scene " << k << " object " << i << ": " << r);
        shapes_test::Cursor c{words_of(r)};
        auto m = shapes_test::resolve_reference(c, s);
        REQUIRE(m);
        CHECK(c.done());
        CHECK(*m == std::vector<int>{static_cast<int>(i)});
        ++total;
        with_location += r.find(" on the ") != std::string::npos || r.find(" at the ") != std::string::npos;
      }
      // Shortest: no description with fewer words (any attributes, optional location) is unique.
      const Object& o = s.objects[i];
      const size_t first_len = words_of(refs[i][0]).size();
      for (int mask = 0; mask < 4; ++mask) {
        std::string attrs = std::string(mask & 2 ? std::string(name(o.size)) + " " : "") +
                            (mask & 1 ? std::string(name(o.color)) + " " : "");
        for (const char* loc : {"", " on the left", " on the right", " at the top", " at the bottom"}) {
          const std::string cand = "the " + attrs + name(o.shape) + loc;
          shapes_test::Cursor c{words_of(cand)};
          auto m = shapes_test::resolve_reference(c, s);
          const bool attr_ambiguous = [&] {
            shapes_test::Cursor c2{words_of("the " + attrs + name(o.shape))};
            return shapes_test::resolve_reference(c2, s)->size() > 1;
          }();
          // A location word only counts where attributes alone are ambiguous (else it says nothing).
          if (*loc && !attr_ambiguous) continue;
          if (m && *m == std::vector<int>{static_cast<int>(i)}) CHECK(first_len <= words_of(cand).size());
        }
      }
    }
  }
  CHECK(with_location > 20);  // identical-attribute objects need locations
  CHECK(total > 1000);
}

TEST_CASE("refexps on a hand-made scene") {
  const Scene s = hand_scene();
  auto refs = refer_to_objects(s, 2);
  CHECK(refs[0] == std::vector<std::string>{"the large circle", "the large red circle"});
  CHECK(refs[1] == std::vector<std::string>{"the square", "the blue square"});
  CHECK(refs[2] == std::vector<std::string>{"the small circle", "the small red circle"});
  Description d;
  d.where = Extreme::left;
  CHECK(description_text(s, 0, d) == "the circle on the left");
  CHECK(resolve(s, 0, d) == std::vector<int>{0});
  d.where = Extreme::top;
  CHECK(resolve(s, 2, d) == std::vector<int>{0});  // the top circle is the large one
}

TEST_CASE("questions: all five categories, answers computed correctly, both yes and no") {
  std::map<std::string, int> categories, yes_no;
  std::set<std::string> count_answers;
  const std::vector<std::string> vocab = shapes_vocabulary();
  for (size_t k = 0; k < scenes().size(); ++k) {
    const Scene& s = scenes()[k];
    auto qs = ask_questions(s, 500 + k, 5);
    REQUIRE(qs.size() == 5);
    std::set<std::string> texts;
    for (const Question& q : qs) {
      INFO("scene " << k << ": " << q.question << " -> " << q.answer << " (" << q.answer_sentence << ")");
      texts.insert(q.question);
      CHECK(q.question.back() == '?');
      shapes_test::Answer a = shapes_test::answer_question(words_of(q.question), s);
      CHECK(a.error == "");
      CHECK(a.answer == q.answer);
      CHECK(a.category == q.category);
      categories[q.category]++;
      if (q.answer_type == "yes/no") {
        CHECK((q.answer == "yes" || q.answer == "no"));
        CHECK(words_of(q.answer_sentence)[0] == q.answer);
        yes_no[q.answer]++;
      } else if (q.answer_type == "number") {
        CHECK(q.category == "count");
        count_answers.insert(q.answer);
      } else {
        CHECK(q.answer_type == "other");
        auto w = words_of(q.answer_sentence);
        CHECK(w.back() == q.answer);  // "the small circle is red", "the red object is a circle"
      }
      for (const std::string& w : words_of(q.question)) CHECK(std::binary_search(vocab.begin(), vocab.end(), w));
    }
    CHECK(texts.size() == qs.size());
  }
  for (const char* c : {"color", "shape", "count", "existence", "relation"}) {
    INFO(c);
    CHECK(categories[c] > 100);
  }
  CHECK(yes_no["yes"] > 200);
  CHECK(yes_no["no"] > 200);
  CHECK(count_answers.count("0") == 1);
  CHECK(count_answers.count("1") == 1);
  CHECK(count_answers.count("2") == 1);
}

TEST_CASE("questions on a hand-made scene") {
  const Scene s = hand_scene();
  // Relations: large circle is left of the square; the square is above the small circle.
  CHECK(shapes_test::answer_question(words_of("Is the large circle to the left of the square?"), s).answer == "yes");
  CHECK(shapes_test::answer_question(words_of("Is the square below the small circle?"), s).answer == "no");
  CHECK(shapes_test::answer_question(words_of("How many red circles are there?"), s).answer == "2");
  CHECK(shapes_test::answer_question(words_of("What color is the square?"), s).answer == "blue");
  CHECK(shapes_test::answer_question(words_of("What shape is the blue object?"), s).answer == "square");
  CHECK(shapes_test::answer_question(words_of("What color is the circle?"), s).error != "");  // ambiguous
  for (const Question& q : ask_questions(s, 3, 9)) {
    INFO(q.question);
    CHECK(shapes_test::answer_question(words_of(q.question), s).answer == q.answer);
  }
}
