// The model bundle (src/bundle): what write_bundle writes, load_bundle reads back -- the same
// weights, threshold, cut-point, feature spec and the same prediction -- and a damaged or foreign
// bundle is refused with exit 4 naming the file and field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "bundle/bundle.h"
#include "bundle/features.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "models/weights.h"
#include "small_arch.h"
#include "test_util.h"

using namespace cervirisk;
using cervirisk::testing::error_message;
using cervirisk::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  models::ArchConfig arch;
  models::RecurrenceModel model{nullptr};
  bundle::FeatureSpec spec;
  runfolder::ModelInfo info;
};

Fixture clinical_model() {
  Fixture f;
  f.spec.clinical = models::ClinicalEncoder::fit(
      {{"age", models::ClinicalType::kNumeric, {}, false}, {"lvsi", models::ClinicalType::kCategorical, {"no", "yes"}, false}},
      {{{"age", "40"}, {"lvsi", "no"}}, {{"age", "60"}, {"lvsi", "yes"}}, {{"age", "50"}}});
  f.spec.imaging.tumour_size_px = 32;
  f.spec.imaging.context_size_px = 48;
  f.spec.max_tokens = 16;
  torch::manual_seed(3);
  f.arch = cervirisk::testing::small_arch(models::Variant::kClinical,
                                         static_cast<std::int64_t>(f.spec.clinical.feature_count()), 0);
  f.model = models::build_model(f.arch);
  f.info.variant = "clinical";
  f.info.preset = f.arch.preset;
  f.info.threshold = 0.2 / 3;
  f.info.cutpoint = -1.0 / 7;
  f.info.seed = 16;
  f.info.training_cohort = {3, 1, 1.0 / 3, 0.5, {0.1, 0.2, 0.3, 0.4, 0.5}};
  return f;
}

double predict(models::RecurrenceModel& model, const bundle::FeatureSpec& spec, const models::ClinicalRow& row) {
  bundle::PatientFeatures p;
  p.image.tumour.channels = p.image.context.channels = 3;
  p.image.tumour.height = p.image.tumour.width = 32;
  p.image.context.height = p.image.context.width = 48;
  p.image.tumour.data.assign(3 * 32 * 32, 0.f);
  p.image.context.data.assign(3 * 48 * 48, 0.f);
  bundle::fill_text_clinical(spec, std::nullopt, row, p);
  const bundle::FeatureDataset ds({&p}, &spec);
  return bundle::score_dataset(model, ds).logit.at(0);
}

}  // namespace

TEST(Bundle, WrittenBundleLoadsToTheSameModel) {
  TempDir d("bundle");
  Fixture f = clinical_model();
  bundle::write_bundle(d / "clinical", f.model, f.arch, f.spec, f.info, {{1, 0.7, 0.6, 0.5}});
  for (const char* file : {"model.json", "weights.safetensors", "preprocessing.json", "clinical.json", "history.csv"})
    EXPECT_TRUE(fs::exists(d / "clinical" / file)) << file;
  EXPECT_FALSE(fs::exists(d / "clinical" / "vocab.txt"));  // no text path
  bundle::Bundle b = bundle::load_bundle(d / "clinical");
  EXPECT_EQ(b.info.threshold, f.info.threshold);
  EXPECT_EQ(b.info.cutpoint, f.info.cutpoint);
  EXPECT_EQ(b.arch.to_json(), f.arch.to_json());
  EXPECT_EQ(b.spec.imaging.canonical(), f.spec.imaging.canonical());
  EXPECT_EQ(b.spec.max_tokens, 16);
  const auto w0 = models::state_dict(*f.model), w1 = models::state_dict(*b.model);
  ASSERT_EQ(w0.size(), w1.size());
  for (const auto& [name, t] : w0) EXPECT_TRUE(torch::equal(t, w1.at(name))) << name;
  const models::ClinicalRow row = {{"age", "55"}, {"lvsi", "yes"}};
  EXPECT_EQ(predict(f.model, f.spec, row), predict(b.model, b.spec, row));
}

