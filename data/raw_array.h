// RawArray: a typed, C-ordered n-d array kept as raw little-endian bytes, as .npy and .safetensors
// files store it. Why: the feature-file readers stay free of core/ (so they can be fuzzed on their
// own); conversions to and from Tensor live in separate *_tensor files.
#pragma once
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace mrnn {

// Element types of the feature files. Declared in the order of the safetensors reference
// implementation (by alignment), which its writer sorts by; F16/BF16 values are kept as raw bits.
enum class ElemType : uint8_t { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

// Bytes per element of t (1, 2, 4 or 8).
inline size_t elem_size(ElemType t) {
  switch (t) {
    case ElemType::BOOL: case ElemType::U8: case ElemType::I8: return 1;
    case ElemType::I16: case ElemType::U16: case ElemType::F16: case ElemType::BF16: return 2;
    case ElemType::I32: case ElemType::U32: case ElemType::F32: return 4;
    case ElemType::F64: case ElemType::I64: case ElemType::U64: return 8;
  }
  return 0;
}

// The name safetensors uses for t: "BOOL", "U8", ..., "F32", "U64".
inline const char* elem_type_name(ElemType t) {
  switch (t) {
    case ElemType::BOOL: return "BOOL";
    case ElemType::U8: return "U8";
    case ElemType::I8: return "I8";
    case ElemType::I16: return "I16";
    case ElemType::U16: return "U16";
    case ElemType::F16: return "F16";
    case ElemType::BF16: return "BF16";
    case ElemType::I32: return "I32";
    case ElemType::U32: return "U32";
    case ElemType::F32: return "F32";
    case ElemType::F64: return "F64";
    case ElemType::I64: return "I64";
    case ElemType::U64: return "U64";
  }
  return "?";
}

// elem_type_of<T>(): the ElemType whose elements are C++ type T (float -> F32, bool -> BOOL, ...).
// F16 and BF16 have no C++ type: they are read and written as uint16_t bit patterns.
template <typename T> struct ElemTypeOf;
template <> struct ElemTypeOf<bool> { static constexpr ElemType value = ElemType::BOOL; };
template <> struct ElemTypeOf<uint8_t> { static constexpr ElemType value = ElemType::U8; };
template <> struct ElemTypeOf<int8_t> { static constexpr ElemType value = ElemType::I8; };
template <> struct ElemTypeOf<int16_t> { static constexpr ElemType value = ElemType::I16; };
template <> struct ElemTypeOf<uint16_t> { static constexpr ElemType value = ElemType::U16; };
template <> struct ElemTypeOf<int32_t> { static constexpr ElemType value = ElemType::I32; };
template <> struct ElemTypeOf<uint32_t> { static constexpr ElemType value = ElemType::U32; };
template <> struct ElemTypeOf<float> { static constexpr ElemType value = ElemType::F32; };
template <> struct ElemTypeOf<double> { static constexpr ElemType value = ElemType::F64; };
template <> struct ElemTypeOf<int64_t> { static constexpr ElemType value = ElemType::I64; };
template <> struct ElemTypeOf<uint64_t> { static constexpr ElemType value = ElemType::U64; };
template <typename T> constexpr ElemType elem_type_of() { return ElemTypeOf<T>::value; }

// Product of the dimensions of shape (1 for a 0-d shape) into *numel.
// Returns false, leaving *numel unspecified, when a dimension is negative or the product
// overflows int64_t. The readers use it on untrusted shapes.
inline bool checked_numel(const std::vector<int64_t>& shape, int64_t* numel) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *numel = n;
  return true;
}

struct RawArray {
  ElemType type = ElemType::F32;
  std::vector<int64_t> shape;   // empty = 0-d (one element)
  std::vector<uint8_t> bytes;   // numel() * elem_size(type) bytes, little-endian, C order

  // Number of elements. Throws Error when the shape has a negative dimension or overflows.
  int64_t numel() const {
    int64_t n = 0;
    MRNN_CHECK(checked_numel(shape, &n), "RawArray: shape has a negative dimension or its "
               "element count overflows int64");
    return n;
  }

  // Throws Error unless bytes.size() == numel() * elem_size(type). Writers call it first.
  void check() const {
    const int64_t n = numel();
    uint64_t want = 0;
    MRNN_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(n), elem_size(type), &want) &&
                   want == bytes.size(),
               "RawArray: {} elements of {} need {} bytes, the array holds {}", n,
               elem_type_name(type), static_cast<uint64_t>(n) * elem_size(type), bytes.size());
  }

  // Typed view of the elements. Requires T to be the element type (uint16_t for F16/BF16 bits,
  // otherwise elem_type_of<T>() == type); throws Error otherwise.
  template <typename T> const T* data_as() const {
    check_type<T>();
    return reinterpret_cast<const T*>(bytes.data());
  }
  template <typename T> T* data_as() {
    check_type<T>();
    return reinterpret_cast<T*>(bytes.data());
  }

  // An array of type elem_type_of<T>() (or `type` when given, for F16/BF16 bits in uint16_t)
  // holding values in C order. Requires values.size() == product of shape.
  template <typename T>
  static RawArray from_values(std::vector<int64_t> shape, const std::vector<T>& values,
                              ElemType type = elem_type_of<T>()) {
    RawArray a;
    a.type = type;
    a.shape = std::move(shape);
    a.check_type<T>();
    MRNN_CHECK(static_cast<int64_t>(values.size()) == a.numel(),
               "RawArray::from_values: shape holds {} elements, {} values given", a.numel(),
               values.size());
    a.bytes.resize(values.size() * sizeof(T));
    for (size_t i = 0; i < values.size(); ++i) {
      const T v = values[i];  // copies out of std::vector<bool>'s proxy too
      std::memcpy(a.bytes.data() + i * sizeof(T), &v, sizeof(T));
    }
    return a;
  }

 private:
  template <typename T> void check_type() const {
    static_assert(std::is_arithmetic<T>::value, "RawArray elements are arithmetic types");
    const bool half_bits = std::is_same<T, uint16_t>::value &&
                           (type == ElemType::F16 || type == ElemType::BF16);
    MRNN_CHECK(half_bits || elem_type_of<T>() == type,
               "RawArray holds {} elements, asked for {}", elem_type_name(type),
               elem_type_name(elem_type_of<T>()));
  }
};

