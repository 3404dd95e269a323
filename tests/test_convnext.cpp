// ConvNeXt against torchvision's implementation (fixtures: scripts/make_models_fixtures.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "models/convnext.h"
#include "models/weights.h"

using namespace cervirisk;
using namespace cervirisk::models;

namespace {

const std::string kDir = std::string(CERV_TEST_DATA) + "/models/";

ConvNeXtConfig fixture_config() {
  // scripts/make_models_fixtures.py: CNBlockConfig(8,16,1), (16,32,1), (32,48,2), (48,None,1)
  ConvNeXtConfig c;
  c.depths = {1, 1, 2, 1};
  c.dims = {8, 16, 32, 48};
  c.num_classes = 5;
  c.layer_scale_init = 0.5;
  return c;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a - b).abs().max().item<double>();
}

TensorMap manifest(const std::string& name) {
  std::ifstream in(kDir + "manifest_" + name + ".json");
  EXPECT_TRUE(in.good()) << name;
  auto j = nlohmann::json::parse(in);
  TensorMap m;
  for (auto& [k, v] : j["tensors"].items()) m[k] = torch::zeros(v.get<std::vector<std::int64_t>>());
  return m;
}

void expect_parity(ConvNeXt& model) {
  auto io = read_safetensors(kDir + "convnext_io.safetensors");
  model->eval();
  torch::NoGradGuard ng;
  auto out = model->forward(io.at("input"));
  // Outputs are O(1): 1e-5 absolute is float32 round-off, not a loose tolerance.
  EXPECT_GT(io.at("logits").abs().max().item<double>(), 0.1);
  EXPECT_LT(max_diff(out.features, io.at("features")), 1e-5);
  EXPECT_LT(max_diff(out.embedding, io.at("embedding")), 1e-5);
  EXPECT_LT(max_diff(out.logits, io.at("logits")), 1e-5);
}

}  // namespace

TEST(ConvNeXt, MatchesTorchvisionThroughTheNameMap) {
  torch::manual_seed(1);
  ConvNeXt model(fixture_config());
  auto tv = read_safetensors(kDir + "convnext_tv.safetensors");
  ASSERT_TRUE(is_torchvision_convnext(tv));
  auto r = load_weights(*model, tv, convnext_load_options(tv));
  EXPECT_TRUE(r.missing.empty()) << r.summary();
  EXPECT_TRUE(r.unexpected.empty()) << r.summary();
  EXPECT_TRUE(r.mismatched.empty()) << r.summary();
  expect_parity(model);
}

TEST(ConvNeXt, TimmLayoutLoadsAsIs) {
  torch::manual_seed(2);
  ConvNeXt model(fixture_config());
  auto timm = read_safetensors(kDir + "convnext_timm.safetensors");
  ASSERT_FALSE(is_torchvision_convnext(timm));
  LoadOptions plain;
  auto r = load_weights(*model, timm, plain);
  EXPECT_EQ(r.loaded.size(), timm.size());
  EXPECT_TRUE(r.unexpected.empty()) << r.summary();
  expect_parity(model);
}

TEST(ConvNeXt, ConvertedTorchvisionEqualsTimmLayout) {
  auto tv = convert_torchvision_convnext(read_safetensors(kDir + "convnext_tv.safetensors"));
  auto timm = read_safetensors(kDir + "convnext_timm.safetensors");
  ASSERT_EQ(tv.size(), timm.size());
  for (const auto& [k, v] : timm) {
    ASSERT_TRUE(tv.count(k)) << k;
    EXPECT_TRUE(torch::equal(tv.at(k), v)) << k;
  }
}

TEST(ConvNeXt, FullSizeTimmAndTorchvisionKeysMatchTiny) {
  auto cfg = ConvNeXtConfig::named("convnext_tiny");
  cfg.num_classes = 1000;
  ConvNeXt model(cfg);
  auto timm = manifest("convnext_tiny_timm");
  auto r = check_weights(*model, timm);
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty()) << r.summary();
  auto tv = manifest("convnext_tiny_torchvision");
  auto r2 = check_weights(*model, tv, convnext_load_options(tv));
  EXPECT_TRUE(r2.missing.empty() && r2.unexpected.empty() && r2.mismatched.empty()) << r2.summary();
  std::int64_t n = 0;
  for (const auto& [k, v] : tv) n += v.numel();
  EXPECT_EQ(parameter_count(*model), n);  // 28,589,128 for torchvision's convnext_tiny
  EXPECT_EQ(n, 28589128);
  // timm / fvcore report 4.47 GMACs for convnext_tiny at 224 px.
  EXPECT_NEAR(model->flops(224, 224) / 2e9, 4.47, 0.05);
}

TEST(ConvNeXt, TimmAttoConvMlpLayoutLoadsAndComputesTheSame) {
  // timm builds atto..nano with conv_mlp=True: fc1/fc2 are 1x1 convolutions [O, I, 1, 1].
  auto cfg = ConvNeXtConfig::named("atto");
  cfg.num_classes = 1000;
  ConvNeXt model(cfg);
  auto m = manifest("convnext_atto_timm");
  auto r = check_weights(*model, m, convnext_load_options(m));
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty()) << r.summary();
  // Our Linear weights saved as 1x1 convolutions give the same model back.
  torch::manual_seed(5);
  ConvNeXt src(cfg), dst(cfg);
  auto sd = state_dict(*src);
  for (auto& [k, v] : sd)
    if (k.find(".mlp.fc") != std::string::npos && k.find("weight") != std::string::npos)
      v = v.reshape({v.size(0), v.size(1), 1, 1});
  load_weights(*dst, sd, convnext_load_options(sd));
  src->eval();
  dst->eval();
  torch::NoGradGuard ng;
  auto x = torch::randn({1, 3, 64, 64});
  EXPECT_TRUE(torch::equal(src->forward(x).logits, dst->forward(x).logits));
}

TEST(ConvNeXt, NamedSizesHaveTimmParameterCounts) {
  // timm's model cards: atto 3.70 M, femto 5.22 M, pico 9.05 M, nano 15.6 M (with the 1000-class head).
  const std::vector<std::pair<std::string, double>> sizes{{"atto", 3.70}, {"femto", 5.22}, {"pico", 9.05}, {"nano", 15.6}};
  for (const auto& [name, millions] : sizes) {
    auto cfg = ConvNeXtConfig::named(name);
    cfg.num_classes = 1000;
    ConvNeXt m(cfg);
    EXPECT_NEAR(parameter_count(*m) / 1e6, millions, 0.01 * millions) << name;
  }
  EXPECT_THROW(ConvNeXtConfig::named("huge"), ConfigError);
}

TEST(ConvNeXt, MisShapedCheckpointIsRejectedByName) {
  ConvNeXt model(fixture_config());
  auto timm = read_safetensors(kDir + "convnext_timm.safetensors");
  timm["stages.2.blocks.1.mlp.fc1.weight"] = torch::zeros({7, 32});
  try {
    load_weights(*model, timm);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("stages.2.blocks.1.mlp.fc1.weight expected [128, 32] got [7, 32]"),
              std::string::npos)
        << e.what();
  }
}

TEST(ConvNeXt, GradientsReachEveryParameter) {
  torch::manual_seed(3);
  auto cfg = fixture_config();
  cfg.drop_path_rate = 0.1;
  ConvNeXt model(cfg);
  model->train();
  auto out = model->forward(torch::randn({2, 3, 64, 64}));
  (out.logits.pow(2).sum() + out.embedding.sum()).backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}
