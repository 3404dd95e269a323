// Pretrained initialisations of the study's encoders (models/pretrained.h, the paper preset's
// defaults, the device option) against checkpoints in the layouts users download, written by
// torchvision, the CrossViT reference and an HF-layout BERT with random weights
// (scripts/make_pretrained_fixtures.py).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "core/config.h"
#include "core/error.h"
#include "core/torch/runtime.h"
#include "models/bert.h"
#include "models/pretrained.h"
#include "models/registry.h"

using namespace cervirisk;
using namespace cervirisk::models;

namespace {

const std::string kDir = std::string(CERV_TEST_DATA) + "/pretrained/";

// The fixtures' sizes: torchvision ConvNeXt (8/16/32/48, depths 1/1/2/1, layer scale 0.5); the
// CrossViT reference (patches 4/8, widths 16/24) run at 32/48 px; one MRI plane.
ArchConfig fixture_arch(Variant v, std::int64_t in_chans) {
  DataSizes s;
  s.in_chans = in_chans;
  s.clinical_features = 4;
  s.vocab_size = 64;
  auto a = make_arch("cpu-small", v, s);
  a.convnext.depths = {1, 1, 2, 1};
  a.convnext.dims = {8, 16, 32, 48};
  a.convnext.layer_scale_init = 0.5;
  a.convnext_context = false;
  a.tumour_size = 32;
  a.context_size = 48;
  a.vit.img_size = {32, 48};
  a.vit.patch_size = {4, 8};
  a.vit.embed_dim = {16, 24};
  a.vit.num_heads = {2, 3};
  a.vit.mlp_ratio = {2.0, 2.0};
  a.vit.depth = {{1, 2, 0}, {1, 1, 0}};
  a.validate();
  return a;
}

PretrainedFile from_tensors(const std::string& part, TensorMap t) {
  PretrainedFile f;
  f.part = part;
  f.key = "model." + part + "_weights";
  f.file = part + ".safetensors";
  f.tensors = std::move(t);
  return f;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace

TEST(Pretrained, AdaptInputConvIsTimmsRule) {
  // Hand calculation of timm's adapt_input_conv on a [1, 3, 1, 1] filter (r, g, b) = (1, 2, 4).
  const auto w = torch::tensor({1.f, 2.f, 4.f}).reshape({1, 3, 1, 1});
  EXPECT_TRUE(torch::equal(adapt_input_conv(w, 3), w));
  EXPECT_TRUE(torch::allclose(adapt_input_conv(w, 1), torch::tensor({7.f}).reshape({1, 1, 1, 1})));
  // 2 planes: (r, g) x 3/2
  EXPECT_TRUE(torch::allclose(adapt_input_conv(w, 2), torch::tensor({1.5f, 3.f}).reshape({1, 2, 1, 1})));
  // 6 planes (3 image + 3 mask planes): (r, g, b, r, g, b) x 1/2
  EXPECT_TRUE(torch::allclose(adapt_input_conv(w, 6), torch::tensor({.5f, 1.f, 2.f, .5f, 1.f, 2.f}).reshape({1, 6, 1, 1})));
  // A constant image gives the RGB network's activation for 1 plane and any multiple of 3 (timm's
  // rule is exact only there: 2 planes give (1 + 2) x 3/2 = 4.5, not 7).
  for (std::int64_t c : {1, 3, 6, 9}) EXPECT_NEAR(adapt_input_conv(w, c).sum().item<double>(), 7.0, 1e-5) << c;
  EXPECT_NEAR(adapt_input_conv(w, 2).sum().item<double>(), 4.5, 1e-6);
}

TEST(Pretrained, TorchvisionPthConvNeXtOnOneMriPlaneEqualsTorchvisionOnRgb) {
  // torchvision's .pth read as torch.save wrote it, loaded into the study model's ConvNeXt with one
  // input plane: summed RGB filters on a plane = the RGB network on that plane replicated 3x.
  const TensorMap tv = read_torch_state_dict(kDir + "convnext_tv.pth");
  ASSERT_TRUE(tv.count("features.0.0.weight"));
  auto model = build_model(fixture_arch(Variant::kConvNeXt, 1));
  const auto rep = load_convnext_pretrained(*model, from_tensors("convnext", tv));
  EXPECT_TRUE(rep.missing.empty());
  EXPECT_TRUE(rep.mismatched.empty());
  EXPECT_EQ(rep.unexpected.size(), 2u);  // torchvision's classifier (classifier.2.weight / bias)
  const auto io = read_safetensors(kDir + "convnext_io.safetensors");
  model->eval();
  torch::NoGradGuard ng;
  const auto emb = model->convnext->forward(io.at("input_1ch")).embedding;
  EXPECT_LT(max_diff(emb, io.at("embedding")), 1e-5);
  EXPECT_TRUE(torch::allclose(model->convnext->stem[0]->as<torch::nn::Conv2dImpl>()->weight,
                              tv.at("features.0.0.weight").sum(1, true)));
}

TEST(Pretrained, ConvNeXtOfAnotherSizeIsExit4NamingTheTensors) {
  const TensorMap tv = read_torch_state_dict(kDir + "convnext_tv.pth");
  DataSizes s;
  s.in_chans = 3;
  auto model = build_model(make_arch("cpu-small", Variant::kConvNeXt, s));  // convnext_atto widths
  try {
    load_convnext_pretrained(*model, from_tensors("convnext", tv));
    FAIL() << "a checkpoint of other widths loaded";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.exit_code(), 4);
    const std::string m = e.what();
    EXPECT_NE(m.find("model.convnext_weights"), std::string::npos) << m;
    EXPECT_NE(m.find("mis-shaped: stages.0.blocks.0.conv_dw.weight expected [40, 1, 7, 7] got [8, 1, 7, 7]"), std::string::npos) << m;
    EXPECT_NE(m.find("missing"), std::string::npos) << m;  // atto has more blocks than the checkpoint
  }
  auto vit_only = build_model(make_arch("cpu-small", Variant::kVit, s));
  EXPECT_THROW(load_convnext_pretrained(*vit_only, from_tensors("convnext", tv)), ConfigError);
}

TEST(Pretrained, CrossViTAtOtherCropSizesInterpolatesPositionsAsTimm) {
  const TensorMap cv = read_safetensors(kDir + "crossvit_timm.safetensors");
  auto model = build_model(fixture_arch(Variant::kVit, 1));
  const auto rep = load_vit_pretrained(*model, from_tensors("vit", cv));
  EXPECT_TRUE(rep.ok());
  const auto io = read_safetensors(kDir + "crossvit_io.safetensors");
  const auto params = model->vit->named_parameters();
  EXPECT_LT(max_diff(*params.find("pos_embed_0"), io.at("pos_embed_0")), 1e-6);  // 16 -> 64 tokens
  EXPECT_LT(max_diff(*params.find("pos_embed_1"), io.at("pos_embed_1")), 1e-6);  // 9 -> 36 tokens
  model->eval();
  torch::NoGradGuard ng;
  const auto out = model->vit->forward(io.at("tumour"), io.at("context"));
  EXPECT_LT(max_diff(out.embedding, io.at("embedding")), 1e-5);
}

TEST(Pretrained, BertArchitectureComesFromConfigJsonNotThePreset) {
  auto cfg = config::Config::parse("[text]\npretrained = \"" + kDir + "chinese_bert\"\nmax_length = 64\n", "t.toml");
  DataSizes s;
  s.vocab_size = 21128;
  s.clinical_features = 4;
  const auto a = arch_from_config(cfg, Variant::kMsmT, s);
  EXPECT_EQ(a.text.num_hidden_layers, 4);  // cpu-small's BERT has 2
  EXPECT_EQ(a.text.hidden_size, 32);       // cpu-small's has 128
  EXPECT_EQ(a.text.vocab_size, 21128);
  EXPECT_EQ(a.text.max_position_embeddings, 512);
  Bert bert(a.text);
  const auto rep = load_bert_weights(bert, kDir + "chinese_bert", /*strict=*/true);
  EXPECT_TRUE(rep.missing.empty());
  const auto io = read_safetensors(kDir + "chinese_bert_io.safetensors");
  bert->eval();
  torch::NoGradGuard ng;
  const auto r = bert->forward(io.at("ids"), io.at("mask"));
  EXPECT_LT(max_diff(r.pooled, io.at("pooled")), 1e-5);
  // A vocabulary larger than the embedding table, and a token budget beyond the positions, are errors.
  s.vocab_size = 30000;
  EXPECT_THROW(arch_from_config(cfg, Variant::kMsmT, s), FormatError);
  auto long_cfg = config::Config::parse("[text]\npretrained = \"" + kDir + "chinese_bert\"\nmax_length = 600\n", "t.toml");
  s.vocab_size = 21128;
  try {
    arch_from_config(long_cfg, Variant::kMsmT, s);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("text.max_length = 600 exceeds the BERT's 512"), std::string::npos) << e.what();
  }
}

