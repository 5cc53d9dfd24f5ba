// CPU kernels for embedding, dropout masks, im2col/col2im and pooling.
#include <algorithm>
#include <limits>

#include "core/philox.h"
#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

namespace {
int64_t index_at(const Tensor& idx, int64_t i) {
  return idx.dtype() == DType::I64 ? idx.data<int64_t>()[i] : static_cast<int64_t>(idx.data<int32_t>()[i]);
}
}  // namespace

void embedding(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t v = weight.size(0), d = weight.size(1), n = indices.numel();
  for (int64_t i = 0; i < n; ++i) {
    int64_t id = index_at(indices, i);
    MRNN_CHECK(id >= 0 && id < v, "embedding: index {} at position {} is outside the table of {} rows", id, i, v);
  }
  dispatch_float(weight.dtype(), "embedding", [&](auto z) {
    using T = decltype(z);
    const T* pw = weight.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for schedule(static) if (n * d > 32768)
    for (int64_t i = 0; i < n; ++i) {
      const T* src = pw + index_at(indices, i) * d;
      std::copy(src, src + d, po + i * d);
    }
  });
}

void embedding_backward(const Tensor& g, const Tensor& indices, const Tensor& gweight) {
  const int64_t d = gweight.size(1), n = indices.numel();
  dispatch_float(g.dtype(), "embedding_backward", [&](auto z) {
    using T = decltype(z);
    const T* pg = g.data<T>();
    T* pw = gweight.data<T>();
    // Parallel over columns: every thread walks all rows in order, so sums are deterministic.
    const int64_t chunk = 64, nchunks = (d + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n * d > 32768 && nchunks > 1)
    for (int64_t c = 0; c < nchunks; ++c) {
      const int64_t c0 = c * chunk, c1 = std::min(d, c0 + chunk);
      for (int64_t i = 0; i < n; ++i) {
        T* dst = pw + index_at(indices, i) * d;
        const T* src = pg + i * d;
        for (int64_t j = c0; j < c1; ++j) dst[j] += src[j];
      }
    }
  });
}

void dropout_mask(uint64_t seed, uint64_t offset, double p, const Tensor& mask) {
  const int64_t n = mask.numel();
  dispatch_float(mask.dtype(), "dropout", [&](auto z) {
    using T = decltype(z);
    T* pm = mask.data<T>();
    const T keep = static_cast<T>(1.0 / (1.0 - p));
    const float pf = static_cast<float>(p);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) pm[i] = uniform_from_word(philox_word(seed, offset + i)) >= pf ? keep : T(0);
  });
}

// x: [N, C, H, W] contiguous; cols: [C*kh*kw, OH*OW] for image n.
void im2col(const Tensor& x, int64_t n, int64_t kh, int64_t kw, int64_t stride, int64_t pad, const Tensor& cols) {
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = (H + 2 * pad - kh) / stride + 1, OW = (W + 2 * pad - kw) / stride + 1;
  dispatch_float(x.dtype(), "im2col", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>() + n * C * H * W;
    T* pc = cols.data<T>();
#pragma omp parallel for schedule(static) if (C * kh * kw * OH * OW > 32768)
    for (int64_t row = 0; row < C * kh * kw; ++row) {
      const int64_t c = row / (kh * kw), ki = (row / kw) % kh, kj = row % kw;
      T* dst = pc + row * OH * OW;
      // Output columns whose input column ix = ox * stride - pad + kj lies inside [0, W).
      int64_t lo = 0, hi = OW;
      while (lo < OW && lo * stride - pad + kj < 0) ++lo;
      while (hi > lo && (hi - 1) * stride - pad + kj >= W) --hi;
      for (int64_t oy = 0; oy < OH; ++oy) {
        const int64_t iy = oy * stride - pad + ki;
        T* d = dst + oy * OW;
        if (iy < 0 || iy >= H) {
          std::fill(d, d + OW, T(0));
          continue;
        }
        const T* src = px + (c * H + iy) * W + lo * stride - pad + kj;
        std::fill(d, d + lo, T(0));
        if (stride == 1) {
          std::copy(src, src + (hi - lo), d + lo);
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) d[ox] = src[(ox - lo) * stride];
        }
        std::fill(d + hi, d + OW, T(0));
      }
    }
  });
}

void col2im(const Tensor& cols, int64_t n, int64_t kh, int64_t kw, int64_t stride, int64_t pad, const Tensor& gx) {
  const int64_t C = gx.size(1), H = gx.size(2), W = gx.size(3);
  const int64_t OH = (H + 2 * pad - kh) / stride + 1, OW = (W + 2 * pad - kw) / stride + 1;
  dispatch_float(gx.dtype(), "col2im", [&](auto z) {
    using T = decltype(z);
    T* px = gx.data<T>() + n * C * H * W;
    const T* pc = cols.data<T>();
#pragma omp parallel for schedule(static) if (C * kh * kw * OH * OW > 32768)
    for (int64_t c = 0; c < C; ++c) {  // each thread owns whole channels: no write conflicts
      for (int64_t ki = 0; ki < kh; ++ki)
        for (int64_t kj = 0; kj < kw; ++kj) {
          const T* src = pc + ((c * kh + ki) * kw + kj) * OH * OW;
          for (int64_t oy = 0; oy < OH; ++oy) {
            const int64_t iy = oy * stride - pad + ki;
            if (iy < 0 || iy >= H) continue;
            for (int64_t ox = 0; ox < OW; ++ox) {
              const int64_t ix = ox * stride - pad + kj;
              if (ix >= 0 && ix < W) px[(c * H + iy) * W + ix] += src[oy * OW + ox];
            }
          }
        }
    }
  });
}

