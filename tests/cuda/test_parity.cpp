// CUDA vs CPU parity: every row of tests/support/op_table.h, larger shapes that take the kernels'
// other paths and cases with random shapes, dims and transposes, forward and backward, f32 and
// f64, contiguous and strided inputs; special values (-inf, +inf, NaN) in the softmax family; the
// exact-match ops (argmax, dropout masks, deterministic embedding gradients); error messages. The
// CPU result on the same random inputs is the reference; every CUDA allocation is poisoned with
// NaN so an output element a kernel never writes fails the comparison.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tests/cuda/cuda_support.h"
#include "tests/support/op_table.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

namespace {

// ---- random shapes ----
int64_t pick(Generator& g, int64_t lo, int64_t hi) {  // uniform in [lo, hi]
  return lo + static_cast<int64_t>(g.randint(static_cast<uint64_t>(hi - lo + 1)));
}

Shape random_shape(Generator& g, int64_t rank_lo, int64_t rank_hi, int64_t dim_hi) {
  Shape s(static_cast<size_t>(pick(g, rank_lo, rank_hi)));
  for (int64_t& d : s) d = pick(g, 1, dim_hi);
  return s;
}

// A shape of `rank` dims of 1..3 except dim `d`, which is long (lo..hi): the block-per-row and
// chunked paths with few elements in all.
Shape long_shape(Generator& g, int64_t rank, int64_t d, int64_t lo, int64_t hi) {
  Shape s = random_shape(g, rank, rank, 3);
  s[static_cast<size_t>(d)] = pick(g, lo, hi);
  return s;
}

// `count` cases with shapes, dims, transposes and op choices drawn from `seed`: broadcasting
// elementwise ops, unary ops on permuted views, reductions over random dims (some long enough for
// the chunked and block-per-row paths), softmax over a random dim, (batched) GEMM with random
// transposes, cross entropy with and without an ignored class, embedding, conv2d and pooling.
// Each name carries its shapes, so a failure says which draw failed.
std::vector<OpCase> random_cases(uint64_t seed, int count) {
  using V = const std::vector<Tensor>&;
  Generator g(seed);
  std::vector<OpCase> t;
  for (int i = 0; i < count; ++i) {
    const int kind = static_cast<int>(i % 11);
    switch (kind) {
      case 0: {  // binary with broadcasting both ways
        Shape a = random_shape(g, 1, 4, 7), b = a;
        b.erase(b.begin(), b.begin() + pick(g, 0, static_cast<int64_t>(a.size()) - 1));
        for (int64_t& d : b)
          if (pick(g, 0, 2) == 0) d = 1;
        for (int64_t& d : a)  // a may broadcast too, where b keeps the full size
          if (pick(g, 0, 4) == 0) d = 1;
        const int op = static_cast<int>(pick(g, 0, 3));
        const char* names[] = {"add", "sub", "mul", "div"};
        t.push_back({fmt::format("random_{}_{}_{}", names[op], shape_str(a), shape_str(b)),
                     {{a}, {b, op == 3 ? Domain::Positive : Domain::Normal}}, [op](V x) {
                       switch (op) {
                         case 0: return add(x[0], x[1]);
                         case 1: return sub(x[0], x[1]);
                         case 2: return mul(x[0], x[1]);
                         default: return div(x[0], x[1]);
                       }
                     }});
        break;
      }
      case 1: {  // unary on a permuted view
        Shape s = random_shape(g, 2, 4, 9);
        std::vector<int64_t> perm(s.size());
        for (size_t k = 0; k < perm.size(); ++k) perm[k] = static_cast<int64_t>(k);
        for (size_t k = perm.size() - 1; k > 0; --k)
          std::swap(perm[k], perm[static_cast<size_t>(pick(g, 0, static_cast<int64_t>(k)))]);
        const int op = static_cast<int>(pick(g, 0, 5));
        t.push_back({fmt::format("random_unary{}_{}_perm{}", op, shape_str(s), shape_str(perm)), {{s}},
                     [op, perm](V x) {
                       Tensor p = permute(x[0], perm);
                       switch (op) {
                         case 0: return tanh(p);
                         case 1: return sigmoid(p);
                         case 2: return relu(p);
                         case 3: return scaled_tanh(p);
                         case 4: return square(p);
                         default: return clamp(p, -0.3, 0.8);
                       }
                     }});
        break;
      }
      case 2: {  // sum over a random non-empty set of dims
        Shape s = random_shape(g, 1, 4, 12);
        if (pick(g, 0, 3) == 0) {
          const int64_t rank = pick(g, 1, 3);
          s = long_shape(g, rank, pick(g, 0, rank - 1), 1000, 40000);
        }
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
          if (pick(g, 0, 1) == 1) dims.push_back(d);
        if (dims.empty()) dims.push_back(pick(g, 0, static_cast<int64_t>(s.size()) - 1));
        const bool keep = pick(g, 0, 1) == 1;
        t.push_back({fmt::format("random_sum_{}_dims{}{}", shape_str(s), shape_str(dims), keep ? "_keep" : ""), {{s}},
                     [dims, keep](V x) { return sum(x[0], dims, keep); }});
        break;
      }
      case 3: {  // max over one dim
        Shape s = random_shape(g, 1, 3, 40);
        const int64_t d = pick(g, 0, static_cast<int64_t>(s.size()) - 1);
        if (pick(g, 0, 2) == 0) s = long_shape(g, static_cast<int64_t>(s.size()), d, 1025, 5000);
        t.push_back({fmt::format("random_max_{}_dim{}", shape_str(s), d), {{s}}, [d](V x) { return max(x[0], d); }});
        break;
      }
      case 4:
      case 5: {  // softmax / log_softmax over one dim, sometimes a long one
        Shape s = random_shape(g, 1, 3, 30);
        const int64_t d = pick(g, 0, static_cast<int64_t>(s.size()) - 1);
        if (pick(g, 0, 2) == 0) s = long_shape(g, static_cast<int64_t>(s.size()), d, 1025, 6000);
        const bool lg = kind == 5;
        t.push_back({fmt::format("random_{}_{}_dim{}", lg ? "log_softmax" : "softmax", shape_str(s), d), {{s}},
                     [d, lg](V x) { return lg ? log_softmax(x[0], d) : softmax(x[0], d); }});
        break;
      }
      case 6: {  // (batched) matmul with random transposes
        const int64_t m = pick(g, 1, 70), k = pick(g, 1, 70), n = pick(g, 1, 70), b = pick(g, 0, 3);
        const bool ta = pick(g, 0, 1) == 1, tb = pick(g, 0, 1) == 1;
        auto shape2 = [b](int64_t r, int64_t c) { return b ? Shape{b, r, c} : Shape{r, c}; };
        t.push_back({fmt::format("random_matmul_b{}_{}x{}x{}_t{}{}", b, m, k, n, ta, tb),
                     {{ta ? shape2(k, m) : shape2(m, k)}, {tb ? shape2(n, k) : shape2(k, n)}}, [ta, tb](V x) {
                       const int64_t r = x[0].dim();
                       Tensor a = ta ? transpose(x[0], r - 2, r - 1) : x[0];
                       Tensor bb = tb ? transpose(x[1], r - 2, r - 1) : x[1];
                       return matmul(a, bb);
                     }});
        break;
      }
      case 7: {  // cross entropy, with an ignored class half of the time
        const int64_t rows = pick(g, 1, 60), v = pick(g, 2, 3000);
        const int64_t ignore = pick(g, 0, 1) ? pick(g, 0, v - 1) : -100;
        t.push_back({fmt::format("random_cross_entropy_{}x{}_ignore{}", rows, v, ignore),
                     {{{rows, v}}, {{rows}, Domain::Index, v, false}},
                     [ignore](V x) { return cross_entropy(x[0], x[1], ignore); }});
        break;
      }
      case 8: {  // embedding with repeated ids
        const int64_t v = pick(g, 1, 30), d = pick(g, 1, 40);
        Shape idx = random_shape(g, 1, 2, 20);
        t.push_back({fmt::format("random_embedding_{}x{}_ids{}", v, d, shape_str(idx)),
                     {{{v, d}}, {idx, Domain::Index, v, false}}, [](V x) { return embedding(x[0], x[1]); }});
        break;
      }
      case 9: {  // conv2d
        const int64_t k = pick(g, 0, 1) ? 3 : 1, stride = pick(g, 1, 2), pad = pick(g, 0, k / 2);
        const Shape x{pick(g, 1, 2), pick(g, 1, 3), pick(g, k, 10), pick(g, k, 10)};
        const Shape w{pick(g, 1, 4), x[1], k, k};
        const bool bias = pick(g, 0, 1) == 1;
        std::vector<InputSpec> in{{x}, {w}};
        if (bias) in.push_back({{w[0]}});
        t.push_back({fmt::format("random_conv2d_{}_{}_s{}_p{}{}", shape_str(x), shape_str(w), stride, pad,
                                 bias ? "_bias" : ""),
                     in, [stride, pad, bias](V x) { return conv2d(x[0], x[1], bias ? x[2] : Tensor(), stride, pad); }});
        break;
      }
      default: {  // pooling
        const int64_t k = pick(g, 2, 3), stride = pick(g, 1, 2), pad = pick(g, 0, k / 2);
        const Shape x{pick(g, 1, 2), pick(g, 1, 3), pick(g, k, 9), pick(g, k, 9)};
        const bool is_max = pick(g, 0, 1) == 1;
        t.push_back({fmt::format("random_{}_pool_{}_k{}_s{}_p{}", is_max ? "max" : "avg", shape_str(x), k, stride, pad),
                     {{x}}, [is_max, k, stride, pad](V x) {
                       return is_max ? max_pool2d(x[0], k, stride, pad) : avg_pool2d(x[0], k, stride, pad);
                     }});
        break;
      }
    }
  }
  return t;
}

#ifdef MRNN_WITH_CUDA
// Shapes beyond the gradient-check table: long rows (block-per-row and chunked reductions,
// softmax and cross entropy), big GEMMs, repeated embedding ids, 4-d broadcasting.
std::vector<OpCase> large_cases() {
  using V = const std::vector<Tensor>&;
  std::vector<OpCase> t;
  t.push_back({"sum_long_rows", {{{3, 50000}}}, [](V x) { return sum(x[0], {1}); }});
  t.push_back({"sum_all_large", {{{1000, 700}}}, [](V x) { return sum(x[0]); }});
  t.push_back({"sum_tall_columns", {{{30000, 3}}}, [](V x) { return sum(x[0], {0}); }});
  t.push_back({"sum_middle_wide", {{{4, 300, 70}}}, [](V x) { return sum(x[0], {1}); }});
  t.push_back({"mean_many_short_rows", {{{5000, 7}}}, [](V x) { return mean(x[0], {1}); }});
  t.push_back({"max_long_rows", {{{5, 3000}}}, [](V x) { return max(x[0], 1); }});
  t.push_back({"max_columns", {{{40, 50, 33}}}, [](V x) { return max(x[0], 1); }});
  t.push_back({"softmax_long_rows", {{{6, 3000}}}, [](V x) { return softmax(x[0], -1); }});
  t.push_back({"log_softmax_long_rows", {{{6, 3000}}}, [](V x) { return log_softmax(x[0], -1); }});
  t.push_back({"softmax_many_rows", {{{900, 33}}}, [](V x) { return softmax(x[0], 1); }});
  t.push_back({"cross_entropy_large_vocab", {{{9, 5000}}, {{9}, Domain::Index, 5000, false}},
               [](V x) { return cross_entropy(x[0], x[1]); }});
  t.push_back({"cross_entropy_many_rows", {{{700, 40}}, {{700}, Domain::Index, 40, false}},
               [](V x) { return cross_entropy(x[0], x[1], 3); }});
  t.push_back({"matmul_large", {{{64, 128}}, {{128, 96}}}, [](V x) { return matmul(x[0], x[1]); }});
  t.push_back({"matmul_large_transposed", {{{128, 64}}, {{96, 128}}},
               [](V x) { return matmul(transpose(x[0], 0, 1), transpose(x[1], 0, 1)); }});
  t.push_back({"bmm_transposed", {{{3, 5, 7}}, {{3, 6, 5}}},
               [](V x) { return matmul(transpose(x[0], 1, 2), transpose(x[1], 1, 2)); }});
  t.push_back({"linear_large", {{{4, 20, 48}}, {{80, 48}}, {{80}}}, [](V x) { return linear(x[0], x[1], x[2]); }});
  t.push_back({"embedding_repeats", {{{10, 33}}, {{300}, Domain::Index, 10, false}},
               [](V x) { return embedding(x[0], x[1]); }});
  t.push_back({"broadcast_4d", {{{2, 1, 4, 5}}, {{3, 1, 5}}}, [](V x) { return mul(x[0], x[1]); }});
  t.push_back({"permuted_unary", {{{3, 4, 5}}}, [](V x) { return tanh(permute(x[0], {2, 0, 1})); }});
  t.push_back({"conv2d_larger", {{{2, 3, 9, 9}}, {{4, 3, 3, 3}}, {{4}}},
               [](V x) { return conv2d(x[0], x[1], x[2], 2, 1); }});
  t.push_back({"dropout_large", {{{300, 301}}}, [](V x) {
                 Generator g(11);
                 return dropout(x[0], 0.25, true, g);
               }});
  return t;
}

struct Run {
  Tensor out;
  std::vector<Tensor> grads;
};

// Runs `c` on inputs copied to `dev` (the same values as `host`), then backward with weights `w`.
Run run_case(const OpCase& c, const std::vector<Tensor>& host, const Tensor& w, Device dev, bool strided) {
  std::vector<Tensor> leaves, args;
  for (size_t i = 0; i < host.size(); ++i) {
    Tensor leaf = dev.is_cpu() ? host[i].clone() : host[i].to(dev);  // a fresh leaf on each device
    const bool diff = c.inputs[i].differentiable && is_floating(leaf.dtype());
    if (diff) leaf.requires_grad_();
    leaves.push_back(leaf);
    args.push_back(strided && diff ? as_noncontiguous(leaf) : leaf);
  }
  Run r;
  r.out = c.fn(args);
  if (r.out.requires_grad()) {
    sum(mul(r.out, w.to(dev))).backward();
    for (const Tensor& l : leaves) r.grads.push_back(l.requires_grad() ? l.grad() : Tensor());
  }
  return r;
}

// Compares one case on CPU and CUDA; reports mismatches through Catch with the case's name.
void check_case(const OpCase& c, DType dt, bool strided, uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> host;
  for (const InputSpec& s : c.inputs) host.push_back(make_input(s, dt, gen));
  Tensor probe;
  {
    NoGradGuard ng;
    probe = c.fn(host);
  }
  Tensor w = is_floating(probe.dtype()) ? Tensor::randn(probe.shape(), gen, probe.dtype()) : Tensor();
  const Run cpu = run_case(c, host, w, Device::cpu(), strided);
  const Run gpu = run_case(c, host, w, kGpu, strided);
  INFO(c.name << " " << dtype_name(dt) << (strided ? " strided inputs" : " contiguous inputs"));
  REQUIRE(gpu.out.device() == kGpu);
  const std::string fwd = compare(gpu.out, cpu.out, tolerance(cpu.out.dtype()));
  INFO("forward: " << fwd);
  CHECK(fwd.empty());
  REQUIRE(gpu.grads.size() == cpu.grads.size());
  for (size_t i = 0; i < cpu.grads.size(); ++i) {
    if (!cpu.grads[i].defined()) {
      CHECK(!gpu.grads[i].defined());
      continue;
    }
    REQUIRE(gpu.grads[i].defined());
    CHECK(gpu.grads[i].device() == kGpu);
    const std::string bwd = compare(gpu.grads[i], cpu.grads[i], tolerance(dt));
    INFO("gradient of input " << i << ": " << bwd);
    CHECK(bwd.empty());
  }
}

#endif

}  // namespace