TEST(PaperPreset, SetsEveryDependentDefaultAndExplicitKeysWin) {
  const auto paper = config::Config::parse("[model]\npreset = \"paper\"\n", "p.toml");
  EXPECT_EQ(paper.get_int("preprocess.tumour_size_px"), 240);
  EXPECT_EQ(paper.get_int("preprocess.context_size_px"), 224);
  EXPECT_EQ(paper.get_int("model.fusion_dim"), 256);
  EXPECT_EQ(paper.get_int("train.batch_size"), 16);
  EXPECT_FALSE(paper.is_set("model.fusion_dim"));
  const auto small = config::Config::parse("", "s.toml");
  EXPECT_EQ(small.get_int("preprocess.tumour_size_px"), 64);
  EXPECT_EQ(small.get_int("model.fusion_dim"), 64);
  // An explicit key overrides the preset; set() of the preset re-derives the others.
  auto c = config::Config::parse("[model]\npreset = \"paper\"\nfusion_dim = 128\n", "p.toml");
  EXPECT_EQ(c.get_int("model.fusion_dim"), 128);
  EXPECT_EQ(c.get_int("preprocess.tumour_size_px"), 240);
  c.set("model.preset", std::string("cpu-small"));
  EXPECT_EQ(c.get_int("preprocess.tumour_size_px"), 64);
  EXPECT_EQ(c.get_int("model.fusion_dim"), 128);
  // The resolved config.toml of a run reloads to the same values.
  const auto again = config::Config::parse(paper.to_toml(), "config.toml");
  EXPECT_EQ(again.hash(), paper.hash());

  DataSizes s;
  s.clinical_features = 4;
  s.vocab_size = 100;
  const auto a = arch_from_config(paper, Variant::kMsmTC, s);
  EXPECT_EQ(a.tumour_size, 240);
  EXPECT_EQ(a.context_size, 224);
  EXPECT_EQ(a.fusion_dim, 256);
  EXPECT_EQ(a.convnext.dims, (std::vector<std::int64_t>{96, 192, 384, 768}));
  EXPECT_EQ(a.text.num_hidden_layers, 12);
}

