// ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s", doi:10.1109/CVPR52688.2022.01167).
// Module and parameter names equal timm's `ConvNeXt` (stem.0, stages.N.blocks.M.conv_dw, ...,
// head.norm, head.fc), so timm's published safetensors load as they are; torchvision's layout
// (features.N..., classifier.N) is mapped by `torchvision_to_timm_name` (weights convert).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/weights.h"

namespace cervirisk::models {

struct ConvNeXtConfig {
  std::vector<std::int64_t> depths{3, 3, 9, 3};
  std::vector<std::int64_t> dims{96, 192, 384, 768};
  std::int64_t in_chans = 3;
  std::int64_t num_classes = 0;      // 0: no head.fc (embedding only)
  double drop_path_rate = 0.0;       // stochastic depth, linearly increasing per block
  double layer_scale_init = 1e-6;    // 0: no layer scale (no gamma parameter)
  double ls_eps = 1e-6;              // LayerNorm epsilon (timm and torchvision use 1e-6)

  // timm's named sizes: atto femto pico nano tiny small base large.
  static ConvNeXtConfig named(const std::string& size);
  std::int64_t embed_dim() const { return dims.back(); }
};

// Channel-wise LayerNorm on NCHW maps (timm LayerNorm2d): parameters `weight`, `bias`.
struct LayerNorm2dImpl : torch::nn::Module {
  LayerNorm2dImpl(std::int64_t channels, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  double eps;
};
TORCH_MODULE(LayerNorm2d);

struct ConvNeXtMlpImpl : torch::nn::Module {
  ConvNeXtMlpImpl(std::int64_t dim, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);  // channels-last [..., C]
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ConvNeXtMlp);

struct ConvNeXtBlockImpl : torch::nn::Module {
  ConvNeXtBlockImpl(std::int64_t dim, double drop_path, double layer_scale_init, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv_dw{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  ConvNeXtMlp mlp{nullptr};
  torch::Tensor gamma;  // undefined without layer scale
  double drop_path_rate;
};
TORCH_MODULE(ConvNeXtBlock);

struct ConvNeXtStageImpl : torch::nn::Module {
  ConvNeXtStageImpl(std::int64_t in_dim, std::int64_t out_dim, std::int64_t depth,
                    const std::vector<double>& drop_paths, double layer_scale_init, double eps);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Sequential downsample{nullptr};  // absent in stage 0 (timm: Identity)
  torch::nn::Sequential blocks{nullptr};
};
TORCH_MODULE(ConvNeXtStage);

struct ConvNeXtHeadImpl : torch::nn::Module {
  ConvNeXtHeadImpl(std::int64_t dim, std::int64_t num_classes, double eps);
  LayerNorm2d norm{nullptr};
  torch::nn::Linear fc{nullptr};  // null when num_classes == 0
};
TORCH_MODULE(ConvNeXtHead);

struct ConvNeXtOutput {
  torch::Tensor embedding;  // [B, C]: global average pool -> head.norm (timm pre-logits)
  torch::Tensor features;   // [B, C, h, w]: last stage's map (Grad-CAM target)
  torch::Tensor logits;     // [B, num_classes] when the model has a classifier, else undefined
};

class ConvNeXtImpl : public torch::nn::Module {
 public:
  explicit ConvNeXtImpl(ConvNeXtConfig cfg);
  ConvNeXtOutput forward(const torch::Tensor& x);
  const ConvNeXtConfig& config() const { return cfg_; }
  // Multiply-adds x 2 of one forward pass on a [1, C, H, W] input.
  std::int64_t flops(std::int64_t height, std::int64_t width) const;

  torch::nn::Sequential stem{nullptr};
  torch::nn::ModuleList stages{nullptr};
  ConvNeXtHead head{nullptr};

 private:
  ConvNeXtConfig cfg_;
};
TORCH_MODULE(ConvNeXt);

// Truncated normal N(0, std) on [-2 std, 2 std] (LibTorch 1.13 has no trunc_normal_).
void trunc_normal_(torch::Tensor t, double std);
// timm's initialisation of Linear and Conv2d layers: trunc_normal(std) weights, zero biases.
void init_trunc_normal(torch::nn::Module& m, double std);
// Stochastic depth: drops the residual branch per sample in training.
torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training);

// torchvision's ConvNeXt keys -> timm's ("" for keys with no counterpart). Also used by
// `cervirisk weights convert --from torchvision`.
std::string torchvision_to_timm_name(const std::string& key);
// True when a state dict is in torchvision's layout (has features.0.0.weight).
bool is_torchvision_convnext(const TensorMap& tensors);
// Load options for a ConvNeXt checkpoint: torchvision's layout is detected and renamed (its
// layer scale [C, 1, 1] reshaped to timm's [C]); `prefix` is prepended to the module names
// (e.g. "convnext." inside a fusion model).
LoadOptions convnext_load_options(const TensorMap& tensors, const std::string& prefix = "");
// A torchvision-layout state dict in timm's layout (`cervirisk weights convert --from torchvision`).
TensorMap convert_torchvision_convnext(const TensorMap& tensors);

}  // namespace cervirisk::models