TEST_CASE("parity: every op-table row, forward and backward, f32 and f64", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  uint64_t seed = 100;
  for (const OpCase& c : op_table())
    for (DType dt : {DType::F32, DType::F64}) check_case(c, dt, false, seed++);
#endif
}

TEST_CASE("parity: every op-table row with strided (transposed-storage) inputs", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  uint64_t seed = 500;
  for (const OpCase& c : op_table())
    for (DType dt : {DType::F32, DType::F64}) check_case(c, dt, true, seed++);
#endif
}

TEST_CASE("parity: large shapes (block-per-row, chunked reductions, big GEMMs)", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  uint64_t seed = 900;
  for (const OpCase& c : large_cases())
    for (DType dt : {DType::F32, DType::F64}) check_case(c, dt, false, seed++);
#endif
}

TEST_CASE("parity: random shapes, dims and transposes for every kernel family", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  uint64_t seed = 1100;
  int i = 0;
  for (const OpCase& c : random_cases(77, 66)) {
    const DType dt = i % 3 == 2 ? DType::F64 : DType::F32;
    check_case(c, dt, i % 2 == 1, seed++);
    ++i;
  }
#endif
}

// cuDNN's fallback (kernels/cuda/cudnn_conv.cu): with the heuristic ranking switched off every
// convolution takes the first algorithm of cuDNN's enumeration that runs (deterministic ones, as
// deterministic() is on), f64 backward filter included, and must still match the CPU.
TEST_CASE("parity: conv2d forward and backward through the cuDNN fallback, f64 and f32", "[parity][conv]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  struct HeuristicsOff {
    HeuristicsOff() { cuda::set_conv_heuristics(false); }
    ~HeuristicsOff() { cuda::set_conv_heuristics(true); }
  } off;
  REQUIRE(cuda::deterministic());
  std::vector<OpCase> convs;
  for (const OpCase& c : op_table())
    if (c.name.rfind("conv2d", 0) == 0) convs.push_back(c);
  for (const OpCase& c : large_cases())
    if (c.name.rfind("conv2d", 0) == 0) convs.push_back(c);
  for (const OpCase& c : random_cases(91, 44))
    if (c.name.rfind("random_conv2d", 0) == 0) convs.push_back(c);
  REQUIRE(convs.size() >= 5);
  uint64_t seed = 1700;
  for (const OpCase& c : convs)
    for (DType dt : {DType::F64, DType::F32}) check_case(c, dt, false, seed++);
