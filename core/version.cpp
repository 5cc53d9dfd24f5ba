#include "core/version.h"

#ifndef MRNN_VERSION
#error "MRNN_VERSION is defined by the build (cmake/MrnnLayers.cmake)"
#endif

namespace mrnn {

const char* version() { return MRNN_VERSION; }

}  // namespace mrnn