// IEEE 754 half-precision bits -> float (exact: every half is a float).
inline float f16_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: normalise the mantissa.
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// bfloat16 bits -> float (exact: bfloat16 is the top half of a float).
inline float bf16_bits_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Every element of a converted to float, in C order (BOOL -> 0/1, F16/BF16 decoded, 64-bit
// integers rounded to the nearest float). Requires a.check() to pass.
inline std::vector<float> to_f32(const RawArray& a) {
  a.check();
  const size_t n = a.bytes.size() / elem_size(a.type);
  std::vector<float> out(n);
  auto convert = [&](auto tag) {
    using T = decltype(tag);
    for (size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, a.bytes.data() + i * sizeof(T), sizeof(T));
      out[i] = static_cast<float>(v);
    }
  };
  switch (a.type) {
    case ElemType::BOOL: case ElemType::U8: convert(uint8_t{}); break;
    case ElemType::I8: convert(int8_t{}); break;
    case ElemType::I16: convert(int16_t{}); break;
    case ElemType::U16: convert(uint16_t{}); break;
    case ElemType::I32: convert(int32_t{}); break;
    case ElemType::U32: convert(uint32_t{}); break;
    case ElemType::F32: convert(float{}); break;
    case ElemType::F64: convert(double{}); break;
    case ElemType::I64: convert(int64_t{}); break;
    case ElemType::U64: convert(uint64_t{}); break;
    case ElemType::F16: case ElemType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, a.bytes.data() + 2 * i, 2);
        out[i] = a.type == ElemType::F16 ? f16_bits_to_float(h) : bf16_bits_to_float(h);
      }
      break;
  }
  return out;
}

// ---- File byte I/O shared by the feature-file and image readers and writers --------------------

// A file opened for reading whose size is known; reads name the path in their errors.
class InputFile {
 public:
  // Opens path; throws Error naming it and the OS reason when it cannot be opened or is not a
  // regular file.
  explicit InputFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    MRNN_CHECK(fd_ >= 0, "{}: cannot open: {}", path_, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      MRNN_FAIL("{}: cannot stat: {}", path_, std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      MRNN_FAIL("{}: not a regular file{}", path_, S_ISDIR(st.st_mode) ? " (a directory)" : "");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Reads exactly n bytes at offset into dst; throws Error naming the file when fewer exist.
  void read_at(uint64_t offset, void* dst, size_t n) const {
    auto* p = static_cast<uint8_t*>(dst);
    while (n > 0) {
      const size_t chunk = n < (size_t{1} << 30) ? n : (size_t{1} << 30);
      const ssize_t got = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      MRNN_CHECK(got > 0, "{}: read of {} bytes at offset {} failed: {}", path_, n, offset,
                 got == 0 ? "unexpected end of file" : std::strerror(errno));
      p += got;
      offset += static_cast<uint64_t>(got);
      n -= static_cast<size_t>(got);
    }
  }

  // The whole file.
  std::vector<uint8_t> read_all() const {
    MRNN_CHECK(size_ <= std::numeric_limits<size_t>::max(), "{}: too large to read", path_);
    std::vector<uint8_t> out(static_cast<size_t>(size_));
    read_at(0, out.data(), out.size());
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Writes the concatenation of parts to path atomically: a temporary file in the same directory is
// written, fsync'ed and renamed over path, then the directory is fsync'ed. Readers see either the
// old file or the complete new one. Throws Error naming path and the OS reason on failure (the
// temporary file is removed).
inline void write_file_atomic(const std::string& path,
                              const std::vector<std::pair<const void*, size_t>>& parts) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  MRNN_CHECK(fd >= 0, "{}: cannot create temporary file {}: {}", path, tmp, std::strerror(errno));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    MRNN_FAIL("{}: {} failed: {}", path, what, std::strerror(err));
  };
  for (const auto& part : parts) {
    const auto* p = static_cast<const uint8_t*>(part.first);
    size_t n = part.second;
    while (n > 0) {
      const ssize_t put = ::write(fd, p, n);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) fail("write");
      p += put;
      n -= static_cast<size_t>(put);
    }
  }
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    MRNN_FAIL("{}: close failed: {}", path, std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    MRNN_FAIL("{}: rename from {} failed: {}", path, tmp, std::strerror(err));
  }
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // best effort: the rename itself already happened
    ::fsync(dfd);
    ::close(dfd);
  }
}

// The same for one text (a JSON file, a config).
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, {{text.data(), text.size()}});
}

}  // namespace mrnn
