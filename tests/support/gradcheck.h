// The tests use the public gradient checker (kernels/gradcheck.h), the same one users get.
#pragma once
#include "kernels/gradcheck.h"

namespace mrnn::testing {
using OpFn = GradcheckFn;
using mrnn::gradcheck;
using mrnn::GradcheckResult;
}  // namespace mrnn::testing
