// The fused recurrent cells (see kernels/fused.h): one autograd node per step for all the
// elementwise work of a ReLU/tanh RNN, LSTM or GRU step, with a hand-written backward from the
// saved gates. Dispatches to kernels/cpu/rnn_cells.cpp or kernels/cuda/rnn_cells.cu.
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/dispatch.h"
#include "kernels/fused.h"
#include "kernels/ops.h"

namespace mrnn {

namespace {

// The kernels take matrices with unit column stride and any row stride (a time step of a
// [B, T, G] projection is such a view); anything else is copied once.
Tensor as_rows(const Tensor& t) {
  Tensor d = t.detach();
  return (d.strides()[1] == 1 || d.size(1) <= 1) ? d : d.contiguous();
}

// Checks the common preconditions and returns (B, H) for projections of width `gates` * H.
std::pair<int64_t, int64_t> check_cell(const char* op, const Tensor& xproj, const Tensor& hproj, const Tensor& state,
                                       int64_t gates) {
  check_defined(op, {&xproj, &hproj, &state});
  check_same_device(op, {&xproj, &hproj, &state});
  check_same_dtype(op, {&xproj, &hproj, &state});
  require_backend(op, state);
  MRNN_CHECK(state.dim() == 2, "{}: the state must be [B, H], got {}", op, state.desc());
  const int64_t b = state.size(0), h = state.size(1);
  const Shape want{b, gates * h};
  MRNN_CHECK(xproj.shape() == want && hproj.shape() == want,
             "{}: xproj and hproj must be [{}, {}] ({} gate(s) of the state's width {}), got {} and {}", op, b,
             gates * h, gates, h, xproj.desc(), hproj.desc());
  return {b, h};
}

}  // namespace

Tensor rnn_cell(const Tensor& xproj, const Tensor& hproj, bool relu) {
  const char* op = relu ? "rnn_cell(relu)" : "rnn_cell(tanh)";
  check_defined(op, {&xproj, &hproj});
  MRNN_CHECK(xproj.dim() == 2 && xproj.shape() == hproj.shape(), "{}: xproj and hproj must be the same [B, H], got {} and {}",
             op, xproj.desc(), hproj.desc());
  check_cell(op, xproj, hproj, xproj, 1);
  Tensor h = Tensor::empty(xproj.shape(), xproj.dtype(), xproj.device());
  MRNN_DISPATCH(h.device(), rnn_cell_forward, relu, as_rows(xproj), as_rows(hproj), h);
  if (needs_grad({&xproj, &hproj})) {
    Tensor saved = h.detach();
    attach_grad(h, op, {xproj, hproj}, [saved, relu](const Tensor& g) {
      Tensor d = Tensor::empty(saved.shape(), saved.dtype(), saved.device());
      MRNN_DISPATCH(d.device(), rnn_cell_backward, relu, saved, as_rows(g), d);
      return std::vector<Tensor>{d, d};
    });
  }
  return h;
}

Tensor lstm_cell(const Tensor& xproj, const Tensor& hproj, const Tensor& c) {
  const char* op = "lstm_cell";
  const auto [b, n] = check_cell(op, xproj, hproj, c, 4);
  Tensor act = Tensor::empty({b, 4 * n}, c.dtype(), c.device());
  Tensor hc = Tensor::empty({2, b, n}, c.dtype(), c.device());
  Tensor cd = as_rows(c);
  MRNN_DISPATCH(hc.device(), lstm_cell_forward, as_rows(xproj), as_rows(hproj), cd, act, hc);
  if (needs_grad({&xproj, &hproj, &c})) {
    Tensor saved = hc.detach();
    attach_grad(hc, op, {xproj, hproj, c}, [act, cd, saved, b = b, n = n](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor dpre = Tensor::empty({b, 4 * n}, act.dtype(), act.device());
      Tensor dc = Tensor::empty({b, n}, act.dtype(), act.device());
      MRNN_DISPATCH(dpre.device(), lstm_cell_backward, act, cd, saved, gc, dpre, dc);
      return std::vector<Tensor>{dpre, dpre, dc};
    });
  }
  return hc;
}

Tensor gru_cell(const Tensor& xproj, const Tensor& hproj, const Tensor& h) {
  const char* op = "gru_cell";
  const auto [b, n] = check_cell(op, xproj, hproj, h, 3);
  Tensor act = Tensor::empty({b, 3 * n}, h.dtype(), h.device());
  Tensor out = Tensor::empty({b, n}, h.dtype(), h.device());
  Tensor hd = as_rows(h), hpd = as_rows(hproj);
  MRNN_DISPATCH(out.device(), gru_cell_forward, as_rows(xproj), hpd, hd, act, out);
  if (needs_grad({&xproj, &hproj, &h})) {
    attach_grad(out, op, {xproj, hproj, h}, [act, hpd, hd, b = b, n = n](const Tensor& g) {
      Tensor dx = Tensor::empty({b, 3 * n}, act.dtype(), act.device());
      Tensor dhp = Tensor::empty({b, 3 * n}, act.dtype(), act.device());
      Tensor dh = Tensor::empty({b, n}, act.dtype(), act.device());
      MRNN_DISPATCH(dx.device(), gru_cell_backward, act, hpd, hd, as_rows(g), dx, dhp, dh);
      return std::vector<Tensor>{dx, dhp, dh};
    });
  }
  return out;
}

}  // namespace mrnn
