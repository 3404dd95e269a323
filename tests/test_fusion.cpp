// Fusion model (every variant), clinical encoder, architecture registry and `cervirisk weights`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "cli_run.h"
#include "core/config.h"
#include "core/error.h"
#include "models/clinical_encoder.h"
#include "models/registry.h"
#include "models/weights.h"
#include "small_arch.h"
#include "test_util.h"

using namespace cervirisk;
using namespace cervirisk::models;
namespace fs = std::filesystem;
using cervirisk::testing::TempDir;

namespace {

constexpr std::int64_t kClinical = 6, kVocab = 50, kBatch = 4, kLen = 12;

// Narrower backbones than cpu-small keep these behaviour tests fast; the wiring is the same.
ArchConfig small_arch(Variant v) {
  auto a = cervirisk::testing::small_arch(v, kClinical, kVocab);
  a.dropout = 0.0;
  a.validate();
  return a;
}

ModelInputs inputs(std::int64_t b = kBatch) {
  ModelInputs in;
  in.tumour = torch::randn({b, 3, 64, 64});
  in.context = torch::randn({b, 3, 96, 96});
  in.text_ids = torch::randint(1, kVocab, {b, kLen}, torch::kInt64);
  in.text_mask = torch::ones({b, kLen}, torch::kInt64);
  in.text_mask.index_put_({0, torch::indexing::Slice(8)}, 0);  // a padded report
  in.clinical = torch::randn({b, kClinical});
  in.has_text = torch::ones({b}, torch::kBool);
  in.has_clinical = torch::ones({b}, torch::kBool);
  return in;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Clinical encoder

TEST(ClinicalEncoder, StandardisesOneHotsRanksAndFlagsMissingValues) {
  std::vector<ClinicalColumn> cols{{"age", ClinicalType::kNumeric, {}, false},
                                   {"size", ClinicalType::kNumeric, {}, true},
                                   {"histology", ClinicalType::kCategorical, {}, false},
                                   {"stage", ClinicalType::kOrdinal, {"IB1", "IB2", "IIA"}, false}};
  const double e = std::exp(1.0);
  std::vector<ClinicalRow> train{
      {{"age", "40"}, {"size", "1"}, {"histology", "SCC"}, {"stage", "IB1"}},
      {{"age", "50"}, {"size", std::to_string(e)}, {"histology", "AC"}, {"stage", "IB2"}},
      {{"age", "60"}, {"size", std::to_string(e * e)}, {"histology", "SCC"}, {"stage", "IIA"}},
      {{"age", "NA"}, {"histology", ""}, {"stage", "IB2"}}};
  auto enc = ClinicalEncoder::fit(cols, train);
  // age: mean 50, sample sd 10; log(size): {0, 1, 2} -> mean 1, sd 1; levels sorted {AC, SCC};
  // stage ranks {0, 1, 2, 1} -> mean 1, sd sqrt(2/3).
  const std::vector<std::string> names{"age", "age:missing", "log(size)", "size:missing", "histology=AC",
                                       "histology=SCC", "histology:missing", "stage", "stage:missing"};
  EXPECT_EQ(enc.feature_names(), names);
  auto v = enc.encode({{"age", "65"}, {"size", std::to_string(e * e * e)}, {"histology", "AC"}, {"stage", "IIA"}});
  const std::vector<float> want{1.5f, 0.f, 2.f, 0.f, 1.f, 0.f, 0.f, static_cast<float>(1.0 / std::sqrt(2.0 / 3.0)), 0.f};
  ASSERT_EQ(v.size(), want.size());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], want[i], 1e-5) << names[i];
  auto m = enc.encode({{"histology", "adenosquamous"}});  // unknown level -> missing
  const std::vector<float> miss{0, 1, 0, 1, 0, 0, 1, 0, 1};
  EXPECT_EQ(m, miss);
  EXPECT_EQ(enc.stats()[0].n_missing, 1u);
}