#endif
}

// Runs everywhere (no GPU needed): every random draw is a valid program on the CPU, so a GPU
// session never spends its time on a malformed case.
TEST_CASE("parity: the random cases are valid CPU programs", "[random]") {
  Generator gen(5);
  const std::vector<OpCase> cases = random_cases(77, 66);
  CHECK(cases.size() == 66);
  for (const OpCase& c : cases) {
    std::vector<Tensor> in;
    for (const InputSpec& spec : c.inputs) in.push_back(make_input(spec, DType::F32, gen));
    INFO(c.name);
    Tensor out;
    CHECK_NOTHROW(out = c.fn(in));
    CHECK((out.defined() && out.numel() > 0));
  }
}

TEST_CASE("parity: softmax, log_softmax and cross entropy on -inf, +inf and NaN like the CPU", "[parity][reduce]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  PoisonScope poison;
  const float inf = INFINITY;
  // Rows: masked entries (-inf), all masked, a +inf entry, a NaN entry, plain values. Each row is
  // repeated in a short (warp-per-row) and a long (block-per-row) version.
  const std::vector<std::vector<float>> rows{
      {-inf, 1.0f, 2.0f, -inf}, {-inf, -inf, -inf, -inf}, {0.5f, inf, -1.0f, 2.0f}, {0.5f, NAN, 1.0f, 3.0f},
      {0.25f, -0.5f, 1.5f, 0.0f}};
  for (int64_t width : {int64_t{4}, int64_t{2000}}) {
    std::vector<float> v;
    for (const auto& r : rows)
      for (int64_t j = 0; j < width; ++j) v.push_back(j < 4 ? r[static_cast<size_t>(j)] : (j % 2 ? -inf : -3.0f));
    Tensor x = Tensor::from_vector(v, {static_cast<int64_t>(rows.size()), width});
    Tensor xg = x.to(kGpu);
    INFO("row width " << width);
    CHECK(compare(softmax(xg, 1), softmax(x, 1), tolerance(DType::F32)).empty());
    CHECK(compare(log_softmax(xg, 1), log_softmax(x, 1), tolerance(DType::F32)).empty());
    // Row 0 and the plain row have finite losses; the others are NaN on both devices.
    Tensor t = Tensor::from_vector(std::vector<int64_t>{2, 1, 0, 3, 2});
    for (int64_t r = 0; r < static_cast<int64_t>(rows.size()); ++r) {
      Tensor xr = narrow(x, 0, r, 1), tr = narrow(t, 0, r, 1);
      INFO("row " << r);
      CHECK(compare(cross_entropy(xr.to(kGpu), tr.to(kGpu)), cross_entropy(xr, tr), tolerance(DType::F32)).empty());
    }
  }
#endif
}

