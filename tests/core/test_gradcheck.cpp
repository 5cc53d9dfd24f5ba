// Every row of the op table passes an f64 finite-difference gradient check, on contiguous inputs
// and on non-contiguous (transposed-storage) views of the same values.
#include <catch2/catch.hpp>

#include "support/gradcheck.h"
#include "support/op_table.h"

using namespace mrnn;
using namespace mrnn::testing;

namespace {

void run_case(const OpCase& c, bool noncontiguous, uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> inputs;
  for (const InputSpec& s : c.inputs) {
    Tensor x = make_input(s, DType::F64, gen);
    if (s.domain != Domain::Index) x.requires_grad_(s.differentiable);
    inputs.push_back(x);
  }
  OpFn fn = c.fn;
  if (noncontiguous) {
    fn = [f = c.fn](const std::vector<Tensor>& xs) {
      std::vector<Tensor> v;
      for (const Tensor& x : xs) v.push_back(is_floating(x.dtype()) ? as_noncontiguous(x) : x);
      return f(v);
    };
  }
  GradcheckResult r = gradcheck(fn, inputs);
  INFO(c.name << (noncontiguous ? " (non-contiguous)" : "") << ": " << r.message << " checked=" << r.checked
               << " kinks=" << r.skipped_kinks << " max_rel=" << r.max_rel_error);
  CHECK(r.ok);
  CHECK(r.checked > 0);
  CHECK(r.skipped_kinks <= r.checked / 10 + 1);  // random data rarely lands within eps of a kink
}

}  // namespace

TEST_CASE("gradcheck: every op in the op table (contiguous inputs)", "[gradcheck]") {
  for (const OpCase& c : op_table()) {
    SECTION(c.name) { run_case(c, false, 11); }
  }
}

TEST_CASE("gradcheck: every op in the op table (non-contiguous inputs)", "[gradcheck]") {
  for (const OpCase& c : op_table()) {
    SECTION(c.name) { run_case(c, true, 23); }
  }
}

TEST_CASE("gradcheck: random shapes for elementwise, broadcasting, matmul, softmax and reductions",
          "[gradcheck]") {
  Generator shapes(99);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t a = 1 + static_cast<int64_t>(shapes.randint(4)), b = 1 + static_cast<int64_t>(shapes.randint(5)),
                  c = 1 + static_cast<int64_t>(shapes.randint(4));
    std::vector<OpCase> cases = {
        {"tanh", {{{a, b}}}, [](const std::vector<Tensor>& x) { return tanh(x[0]); }},
        {"mul_bcast", {{{a, b, c}}, {{b, 1}}}, [](const std::vector<Tensor>& x) { return mul(x[0], x[1]); }},
        {"matmul", {{{a, b}}, {{b, c}}}, [](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); }},
        {"log_softmax", {{{a, b}}}, [](const std::vector<Tensor>& x) { return log_softmax(x[0], -1); }},
        {"sum", {{{a, b, c}}}, [](const std::vector<Tensor>& x) { return sum(x[0], {1}); }},
    };
    for (const OpCase& oc : cases) {
      INFO("trial " << trial << " shape a=" << a << " b=" << b << " c=" << c);
      run_case(oc, false, 100 + trial);
    }
  }
}
