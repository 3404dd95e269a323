#include "train/options.h"

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "core/random.h"
#include "core/torch/runtime.h"

namespace cervirisk::train {

TrainingSetup training_setup(const config::Config& cfg, const std::vector<float>& train_labels,
                             const std::string& variant, std::uint64_t seed) {
  TrainingSetup s;
  TrainerOptions& t = s.trainer;
  t.epochs = cfg.get_int("train.epochs");
  t.patience = cfg.get_int("train.early_stop_patience");
  t.select_on = parse_select_on(cfg.get_string("train.select_on"));
  t.grad_clip = cfg.get_double("train.grad_clip");
  t.ema_decay = cfg.get_double("train.ema_decay");
  t.warmup_epochs = cfg.get_double("train.warmup_epochs");
  t.optim.head_lr = cfg.get_double("train.lr");
  t.optim.backbone_lr = cfg.get_double("train.backbone_lr");
  t.optim.weight_decay = cfg.get_double("train.weight_decay");
  t.optim.backbone_prefixes = {"convnext.", "vit.", "text."};
  t.optim.no_decay_names = {"cls_token", "pos_embed"};
  t.freeze_epochs = cfg.get_int("train.freeze_backbone_epochs");
  t.freeze_prefixes = t.optim.backbone_prefixes;
  t.device = parse_device(cfg.get_string("train.device"));
  t.bf16 = use_bf16(cfg.get_string("train.precision"), t.device);
  t.seed = seed;
  t.deterministic = cfg.get_bool("study.deterministic");
  t.batch_shards = static_cast<int>(cfg.get_int("train.batch_shards"));
  t.fingerprint = fmt::format("{}/seed-{}/config-{}", variant, seed, cfg.hash().substr(0, 16));

  LossConfig& loss = t.loss;
  loss.kind = parse_loss_kind(cfg.get_string("train.loss"));
  loss.focal_gamma = cfg.get_double("train.focal_gamma");
  loss.focal_alpha = -1;
  loss.cox_weight = cfg.get_double("train.cox_weight");

  LoaderOptions& l = s.loader;
  l.batch_size = cfg.get_int("train.batch_size");
  l.workers = static_cast<int>(cfg.get_int("train.loader_workers"));
  l.seed = derive_seed(seed, "loader");
  l.sampling = Sampling::kShuffle;
  l.augment = true;
  l.drop_last = train_labels.size() > static_cast<std::size_t>(l.batch_size) &&
                train_labels.size() % static_cast<std::size_t>(l.batch_size) == 1;
  s.loader = effective_loader_options(l, t.deterministic);

  const std::string& balance = cfg.get_string("train.class_balance");
  if (balance == "sampler") {
    s.loader.sampling = Sampling::kBalanced;
  } else if (balance == "weighted" && loss.kind != LossKind::kCox) {
    auto labels = torch::tensor(train_labels, torch::kFloat);
    ClassWeights w = balanced_class_weights(labels);  // throws with one class
    loss.negative_weight = w.negative;
    loss.positive_weight = w.positive;
    if (loss.kind == LossKind::kFocal) loss.focal_alpha = w.positive / (w.positive + w.negative);
  }
  return s;
}

}  // namespace cervirisk::train
