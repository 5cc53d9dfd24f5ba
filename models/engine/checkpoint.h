// Saving and loading a module's parameters as .safetensors (names = state_dict names, so a
// PyTorch module of the same structure loads them with safetensors.torch.load_file). Files are
// written atomically and carry a checksum of the tensor bytes in "__metadata__", so a truncated
// or bit-flipped file is detected on load with a clear error.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"
#include "layers/module.h"

namespace mrnn {

// Writes tensors (+ extra metadata) to path atomically, adding metadata "mrnn_checksum".
void save_tensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                  std::map<std::string, std::string> metadata = {});
// Reads path; verifies "mrnn_checksum" when present (files from other tools have none).
std::map<std::string, Tensor> load_tensors(const std::string& path,
                                           std::map<std::string, std::string>* metadata = nullptr);

void save_module(const std::string& path, const Module& m, const std::map<std::string, std::string>& metadata = {});
// Strict: every parameter must be in the file with its shape; errors name the file and the entry.
void load_module(const std::string& path, Module& m);

}  // namespace mrnn
