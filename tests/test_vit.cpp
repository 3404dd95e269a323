// Dual-path ViT (CrossViT layout) against an independent PyTorch reference written from the
// paper (scripts/models_reference.py; fixtures by scripts/make_models_fixtures.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "models/dual_path_vit.h"
#include "models/weights.h"

using namespace cervirisk;
using namespace cervirisk::models;

namespace {

const std::string kDir = std::string(CERV_TEST_DATA) + "/models/";

CrossVitConfig fixture_config() {
  // make_models_fixtures.py: img (16, 24), patch (4, 8), dims (16, 24), heads (2, 3), mlp 2, depth [(1,2,0),(1,1,0)]
  CrossVitConfig c;
  c.img_size = {16, 24};
  c.patch_size = {4, 8};
  c.embed_dim = {16, 24};
  c.num_heads = {2, 3};
  c.mlp_ratio = {2.0, 2.0};
  c.depth = {{1, 2, 0}, {1, 1, 0}};
  return c;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a - b).abs().max().item<double>();
}

DualPathVit loaded_fixture() {
  DualPathVit m(fixture_config());
  auto w = read_safetensors(kDir + "crossvit.safetensors");
  auto r = load_weights(*m, w, crossvit_load_options());
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty()) << r.summary();
  m->eval();
  return m;
}

}  // namespace

TEST(DualPathVit, MultiScaleBlockMatchesPaperReference) {
  torch::manual_seed(1);
  auto m = loaded_fixture();
  auto io = read_safetensors(kDir + "crossvit_io.safetensors");
  torch::NoGradGuard ng;
  auto r = m->blocks[0]->as<MultiScaleBlockImpl>()->forward({io.at("block.in_0"), io.at("block.in_1")});
  EXPECT_GT(io.at("block.out_0").abs().max().item<double>(), 0.1);
  EXPECT_LT(max_diff(r.tokens[0], io.at("block.out_0")), 1e-5);
  EXPECT_LT(max_diff(r.tokens[1], io.at("block.out_1")), 1e-5);
}

TEST(DualPathVit, WholeModelAndEveryAttentionMapMatchReference) {
  auto m = loaded_fixture();
  auto io = read_safetensors(kDir + "crossvit_io.safetensors");
  torch::NoGradGuard ng;
  auto out = m->forward(io.at("tumour"), io.at("context"));
  EXPECT_LT(max_diff(out.embedding, io.at("embedding")), 1e-5);
  EXPECT_LT(max_diff(out.tokens[0], io.at("tokens_0")), 1e-5);
  EXPECT_LT(max_diff(out.tokens[1], io.at("tokens_1")), 1e-5);
  // depth (1,2,0), (1,1,0): branch A 2 blocks, branch B 3 blocks, 2 cross-attentions per block.
  ASSERT_EQ(out.attention_a.size(), 2u);
  ASSERT_EQ(out.attention_b.size(), 3u);
  ASSERT_EQ(out.cross_attention.size(), 4u);
  for (std::size_t i = 0; i < out.attention_a.size(); ++i)
    EXPECT_LT(max_diff(out.attention_a[i], io.at("attention_a." + std::to_string(i))), 1e-5);
  for (std::size_t i = 0; i < out.attention_b.size(); ++i)
    EXPECT_LT(max_diff(out.attention_b[i], io.at("attention_b." + std::to_string(i))), 1e-5);
  for (std::size_t i = 0; i < out.cross_attention.size(); ++i)
    EXPECT_LT(max_diff(out.cross_attention[i], io.at("cross_attention." + std::to_string(i))), 1e-5);
  // Probabilities: rows sum to one (rollout relies on it).
  EXPECT_LT((out.attention_a[0].sum(-1) - 1).abs().max().item<double>(), 1e-5);
  // A-CLS (projected to B's width, 3 heads) attends over 1 + 9 tokens of B.
  EXPECT_EQ(out.cross_attention[0].sizes(), (std::vector<std::int64_t>{2, 3, 1, 10}));
}

TEST(DualPathVit, TimmCrossVitTinyKeysLoadWithNothingMissing) {
  auto cfg = CrossVitConfig::named("crossvit_tiny_240");
  cfg.num_classes = 1000;
  DualPathVit m(cfg);
  std::ifstream in(kDir + "manifest_crossvit_tiny_240_timm.json");
  auto j = nlohmann::json::parse(in);
  TensorMap w;
  std::int64_t n = 0;
  for (auto& [k, v] : j["tensors"].items()) {
    w[k] = torch::zeros(v.get<std::vector<std::int64_t>>());
    n += w[k].numel();
  }
  auto r = check_weights(*m, w, crossvit_load_options());
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty()) << r.summary();
  EXPECT_EQ(parameter_count(*m), n);
  EXPECT_NEAR(n / 1e6, 7.0, 0.1);  // timm: crossvit_tiny_240 has 7.0 M parameters
}

TEST(DualPathVit, LegacyNamesAndOtherGridsAreAdapted) {
  // A checkpoint trained at 240/224 px loads into a 96/96 px model: pos embeddings interpolated.
  auto cfg = CrossVitConfig::named("tiny");
  DualPathVit big(cfg);
  auto w = state_dict(*big);
  w["cls_token.0"] = w.at("cls_token_0");  // timm < 0.5 names
  w.erase("cls_token_0");
  cfg.img_size = {96, 96};
  DualPathVit small(cfg);
  auto r = load_weights(*small, w, crossvit_load_options());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(small->pos_embed_0.size(1), 1 + 64);
  EXPECT_TRUE(torch::equal(small->cls_token_0, big->cls_token_0));
}

TEST(DualPathVit, PositionEmbeddingInterpolationMatchesTorch) {
  auto p = read_safetensors(kDir + "pos_embed.safetensors");
  auto out = interpolate_pos_embed(p.at("pos_16"), 37);
  EXPECT_LT(max_diff(out, p.at("pos_36")), 1e-5);
  EXPECT_FALSE(interpolate_pos_embed(p.at("pos_16"), 40).defined());  // 39 is no square grid
}

TEST(DualPathVit, WrongInputSizeNamesTheBranch) {
  DualPathVit m(fixture_config());
  try {
    m->forward(torch::zeros({1, 3, 16, 16}), torch::zeros({1, 3, 32, 32}));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("context input must be [B, 3, 24, 24]"), std::string::npos) << e.what();
  }
}

TEST(DualPathVit, GradientsReachEveryParameter) {
  torch::manual_seed(4);
  auto cfg = fixture_config();
  cfg.drop_path_rate = 0.1;
  DualPathVit m(cfg);
  m->train();
  auto out = m->forward(torch::randn({2, 3, 16, 16}), torch::randn({2, 3, 24, 24}));
  // Patch tokens feed the loss too, so every block's parameters matter.
  (out.embedding.pow(2).sum() + out.tokens[0].mean() + out.tokens[1].mean()).backward();
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}
