#include "train/schedule.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace cervirisk::train {
namespace {
bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
}  // namespace

std::vector<ParamAssignment> assign_param_groups(const torch::nn::Module& model, const OptimConfig& config) {
  std::vector<ParamAssignment> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const auto& name = item.key();
    const auto& p = item.value();
    if (!p.requires_grad()) continue;
    bool backbone = false;
    for (const auto& pre : config.backbone_prefixes) backbone = backbone || starts_with(name, pre);
    // Decay shrinks weights towards 0; for biases, norm gains and layer scales that is a prior
    // nobody wants (they are not over-parameterising anything), so they are exempt.
    bool no_decay = p.dim() <= 1 || ends_with(name, "bias");
    for (const auto& n : config.no_decay_names) no_decay = no_decay || name.find(n) != std::string::npos;
    ParamGroup g = backbone ? (no_decay ? ParamGroup::kBackboneNoDecay : ParamGroup::kBackboneDecay)
                            : (no_decay ? ParamGroup::kHeadNoDecay : ParamGroup::kHeadDecay);
    out.push_back({name, g});
  }
  return out;
}

Optimizer::Optimizer(torch::nn::Module& model, const OptimConfig& config) {
  if (config.head_lr < 0 || config.backbone_lr < 0 || config.weight_decay < 0)
    throw ConfigError(fmt::format("optimiser: learning rates and weight decay must be >= 0 (lr {}, backbone_lr {}, "
                                  "weight_decay {})",
                                  config.head_lr, config.backbone_lr, config.weight_decay));
  assignment_ = assign_param_groups(model, config);
  auto params = model.named_parameters(true);
  std::vector<std::vector<torch::Tensor>> groups(4);
  for (const auto& a : assignment_) groups[static_cast<int>(a.group)].push_back(params[a.name]);
  base_lrs_ = {config.backbone_lr, config.backbone_lr, config.head_lr, config.head_lr};
  const double decay[4] = {config.weight_decay, 0.0, config.weight_decay, 0.0};
  std::vector<torch::optim::OptimizerParamGroup> pg;
  for (int i = 0; i < 4; ++i) {
    auto opt = std::make_unique<torch::optim::AdamWOptions>(base_lrs_[i]);
    opt->betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(decay[i]);
    pg.emplace_back(groups[i], std::move(opt));
  }
  adamw_ = std::make_unique<torch::optim::AdamW>(std::move(pg), torch::optim::AdamWOptions(config.head_lr));
}

void Optimizer::set_lr_factor(double factor) {
  auto& groups = adamw_->param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i)
    static_cast<torch::optim::AdamWOptions&>(groups[i].options()).lr(base_lrs_[i] * factor);
}

double Optimizer::lr(ParamGroup g) const {
  return static_cast<const torch::optim::AdamWOptions&>(adamw_->param_groups()[static_cast<int>(g)].options()).lr();
}

std::vector<torch::Tensor> Optimizer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& g : adamw_->param_groups())
    for (const auto& p : g.params()) out.push_back(p);
  return out;
}

double WarmupCosine::factor(std::int64_t step) const {
  if (step < 0) step = 0;
  if (step < warmup_steps) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (step >= total_steps) return min_factor;
  const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
  const double progress = static_cast<double>(step - warmup_steps) / span;
  return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> with_grad;
  for (const auto& p : parameters)
    if (p.grad().defined()) with_grad.push_back(p);
  if (with_grad.empty()) return 0.0;
  if (max_norm <= 0) {
    torch::NoGradGuard ng;
    std::vector<torch::Tensor> norms;
    for (const auto& p : with_grad) norms.push_back(p.grad().norm(2).to(torch::kDouble));
    return torch::stack(norms).norm(2).item<double>();
  }
  return torch::nn::utils::clip_grad_norm_(with_grad, max_norm, 2.0);
}

}  // namespace cervirisk::train
