// Element types a Tensor can hold. f32 is the working type; f64 exists so gradient checks can use
// central differences with ~1e-10 error; i32/i64 hold indices (tokens, targets, argmax).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace mrnn {

enum class DType : uint8_t { F32, F64, I32, I64 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F64: case DType::I64: return 8;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
  }
  return "?";
}
inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }

// dtype_of<T>() maps a C++ type to its DType at compile time.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }

}  // namespace mrnn

namespace mrnn {

// dispatch_float(dtype, "op", [&](auto tag) { using T = decltype(tag); ... }) runs the body with
// T = float or double and throws naming the op for any other dtype. (A function, not a macro, so
// the body may contain OpenMP pragmas.)
template <typename Fn>
auto dispatch_float(DType dt, const char* op, Fn&& fn) {
  switch (dt) {
    case DType::F32: return fn(float{});
    case DType::F64: return fn(double{});
    default: break;
  }
  MRNN_FAIL("{}: expected a floating-point tensor (f32/f64), got {}", op, dtype_name(dt));
}

// Same for every dtype (copies and conversions).
template <typename Fn>
auto dispatch_all(DType dt, const char* op, Fn&& fn) {
  switch (dt) {
    case DType::F32: return fn(float{});
    case DType::F64: return fn(double{});
    case DType::I32: return fn(int32_t{});
    case DType::I64: return fn(int64_t{});
  }
  MRNN_FAIL("{}: unknown dtype", op);
}

}  // namespace mrnn
