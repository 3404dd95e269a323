// Training losses for the recurrence logit / risk score: class-weighted binary cross-entropy,
// focal loss and the Cox partial-likelihood loss (Breslow ties). All reduce to a scalar mean so
// the loss scale does not depend on the batch size.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/choice.h"

namespace cervirisk::train {

// kBceCox trains two heads at once: the model returns [B, 2] = (logit, Cox risk) and the loss is
// BCE(logit) + cox_weight * Cox(risk).
enum class LossKind { kBce, kFocal, kCox, kBceCox };
inline constexpr ChoiceNames<4> kLossKindNames{"bce", "focal", "cox", "bce+cox"};

LossKind parse_loss_kind(const std::string& name);  // throws ConfigError naming the choices
std::string to_string(LossKind kind);

struct LossConfig {
  LossKind kind = LossKind::kBce;
  // Per-class weights of BCE (fitted on the training cohort: balanced_class_weights()).
  double negative_weight = 1.0;
  double positive_weight = 1.0;
  // Focal loss: alpha in [0, 1] weights the positive class (alpha_t), alpha < 0 disables it.
  double focal_alpha = 0.25;
  double focal_gamma = 2.0;
  double cox_weight = 1.0;  // kBceCox
};

struct ClassWeights {
  double negative = 1.0;
  double positive = 1.0;
};
// n / (2 n_c): each class contributes half of the total weight (the "balanced" heuristic of
// King & Zeng 2001, doi:10.1093/oxfordjournals.pan.a004868; sklearn's class_weight="balanced").
// NaN labels (no binary label) are ignored. Throws ValidationError when a class is absent.
ClassWeights balanced_class_weights(const torch::Tensor& labels);

// mean_i w_{y_i} * BCE(logit_i, y_i), computed from logits (log-sum-exp stable).
// Equals torch's binary_cross_entropy_with_logits(weight = w_{y_i}, reduction = mean).
torch::Tensor weighted_bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets,
                                       double negative_weight, double positive_weight);

// Focal loss, Lin et al. 2017 (doi:10.1109/ICCV.2017.324), eq. 5 on sigmoid outputs:
// mean_i alpha_t (1 - p_t)^gamma * BCE(logit_i, y_i). Equals torchvision.ops.sigmoid_focal_loss
// (reduction = "mean").
torch::Tensor focal_loss_with_logits(const torch::Tensor& logits, const torch::Tensor& targets,
                                     double alpha, double gamma);

// Negative log Cox partial likelihood of a risk score (higher = earlier event), Breslow's
// approximation for ties (Breslow 1974, doi:10.2307/2529620): every subject with T_j >= T_i is in
// the risk set of event i, tied events and censorings included. Mean over events; Cox 1972
// (doi:10.1111/j.2517-6161.1972.tb00899.x). A batch without events gives 0 (with a gradient of 0),
// so mini-batches never fail. `time` and `event` carry no gradient.
torch::Tensor cox_partial_likelihood_loss(const torch::Tensor& risk, const torch::Tensor& time,
                                          const torch::Tensor& event);

// Dispatch on config. `targets` is the binary label: NaN = no binary label (the horizon endpoint's
// patients censored before the horizon), left out of BCE / focal (the mean is over labelled rows;
// none labelled gives 0 with a zero gradient) but kept in the Cox loss. `time`/`event` are used by
// kCox and kBceCox. kBceCox needs `output` of shape [B, 2] (logit, risk); the others [B].
torch::Tensor compute_loss(const LossConfig& config, const torch::Tensor& output,
                           const torch::Tensor& targets, const torch::Tensor& time,
                           const torch::Tensor& event);

}  // namespace cervirisk::train
