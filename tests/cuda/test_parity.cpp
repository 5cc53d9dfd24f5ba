// CUDA vs CPU parity: every row of tests/support/op_table.h (plus larger shapes that take the
// kernels' other paths), forward and backward, f32 and f64, contiguous and strided inputs. The CPU
// result on the same random inputs is the reference; every CUDA allocation is poisoned with NaN
// so an output element a kernel never writes fails the comparison.
#include <catch2/catch.hpp>

#include "tests/cuda/cuda_support.h"
#include "tests/support/op_table.h"

#ifdef MRNN_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

using namespace mrnn;
using namespace mrnn::testing;

namespace {

#ifdef MRNN_WITH_CUDA
const Device kGpu = Device::cuda(0);

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

struct PoisonScope {
  PoisonScope() { cuda::set_poison_allocations(true); }
  ~PoisonScope() { cuda::set_poison_allocations(false); }
};
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
#endif
}