TEST(Bundle, DamagedOrForeignBundleIsExit4) {
  TempDir d("bundle_bad");
  Fixture f = clinical_model();
  const fs::path dir = d / "clinical";
  auto fresh = [&] { bundle::write_bundle(dir, f.model, f.arch, f.spec, f.info, {}); };
  fresh();
  write_file_atomic(dir / "preprocessing.json", "{\"imaging\": {\"spacing_mm\": ");
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kCorruptInput).find("preprocessing.json: not valid JSON"),
            std::string::npos);
  fresh();
  std::string text = read_file(dir / "preprocessing.json");
  text.replace(text.find("\"zscore\""), 8, "\"robust\"");
  write_file_atomic(dir / "preprocessing.json", text);
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kCorruptInput).find("imaging.normalise is \"robust\""),
            std::string::npos);
  // A bundle from before the canonical frame: no imaging.frame -> refused (exit 6), never read
  // with today's sagittal frame.
  fresh();
  nlohmann::json pre = nlohmann::json::parse(read_file(dir / "preprocessing.json"));
  pre["imaging"].erase("frame");
  pre["imaging"].erase("slice_spacing_mm");
  write_file_atomic(dir / "preprocessing.json", pre.dump(2));
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kIncompatibleModel)
                .find("before the canonical anatomical frame"),
            std::string::npos);
  fresh();
  pre = nlohmann::json::parse(read_file(dir / "preprocessing.json"));
  pre["imaging"]["frame"] = "coronal";
  write_file_atomic(dir / "preprocessing.json", pre.dump(2));
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kCorruptInput).find("imaging.frame is \"coronal\""),
            std::string::npos);
  fresh();
  EXPECT_EQ(bundle::load_bundle(dir).spec.imaging.frame, imaging::Frame::kSagittal);
  text = read_file(dir / "model.json");
  text.replace(text.find("cervirisk-model/2"), 17, "cervirisk-model/9");
  write_file_atomic(dir / "model.json", text);
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kCorruptInput).find("format is \"cervirisk-model/9\""),
            std::string::npos);
  fresh();
  fs::remove(dir / "model.json");  // an interrupted bundle
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kInputMissing).find("not a model bundle"),
            std::string::npos);
}

// preprocess.mask_channel travels in preprocessing.json (absent in bundles made before it: off)
// and the model input is the image planes followed by the mask planes, with or without
// augmentation.
TEST(Bundle, MaskChannelIsRecordedAndFedAfterTheImagePlanes) {
  TempDir d("bundle_mask");
  Fixture f = clinical_model();
  f.spec.imaging.mask_channel = true;
  const fs::path dir = d / "clinical";
  bundle::write_bundle(dir, f.model, f.arch, f.spec, f.info, {});
  EXPECT_TRUE(bundle::load_bundle(dir).spec.imaging.mask_channel);
  EXPECT_EQ(bundle::load_bundle(dir).spec.imaging.canonical(), f.spec.imaging.canonical());
  nlohmann::json pre = nlohmann::json::parse(read_file(dir / "preprocessing.json"));
  pre["imaging"]["mask_channel"] = "yes";
  write_file_atomic(dir / "preprocessing.json", pre.dump(2));
  EXPECT_NE(error_message([&] { bundle::load_bundle(dir); }, ExitCode::kCorruptInput).find("imaging.mask_channel"),
            std::string::npos);
  pre["imaging"].erase("mask_channel");
  write_file_atomic(dir / "preprocessing.json", pre.dump(2));
  EXPECT_FALSE(bundle::load_bundle(dir).spec.imaging.mask_channel);

  bundle::PatientFeatures p;
  for (imaging::Crop* c : {&p.image.tumour, &p.image.context}) {
    c->channels = 3, c->height = c->width = 8;
    for (int i = 0; i < 3 * 64; ++i) c->data.push_back(static_cast<float>(i)), c->mask.push_back(i % 64 < 32 ? 1.f : 0.f);
  }
  bundle::fill_text_clinical(f.spec, std::nullopt, {{"age", "50"}}, p);
  const auto t = bundle::feature_tensors(p, f.spec, nullptr);
  ASSERT_EQ(t.at("tumour").sizes(), (std::vector<std::int64_t>{6, 8, 8}));
  EXPECT_EQ(t.at("tumour")[1][0][3].item<float>(), 64.f + 3.f);   // image plane 1
  EXPECT_EQ(t.at("tumour")[4][3][7].item<float>(), 1.f);          // mask plane 1, upper half
  EXPECT_EQ(t.at("tumour")[5][4][0].item<float>(), 0.f);          // mask plane 2, lower half
  f.spec.augment.intensity = 0.5, f.spec.augment.rotate_deg = 0, f.spec.augment.scale = 0, f.spec.augment.flip = false;
  std::mt19937_64 rng(5);
  const auto a = bundle::feature_tensors(p, f.spec, &rng);
  ASSERT_EQ(a.at("context").sizes(), (std::vector<std::int64_t>{6, 8, 8}));
  // Intensity augmentation changes the image planes only.
  EXPECT_FALSE(torch::equal(a.at("context").slice(0, 0, 3), t.at("context").slice(0, 0, 3)));
  EXPECT_TRUE(torch::equal(a.at("context").slice(0, 3, 6), t.at("context").slice(0, 3, 6)));
}
