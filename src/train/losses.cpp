#include "train/losses.h"

#include <fmt/format.h>

#include "core/error.h"

namespace cervirisk::train {

LossKind parse_loss_kind(const std::string& name) {
  return parse_choice<LossKind>(kLossKindNames, name, "train.loss");
}

std::string to_string(LossKind kind) { return choice_name(kLossKindNames, kind); }

ClassWeights balanced_class_weights(const torch::Tensor& labels) {
  auto y = labels.to(torch::kDouble).flatten();
  y = y.index({~torch::isnan(y)});
  const double n = static_cast<double>(y.numel());
  const double n_pos = (y > 0.5).sum().item<double>();
  const double n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0)
    throw ValidationError(fmt::format("class weights: both classes are needed, got {} positive and {} negative labels",
                                      n_pos, n_neg));
  return {n / (2.0 * n_neg), n / (2.0 * n_pos)};
}

namespace {
void check_same_length(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  if (a.dim() != 1 || b.dim() != 1 || a.size(0) != b.size(0))
    throw ValidationError(fmt::format("{}: expected two 1-D tensors of equal length, got shapes {} and {}", what,
                                      c10::str(a.sizes()), c10::str(b.sizes())));
}
}  // namespace

torch::Tensor weighted_bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets,
                                       double negative_weight, double positive_weight) {
  check_same_length(logits, targets, "weighted BCE");
  auto y = targets.to(logits.scalar_type());
  auto w = y * positive_weight + (1 - y) * negative_weight;
  return torch::binary_cross_entropy_with_logits(logits, y, w);  // mean reduction
}

torch::Tensor focal_loss_with_logits(const torch::Tensor& logits, const torch::Tensor& targets, double alpha,
                                     double gamma) {
  check_same_length(logits, targets, "focal loss");
  auto y = targets.to(logits.scalar_type());
  auto p = torch::sigmoid(logits);
  auto ce = torch::binary_cross_entropy_with_logits(logits, y, {}, {}, at::Reduction::None);
  auto p_t = p * y + (1 - p) * (1 - y);
  auto loss = ce * torch::pow(1 - p_t, gamma);
  if (alpha >= 0) loss = loss * (alpha * y + (1 - alpha) * (1 - y));
  return loss.mean();
}

torch::Tensor cox_partial_likelihood_loss(const torch::Tensor& risk, const torch::Tensor& time,
                                          const torch::Tensor& event) {
  check_same_length(risk, time, "Cox loss (risk, time)");
  check_same_length(risk, event, "Cox loss (risk, event)");
  auto t = time.detach().to(torch::kCPU, torch::kDouble).contiguous();
  auto e = event.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto n = t.size(0);
  const double n_events = (e > 0.5).sum().item<double>();
  if (n_events == 0) return risk.sum() * 0.0;

  // Descending time: the risk set of position k is the prefix 0..last(k), where last(k) is the
  // final position of k's tie group, so one log-cumsum-exp gives every log risk-set sum.
  auto order = torch::argsort(t, /*dim=*/0, /*descending=*/true);
  auto t_sorted = t.index_select(0, order);
  const double* ts = t_sorted.data_ptr<double>();
  auto last = torch::empty({n}, torch::kLong);
  auto* lp = last.data_ptr<std::int64_t>();
  for (std::int64_t k = n - 1; k >= 0; --k) lp[k] = (k + 1 < n && ts[k + 1] == ts[k]) ? lp[k + 1] : k;

  auto dev = risk.device();
  auto r_sorted = risk.index_select(0, order.to(dev));
  auto log_risk_set = torch::logcumsumexp(r_sorted, 0).index_select(0, last.to(dev));
  auto e_sorted = e.index_select(0, order).to(dev, risk.scalar_type());
  return -((r_sorted - log_risk_set) * e_sorted).sum() / n_events;
}

namespace {
// BCE or focal over the rows with a binary label.
torch::Tensor binary_loss(const LossConfig& config, const torch::Tensor& logits, const torch::Tensor& targets) {
  check_same_length(logits, targets, "binary loss (logits, targets)");
  const auto known = ~torch::isnan(targets);
  const bool all = known.all().item<bool>();
  if (!all && !known.any().item<bool>()) return logits.sum() * 0.0;
  const auto known_dev = known.to(logits.device());
  const auto l = all ? logits : logits.index({known_dev});
  const auto y = all ? targets : targets.index({known});
  if (config.kind == LossKind::kFocal) return focal_loss_with_logits(l, y.to(l.device()), config.focal_alpha, config.focal_gamma);
  return weighted_bce_with_logits(l, y.to(l.device()), config.negative_weight, config.positive_weight);
}
}  // namespace

torch::Tensor compute_loss(const LossConfig& config, const torch::Tensor& output, const torch::Tensor& targets,
                           const torch::Tensor& time, const torch::Tensor& event) {
  const bool two = config.kind == LossKind::kBceCox;
  if (two != (output.dim() == 2 && output.size(1) == 2))
    throw ValidationError(fmt::format("{} loss: expected model output of shape {}, got {}", to_string(config.kind),
                                      two ? "[B, 2] (logit, risk)" : "[B]", c10::str(output.sizes())));
  switch (config.kind) {
    case LossKind::kBce:
    case LossKind::kFocal:
      return binary_loss(config, output, targets);
    case LossKind::kCox:
      return cox_partial_likelihood_loss(output, time, event);
    case LossKind::kBceCox: {
      LossConfig bce = config;
      bce.kind = LossKind::kBce;
      return binary_loss(bce, output.select(1, 0), targets) +
             config.cox_weight * cox_partial_likelihood_loss(output.select(1, 1), time, event);
    }
  }
  throw ConfigError("unknown loss kind");
}

}  // namespace cervirisk::train
