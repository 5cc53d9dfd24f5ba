#include "core/autograd.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "core/accumulate.h"

namespace mrnn {

namespace {
thread_local bool t_grad_enabled = true;
thread_local const LeafGradReady* t_leaf_hook = nullptr;
std::atomic<uint64_t> g_sequence{0};
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }

LeafGradHook::LeafGradHook(LeafGradReady fn) : fn_(std::move(fn)), prev_(t_leaf_hook) { t_leaf_hook = &fn_; }
LeafGradHook::~LeafGradHook() { t_leaf_hook = prev_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void attach_grad(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  node->sequence = g_sequence.fetch_add(1);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
}

void attach_view_grad(Tensor& out, const char* name, const Tensor& input, BackwardFn fn, GradViewFn view) {
  attach_grad(out, name, {input}, std::move(fn));
  out.grad_fn()->grad_view = std::move(view);
}

namespace {

// The gradient being summed for one node's output.
struct Slot {
  Tensor g;
  bool owned = false;  // the engine allocated g and nobody else holds it: adding in place is safe
};

// slot += c, where c is a whole gradient that may alias anything.
void add_to_slot(Slot& s, const Tensor& c) {
  if (!s.g.defined()) {
    s.g = c;
    s.owned = false;
  } else if (s.owned) {
    accumulate_into(s.g, c);
  } else {
    s.g = sum_of(s.g, c);  // a fresh buffer: from now on the sum is added to in place
    s.owned = true;
  }
}

// The slot's gradient as an engine-owned buffer shaped like `input` (zeros when it has none yet).
const Tensor& owned_buffer(Slot& s, const Tensor& input, const Tensor& g) {
  if (!s.g.defined()) {
    s.g = Tensor::zeros(input.shape(), input.dtype(), g.device());
  } else if (!s.owned) {
    s.g = s.g.clone();
  }
  s.owned = true;
  return s.g;
}

// view (a part of a buffer shaped like the node's input) += g.
void add_to_view(const Node& n, const Tensor& buffer, const Tensor& g) {
  Tensor part = n.grad_view(buffer);
  MRNN_CHECK(part.shape() == g.shape(), "autograd: view node '{}' maps gradient {} to a part of shape {}", n.name,
             g.desc(), shape_str(part.shape()));
  accumulate_into(part, g);
}

// leaf.grad += g. A leaf's .grad is its own (a clone on first use), so it is added to in place.
void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  Tensor cur = leaf.grad();
  if (!cur.defined()) {
    // Adopt g when nothing else can see its memory (the only handle to a plain contiguous buffer
    // of exactly the leaf's shape, with no history): no copy of e.g. a 20 MB output-layer
    // gradient at the training peak. Otherwise an own copy: g may alias another tensor.
    const bool sole = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.offset() == 0 &&
                      g.is_contiguous() && !g.grad_fn() && !g.requires_grad() && g.dtype() == leaf.dtype();
    leaf.impl().grad = sole ? g.impl_ptr() : g.clone().impl_ptr();
  } else {
    accumulate_into(cur, g);
  }
}

// leaf.grad's part that view node n picks += g (the rest of a fresh .grad is zero).
void accumulate_leaf_view(const Node& n, const Tensor& leaf, const Tensor& g) {
  Tensor cur = leaf.grad();
  if (!cur.defined()) {
    cur = Tensor::zeros(leaf.shape(), leaf.dtype(), g.device());
    leaf.impl().grad = cur.impl_ptr();
  }
  add_to_view(n, cur, g);
}

}  // namespace

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  MRNN_CHECK(requires_grad(), "backward() on {} which does not require grad (no input had requires_grad)", desc());
  Tensor g0 = seed;
  if (!g0.defined()) {
    MRNN_CHECK(numel() == 1, "backward() without a seed gradient needs a one-element output, got {}", desc());
    g0 = Tensor::ones(shape(), dtype(), device());
  }
  MRNN_CHECK(g0.shape() == shape() && g0.dtype() == dtype() && g0.device() == device(),
             "backward(): seed gradient {} does not match output {} (shape, dtype and device must agree)", g0.desc(),
             desc());
  NoGradGuard no_grad;
  if (is_leaf()) {
    accumulate_leaf(*this, g0);
    return;
  }

  // Nodes are created in order, so descending creation sequence is a valid topological order.
  // `order` owns the nodes: releasing a node's inputs must not free nodes still to be run.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::shared_ptr<Node>> stack{grad_fn()};
  seen.insert(grad_fn().get());
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    for (const Tensor& in : n->inputs) {
      if (!in.defined()) continue;
      const std::shared_ptr<Node>& p = in.grad_fn();
      if (p && seen.insert(p.get()).second) stack.push_back(p);
    }
    order.push_back(std::move(n));
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a->sequence > b->sequence; });

  // With a LeafGradHook: how many edges of the graph still feed each leaf that wants a gradient;
  // a leaf is final when its count reaches zero.
  const LeafGradReady* hook = t_leaf_hook;
  std::unordered_map<TensorImpl*, int> leaf_edges;
  if (hook)
    for (const std::shared_ptr<Node>& n : order)
      for (const Tensor& in : n->inputs)
        if (in.defined() && in.requires_grad() && !in.grad_fn()) ++leaf_edges[&in.impl()];
  // Called once node n is done (or skipped: no gradient reached it).
  auto leaves_done = [&](const Node& n) {
    for (const Tensor& in : n.inputs) {
      if (!in.defined() || !in.requires_grad() || in.grad_fn()) continue;
      auto e = leaf_edges.find(&in.impl());
      if (e != leaf_edges.end() && --e->second == 0) (*hook)(in);
    }
  };

  std::unordered_map<Node*, Slot> grads;
  grads[grad_fn().get()] = Slot{g0, false};
  for (const std::shared_ptr<Node>& n : order) {
    auto it = grads.find(n.get());
    if (it == grads.end()) {
      if (hook) leaves_done(*n);
      continue;
    }
    MRNN_CHECK(!n->released,
               "backward through the graph a second time (node '{}' was already freed); pass retain_graph=true "
               "to the first backward() if you need this",
               n->name);
    Tensor g = std::move(it->second.g);
    grads.erase(it);
    if (n->grad_view && n->inputs.size() == 1) {
      // A slicing view: add g into its part of the input's gradient, in place.
      const Tensor& in = n->inputs[0];
      if (in.defined() && in.requires_grad()) {
        if (Node* p = in.grad_fn().get()) add_to_view(*n, owned_buffer(grads[p], in, g), g);
        else accumulate_leaf_view(*n, in, g);
      }
    } else {
      std::vector<Tensor> gin = n->backward(g);
      MRNN_CHECK(gin.size() == n->inputs.size(), "autograd: node '{}' returned {} gradients for {} inputs", n->name,
                 gin.size(), n->inputs.size());
      for (size_t i = 0; i < gin.size(); ++i) {
        const Tensor& in = n->inputs[i];
        if (!gin[i].defined() || !in.defined() || !in.requires_grad()) continue;
        MRNN_CHECK(gin[i].shape() == in.shape(), "autograd: node '{}' produced gradient {} for input {} of shape {}",
                   n->name, gin[i].desc(), i, shape_str(in.shape()));
        if (Node* p = in.grad_fn().get()) add_to_slot(grads[p], gin[i]);
        else accumulate_leaf(in, gin[i]);
      }
    }
    if (hook) leaves_done(*n);
    if (!retain_graph) {
      n->backward = nullptr;
      n->grad_view = nullptr;
      n->inputs.clear();
      n->released = true;
    }
  }
}

}  // namespace mrnn
