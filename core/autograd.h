// Reverse-mode autograd: ops record a Node (a backward closure plus its inputs) on their output
// when grad mode is on and an input requires grad; Tensor::backward() runs the nodes in reverse
// topological order. Fused ops are a single Node with a hand-written backward.
// Accumulation: each tensor's gradient is the sum of its contributions in the order they arrive;
// the engine adds in place only into buffers it allocated itself (a backward's result may alias
// its upstream gradient, an input or another result), and into leaves' .grad.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// Given the gradient of the node's output, returns one gradient per input (an undefined Tensor
// where an input gets none). Runs with grad mode off.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// For a view that picks part of its one input (select, narrow and so split): given a tensor shaped
// like the input (the input's gradient buffer), returns the view of it that the output is.
using GradViewFn = std::function<Tensor(const Tensor& input_grad)>;

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;
  BackwardFn backward;
  // Set for slicing views (attach_view_grad). The engine then adds the output's gradient into
  // grad_view(input's gradient buffer) in place instead of calling backward, which would build a
  // zero tensor of the input's full size: a T-step loop over select(x, 0, t) costs O(T), not O(T^2).
  GradViewFn grad_view;
  uint64_t sequence = 0;  // creation order; later nodes run first
  bool released = false;  // set once backward ran without retain_graph
};

// Grad mode is per thread; NoGradGuard turns it off for a scope (inference, optimizer updates).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when an op on these inputs must record a node.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Called during backward() when a leaf's gradient is final for that pass: every node of the graph
// that feeds the leaf has run (leaves the graph does not reach are never named). Why: data-parallel
// training starts summing a bucket of gradients across ranks while backward still runs
// (models/engine/grad_reducer.h). The hook runs on the thread that called backward(), with grad
// mode off; it may read the leaf's .grad but must not change it.
using LeafGradReady = std::function<void(const Tensor& leaf)>;
// Installs `fn` for the backward passes of this thread while the guard lives (guards nest: the
// innermost is called).
class LeafGradHook {
 public:
  explicit LeafGradHook(LeafGradReady fn);
  ~LeafGradHook();
  LeafGradHook(const LeafGradHook&) = delete;
  LeafGradHook& operator=(const LeafGradHook&) = delete;

 private:
  LeafGradReady fn_;
  const LeafGradReady* prev_;
};

// Records `fn` as out's grad_fn with the given inputs.
void attach_grad(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);
// The same for a slicing view of `input`: `fn` must equal "zeros like input, with view(zeros) :=
// grad" (it serves whoever calls the node directly); the engine uses `view` instead.
void attach_view_grad(Tensor& out, const char* name, const Tensor& input, BackwardFn fn, GradViewFn view);

}  // namespace mrnn
