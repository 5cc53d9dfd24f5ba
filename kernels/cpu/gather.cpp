// CPU gather and its scatter-add backward (kernels/ops_gather.cpp checks shapes and index values).
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace mrnn::cpu {

namespace {

template <typename I>
const I* index_ptr(const Tensor& t) {
  return t.data<I>();
}

// Calls fn(flat position e in the index, element offset in a tensor of strides `st`) for every
// index element, in order; the dim `dim` coordinate is replaced by the index value.
template <typename I, typename Fn>
void walk(const Tensor& index, int64_t dim, const Shape& st, int64_t base, Fn&& fn) {
  const Shape& sh = index.shape();
  const int64_t nd = static_cast<int64_t>(sh.size()), n = index.numel();
  const I* pi = index_ptr<I>(index);
  std::vector<int64_t> pos(static_cast<size_t>(nd), 0);
  int64_t off = base;  // offset of pos without the dim coordinate
  for (int64_t e = 0; e < n; ++e) {
    fn(e, off + static_cast<int64_t>(pi[e]) * st[static_cast<size_t>(dim)]);
    for (int64_t d = nd - 1; d >= 0; --d) {  // advance pos (row-major)
      const size_t k = static_cast<size_t>(d);
      if (++pos[k] < sh[k]) {
        if (d != dim) off += st[k];
        break;
      }
      if (d != dim) off -= st[k] * (sh[k] - 1);
      pos[k] = 0;
    }
  }
}

template <typename Fn>
void with_index(const Tensor& index, Fn&& fn) {
  if (index.dtype() == DType::I64) fn(int64_t{});
  else fn(int32_t{});
}

}  // namespace

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  dispatch_float(x.dtype(), "gather", [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.storage()->data()) + x.offset();
    T* po = out.data<T>();
    with_index(index, [&](auto iz) {
      using I = decltype(iz);
      walk<I>(index, dim, x.strides(), 0, [&](int64_t e, int64_t off) { po[e] = px[off]; });
    });
  });
}

void gather_backward(const Tensor& g, int64_t dim, const Tensor& index, const Tensor& gx) {
  dispatch_float(g.dtype(), "gather_backward", [&](auto z) {
    using T = decltype(z);
    const T* pg = g.data<T>();
    T* pgx = gx.data<T>();
    with_index(index, [&](auto iz) {
      using I = decltype(iz);
      // One pass in index order: the sums are deterministic.
      walk<I>(index, dim, gx.strides(), 0, [&](int64_t e, int64_t off) { pgx[off] += pg[e]; });
    });
  });
}

}  // namespace mrnn::cpu
