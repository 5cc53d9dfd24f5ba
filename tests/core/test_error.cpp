// mrnn::Error: what() is the sentence a user reads; the source location is kept separately.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "kernels/ops.h"

using namespace mrnn;

TEST_CASE("Error: the message a user reads has no source location, location() has it", "[error]") {
  try {
    matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
    FAIL("matmul of [2, 3] and [4, 5] did not throw");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("matmul") != std::string::npos);
    CHECK(what.find("[at ") == std::string::npos);
    CHECK(what == e.message());
    CHECK(e.location().find("kernels/ops_matmul.cpp:") == 0);  // our file and line, for bug reports
  }
  Error plain("just a sentence");
  CHECK(std::string(plain.what()) == "just a sentence");
  CHECK(plain.location().empty());
}
