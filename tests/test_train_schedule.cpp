// Optimiser groups, the warm-up + cosine schedule (hand calculation), decoupled weight decay
// exemptions and gradient clipping.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "train/schedule.h"
#include "train_toy.h"

using namespace cervirisk;
using namespace cervirisk::train;

TEST(Schedule, WarmupThenCosineHandValues) {
  WarmupCosine s{4, 12, 0.0};
  // warm-up: (s+1)/4
  EXPECT_DOUBLE_EQ(s.factor(0), 0.25);
  EXPECT_DOUBLE_EQ(s.factor(1), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(3), 1.0);
  // cosine over 8 steps: step 4 -> 1, step 6 -> 0.5 (1 + cos(pi/4)), step 8 -> 0.5, step 10 -> 0.5 (1 + cos(3pi/4))
  EXPECT_DOUBLE_EQ(s.factor(4), 1.0);
  EXPECT_NEAR(s.factor(6), 0.5 * (1 + std::sqrt(0.5)), 1e-15);
  EXPECT_NEAR(s.factor(8), 0.5, 1e-15);
  EXPECT_NEAR(s.factor(10), 0.5 * (1 - std::sqrt(0.5)), 1e-15);
  EXPECT_DOUBLE_EQ(s.factor(12), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(100), 0.0);
  WarmupCosine floor{0, 10, 0.1};
  EXPECT_DOUBLE_EQ(floor.factor(0), 1.0);
  EXPECT_NEAR(floor.factor(5), 0.1 + 0.9 * 0.5, 1e-15);
  // monotone non-increasing after warm-up
  for (int i = 4; i < 15; ++i) EXPECT_LE(s.factor(i + 1), s.factor(i));
}

TEST(Optimizer, GroupsByPrefixAndDecayExemptions) {
  toy::ToyNet net;
  OptimConfig c;
  c.backbone_prefixes = {"backbone."};
  auto a = assign_param_groups(*net, c);
  std::map<std::string, ParamGroup> g;
  for (const auto& x : a) g[x.name] = x.group;
  EXPECT_EQ(g.at("backbone.0.weight"), ParamGroup::kBackboneDecay);      // conv kernel
  EXPECT_EQ(g.at("backbone.0.bias"), ParamGroup::kBackboneNoDecay);
  EXPECT_EQ(g.at("backbone.1.weight"), ParamGroup::kBackboneNoDecay);    // BatchNorm gain
  EXPECT_EQ(g.at("features.0.weight"), ParamGroup::kHeadDecay);
  EXPECT_EQ(g.at("features.1.weight"), ParamGroup::kHeadNoDecay);        // LayerNorm gain
  EXPECT_EQ(g.at("head.bias"), ParamGroup::kHeadNoDecay);
  EXPECT_EQ(g.count("backbone.1.running_mean"), 0u);                     // buffers are not optimised
  c.no_decay_names = {"head.weight"};
  for (const auto& x : assign_param_groups(*net, c))
    if (x.name == "head.weight") {
      EXPECT_EQ(x.group, ParamGroup::kHeadNoDecay);
    }
}

TEST(Optimizer, LearningRatesPerGroupFollowTheFactor) {
  toy::ToyNet net;
  OptimConfig c;
  c.head_lr = 1e-3;
  c.backbone_lr = 2e-4;
  c.backbone_prefixes = {"backbone."};
  Optimizer opt(*net, c);
  opt.set_lr_factor(0.5);
  EXPECT_DOUBLE_EQ(opt.lr(ParamGroup::kHeadDecay), 5e-4);
  EXPECT_DOUBLE_EQ(opt.lr(ParamGroup::kHeadNoDecay), 5e-4);
  EXPECT_DOUBLE_EQ(opt.lr(ParamGroup::kBackboneDecay), 1e-4);
  EXPECT_DOUBLE_EQ(opt.lr(ParamGroup::kBackboneNoDecay), 1e-4);
}

TEST(Optimizer, WeightDecayIsDecoupledAndSkipsBiasesAndNorms) {
  // With zero gradients Adam's update is 0, so only decoupled decay moves parameters:
  // p <- p (1 - lr * wd) (Loshchilov & Hutter 2019, doi:10.48550/arXiv.1711.05101, Algorithm 2).
  torch::manual_seed(1);
  toy::ToyNet net;
  OptimConfig c;
  c.head_lr = 0.1;
  c.backbone_lr = 0.01;
  c.weight_decay = 0.5;
  c.backbone_prefixes = {"backbone."};
  Optimizer opt(*net, c);
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : net->named_parameters()) {
    before[p.key()] = p.value().detach().clone();
    p.value().mutable_grad() = torch::zeros_like(p.value());
  }
  opt.adamw().step();
  auto params = net->named_parameters();
  EXPECT_TRUE(torch::allclose(params["head.weight"], before["head.weight"] * (1 - 0.1 * 0.5), 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(params["backbone.0.weight"], before["backbone.0.weight"] * (1 - 0.01 * 0.5), 1e-6, 1e-7));
  for (const char* n : {"head.bias", "features.1.weight", "features.1.bias", "backbone.1.weight", "backbone.0.bias"})
    EXPECT_TRUE(torch::equal(params[n], before[n])) << n;
}

