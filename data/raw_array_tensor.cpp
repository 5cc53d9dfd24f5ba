#include "data/raw_array_tensor.h"

#include <cstring>

namespace mrnn {

RawArray to_raw_array(const Tensor& t) {
  Tensor c = t.detach().to(Device::cpu()).contiguous();  // a GPU tensor is copied to the host first
  RawArray a;
  switch (t.dtype()) {
    case DType::F32: a.type = ElemType::F32; break;
    case DType::F64: a.type = ElemType::F64; break;
    case DType::I32: a.type = ElemType::I32; break;
    case DType::I64: a.type = ElemType::I64; break;
  }
  a.shape = t.shape();
  a.bytes.resize(static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  if (!a.bytes.empty()) std::memcpy(a.bytes.data(), c.raw_data(), a.bytes.size());
  return a;
}

namespace {
template <typename Src, typename Dst>
Tensor convert(const RawArray& a, DType dt) {
  Tensor t = Tensor::empty(a.shape, dt);
  const Src* s = a.data_as<Src>();
  Dst* d = t.data<Dst>();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<Dst>(s[i]);
  return t;
}
}  // namespace

Tensor to_tensor(const RawArray& a, const std::string& what) {
  a.check();
  switch (a.type) {
    case ElemType::F32: {
      Tensor t = Tensor::empty(a.shape, DType::F32);
      if (!a.bytes.empty()) std::memcpy(t.raw_data(), a.bytes.data(), a.bytes.size());
      return t;
    }
    case ElemType::F64: return convert<double, double>(a, DType::F64);
    case ElemType::I32: return convert<int32_t, int32_t>(a, DType::I32);
    case ElemType::I64: return convert<int64_t, int64_t>(a, DType::I64);
    case ElemType::U8: return convert<uint8_t, int64_t>(a, DType::I64);
    case ElemType::I8: return convert<int8_t, int64_t>(a, DType::I64);
    case ElemType::I16: return convert<int16_t, int64_t>(a, DType::I64);
    case ElemType::U16: return convert<uint16_t, int64_t>(a, DType::I64);
    case ElemType::U32: return convert<uint32_t, int64_t>(a, DType::I64);
    case ElemType::BOOL: return convert<uint8_t, int64_t>(a, DType::I64);
    default: break;
  }
  MRNN_FAIL("{}: element type {} is not supported as a tensor (use F32, F64, I32 or I64)", what,
            elem_type_name(a.type));
}

}  // namespace mrnn