void max_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out, const Tensor& argmax) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  dispatch_float(x.dtype(), "max_pool2d", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pa = argmax.data<int64_t>();
    if (p == 0 && k == 2 && s == 2) {  // the CNN encoder's pool: every window inside, no bounds checks
#pragma omp parallel for schedule(static) if (NC * OH * OW > 8192)
      for (int64_t nc = 0; nc < NC; ++nc)
        for (int64_t oy = 0; oy < OH; ++oy) {
          const T* r0 = px + (nc * H + 2 * oy) * W;
          const T* r1 = r0 + W;
          T* o = po + (nc * OH + oy) * OW;
          int64_t* a = pa + (nc * OH + oy) * OW;
          for (int64_t ox = 0; ox < OW; ++ox) {
            // same order and tie rule as the general loop: first maximum in row-major window order
            const int64_t base = 2 * oy * W + 2 * ox;
            T best = r0[2 * ox];
            int64_t arg = base;
            if (r0[2 * ox + 1] > best) best = r0[2 * ox + 1], arg = base + 1;
            if (r1[2 * ox] > best) best = r1[2 * ox], arg = base + W;
            if (r1[2 * ox + 1] > best) best = r1[2 * ox + 1], arg = base + W + 1;
            o[ox] = best;
            a[ox] = arg;
          }
        }
      return;
    }
#pragma omp parallel for schedule(static) if (NC * OH * OW * k * k > 32768)
    for (int64_t nc = 0; nc < NC; ++nc)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = -1;
          for (int64_t i = 0; i < k; ++i) {
            const int64_t iy = oy * s - p + i;
            if (iy < 0 || iy >= H) continue;
            for (int64_t j = 0; j < k; ++j) {
              const int64_t ix = ox * s - p + j;
              if (ix < 0 || ix >= W) continue;
              const T v = px[(nc * H + iy) * W + ix];
              if (arg < 0 || v > best) { best = v; arg = iy * W + ix; }
            }
          }
          po[(nc * OH + oy) * OW + ox] = best;
          pa[(nc * OH + oy) * OW + ox] = arg;
        }
  });
}

void max_pool2d_backward(const Tensor& g, const Tensor& argmax, const Tensor& gx) {
  const int64_t NC = gx.size(0) * gx.size(1), HW = gx.size(2) * gx.size(3), OHW = g.size(2) * g.size(3);
  dispatch_float(g.dtype(), "max_pool2d_backward", [&](auto z) {
    using T = decltype(z);
    const T* pg = g.data<T>();
    const int64_t* pa = argmax.data<int64_t>();
    T* px = gx.data<T>();
#pragma omp parallel for schedule(static) if (NC * OHW > 32768)
    for (int64_t nc = 0; nc < NC; ++nc)
      for (int64_t o = 0; o < OHW; ++o) px[nc * HW + pa[nc * OHW + o]] += pg[nc * OHW + o];
  });
}

void avg_pool2d(const Tensor& x, int64_t k, int64_t s, int64_t p, const Tensor& out) {
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  dispatch_float(x.dtype(), "avg_pool2d", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const double inv = 1.0 / static_cast<double>(k * k);
#pragma omp parallel for schedule(static) if (NC * OH * OW * k * k > 32768)
    for (int64_t nc = 0; nc < NC; ++nc)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = 0;
          for (int64_t i = 0; i < k; ++i) {
            const int64_t iy = oy * s - p + i;
            if (iy < 0 || iy >= H) continue;
            for (int64_t j = 0; j < k; ++j) {
              const int64_t ix = ox * s - p + j;
              if (ix >= 0 && ix < W) acc += px[(nc * H + iy) * W + ix];
            }
          }
          po[(nc * OH + oy) * OW + ox] = static_cast<T>(acc * inv);
        }
  });
}

void avg_pool2d_backward(const Tensor& g, int64_t k, int64_t s, int64_t p, const Tensor& gx) {
  const int64_t NC = gx.size(0) * gx.size(1), H = gx.size(2), W = gx.size(3), OH = g.size(2), OW = g.size(3);
  dispatch_float(g.dtype(), "avg_pool2d_backward", [&](auto z) {
    using T = decltype(z);
    const T* pg = g.data<T>();
    T* px = gx.data<T>();
    const T inv = static_cast<T>(1.0 / static_cast<double>(k * k));
#pragma omp parallel for schedule(static) if (NC * OH * OW * k * k > 32768)
    for (int64_t nc = 0; nc < NC; ++nc)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          const T v = pg[(nc * OH + oy) * OW + ox] * inv;
          for (int64_t i = 0; i < k; ++i) {
            const int64_t iy = oy * s - p + i;
            if (iy < 0 || iy >= H) continue;
            for (int64_t j = 0; j < k; ++j) {
              const int64_t ix = ox * s - p + j;
              if (ix >= 0 && ix < W) px[(nc * H + iy) * W + ix] += v;
            }
          }
        }
  });
}

}  // namespace mrnn::cpu