TEST(ClinicalEncoder, JsonRoundTripEncodesIdentically) {
  std::vector<ClinicalColumn> cols{{"age", ClinicalType::kNumeric, {}, false},
                                   {"lvsi", ClinicalType::kCategorical, {"no", "yes"}, false}};
  std::vector<ClinicalRow> train{{{"age", "44"}, {"lvsi", "yes"}}, {{"age", "51.5"}, {"lvsi", "no"}}};
  auto enc = ClinicalEncoder::fit(cols, train);
  auto back = ClinicalEncoder::from_json(nlohmann::json::parse(enc.to_json().dump()));
  ClinicalRow r{{"age", "47"}, {"lvsi", "no"}};
  EXPECT_EQ(enc.encode(r), back.encode(r));
  EXPECT_EQ(back.feature_names(), enc.feature_names());
  auto j = enc.to_json();
  j["columns"][0]["type"] = "textual";
  EXPECT_THROW(ClinicalEncoder::from_json(j), FormatError);
}

TEST(ClinicalEncoder, BadValuesNameTheColumn) {
  std::vector<ClinicalColumn> cols{{"ca125", ClinicalType::kNumeric, {}, true},
                                   {"stage", ClinicalType::kOrdinal, {"I", "II"}, false}};
  try {
    ClinicalEncoder::fit(cols, {{{"ca125", "-3"}}});
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("clinical column 'ca125' is log-transformed: expected a positive value, got '-3'"),
              std::string::npos)
        << e.what();
  }
  try {
    ClinicalEncoder::fit(cols, {{{"ca125", "12"}, {"stage", "III"}}});
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("'III' is not one of its ordered levels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ClinicalEncoder::fit(cols, {{{"ca125", "12 U/ml"}}}), ValidationError);
}

TEST(ClinicalEncoder, ColumnsComeFromTheStudyConfig) {
  auto cfg = config::Config::parse(
      "[[clinical]]\nname = \"age\"\ntype = \"numeric\"\n\n[[clinical]]\nname = \"figo\"\ntype = \"ordinal\"\n"
      "levels = [\"IB1\", \"IB2\"]\n",
      "study.toml");
  auto cols = clinical_columns_from_config(cfg);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1].type, ClinicalType::kOrdinal);
  EXPECT_EQ(cols[1].levels, (std::vector<std::string>{"IB1", "IB2"}));
}

// ---------------------------------------------------------------------------------------------
// Architecture description

TEST(Registry, ArchJsonRoundTripAndErrors) {
  for (const auto& preset : preset_names()) {
    for (const auto& v : variant_names()) {
      DataSizes s;
      s.clinical_features = 9;
      s.vocab_size = 100;
      auto a = make_arch(preset, v, s);
      auto b = ArchConfig::from_json(nlohmann::json::parse(a.to_json().dump()));
      EXPECT_EQ(a.to_json(), b.to_json()) << preset << " " << v;
    }
  }
  EXPECT_THROW(make_arch("gpu-huge", "msm"), ConfigError);
  try {
    make_arch("cpu-small", "msm_tc", {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("text.vocab_size must be set"), std::string::npos) << e.what();
  }
  auto j = small_arch(Variant::kVit).to_json();
  j["vit"]["num_heads"] = {3, 4};
  try {
    ArchConfig::from_json(j);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("vit.embed_dim[0] must be divisible by vit.num_heads[0]"), std::string::npos);
  }
  j["fusion_dim"] = "wide";
  EXPECT_THROW(ArchConfig::from_json(j), ConfigError);
}

