// AdamW with separate learning rates for pretrained backbones and new heads, no weight decay on
// biases and normalisation parameters, a per-step linear warm-up + cosine decay, and gradient-norm
// clipping.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cervirisk::train {

struct OptimConfig {
  double head_lr = 1e-3;      // train.lr
  double backbone_lr = 3e-4;  // train.backbone_lr
  double weight_decay = 0.05; // train.weight_decay (decoupled, Loshchilov & Hutter 2019)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  // A parameter whose name starts with one of these belongs to the backbone group
  // (e.g. "convnext.", "vit.", "bert."); everything else is head.
  std::vector<std::string> backbone_prefixes;
  // Parameters exempt from weight decay besides biases and 0/1-D tensors (norm weights, layer
  // scales): names containing one of these (e.g. "pos_embed", "cls_token").
  std::vector<std::string> no_decay_names;
};

// The four parameter groups, in this fixed order (checkpoints depend on it).
enum class ParamGroup : int { kBackboneDecay = 0, kBackboneNoDecay = 1, kHeadDecay = 2, kHeadNoDecay = 3 };

struct ParamAssignment {
  std::string name;
  ParamGroup group;
};
// Which group each trainable parameter of `model` goes to (requires_grad = false are skipped).
std::vector<ParamAssignment> assign_param_groups(const torch::nn::Module& model, const OptimConfig& config);

// AdamW over the four groups (empty groups are kept so indices are stable), with the base
// learning rate of each group recorded by the returned object.
class Optimizer {
 public:
  Optimizer(torch::nn::Module& model, const OptimConfig& config);
  torch::optim::AdamW& adamw() { return *adamw_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // Learning rates = base * factor for every group.
  void set_lr_factor(double factor);
  double lr(ParamGroup g) const;
  std::vector<torch::Tensor> parameters() const;
  const std::vector<ParamAssignment>& assignment() const { return assignment_; }

 private:
  std::unique_ptr<torch::optim::AdamW> adamw_;
  std::vector<double> base_lrs_;
  std::vector<ParamAssignment> assignment_;
};

// Learning-rate factor at an optimiser step: linear warm-up then half-cosine decay to
// `min_factor` (Loshchilov & Hutter 2017, SGDR, arXiv:1608.03983; warm-up as Goyal et al. 2017,
// arXiv:1706.02677). Step s (0-based, the s-th update) uses
//   s <  W: (s + 1) / W                     (the first update is not wasted at lr 0)
//   s >= W: min + (1 - min) * 0.5 * (1 + cos(pi * (s - W) / max(1, T - W)))
// and s >= T keeps min. Pure function of the step, so a resumed run needs only the step count.
struct WarmupCosine {
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  double min_factor = 0.0;
  double factor(std::int64_t step) const;
};

// Scales gradients so their global L2 norm is at most max_norm (Pascanu et al. 2013,
// arXiv:1211.5063); returns the norm before clipping. max_norm <= 0: only measures.
double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace cervirisk::train
