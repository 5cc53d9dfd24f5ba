// MRNN_HD lives in core (core/philox.h needs it); the kernels/common headers include it from here.
#pragma once
#include "core/host_device.h"
