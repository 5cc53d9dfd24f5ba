// .safetensors files: an 8-byte little-endian header size N, N bytes of JSON header naming each
// tensor's dtype, shape and byte range, then the tensor bytes. Why: the format of Hugging Face
// checkpoints and feature dumps; the reader enforces every check of the reference implementation.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/raw_array.h"

namespace mrnn {

// The reference implementation's bound on N.
constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

struct SafetensorsFile {
  std::map<std::string, RawArray> tensors;        // by name
  std::map<std::string, std::string> metadata;    // the optional "__metadata__" object
};

// Parses the .safetensors bytes data[0, size) named `name` in errors.
// Requires: nothing (the bytes are untrusted).
// Ensures, else throws Error naming `name` and the field: size >= 8; N <= kSafetensorsMaxHeader
// and 8 + N <= size; the header is a JSON object (first byte '{', valid UTF-8) without duplicate
// keys; "__metadata__", if present, maps strings to strings; every other key is a tensor
// {"dtype": one of BOOL U8 I8 I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64, "shape": [non-negative
// ints], "data_offsets": [begin, end]} with no other fields, end - begin == numel * element size
// (no overflow); sorted by offsets the tensors tile [0, size - 8 - N) without holes or overlaps;
// BOOL bytes are 0 or 1. (F8 dtypes are known to the format but not supported here.)
SafetensorsFile read_safetensors(const uint8_t* data, size_t size, const std::string& name);

// Reads the file at path with the same checks; each tensor's bytes are read straight into its
// RawArray (the file is not held in memory twice).
SafetensorsFile read_safetensors(const std::string& path);

// The .safetensors bytes of tensors + metadata, laid out as the reference writer does: tensors
// ordered by element type (U64, I64, F64, F32, U32, I32, BF16, F16, U16, I16, I8, U8, BOOL),
// then by name; compact JSON with "__metadata__" first (keys sorted); header padded with spaces
// to a multiple of 8 bytes. Requires every array to pass check() and names/metadata to be valid
// UTF-8 and names not "__metadata__"; throws Error otherwise.
std::vector<uint8_t> encode_safetensors(const std::map<std::string, RawArray>& tensors,
                                        const std::map<std::string, std::string>& metadata = {});

// Writes encode_safetensors(...) to path atomically (temp file in the same directory, fsync,
// rename), streaming the tensor bytes without an extra copy.
void write_safetensors(const std::string& path, const std::map<std::string, RawArray>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace mrnn