TEST_CASE("parity: reductions and softmax kernels on their own", "[reduce]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  // The subset compute-sanitizer's racecheck runs (scripts/gpu-check): every shared-memory path.
  PoisonScope poison;
  uint64_t seed = 1300;
  for (const OpCase& c : large_cases()) {
    if (c.name.rfind("sum", 0) == 0 || c.name.rfind("max", 0) == 0 || c.name.find("softmax") != std::string::npos ||
        c.name.rfind("cross_entropy", 0) == 0 || c.name.rfind("mean", 0) == 0)
      check_case(c, DType::F32, false, seed++);
  }
#endif
}

TEST_CASE("parity: argmax (ties, NaN) and dropout masks match the CPU exactly", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  // Values from {0, ..., 4}: many ties, so the first-maximum rule is exercised; two NaNs.
  Generator gen(3);
  std::vector<float> v = Tensor::rand({37, 1500}, gen, DType::F32, 0, 5).to_vector<float>();
  for (float& e : v) e = std::floor(e);
  v[5 * 1500 + 700] = NAN;
  v[5 * 1500 + 900] = NAN;
  Tensor x = Tensor::from_vector(v, {37, 1500});
  Tensor xg = x.to(kGpu);
  for (int64_t dim : {0, 1}) {
    INFO("argmax over dim " << dim);
    CHECK(argmax(xg, dim).to_vector<int64_t>() == argmax(x, dim).to_vector<int64_t>());
    CHECK(compare(max(xg, dim), max(x, dim), tolerance(DType::I64)).empty());
  }
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor ones = Tensor::ones({100003}, dt);
    Generator g1(5), g2(5);
    Tensor cpu = dropout(ones, 0.3, true, g1);
    Tensor gpu = dropout(ones.to(kGpu), 0.3, true, g2);
    CHECK(gpu.to_vector<double>() == cpu.to_vector<double>());  // bit for bit: same Philox words
    CHECK(g1.offset() == g2.offset());
  }
