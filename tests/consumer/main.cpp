// A program outside the mrnn tree: proves the installed headers and mrnn::mrnn are usable.
#include <mrnn/core/tensor.h>
#include <mrnn/core/version.h>
#include <mrnn/kernels/ops.h>
#include <cstdio>
#include <vector>

int main() {
  mrnn::Tensor a = mrnn::Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  mrnn::Tensor c = mrnn::matmul(a, a);  // [[7, 10], [15, 22]]
  float v = c.to_vector<float>()[3];
  std::printf("mrnn %s consumer: c[1][1] = %g\n", mrnn::version(), v);
  return v == 22.f ? 0 : 1;
}