TEST(Registry, ArchFromStudyConfigAndTomlFile) {
  TempDir dir("models");
  {
    std::ofstream t(dir / "arch.toml");
    t << "variant = \"msm\"\ntumour_size = 32\ncontext_size = 48\nfusion_dim = 16\n"
         "[convnext]\ndepths = [1, 1]\ndims = [8, 16]\n"
         "[vit]\nimg_size = [32, 48]\npatch_size = [8, 16]\nembed_dim = [16, 32]\nnum_heads = [2, 2]\n"
         "depth = [[1, 1, 0]]\n";
  }
  auto a = load_arch(dir / "arch.toml");
  EXPECT_EQ(a.variant, Variant::kMsm);
  EXPECT_EQ(a.convnext.dims, (std::vector<std::int64_t>{8, 16}));
  EXPECT_EQ(a.vit.depth.size(), 1u);
  EXPECT_EQ(a.fusion_dim, 16);
  DataSizes s;
  s.clinical_features = 5;
  s.vocab_size = 300;
  auto cfg = config::Config::parse("[model]\nfusion_dim = 32\ncox_head = true\n[preprocess]\ntumour_size_px = 96\n",
                                   "study.toml");
  auto b = arch_from_config(cfg, Variant::kMsmTC, s);
  EXPECT_EQ(b.preset, "cpu-small");
  EXPECT_EQ(b.fusion_dim, 32);
  EXPECT_TRUE(b.cox_head);
  EXPECT_EQ(b.tumour_size, 96);
  EXPECT_EQ(b.context_size, 96);  // the preset's
  EXPECT_EQ(b.text.vocab_size, 300);
  auto cfg2 = config::Config::parse("[model]\narch_file = \"arch.toml\"\n", (dir / "study.toml").string(), dir);
  auto c = arch_from_config(cfg2, Variant::kVit, s);
  EXPECT_EQ(c.variant, Variant::kVit);
  EXPECT_EQ(c.fusion_dim, 16);  // from the file: the config does not set it
  EXPECT_EQ(c.vit.embed_dim[1], 32);
  std::ofstream(dir / "bad.toml") << "variant = [\n";
  EXPECT_THROW(load_arch(dir / "bad.toml"), ConfigError);
}

TEST(Registry, CpuSmallStaysSmall) {
  // The whole six-variant study must train in minutes on 2 cores.
  DataSizes s;
  s.clinical_features = kClinical;
  s.vocab_size = 2000;
  auto m = build_model(make_arch("cpu-small", Variant::kMsmTC, s));
  EXPECT_LT(parameter_count(*m), 6'000'000);
  // < 0.4 GFLOP per patient forward with a 128-token report (BERT ~0.12, ConvNeXt ~0.09).
  EXPECT_LT(m->flops(128), 400'000'000);
}

// ---------------------------------------------------------------------------------------------
// Fusion model

TEST(Fusion, EveryVariantRunsOnItsInputs) {
  torch::manual_seed(11);
  for (const auto& v : variant_names()) {
    auto m = build_model(small_arch(parse_variant(v)));
    m->eval();
    torch::NoGradGuard ng;
    auto out = m->forward(inputs());
    ASSERT_EQ(out.logit.sizes(), (std::vector<std::int64_t>{kBatch})) << v;
    EXPECT_TRUE(torch::isfinite(out.logit).all().item<bool>()) << v;
    EXPECT_FALSE(out.risk.defined());
    EXPECT_TRUE(out.embeddings.count("fused"));
    auto mods = m->arch().modalities();
    EXPECT_EQ(out.convnext_features.defined(), mods.convnext) << v;
    EXPECT_EQ(out.attention_a.size(), mods.vit ? 2u : 0u) << v;    // cpu-small: depth {1,2,0} x 2
    EXPECT_EQ(out.attention_b.size(), mods.vit ? 4u : 0u) << v;
    EXPECT_EQ(out.cross_attention.size(), mods.vit ? 4u : 0u) << v;
    EXPECT_EQ(out.embeddings.count("text") > 0, mods.text) << v;
  }
}

