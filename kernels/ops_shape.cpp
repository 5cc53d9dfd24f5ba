// Views (reshape, transpose, permute, narrow, select, expand, (un)squeeze) and joining ops.
// Views share storage with their input; their backward maps the gradient back to the input shape.
#include <numeric>

#include "core/strided.h"

#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// Makes `v` a differentiable view of `x` whose backward is `fn`.
Tensor finish_view(const Tensor& x, Tensor v, const char* name, BackwardFn fn) {
  if (needs_grad({&x})) attach_grad(v, name, {x}, std::move(fn));
  return v;
}

// The same for a view that picks a part of `x`: autograd adds v's gradient into view(x's gradient)
// in place (core/autograd.h), so slicing a sequence step by step stays O(T) in backward.
Tensor finish_slice(const Tensor& x, Tensor v, const char* name, BackwardFn fn, GradViewFn view) {
  if (needs_grad({&x})) attach_view_grad(v, name, x, std::move(fn), std::move(view));
  return v;
}

Shape infer_shape(Shape shape, int64_t numel, const Tensor& x) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      MRNN_CHECK(infer < 0, "reshape: more than one -1 in {}", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      MRNN_CHECK(shape[i] >= 0, "reshape: negative dimension in {}", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    MRNN_CHECK(known > 0 && numel % known == 0, "reshape: cannot reshape {} into {}", x.desc(), shape_str(shape));
    shape[infer] = numel / known;
  }
  MRNN_CHECK(shape_numel(shape) == numel, "reshape: cannot reshape {} ({} elements) into {}", x.desc(), numel,
             shape_str(shape));
  return shape;
}

}  // namespace