#endif
}

TEST_CASE("parity: embedding backward, deterministic (bit-exact) and atomic modes", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator gen(8);
  Tensor w = Tensor::randn({50, 17}, gen);
  Tensor idx = make_input({{2000}, Domain::Index, 50, false}, DType::F32, gen);
  Tensor g = Tensor::randn({2000, 17}, gen);
  auto grad_of = [&](Device dev) {
    Tensor wl = (dev.is_cpu() ? w.clone() : w.to(dev)).requires_grad_();
    embedding(wl, idx.to(dev)).backward(g.to(dev));
    return wl.grad();
  };
  const Tensor want = grad_of(Device::cpu());
  cuda::set_deterministic(true);
  CHECK(grad_of(kGpu).to_vector<float>() == want.to_vector<float>());
  cuda::set_deterministic(false);
  const std::string atomic = compare(grad_of(kGpu), want, tolerance(DType::F32));
  cuda::set_deterministic(true);
  INFO(atomic);
  CHECK(atomic.empty());
#endif
}

TEST_CASE("parity: TF32 switch keeps f32 GEMM within TF32 accuracy and off restores f32 accuracy", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator gen(9);
  Tensor a = Tensor::randn({256, 512}, gen), b = Tensor::randn({512, 128}, gen);
  Tensor want = matmul(a.to(DType::F64), b.to(DType::F64));
  auto rel_err = [&](const Tensor& got) {
    Tensor d = sub(got.to(Device::cpu()).to(DType::F64), want);
    return std::sqrt(sum(mul(d, d)).item() / sum(mul(want, want)).item());
  };
  cuda::set_allow_tf32(true);
  const double tf32 = rel_err(matmul(a.to(kGpu), b.to(kGpu)));
  cuda::set_allow_tf32(false);
  const double fp32 = rel_err(matmul(a.to(kGpu), b.to(kGpu)));
  INFO("relative error: tf32 " << tf32 << ", f32 " << fp32);
  CHECK(tf32 < 5e-3);
  CHECK(fp32 < 1e-5);
#endif
}