TEST(PaperPreset, InconsistentCropSizeIsExit2NamingTheKeys) {
  const auto cfg = config::Config::parse("[model]\npreset = \"paper\"\n[preprocess]\ntumour_size_px = 64\n", "p.toml");
  DataSizes s;
  s.clinical_features = 4;
  try {
    arch_from_config(cfg, Variant::kVit, s);
    FAIL() << "64 px with 12 px patches was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string m = e.what();
    EXPECT_NE(m.find("preprocess.tumour_size_px = 64 is not a multiple of the ViT's tumour-branch patch size 12"),
              std::string::npos) << m;
    EXPECT_NE(m.find("model.preset = \"paper\""), std::string::npos) << m;
  }
  // ConvNeXt alone has no patch grid: 64 px is fine for it.
  EXPECT_EQ(arch_from_config(cfg, Variant::kConvNeXt, s).tumour_size, 64);
  const auto tiny = config::Config::parse("[preprocess]\ntumour_size_px = 16\n", "t.toml");
  EXPECT_THROW(arch_from_config(tiny, Variant::kConvNeXt, s), ConfigError);  // below the total stride 32
}

TEST(Device, CudaOnACpuOnlyLibTorchIsExit2WithTheReason) {
  EXPECT_EQ(parse_device("cpu"), c10::Device(c10::kCPU));
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "CPU", ""}) {
    try {
      parse_device(bad);
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("expected cpu, cuda or cuda:N"), std::string::npos) << e.what();
    }
  }
  if (torch::cuda::is_available()) GTEST_SKIP() << "this LibTorch has CUDA";
  for (const char* cuda : {"cuda", "cuda:0", "cuda:3"}) {
    try {
      parse_device(cuda);
      FAIL() << cuda;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find("without CUDA"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(use_bf16("bf16", c10::Device(c10::kCPU)), ConfigError);
  EXPECT_FALSE(use_bf16("auto", c10::Device(c10::kCPU)));
}

TEST(PaperPreset, TheExampleSettingsParseAndBuildEveryVariant) {
  // docs/examples/paper.toml: every key valid, the preset's sizes, and an architecture for every
  // variant (its checkpoint paths are the user's; the BERT's shape is then config.json's).
  auto cfg = config::Config::load(std::string(CERV_TEST_DATA) + "/../../docs/examples/paper.toml");
  EXPECT_EQ(cfg.get_int("preprocess.tumour_size_px"), 240);
  EXPECT_EQ(cfg.get_double("train.backbone_lr"), 1e-4);
  EXPECT_EQ(cfg.get_int("train.freeze_backbone_epochs"), 2);
  cfg.set("text.pretrained", std::string());
  DataSizes s;
  s.clinical_features = 12;
  s.vocab_size = 21128;
  for (const auto& v : variant_names()) EXPECT_NO_THROW(arch_from_config(cfg, parse_variant(v), s)) << v;
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(parse_device(cfg.get_string("train.device")), ConfigError);
  }
}

TEST(Pretrained, CorruptTorchSaveFilesAreFormatErrorsNeverCrashes) {
  // Truncations and byte flips anywhere in a torch.save archive (data.pkl, the zip directory,
  // the storages): a FormatError / InputError naming the file, or a readable dict -- never a crash
  // or another exception type.
  std::ifstream in(kDir + "convnext_tv.pth", std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(good.size(), 1000u);
  const auto file = std::filesystem::temp_directory_path() / ("cerv_pth_" + std::to_string(::getpid()) + ".pth");
  std::mt19937_64 rng(15);
  int errors = 0, readable = 0;
  for (int k = 0; k < 300; ++k) {
    std::string bad = good;
    if (k % 3 == 0) {
      bad.resize(rng() % bad.size());
    } else {
      for (int f = 0; f < 1 + static_cast<int>(rng() % 8); ++f) bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bad;
    try {
      read_torch_state_dict(file);
      ++readable;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
      ++errors;
    }
  }
  std::filesystem::remove(file);
  EXPECT_GT(errors, 100);
  RecordProperty("readable_after_mutation", readable);
}