Tensor reshape(const Tensor& x, Shape shape) {
  check_defined("reshape", {&x});
  shape = infer_shape(std::move(shape), x.numel(), x);
  Tensor src = x.contiguous();  // records a clone node when x is a non-contiguous view
  Shape in_shape = x.shape();
  Tensor v = Tensor::view_of(src, shape, contiguous_strides(shape), src.offset());
  return finish_view(src, v, "reshape", [in_shape](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in_shape)};
  });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  MRNN_CHECK(s <= e, "flatten: start_dim {} after end_dim {}", start_dim, end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= x.size(d);
  shape.push_back(m);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  check_defined("transpose", {&x});
  d0 = wrap_dim(d0, x.dim(), "transpose");
  d1 = wrap_dim(d1, x.dim(), "transpose");
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  return finish_view(x, Tensor::view_of(x, shape, strides, x.offset()), "transpose",
                     [d0, d1](const Tensor& g) { return std::vector<Tensor>{transpose(g, d0, d1)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined("permute", {&x});
  MRNN_CHECK(static_cast<int64_t>(dims.size()) == x.dim(), "permute: {} dims given for {}", dims.size(), x.desc());
  std::vector<int64_t> d(dims.size()), inverse(dims.size());
  std::vector<bool> used(dims.size(), false);
  Shape shape(dims.size()), strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    d[i] = wrap_dim(dims[i], x.dim(), "permute");
    MRNN_CHECK(!used[d[i]], "permute: dim {} repeated", d[i]);
    used[d[i]] = true;
    shape[i] = x.shape()[d[i]];
    strides[i] = x.strides()[d[i]];
    inverse[d[i]] = static_cast<int64_t>(i);
  }
  return finish_view(x, Tensor::view_of(x, shape, strides, x.offset()), "permute",
                     [inverse](const Tensor& g) { return std::vector<Tensor>{permute(g, inverse)}; });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined("narrow", {&x});
  dim = wrap_dim(dim, x.dim(), "narrow");
  MRNN_CHECK(start >= 0 && length >= 0 && start + length <= x.size(dim),
             "narrow: range [{}, {}) out of bounds for dim {} of {}", start, start + length, dim, x.desc());
  Shape shape = x.shape();
  shape[dim] = length;
  Tensor v = Tensor::view_of(x, shape, x.strides(), x.offset() + start * x.strides()[dim]);
  Shape in_shape = x.shape();
  DType dt = x.dtype();
  return finish_slice(
      x, v, "narrow",
      [in_shape, dt, dim, start, length](const Tensor& g) {
        Tensor gx = Tensor::zeros(in_shape, dt, g.device());
        narrow(gx, dim, start, length).copy_(g);
        return std::vector<Tensor>{gx};
      },
      [dim, start, length](const Tensor& gx) { return narrow(gx, dim, start, length); });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_defined("select", {&x});
  dim = wrap_dim(dim, x.dim(), "select");
  int64_t n = x.size(dim);
  MRNN_CHECK(index >= -n && index < n, "select: index {} out of range for dim {} of {}", index, dim, x.desc());
  if (index < 0) index += n;
  Shape shape = x.shape(), strides = x.strides();
  int64_t off = x.offset() + index * strides[dim];
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  Shape in_shape = x.shape();
  DType dt = x.dtype();
  return finish_slice(
      x, Tensor::view_of(x, shape, strides, off), "select",
      [in_shape, dt, dim, index](const Tensor& g) {
        Tensor gx = Tensor::zeros(in_shape, dt, g.device());
        select(gx, dim, index).copy_(g);
        return std::vector<Tensor>{gx};
      },
      [dim, index](const Tensor& gx) { return select(gx, dim, index); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  check_defined("expand", {&x});
  MRNN_CHECK(shape.size() >= x.shape().size(), "expand: cannot expand {} to fewer dims {}", x.desc(),
             shape_str(shape));
  size_t lead = shape.size() - x.shape().size();
  for (size_t i = 0; i < x.shape().size(); ++i)
    MRNN_CHECK(x.shape()[i] == shape[lead + i] || x.shape()[i] == 1, "expand: cannot expand {} to {}", x.desc(),
               shape_str(shape));
  Shape strides = broadcast_strides(x.shape(), x.strides(), shape);
  Shape in_shape = x.shape();
  return finish_view(x, Tensor::view_of(x, shape, strides, x.offset()), "expand",
                     [in_shape](const Tensor& g) { return std::vector<Tensor>{sum_to_shape(g, in_shape)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined("unsqueeze", {&x});
  dim = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t st = dim < x.dim() ? strides[dim] * shape[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, st);
  return finish_view(x, Tensor::view_of(x, shape, strides, x.offset()), "unsqueeze",
                     [dim](const Tensor& g) { return std::vector<Tensor>{squeeze(g, dim)}; });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined("squeeze", {&x});
  dim = wrap_dim(dim, x.dim(), "squeeze");
  MRNN_CHECK(x.size(dim) == 1, "squeeze: dim {} of {} has size {}, not 1", dim, x.desc(), x.size(dim));
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return finish_view(x, Tensor::view_of(x, shape, strides, x.offset()), "squeeze",
                     [dim](const Tensor& g) { return std::vector<Tensor>{unsqueeze(g, dim)}; });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  MRNN_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  check_defined("concat", {&first});
  dim = wrap_dim(dim, first.dim(), "concat");
  Shape shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    check_defined("concat", {&t});
    check_same_device("concat", {&first, &t});
    check_same_dtype("concat", {&first, &t});
    MRNN_CHECK(t.dim() == first.dim(), "concat: tensor {} is {} but tensor 0 is {}", i, t.desc(), first.desc());
    for (int64_t d = 0; d < t.dim(); ++d)
      MRNN_CHECK(d == dim || t.size(d) == first.size(d), "concat: tensor {} is {} but tensor 0 is {} (dim {})", i,
                 t.desc(), first.desc(), dim);
    total += t.size(dim);
  }
  shape[dim] = total;
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  {
    NoGradGuard ng;
    int64_t at = 0;
    for (const Tensor& t : xs) {
      narrow(out, dim, at, t.size(dim)).copy_(t);
      at += t.size(dim);
      sizes.push_back(t.size(dim));
    }
  }
  if (needs_grad(xs)) {
    attach_grad(out, "concat", xs, [sizes, dim](const Tensor& g) { return split(g, sizes, dim); });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  MRNN_CHECK(!xs.empty(), "stack: no tensors given");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> u;
  u.reserve(xs.size());
  for (const Tensor& t : xs) u.push_back(unsqueeze(t, dim));
  return concat(u, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_defined("split", {&x});
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  MRNN_CHECK(total == x.size(dim), "split: sizes add up to {} but dim {} of {} has {}", total, dim, x.desc(),
             x.size(dim));
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(narrow(x, dim, at, s));
    at += s;
  }
  return parts;
}

Tensor index_select(const Tensor& x, const Tensor& index) {
  check_defined("index_select", {&x, &index});
  MRNN_CHECK(x.dim() >= 1, "index_select: needs at least a 1-d input, got {}", x.desc());
  MRNN_CHECK(index.dim() == 1, "index_select: index must be 1-d, got {}", index.desc());
  Shape out_shape = x.shape();
  out_shape[0] = index.size(0);
  Tensor rows = reshape(x, {x.size(0), x.numel() / std::max<int64_t>(x.size(0), 1)});
  return reshape(embedding(rows, index), out_shape);
}

}  // namespace mrnn
