// What ShapesWorld says about a scene: captions from a small grammar with paraphrases, counts and
// spatial relations; referring expressions; questions with one-word and sentence answers. Every
// statement is computed from the scene, so it is true of the image.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/shapes_world.h"

namespace mrnn {
namespace shapes {

// Requires: count >= 1, scene from generate_scene.
// Ensures: `count` raw captions ("A small red circle to the left of a blue square."), the first
// naming every object; distinct whenever the grammar allows. Forms: object lists with counts,
// total counts, relations between two objects, absolute locations, counts of a colour/shape/size
// group. Same (scene, seed) → same captions.
std::vector<std::string> describe_scene(const Scene& scene, uint64_t seed, int count);

// Ensures: for each object, up to `per_object` referring expressions ("the red circle", "the
// triangle on the left"), each picking out exactly that object (see unique_descriptions), shortest
// first. The first is the shortest unique description.
std::vector<std::vector<std::string>> refer_to_objects(const Scene& scene, int per_object);

// Ensures: the words of description d of object `target`: "the", [size], [colour], shape or
// "object", then "on the left" / "on the right" / "at the top" / "at the bottom" if d.where is set.
std::string description_text(const Scene& scene, int target, const Description& d);

// Requires: count >= 1.
// Ensures: `count` questions: colour, shape, count, existence, relation in turn (a category that
// does not apply to the scene, e.g. relations with one object, is replaced by count/existence),
// with answers computed from the scene; distinct whenever possible. Same (scene, seed) → same.
std::vector<Question> ask_questions(const Scene& scene, uint64_t seed, int count);

// Ensures: the lowercase words of `raw` with punctuation removed ("A red circle." → a red circle).
std::vector<std::string> words_of(const std::string& raw);

// Ensures: every word captions, referring expressions and questions can use (sorted; answers'
// digits excluded). Fewer than 100 words.
std::vector<std::string> shapes_vocabulary();

}  // namespace shapes
}  // namespace mrnn