TEST_CASE("parity: bad inputs on the GPU raise the same errors as on the CPU", "[parity]") {
  MRNN_REQUIRE_GPU();
#ifdef MRNN_WITH_CUDA
  Generator gen(10);
  Tensor logits = Tensor::randn({4, 6}, gen).to(kGpu);
  Tensor bad_t = Tensor::from_vector(std::vector<int64_t>{1, 2, 9, 0}).to(kGpu);
  CHECK_THROWS_WITH(cross_entropy(logits, bad_t), Catch::Contains("target 9 at row 2 is outside [0, 6)"));
  Tensor table = Tensor::randn({5, 3}, gen).to(kGpu);
  Tensor bad_i = Tensor::from_vector(std::vector<int64_t>{0, 4, -1}).to(kGpu);
  CHECK_THROWS_WITH(embedding(table, bad_i), Catch::Contains("index -1 at position 2"));
  Tensor cpu = Tensor::randn({4, 6}, gen);
  CHECK_THROWS_WITH(add(cpu, logits), Catch::Contains("different devices"));
  CHECK_THROWS_WITH(matmul(cpu, transpose(logits, 0, 1)), Catch::Contains("different devices"));
  CHECK_THROWS_WITH(cross_entropy(logits, Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 0})),
                    Catch::Contains("different devices"));
  // A seed gradient on the wrong device reaches a CUDA kernel: it must refuse, not read host memory.
  Tensor x = Tensor::randn({4, 6}, gen).to(kGpu).requires_grad_();
  Tensor y = tanh(x);
  CHECK_THROWS_WITH(y.backward(Tensor::ones({4, 6})), Catch::Contains("seed gradient") && Catch::Contains("device"));
#endif
}
