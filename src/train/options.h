// study.toml -> trainer and loader options: the one mapping of the [train] keys (and
// study.seed / study.deterministic) onto train/trainer.h and train/loader.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config_fwd.h"
#include "train/loader.h"
#include "train/trainer.h"

namespace cervirisk::train {

struct TrainingSetup {
  TrainerOptions trainer;
  LoaderOptions loader;
};

// `train_labels`: the binary labels of the patients the model is trained on (class weights are
// fitted on them, nothing else; NaN = no binary label, ignored). `variant` and `seed` enter the checkpoint fingerprint with the config hash.
// train.class_balance:
//   weighted -- bce: balanced_class_weights(train_labels); focal: alpha = n_negative / n (the
//               positive class's share of the balanced weights); cox: no weights
//   sampler  -- Sampling::kBalanced, unweighted loss (focal alpha off)
//   none     -- unweighted loss (focal alpha off), shuffled epochs
// Backbones (lower learning rate): "convnext.", "vit.", "text."; no decay besides biases and
// 0/1-D tensors: ViT "cls_token*" and "pos_embed*" (as timm does).
// The last partial batch is dropped only when it would hold a single patient (a batch of one
// has no variance for normalisation and no pair for the Cox loss).
TrainingSetup training_setup(const config::Config& cfg, const std::vector<float>& train_labels,
                             const std::string& variant, std::uint64_t seed);

}  // namespace cervirisk::train
