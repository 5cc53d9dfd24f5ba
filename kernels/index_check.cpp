#include "kernels/index_check.h"

#include <utility>
#include <vector>

namespace mrnn {

namespace {
thread_local DeferredIndexCheck* g_current = nullptr;
}

DeferredIndexCheck::DeferredIndexCheck(std::string what) : what_(std::move(what)), outer_(g_current) {
  g_current = this;
}

DeferredIndexCheck::~DeferredIndexCheck() { g_current = outer_; }

DeferredIndexCheck* DeferredIndexCheck::current() { return g_current; }

void DeferredIndexCheck::finish() {
  if (!record_.defined()) return;
  finish(record_.to_vector<int64_t>());  // the one read
}

void DeferredIndexCheck::finish(const std::vector<int64_t>& r) {
  record_ = Tensor();
  MRNN_CHECK(r.size() == 3, "DeferredIndexCheck::finish: expected 3 values, got {}", r.size());
  if (r[0] >= 0)
    MRNN_FAIL("embedding: index {} at position {} is outside the table of {} rows (found by {}'s deferred check)",
              r[1], r[0], r[2], what_);
}

}  // namespace mrnn
