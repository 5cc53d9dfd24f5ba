// compare_weights A.safetensors B.safetensors REL_TOL [PREFIX]: the tensors of A and B whose names
// start with PREFIX (default "model.") must be the same set with the same shapes, and each pair
// must agree to max|a - b| <= REL_TOL * max|a| (REL_TOL 0: bit-identical). Prints the worst relative
// difference; exit 0 when within, 1 when not, 2 on unreadable files or bad arguments.
// Used by tests/programs/distributed.sh (N ranks against 1 rank).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/engine/checkpoint.h"

using namespace mrnn;

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: compare_weights A.safetensors B.safetensors REL_TOL [PREFIX]\n");
    return 2;
  }
  const double tol = std::atof(argv[3]);
  const std::string prefix = argc == 5 ? argv[4] : "model.";
  try {
    const auto a = load_tensors(argv[1]), b = load_tensors(argv[2]);
    double worst = 0;
    std::string worst_name;
    int compared = 0;
    for (const auto& [name, ta] : a) {
      if (name.rfind(prefix, 0) != 0) continue;
      auto it = b.find(name);
      if (it == b.end() || it->second.shape() != ta.shape()) {
        std::fprintf(stderr, "compare_weights: %s: %s is missing or has another shape in %s\n", argv[1], name.c_str(),
                     argv[2]);
        return 1;
      }
      const auto va = ta.to_vector<double>(), vb = it->second.to_vector<double>();
      double diff = 0, scale = 0;
      for (size_t i = 0; i < va.size(); ++i) {
        diff = std::max(diff, std::fabs(va[i] - vb[i]));
        scale = std::max(scale, std::fabs(va[i]));
      }
      const double rel = diff == 0 ? 0 : diff / std::max(scale, 1e-30);
      if (!(rel <= worst)) {
        worst = rel;
        worst_name = name;
      }
      ++compared;
    }
    for (const auto& [name, tb] : b)
      if (name.rfind(prefix, 0) == 0 && !a.count(name)) {
        std::fprintf(stderr, "compare_weights: %s has %s, %s does not\n", argv[2], name.c_str(), argv[1]);
        return 1;
      }
    if (compared == 0) {
      std::fprintf(stderr, "compare_weights: no tensor named %s* in %s\n", prefix.c_str(), argv[1]);
      return 2;
    }
    std::printf("%d tensors; worst relative difference %.3g%s%s\n", compared, worst,
                worst_name.empty() ? "" : " in ", worst_name.c_str());
    return worst <= tol ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_weights: %s\n", e.what());
    return 2;
  }
}
