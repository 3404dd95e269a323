// Loading named tensors (a checkpoint's state dict) into a module, checking every name and
// shape, and saying exactly what is missing, unexpected or mis-shaped (llama.cpp's loader does
// the same per tensor). Shared by every architecture (ConvNeXt, CrossViT, BERT, fusion).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cervirisk::models {

using TensorMap = std::map<std::string, torch::Tensor>;

struct ShapeMismatch {
  std::string name;
  std::vector<std::int64_t> expected, actual;
};

struct WeightReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the module, not in the checkpoint
  std::vector<std::string> unexpected;  // in the checkpoint, not in the module
  std::vector<ShapeMismatch> mismatched;
  std::int64_t parameter_count = 0;     // of the module
  bool ok() const { return missing.empty() && mismatched.empty(); }
  // Human-readable summary (a few names of each kind, counts).
  std::string summary(std::size_t max_names = 10) const;
};

struct LoadOptions {
  // Prefixes tried for a module key when the checkpoint does not have it as is
  // (e.g. "bert." for HF checkpoints saved from BertForMaskedLM).
  std::vector<std::string> checkpoint_prefixes;
  // Rename checkpoint keys before matching (e.g. a torchvision -> timm name map); "" drops a key.
  std::function<std::string(const std::string&)> rename;
  // Called for a shape mismatch: may adapt the tensor (position-embedding interpolation);
  // return an undefined tensor to leave it mismatched.
  std::function<torch::Tensor(const std::string& name, const torch::Tensor& ckpt,
                              const torch::Tensor& target)>
      adapt;
  // Keys that may be missing without counting as a failure (e.g. a task head).
  std::vector<std::string> allowed_missing_prefixes;
  bool strict = true;  // throw ModelError when !ok()
};

// Copies matching tensors into the module's parameters and buffers (dtype converted).
WeightReport load_weights(torch::nn::Module& module, const TensorMap& tensors, const LoadOptions& opt = {});
// Compare only (nothing copied).
WeightReport check_weights(const torch::nn::Module& module, const TensorMap& tensors, const LoadOptions& opt = {});
// The module's parameters and buffers by name (contiguous CPU copies), for saving.
TensorMap state_dict(const torch::nn::Module& module);
std::int64_t parameter_count(const torch::nn::Module& module);

}  // namespace cervirisk::models

namespace cervirisk::io {
class SafetensorsFile;
}
namespace cervirisk::models {
// Every tensor of a safetensors file as a torch::Tensor (float types kept, F16/BF16 widened to F32).
TensorMap read_safetensors(const std::filesystem::path& path);
// The tensors of a state dict saved by Python's torch.save (the zip format of torch >= 1.6, e.g.
// torchvision's published .pth files): a dict of name -> tensor, nested dicts flattened with
// dots. FormatError naming the file when it holds anything else.
TensorMap read_torch_state_dict(const std::filesystem::path& path);
// Writes a state dict (float32 / int64 tensors) as safetensors.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});
}  // namespace cervirisk::models
