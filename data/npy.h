// NumPy .npy files (format versions 1.0, 2.0, 3.0): little-endian, C-order numeric arrays.
// Why: image features and embeddings are exchanged with Python tools as .npy; the reader trusts
// nothing in the file and names the file and the header field in every error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/raw_array.h"

namespace mrnn {

// What a .npy header says, after validation against the file size.
struct NpyHeader {
  int major_version = 1;        // 1, 2 or 3 (minor is always 0)
  ElemType type = ElemType::F32;
  std::vector<int64_t> shape;   // empty = 0-d
  uint64_t data_offset = 0;     // where the element bytes start
  uint64_t data_bytes = 0;      // numel * element size; the file ends exactly there
};

// Supported 'descr' values: '<f2' '<f4' '<f8' '<i2' '<i4' '<i8' '<u2' '<u4' '<u8' and the one-byte
// '|u1' '|i1' '|b1' (also spelled with '<' or '>'). BF16 has no .npy dtype.

// Parses and checks the header of the .npy bytes data[0, size) named `name` in errors.
// Requires: nothing (the bytes are untrusted).
// Ensures: magic and version valid; header length within the file; the header is a Python dict
// literal with exactly the keys 'descr' (supported, little-endian), 'fortran_order' (False) and
// 'shape' (tuple of non-negative ints whose product and byte count do not overflow); the data
// after the header is exactly data_bytes long. Throws Error naming `name` and the field otherwise.
NpyHeader parse_npy_header(const uint8_t* data, size_t size, const std::string& name);

// Reads the header of the .npy file at path without reading its data (same checks as above,
// against the file's size). Lets callers read rows lazily from data_offset.
NpyHeader read_npy_header(const std::string& path);

// Reads a whole .npy file / buffer. Also checks BOOL elements are 0 or 1.
// Throws Error naming the file (or `name`) and the failed check.
RawArray read_npy(const std::string& path);
RawArray read_npy(const uint8_t* data, size_t size, const std::string& name);

// The .npy bytes of a, exactly as numpy.save writes them: version 1.0 (2.0 when the header does
// not fit in 65535 bytes), header padded with spaces and a final '\n' so the data starts at a
// multiple of 64. Requires a.check() to pass and a.type != BF16; throws Error otherwise.
std::vector<uint8_t> encode_npy(const RawArray& a);

// Writes encode_npy(a) to path atomically (temp file in the same directory, fsync, rename).
void write_npy(const std::string& path, const RawArray& a);

}  // namespace mrnn