TEST(Optimizer, AdamWFirstStepMovesByLr) {
  // Adam's first bias-corrected step is lr * g / (|g| + eps) = lr * sign(g).
  auto lin = torch::nn::Linear(torch::nn::LinearOptions(3, 1).bias(false));
  OptimConfig c;
  c.head_lr = 0.01;
  c.weight_decay = 0.0;
  Optimizer opt(*lin, c);
  auto w0 = lin->weight.detach().clone();
  lin->weight.mutable_grad() = torch::tensor({{2.0f, -0.5f, 1e-3f}});
  opt.adamw().step();
  auto expected = w0 - 0.01 * torch::tensor({{1.0f, -1.0f, 1e-3f / (1e-3f + 1e-8f)}});
  EXPECT_TRUE(torch::allclose(lin->weight, expected, 1e-6, 1e-7));
}

TEST(Clip, GlobalNormHandCalculation) {
  auto a = torch::zeros({2}, torch::requires_grad());
  auto b = torch::zeros({1}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({a, b}, 0), 5.0, 1e-6);  // measure only
  EXPECT_NEAR(a.grad()[0].item<float>(), 3.0f, 1e-6);
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<float>(), 0.6f, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<float>(), 0.8f, 1e-5);
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 1.0, 1e-5);  // under the limit: untouched
  EXPECT_NEAR(b.grad()[0].item<float>(), 0.8f, 1e-5);
}

TEST(Optimizer, RejectsNegativeRates) {
  toy::ToyNet net;
  OptimConfig c;
  c.head_lr = -1;
  try {
    Optimizer opt(*net, c);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("lr -1"), std::string::npos) << e.what();
  }
}

// --- study.toml -> options -----------------------------------------------------------------------
#include "core/config.h"
#include "train/options.h"

TEST(Options, ConfigKeysMapOntoTrainerAndLoader) {
  auto cfg = config::Config::parse(
      "[study]\nseed = 7\n[train]\nepochs = 12\nbatch_size = 4\nlr = 0.002\nbackbone_lr = 0.0001\n"
      "loss = \"focal\"\nfocal_gamma = 1.5\nselect_on = \"loss\"\nloader_workers = 3\n",
      "study.toml");
  const std::vector<float> labels = {1, 0, 0, 0, 1, 0, 0, 0, 0};  // 2 of 9 positive; 9 % 4 == 1
  auto s = training_setup(cfg, labels, "msm_tc", 7);
  EXPECT_EQ(s.trainer.epochs, 12);
  EXPECT_EQ(s.trainer.select_on, SelectOn::kLoss);
  EXPECT_DOUBLE_EQ(s.trainer.optim.head_lr, 0.002);
  EXPECT_DOUBLE_EQ(s.trainer.optim.backbone_lr, 0.0001);
  EXPECT_EQ(s.trainer.loss.kind, LossKind::kFocal);
  EXPECT_DOUBLE_EQ(s.trainer.loss.focal_gamma, 1.5);
  EXPECT_NEAR(s.trainer.loss.focal_alpha, 7.0 / 9.0, 1e-12);  // class_balance = weighted (default)
  EXPECT_EQ(s.loader.batch_size, 4);
  EXPECT_EQ(s.loader.workers, 3);
  EXPECT_TRUE(s.loader.drop_last);
  EXPECT_EQ(s.loader.sampling, Sampling::kShuffle);
  EXPECT_EQ(s.trainer.fingerprint.rfind("msm_tc/seed-7/config-", 0), 0u);

  cfg.set("train.loss", std::string("bce"));
  s = training_setup(cfg, labels, "msm_tc", 7);
  EXPECT_DOUBLE_EQ(s.trainer.loss.positive_weight, 9.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.trainer.loss.negative_weight, 9.0 / 14.0);

  cfg.set("train.class_balance", std::string("sampler"));
  cfg.set("study.deterministic", true);
  s = training_setup(cfg, labels, "msm_tc", 7);
  EXPECT_EQ(s.loader.sampling, Sampling::kBalanced);
  EXPECT_DOUBLE_EQ(s.trainer.loss.positive_weight, 1.0);
  EXPECT_EQ(s.loader.workers, 0);  // deterministic: single-threaded loading
  EXPECT_TRUE(s.trainer.deterministic);
}