TEST(Fusion, EveryMissingModalityPattern) {
  // msm_tc under all present/absent/mixed patterns of text and clinical data: finite output, and
  // a row flagged missing does not depend on its (garbage) values, while present rows do.
  torch::manual_seed(12);
  auto m = build_model(small_arch(Variant::kMsmTC));
  m->eval();
  torch::NoGradGuard ng;
  auto base = inputs();
  auto changed = base;
  changed.text_ids = torch::randint(1, kVocab, {kBatch, kLen}, torch::kInt64);
  changed.clinical = base.clinical + 3.0;
  const std::vector<std::vector<bool>> patterns{{1, 1, 1, 1}, {0, 0, 0, 0}, {1, 0, 1, 0}, {0, 1, 1, 0}};
  for (const auto& pt : patterns) {
    for (const auto& pc : patterns) {
      auto flags = [](const std::vector<bool>& p) {
        auto t = torch::zeros({kBatch}, torch::kBool);
        for (std::int64_t i = 0; i < kBatch; ++i) t[i] = static_cast<bool>(p[i]);
        return t;
      };
      auto a = base, b = changed;
      a.has_text = b.has_text = flags(pt);
      a.has_clinical = b.has_clinical = flags(pc);
      auto ya = m->forward(a).logit, yb = m->forward(b).logit;
      ASSERT_TRUE(torch::isfinite(ya).all().item<bool>());
      for (std::int64_t i = 0; i < kBatch; ++i) {
        const bool any_present = pt[i] || pc[i];
        const double d = std::abs(ya[i].item<double>() - yb[i].item<double>());
        if (any_present) EXPECT_GT(d, 1e-7) << "row " << i << " should depend on its present data";
        else EXPECT_LT(d, 1e-6) << "row " << i << " must ignore missing data";
      }
    }
  }
  // No text tensors at all (a cohort without reports) equals every row flagged missing.
  auto none = base;
  none.text_ids = none.text_mask = none.has_text = torch::Tensor();
  auto flagged = base;
  flagged.has_text = torch::zeros({kBatch}, torch::kBool);
  EXPECT_TRUE(torch::allclose(m->forward(none).logit, m->forward(flagged).logit, 1e-6, 1e-6));
}

TEST(Fusion, ModalityDropoutOnlyInTraining) {
  torch::manual_seed(13);
  auto arch = small_arch(Variant::kMsmT);
  arch.modality_dropout = 0.5;
  auto m = build_model(arch);
  auto base = inputs(64);
  auto other = base;
  other.text_ids = torch::randint(1, kVocab, {64, kLen}, torch::kInt64);
  torch::NoGradGuard ng;
  m->train();
  torch::manual_seed(5);
  auto ya = m->forward(base).logit;
  torch::manual_seed(5);  // the same dropout draws
  auto yb = m->forward(other).logit;
  auto kept = ((ya - yb).abs() > 1e-7).sum().item<std::int64_t>();
  EXPECT_GT(kept, 16);  // ~32 of 64 rows keep their report
  EXPECT_LT(kept, 48);
  m->eval();
  auto ea = m->forward(base).logit, eb = m->forward(other).logit;
  EXPECT_EQ(((ea - eb).abs() > 1e-7).sum().item<std::int64_t>(), 64);
}

TEST(Fusion, SaveLoadGivesIdenticalOutputs) {
  torch::manual_seed(14);
  auto arch = small_arch(Variant::kMsmTC);
  arch.cox_head = true;
  auto m = build_model(arch);
  m->eval();
  TempDir dir("models");
  write_safetensors(dir / "model.safetensors", state_dict(*m));
  std::ofstream(dir / "arch.json") << arch.to_json().dump(2);
  torch::manual_seed(999);  // different initial weights
  auto m2 = build_model(load_arch(dir / "arch.json"));
  auto r = load_weights(*m2, read_safetensors(dir / "model.safetensors"));
  EXPECT_TRUE(r.ok() && r.unexpected.empty()) << r.summary();
  m2->eval();
  torch::NoGradGuard ng;
  auto in = inputs();
  in.has_text[1] = false;
  auto a = m->forward(in), b = m2->forward(in);
  EXPECT_TRUE(torch::equal(a.logit, b.logit));
  EXPECT_TRUE(torch::equal(a.risk, b.risk));
  EXPECT_TRUE(torch::equal(a.embeddings.at("vit"), b.embeddings.at("vit")));
}

