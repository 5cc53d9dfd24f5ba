// numpy's float64 summation order (pairwise, 8-way unrolled, 128-element blocks) and np.mean.
// Why: pycocoevalcap averages per-image ROUGE-L and CIDEr-D scores with np.mean; summing in the
// same order makes our corpus scores equal to the reference to the last bit, not just to 1e-12.
#pragma once
#include <cstddef>
#include <vector>

namespace mrnn::eval {

// Sum of x[0..n) in numpy's pairwise order. Requires x valid for n reads (n may be 0 -> 0.0).
double pairwise_sum(const double* x, size_t n);

// np.mean(x): pairwise_sum / n. Requires !x.empty().
double numpy_mean(const std::vector<double>& x);

}  // namespace mrnn::eval
