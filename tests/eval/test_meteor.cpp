// METEOR: the "not computed" status, start-up errors, and (hidden tag [.meteor], needs java and
// MRNN_METEOR_JAR=/path/to/meteor-1.5.jar) agreement with pycocoevalcap's Meteor on the golden
// subset. Run it explicitly (docs/eval.md):
//   MRNN_METEOR_JAR=<site-packages>/pycocoevalcap/meteor/meteor-1.5.jar build/tests/test_eval "[.meteor]"
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/meteor.h"

using namespace mrnn::eval;
using Catch::Matchers::Contains;

namespace {
const CaptionMap kRefs = {{"1", {"a man rides a horse", "a person on a horse"}}};
const CaptionMap kRes = {{"1", {"a man riding a horse"}}};
}  // namespace

TEST_CASE("METEOR without a jar reports that it was not computed", "[eval][meteor]") {
  const MeteorScore m = meteor_score("", kRefs, kRes);
  CHECK_FALSE(m.computed);
  CHECK(m.status == "METEOR not computed (no --meteor-jar given)");
  CHECK(m.per_image.empty());
}

TEST_CASE("METEOR start-up problems are errors naming the cause", "[eval][meteor]") {
  CHECK_THROWS_WITH(meteor_score("/nonexistent/meteor-1.5.jar", kRefs, kRes),
                    Contains("/nonexistent/meteor-1.5.jar") && Contains("not found"));
  // An existing file as "jar", and a java that does not exist.
  const std::string some_file = std::string(MRNN_TEST_DATA_DIR) + "/eval/make_golden.py";
  MeteorOptions no_java;
  no_java.java = "/nonexistent/bin/java";
  CHECK_THROWS_WITH(meteor_score(some_file, kRefs, kRes, no_java),
                    Contains("cannot start") && Contains("/nonexistent/bin/java"));
  // A program that exits at once instead of answering: the error says so.
  MeteorOptions wrong_program;
  wrong_program.java = "true";
  CHECK_THROWS_WITH(meteor_score(some_file, kRefs, kRes, wrong_program), Contains("exited"));
  // Input errors come before anything is started.
  CHECK_THROWS_WITH(meteor_score("", kRefs, {{"2", {"x"}}}), Contains("'2'"));
}

TEST_CASE("METEOR jar agrees with pycocoevalcap's Meteor on the golden subset", "[.meteor]") {
  const char* jar = std::getenv("MRNN_METEOR_JAR");
  INFO("set MRNN_METEOR_JAR to the path of meteor-1.5.jar (pycocoevalcap/meteor/meteor-1.5.jar)");
  REQUIRE(jar != nullptr);
  std::ifstream in(std::string(MRNN_TEST_DATA_DIR) + "/eval/golden_captions.json");
  REQUIRE(in.good());
  const nlohmann::json g = nlohmann::json::parse(in);
  const auto ids = g.at("meteor").at("image_ids").get<std::vector<std::string>>();
  CaptionMap refs, res;
  for (const std::string& id : ids) {
    refs[id] = g.at("refs").at(id).get<std::vector<std::string>>();
    res[id] = g.at("results").at(id).get<std::vector<std::string>>();
  }
  const MeteorScore m = meteor_score(jar, refs, res);
  REQUIRE(m.computed);
  REQUIRE(m.image_ids == ids);
  // The jar prints its numbers as decimal text, read identically by both sides: exact.
  CHECK(m.corpus == g.at("meteor").at("corpus").get<double>());
  const auto& per = g.at("meteor").at("per_image");
  REQUIRE(per.size() == m.per_image.size());
  for (size_t i = 0; i < per.size(); ++i) {
    INFO(ids[i]);
    CHECK(m.per_image[i] == per.at(i).get<double>());
  }
}