TEST(Fusion, GradientsReachEveryParameterThatShouldTrain) {
  torch::manual_seed(15);
  auto arch = small_arch(Variant::kMsmTC);
  arch.cox_head = true;
  arch.modality_dropout = 0.0;
  auto m = build_model(arch);
  m->train();
  auto in = inputs();
  in.has_text[1] = false;  // mixed rows: the missing tokens train too
  in.has_clinical[2] = false;
  auto out = m->forward(in);
  (torch::binary_cross_entropy_with_logits(out.logit, torch::tensor({1.f, 0.f, 1.f, 0.f})) + out.risk.sum())
      .backward();
  std::size_t n = 0;
  for (const auto& p : m->named_parameters()) {
    ++n;
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
  EXPECT_GT(n, 100u);
}

TEST(Fusion, ParameterGroupsSplitBackboneFromHead) {
  auto m = build_model(small_arch(Variant::kMsmTC));
  auto bb = m->backbone_parameters(), hd = m->head_parameters();
  EXPECT_EQ(bb.size() + hd.size(), m->parameters().size());
  std::int64_t nb = 0;
  for (auto& p : bb) nb += p.numel();
  EXPECT_EQ(nb, parameter_count(*m->convnext) + parameter_count(*m->vit) + parameter_count(*m->text));
  auto clinical = build_model(small_arch(Variant::kClinical));
  EXPECT_TRUE(clinical->backbone_parameters().empty());
}

TEST(Fusion, MissingRequiredInputIsNamed) {
  auto m = build_model(small_arch(Variant::kVit));
  auto in = inputs();
  in.context = torch::Tensor();
  try {
    m->forward(in);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model input 'context' is required by variant vit"), std::string::npos);
  }
  auto c = build_model(small_arch(Variant::kClinical));
  auto in2 = inputs();
  in2.clinical = torch::randn({kBatch, kClinical + 1});
  EXPECT_THROW(c->forward(in2), ModelError);
}

TEST(Fusion, PretrainedBackbonesLoadIntoTheModel) {
  // A timm convnext_atto checkpoint into cpu-small's ConvNeXt branch.
  DataSizes s;
  auto m = build_model(make_arch("cpu-small", Variant::kConvNeXt, s));
  auto atto = named_architecture("convnext_atto");
  auto r = load_weights(*m->convnext, state_dict(*atto.module), convnext_load_options({}));
  EXPECT_TRUE(r.missing.empty() && r.mismatched.empty()) << r.summary();
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"head.fc.bias", "head.fc.weight"}));
}

TEST(Fusion, PretrainedBertPlugsIntoTheTextBranch) {
  // The text module's HF-layout fixture (tests/data/text/tiny_bert).
  const std::string dir = std::string(CERV_TEST_DATA) + "/text/tiny_bert";
  auto ck = load_bert_pretrained(dir);
  auto arch = small_arch(Variant::kMsmT);
  arch.text = ck.config;
  RecurrenceModel m(arch, make_bert_text_encoder(ck.model, arch.text_pooling));
  m->eval();
  torch::NoGradGuard ng;
  auto in = inputs();
  in.text_ids = in.text_ids.clamp_max(ck.config.vocab_size - 1);
  auto out = m->forward(in);
  EXPECT_TRUE(torch::equal(out.embeddings.at("text"), ck.model->embed(in.text_ids, in.text_mask, {}, ReportEmbedding::kCls)));
  EXPECT_TRUE(text_bert(m).ptr() == ck.model.ptr());
  // The same checkpoint loads into a fresh model's text branch by HF names.
  auto fresh = build_model(arch);
  auto r = load_weights(*fresh->text, read_safetensors(bert_weights_file(dir)), bert_load_options(true));
  EXPECT_TRUE(r.missing.empty() && r.mismatched.empty()) << r.summary();
  fresh->eval();
  EXPECT_TRUE(torch::allclose(fresh->text->encode(in.text_ids, in.text_mask), out.embeddings.at("text"), 1e-6, 1e-6));
  EXPECT_TRUE(text_bert(build_model(small_arch(Variant::kMsm))).is_empty());
}

