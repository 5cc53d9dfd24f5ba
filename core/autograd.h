// Reverse-mode autograd: ops record a Node (a backward closure plus its inputs) on their output
// when grad mode is on and an input requires grad; Tensor::backward() runs the nodes in reverse
// topological order. Fused ops are a single Node with a hand-written backward.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

// Given the gradient of the node's output, returns one gradient per input (an undefined Tensor
// where an input gets none). Runs with grad mode off.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;
  BackwardFn backward;
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

// Records `fn` as out's grad_fn with the given inputs.
void attach_grad(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);

}  // namespace mrnn
