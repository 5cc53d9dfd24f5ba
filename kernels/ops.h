// The differentiable ops. Each takes and returns Tensors, dispatches on the device, and (when
// grad mode is on and an input requires grad) records one autograd node with its backward.
// Shapes follow NumPy/PyTorch conventions; every shape or dtype mismatch throws mrnn::Error naming
// the op and the shapes. See docs/adding-an-op.md for how an op is put together.
#pragma once
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"
#include "kernels/reduction.h"

namespace mrnn {

// ---------------- views (share storage; backward maps the gradient back) ----------------
Tensor reshape(const Tensor& x, Shape shape);  // one dim may be -1; copies only if x is not viewable
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);  // elements [start, start+length)
Tensor select(const Tensor& x, int64_t dim, int64_t index);                  // removes `dim`
Tensor expand(const Tensor& x, const Shape& shape);                          // broadcast view, no copy
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);

// ---------------- joining and splitting ----------------
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);  // views
// Rows `index` (i64, 1-d) of x along dim 0; backward scatter-adds.
Tensor index_select(const Tensor& x, const Tensor& index);
// PyTorch's gather: out[i][j][k] = x[index[i][j][k]][j][k] (dim 0), x[i][index[i][j][k]][k] (dim 1),
// and so on. Requires: index i64/i32 with x's rank, index.size(d) <= x.size(d) for d != dim, values
// in [0, x.size(dim)) (checked on the host, from a CPU copy for CUDA inputs; an mrnn::Error names
// the first bad position). Ensures: out has index's shape; backward scatter-adds into x's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// ---------------- elementwise (broadcasting) ----------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor neg(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor scaled_tanh(const Tensor& x);  // 1.7159 * tanh(2x/3), the m-RNN multimodal activation
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);  // gradient passes where lo <= x <= hi
Tensor abs(const Tensor& x);   // gradient sign(x), 0 at 0
Tensor sign(const Tensor& x);  // -1, 0 or 1; gradient 0
// The exact GELU x * Phi(x) (PyTorch's default approximate="none").
Tensor gelu(const Tensor& x);
// Elementwise max / min with broadcasting; NaN in either operand gives NaN. At a tie the gradient
// is split equally between a and b (PyTorch's rule).
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// a^b elementwise with broadcasting (std::pow: a < 0 with a non-integer b is NaN). The gradient
// for b is a^b log(a), so a must be > 0 where b needs a gradient.
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& x, double p);
// a where cond != 0, else b; the three broadcast together. cond may be any dtype (a mask of 0/1
// ids or floats) and gets no gradient; a and b are f32/f64 of one dtype. Unlike cond*a +
// (1-cond)*b, an inf or NaN in the unselected operand never leaks into the result.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with `value` wherever mask != 0 (mask broadcasts to x): e.g. -inf over padded positions.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

// ---------------- matrix products (OpenBLAS or oneDNN on CPU: kernels/gemm_backend.h) ----------------
// a [M,K] @ b [K,N] -> [M,N]; a [B,M,K] @ b [B,K,N] -> [B,M,N]; a [B,M,K] @ b [K,N] -> [B,M,N].
// Transposed views (e.g. transpose(w, 0, 1)) are passed to GEMM as transposes, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);
// bias [N] + a [M,K] @ b [K,N]
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b);
// x [..., in] @ w[out, in]^T + b[out] (b may be undefined), the Linear layer's op.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// ---------------- reductions ----------------
Tensor sum(const Tensor& x);  // all elements -> 0-d
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Max along one dim; the gradient goes to the first maximal element.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // i64, not differentiable
// The largest (smallest) element -> 0-d; the gradient goes to the first such element in row-major
// order. Requires x non-empty.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// Variance over dims (var(x): all dims, unbiased), mean of squared deviations from the mean, divided by n - 1 when
// unbiased (PyTorch's default) else n. Requires n > 1 when unbiased (n > 0 otherwise): PyTorch
// returns NaN there, we say why.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased = true, bool keepdim = false);
Tensor var(const Tensor& x);  // no bool overload: var(x, {1}) must not read as unbiased = true
// (prediction - target)^2 reduced by `reduction` (Mean over all elements by default). Requires one
// shape: a broadcast here is almost always a bug ([N] against [N, 1]), so it is refused.
Tensor mse_loss(const Tensor& prediction, const Tensor& target, Reduction reduction = Reduction::Mean);
// Sums a broadcast gradient back down to `shape` (autograd of broadcasting ops uses it).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// ---------------- softmax family ----------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// logits [N, V], targets i64/i32 [N]; -log p(target) per row, reduced by `reduction`
// (kernels/reduction.h): Mean (the default) over rows whose target != ignore_index (0 when there
// are none), Sum, or None (the [N] row losses, 0 for ignored rows; backward takes an [N] gradient).
// Fused: backward uses the saved per-row log-sum-exp, not probabilities.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     Reduction reduction = Reduction::Mean);

// ---------------- neural-network ops ----------------
// weight [V, D], indices i64/i32 of any shape -> [..., D]; backward scatter-adds into weight rows.
Tensor embedding(const Tensor& weight, const Tensor& indices);
// Layer normalisation over the last dim: (x - mean) / sqrt(var + eps) * weight + bias with the
// biased variance (PyTorch's nn.LayerNorm over one dim). weight and bias are [D] or undefined (no
// elementwise affine). One fused node with a hand-written backward. Requires x f32/f64 with a
// non-empty last dim D.
Tensor layer_norm(const Tensor& x, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), double eps = 1e-5);
// Inverted dropout: keeps each element with probability 1-p and scales by 1/(1-p). The mask for
// element i comes from gen's counter (offset + i). Identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());
// x [N, C, H, W], w [O, C, KH, KW], b [O] or undefined -> [N, O, OH, OW]. CPU f32: oneDNN when
// built with it, else im2col + GEMM (kernels/conv_reference.h, also f64); CUDA: cuDNN.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride = 1, int64_t padding = 0);
// Max over each window, padding excluded; the gradient goes to the window's maximum.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// Average over the window with padding counted (PyTorch's count_include_pad=True).
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);

}  // namespace mrnn
