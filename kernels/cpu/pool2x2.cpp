// 2x2, stride-2, unpadded max pooling for f32 (the CNN encoder's pool): the forward keeps one byte
// per window (which of its 4 elements won), the backward writes every element of gx once (the
// gradient at the winner, 0 elsewhere), so neither pass zero-fills or scatters. Same tie rule as
// the reference loop: the first maximum in row-major window order.
#include <algorithm>

#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

void max_pool2x2(const Tensor& x, const Tensor& out, uint8_t* which) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for schedule(static) if (NC * OH * OW > 8192)
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t oy = 0; oy < OH; ++oy) {
      const float* r0 = px + (nc * H + 2 * oy) * W;
      const float* r1 = r0 + W;
      float* o = po + (nc * OH + oy) * OW;
      uint8_t* k = which + (nc * OH + oy) * OW;
      for (int64_t ox = 0; ox < OW; ++ox) {
        float best = r0[2 * ox];
        uint8_t i = 0;
        if (r0[2 * ox + 1] > best) best = r0[2 * ox + 1], i = 1;
        if (r1[2 * ox] > best) best = r1[2 * ox], i = 2;
        if (r1[2 * ox + 1] > best) best = r1[2 * ox + 1], i = 3;
        o[ox] = best;
        k[ox] = i;
      }
    }
}

void max_pool2x2_backward(const Tensor& g, const uint8_t* which, const Tensor& gx) {
  const int64_t NC = gx.size(0) * gx.size(1), H = gx.size(2), W = gx.size(3), OH = g.size(2), OW = g.size(3);
  const float* pg = g.data<float>();
  float* px = gx.data<float>();
#pragma omp parallel for schedule(static) if (NC * OH * OW > 8192)
  for (int64_t nc = 0; nc < NC; ++nc) {
    float* plane = px + nc * H * W;
    for (int64_t oy = 0; oy < OH; ++oy) {
      float* r0 = plane + 2 * oy * W;
      float* r1 = r0 + W;
      const float* gr = pg + (nc * OH + oy) * OW;
      const uint8_t* k = which + (nc * OH + oy) * OW;
      for (int64_t ox = 0; ox < OW; ++ox) {
        const float v = gr[ox];
        const uint8_t i = k[ox];
        r0[2 * ox] = i == 0 ? v : 0.f;
        r0[2 * ox + 1] = i == 1 ? v : 0.f;
        r1[2 * ox] = i == 2 ? v : 0.f;
        r1[2 * ox + 1] = i == 3 ? v : 0.f;
      }
      std::fill(r0 + 2 * OW, r0 + W, 0.f);  // an odd last column is in no window
      std::fill(r1 + 2 * OW, r1 + W, 0.f);
    }
    std::fill(plane + 2 * OH * W, plane + H * W, 0.f);  // and an odd last row
  }
}

}  // namespace mrnn::cpu