// ---------------------------------------------------------------------------------------------
// cervirisk weights

namespace {
int run(const std::string& args, std::string* out = nullptr) {
  auto r = cervirisk::testing::run_cli(args, cervirisk::testing::Stderr::kMerged);
  if (out) *out = r.out;
  return r.code;
}
}  // namespace

TEST(WeightsCli, SummaryCheckAndForward) {
  const std::string data = std::string(CERV_TEST_DATA) + "/models/";
  std::string out;
  ASSERT_EQ(run("weights check --arch convnext_tiny", &out), 0) << out;
  EXPECT_NE(out.find("parameters:   28589128"), std::string::npos) << out;
  EXPECT_NE(out.find("FLOPs/input:"), std::string::npos);
  ASSERT_EQ(run("weights check --arch msm_tc --preset cpu-small", &out), 0) << out;
  // A mis-fitting checkpoint: exit 6 with the report.
  EXPECT_EQ(run("weights check --arch convnext_atto --weights " + data + "convnext_tv.safetensors", &out), 6);
  EXPECT_NE(out.find("mis-shaped: head.norm.weight expected [320] got [48]"), std::string::npos) << out;
  EXPECT_EQ(run("weights check --arch convnext_huge", &out), 2);
  EXPECT_NE(out.find("unknown ConvNeXt size"), std::string::npos) << out;
  EXPECT_EQ(run("weights check --arch resnet50", &out), 2);
  EXPECT_NE(out.find("unknown architecture 'resnet50'"), std::string::npos) << out;
  ASSERT_EQ(run("weights check --arch bert --weights " + std::string(CERV_TEST_DATA) + "/text/tiny_bert", &out), 0) << out;
  EXPECT_NE(out.find(" 0 missing, "), std::string::npos) << out;
  ASSERT_EQ(run("weights check --arch crossvit_tiny_240", &out), 0) << out;
  // convert: equals the script's renaming.
  TempDir dir("models");
  auto conv = (dir / "timm.safetensors").string();
  ASSERT_EQ(run("weights convert --from torchvision --weights " + data + "convnext_tv.safetensors --out " + conv, &out),
            0)
      << out;
  auto a = read_safetensors(conv), b = read_safetensors(data + "convnext_timm.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : b) EXPECT_TRUE(a.count(k) && torch::equal(a.at(k), v)) << k;
  // --input / --output: the CLI's forward equals the in-process one with the same weights.
  torch::manual_seed(21);
  auto atto = named_architecture("convnext_atto");
  write_safetensors(dir / "w.safetensors", state_dict(*atto.module));
  auto x = torch::randn({2, 3, 64, 64});
  write_safetensors(dir / "x.safetensors", {{"input", x}});
  ASSERT_EQ(run("weights check --arch convnext_atto --weights " + (dir / "w.safetensors").string() + " --input " +
                    (dir / "x.safetensors").string() + " --output " + (dir / "y.safetensors").string(),
                &out),
            0)
      << out;
  EXPECT_NE(out.find("0 missing, 0 unexpected, 0 mis-shaped"), std::string::npos) << out;
  auto y = read_safetensors(dir / "y.safetensors").at("output");
  auto want = atto.forward({{"input", x}}).at("output");
  EXPECT_TRUE(torch::allclose(y, want, 1e-5, 1e-6));
  EXPECT_EQ(run("weights check --arch convnext_atto --input " + (dir / "x.safetensors").string(), &out), 2);
}
