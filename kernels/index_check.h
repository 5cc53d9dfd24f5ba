// Deferring the embedding's index check on a GPU to one read at the end of a loop. Why: on a GPU
// embedding() must read its check's result back to raise the CPU's error for a bad id, which
// stalls the host once per call; a decoding loop calls it every step with ids the device search
// itself produced. Inside a DeferredIndexCheck the check still runs on the device, but its result
// is kept there (the first bad index seen) and finish() reads it once.
// On the CPU the check costs no sync and stays immediate; a scope changes nothing there.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mrnn {

class DeferredIndexCheck {
 public:
  // what: the loop, for the error message ("beam_decode"). Scopes nest; the innermost one records.
  explicit DeferredIndexCheck(std::string what);
  ~DeferredIndexCheck();  // never reads, never throws: call finish() on the normal path
  DeferredIndexCheck(const DeferredIndexCheck&) = delete;
  DeferredIndexCheck& operator=(const DeferredIndexCheck&) = delete;

  // Ensures: when an embedding on a GPU inside this scope saw an index outside its table, throws
  // the embedding's Error ("embedding: index I at position P is outside the table of V rows"),
  // naming the loop; otherwise returns. At most one device-to-host copy (none if no GPU embedding
  // ran inside the scope).
  void finish();
  // The same with the record's values already read by the caller (`values`: the three i64s of
  // record(), e.g. fetched together with other numbers in one copy); reads nothing.
  void finish(const std::vector<int64_t>& values);

  // For kernels/cuda/embedding.cu: the innermost scope of this thread, or nullptr.
  static DeferredIndexCheck* current();
  // The record [first bad position, its id, table rows], -1 when none; undefined until the first
  // deferred embedding creates it on its device.
  Tensor& record() { return record_; }

 private:
  std::string what_;
  Tensor record_;
  DeferredIndexCheck* outer_;
};

}  // namespace mrnn
