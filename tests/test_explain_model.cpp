// Explanations on the real model (src/explain/clinical_shap.h, patient_maps.h): clinical
// KernelSHAP of a RecurrenceModel checked against the full forward pass (f(x), E f and
// efficiency within 1e-6), Grad-CAM / rollout maps of one patient, and the overlay of a map on
// the MRI slice through a known crop box (hand-computed geometry).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "explain/clinical_shap.h"
#include "explain/gradcam.h"
#include "explain/patient_maps.h"
#include "figure_check.h"
#include "models/registry.h"
#include "small_arch.h"

using namespace cervirisk;
using namespace cervirisk::explain;
using models::ArchConfig;
using models::Variant;

namespace {

constexpr std::int64_t kVocab = 40, kLen = 10;

models::ClinicalEncoder test_encoder() {
  std::vector<models::ClinicalColumn> cols = {
      {"age", models::ClinicalType::kNumeric, {}, false},
      {"histology", models::ClinicalType::kCategorical, {"scc", "adeno", "other"}, false},
      {"stage", models::ClinicalType::kOrdinal, {"I", "II", "III"}, false},
      {"scc_ag", models::ClinicalType::kNumeric, {}, true},
  };
  std::vector<models::ClinicalRow> rows;
  const char* hist[] = {"scc", "adeno", "other"};
  const char* stage[] = {"I", "II", "III"};
  for (int i = 0; i < 24; ++i) {
    models::ClinicalRow r{{"age", std::to_string(35 + (i * 7) % 40)}, {"histology", hist[i % 3]}, {"stage", stage[(i / 3) % 3]}};
    if (i % 5 != 0) r["scc_ag"] = std::to_string(0.5 + (i * 13 % 17) / 3.0);
    rows.push_back(r);
  }
  return models::ClinicalEncoder::fit(cols, rows);
}

ArchConfig small_arch(Variant v, std::int64_t clinical_features) {
  return cervirisk::testing::small_arch(v, clinical_features, kVocab);
}

struct Fixture {
  models::ClinicalEncoder enc = test_encoder();
  ArchConfig arch;
  models::RecurrenceModel model{nullptr};
  models::ModelInputs in;
  Eigen::MatrixXd X;  // encoded clinical rows of the patients
  Eigen::MatrixXd train;

  explicit Fixture(Variant v, std::int64_t n = 4) {
    torch::manual_seed(7);
    arch = small_arch(v, static_cast<std::int64_t>(enc.feature_count()));
    model = models::build_model(arch);
    model->eval();
    in.tumour = torch::randn({n, 3, arch.tumour_size, arch.tumour_size});
    in.context = torch::randn({n, 3, arch.context_size, arch.context_size});
    in.text_ids = torch::randint(1, kVocab, {n, kLen}, torch::kInt64);
    in.text_mask = torch::ones({n, kLen}, torch::kInt64);
    const char* hist[] = {"adeno", "scc", "other", "scc"};
    X.resize(n, static_cast<Eigen::Index>(enc.feature_count()));
    for (std::int64_t i = 0; i < n; ++i) {
      models::ClinicalRow r{{"age", std::to_string(40 + 9 * i)}, {"histology", hist[i % 4]}, {"stage", i % 2 ? "III" : "I"}};
      if (i != 2) r["scc_ag"] = std::to_string(1.5 + i);
      auto e = enc.encode(r);
      for (std::size_t j = 0; j < e.size(); ++j) X(i, static_cast<Eigen::Index>(j)) = e[j];
    }
    in.clinical = torch::from_blob(Eigen::MatrixXf(X.cast<float>()).data(), {X.cols(), n}, torch::kFloat32).t().contiguous().clone();
    train.resize(12, X.cols());
    const char* hist2[] = {"scc", "adeno", "other"};
    const char* st[] = {"I", "II", "III"};
    for (int i = 0; i < 12; ++i) {
      models::ClinicalRow r{{"age", std::to_string(30 + 4 * i)}, {"histology", hist2[i % 3]}, {"stage", st[i % 3]}};
      if (i % 4) r["scc_ag"] = std::to_string(0.8 + 0.3 * i);
      auto e = enc.encode(r);
      for (std::size_t j = 0; j < e.size(); ++j) train(i, static_cast<Eigen::Index>(j)) = e[j];
    }
  }

  // The full model's probability of patient i with the clinical vector replaced by `clin`.
  double full_probability(std::int64_t i, const Eigen::VectorXd& clin) {
    torch::NoGradGuard ng;
    models::ModelInputs one;
    if (in.tumour.defined()) {
      one.tumour = in.tumour.narrow(0, i, 1);
      one.context = in.context.narrow(0, i, 1);
      one.text_ids = in.text_ids.narrow(0, i, 1);
      one.text_mask = in.text_mask.narrow(0, i, 1);
    }
    one.clinical = torch::empty({1, clin.size()});
    for (Eigen::Index j = 0; j < clin.size(); ++j) one.clinical[0][j] = static_cast<float>(clin(j));
    return torch::sigmoid(model->forward(one).logit).item<double>();
  }
};

}  // namespace

TEST(ClinicalShap, ModelOfTheClinicalBlockEqualsTheFullForwardPass) {
  Fixture fx(Variant::kMsmTC);
  EXPECT_TRUE(clinical_head_split_applies(fx.model)) << "the fast path no longer matches the fusion head";
  torch::NoGradGuard ng;
  auto out = fx.model->forward(fx.in);
  auto fused = out.embeddings.at("fused");
  for (std::int64_t i = 0; i < fx.X.rows(); ++i) {
    auto f = clinical_model(fx.model, fused[i]);
    // its own row, every training row: the full model on the patient's images and report
    Eigen::MatrixXd rows(1 + fx.train.rows(), fx.X.cols());
    rows.row(0) = fx.X.row(i);
    rows.bottomRows(fx.train.rows()) = fx.train;
    Eigen::VectorXd p = f(rows);
    EXPECT_NEAR(p(0), torch::sigmoid(out.logit[i]).item<double>(), 1e-6) << i;
    // with the bundle's recalibration: sigmoid(a + b * logit) of the same forward pass
    EXPECT_NEAR(clinical_model(fx.model, fused[i], {-0.7, 0.4})(rows)(0),
                1 / (1 + std::exp(0.7 - 0.4 * out.logit[i].item<double>())), 1e-6)
        << i;
    for (Eigen::Index r = 0; r < fx.train.rows(); ++r)
      EXPECT_NEAR(p(1 + r), fx.full_probability(i, fx.train.row(r).transpose()), 1e-6) << i << "/" << r;
  }
  EXPECT_THROW(clinical_model(fx.model, torch::zeros({5})), ModelError);
  fx.model->train();
  EXPECT_THROW(clinical_model(fx.model, fused[0]), ModelError);
  fx.model->eval();
  Fixture img(Variant::kMsm);
  EXPECT_THROW(clinical_model(img.model, torch::Tensor()), ModelError);
}

TEST(ClinicalShap, KernelShapOnTheRealModelIsEfficientAndExact) {
  Fixture fx(Variant::kMsmTC);
  torch::NoGradGuard ng;
  auto fused = fx.model->forward(fx.in).embeddings.at("fused");
  const Background bg = kmeans_background(fx.train, 5, 3);
  KernelShapOptions ko;
  ko.batch_size = 16;  // several model calls per patient
  auto r = clinical_kernel_shap(fx.model, fx.enc, fx.X, fused, bg, ko);
  ASSERT_EQ(r.shap.phi.rows(), fx.X.rows());
  ASSERT_EQ(r.shap.phi.cols(), 4);  // players = the 4 clinical columns
  EXPECT_EQ(r.coalitions, 14u);     // 2^4 − 2: complete enumeration
  EXPECT_LT(r.max_efficiency_error, 1e-6);
  // patients in parallel (one worker per torch thread) give the same values as one worker
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  auto r1 = clinical_kernel_shap(fx.model, fx.enc, fx.X, fused, bg, ko);
  at::set_num_threads(3);
  auto r3 = clinical_kernel_shap(fx.model, fx.enc, fx.X, fused, bg, ko);
  at::set_num_threads(saved);
  EXPECT_EQ(at::get_num_threads(), saved);
  EXPECT_TRUE(r1.shap.phi.isApprox(r3.shap.phi, 1e-12));
  EXPECT_TRUE(r1.shap.phi.isApprox(r.shap.phi, 1e-12));
  const auto players = clinical_players(fx.enc);
  for (Eigen::Index i = 0; i < fx.X.rows(); ++i) {
    // f(x) and E_bg f from full forward passes of the model (images + report + clinical)
    EXPECT_NEAR(r.shap.fx(i), fx.full_probability(i, fx.X.row(i).transpose()), 1e-6);
    double e = 0;
    for (Eigen::Index b = 0; b < bg.data.rows(); ++b) e += bg.weights(b) * fx.full_probability(i, bg.data.row(b).transpose());
    EXPECT_NEAR(r.expected(i), e, 1e-6);
    EXPECT_NEAR(r.shap.phi.row(i).sum(), r.shap.fx(i) - e, 1e-6);
    // complete enumeration = exact group Shapley on the same function
    ShapleyOptions so;
    so.groups = players.groups;
    auto ex = exact_shapley(clinical_model(fx.model, fused[i]), fx.X.row(i).transpose(), bg, so);
    // (to float32 rounding: the MLP's float outputs depend slightly on the batch composition)
    for (Eigen::Index j = 0; j < 4; ++j) EXPECT_NEAR(r.shap.phi(i, j), ex.phi(j), 1e-7);
  }
}

TEST(ClinicalShap, ClinicalOnlyVariantAndDisplayValues) {
  Fixture fx(Variant::kClinical);
  fx.in = {};
  fx.in.clinical = torch::from_blob(Eigen::MatrixXf(fx.X.cast<float>()).data(), {fx.X.cols(), fx.X.rows()},
                                    torch::kFloat32).t().contiguous().clone();
  torch::NoGradGuard ng;
  auto logit = fx.model->forward(fx.in).logit;
  auto f = clinical_model(fx.model, torch::Tensor());
  Eigen::VectorXd p = f(fx.X);
  for (Eigen::Index i = 0; i < fx.X.rows(); ++i) EXPECT_NEAR(p(i), torch::sigmoid(logit[i]).item<double>(), 1e-6);
  auto players = clinical_players(fx.enc);
  EXPECT_EQ(players.names, (std::vector<std::string>{"age", "histology", "stage", "scc_ag"}));
  EXPECT_EQ(players.groups[1].size(), 4u);  // 3 levels + missing indicator
  auto v = clinical_display_values(fx.enc, {{"age", " 61 "}, {"histology", "other"}, {"stage", "II"}, {"scc_ag", "NA"}});
  EXPECT_DOUBLE_EQ(v[0], 61);
  EXPECT_DOUBLE_EQ(v[1], 2);
  EXPECT_DOUBLE_EQ(v[2], 1);
  EXPECT_TRUE(std::isnan(v[3]));
}

TEST(PatientMaps, GradCamAndRolloutOfOnePatient) {
  Fixture fx(Variant::kMsmTC, 1);
  RolloutOptions ro;
  auto maps = patient_relevance_maps(fx.model, fx.in, ro);
  {
    torch::NoGradGuard ng;
    EXPECT_NEAR(maps.logit, fx.model->forward(fx.in).logit.item<double>(), 1e-5);
  }
  ASSERT_TRUE(maps.gradcam_convnext.defined());
  // ConvNeXt with 3 stages: stem /4, then /2 per stage
  EXPECT_EQ(maps.gradcam_convnext.size(0), fx.arch.tumour_size / 16);
  const auto& v = fx.model->vit->config();
  for (int d = 0; d < 2; ++d) {
    const auto g = v.img_size[d] / v.patch_size[d];
    ASSERT_TRUE(maps.gradcam_vit[d].defined());
    EXPECT_EQ(maps.gradcam_vit[d].sizes(), torch::IntArrayRef({g, g}));
    EXPECT_EQ(maps.rollout_vit[d].sizes(), torch::IntArrayRef({g, g}));
    EXPECT_GE(maps.gradcam_vit[d].min().item<double>(), 0.0);
    EXPECT_GT(maps.gradcam_vit[d].max().item<double>(), 0.0) << "ViT path " << d << ": no gradient reached the tokens";
    // rollout: a row of a product of row-stochastic matrices; the patches share what CLS leaves
    const double s = maps.rollout_vit[d].sum().item<double>();
    EXPECT_GT(s, 0.0);
    EXPECT_LT(s, 1.0);
    EXPECT_GT(maps.rollout_vit[d].min().item<double>(), 0.0);
  }
  EXPECT_GT(maps.gradcam_convnext.max().item<double>(), 0.0);
  // the parameters are left without gradients (explanations must not train the model)
  for (const auto& p : fx.model->parameters()) EXPECT_FALSE(p.grad().defined());
}

namespace {
// A 60 x 50 x 5 volume, 0.5 mm voxels in plane; the tumour crop: 16 px of 1 mm centred on voxel
// (30, 25) of slice 2, i.e. 32 voxels wide: pixel edges -0.5 and 15.5 → voxel indices 14 and 46.
imaging::PatientSample known_sample() {
  imaging::PatientSample s;
  auto& g = s.image_geometry;
  g.shape = {60, 50, 5};
  g.spacing_mm = {0.5, 0.5, 3.0};
  auto box = [&](int size, double pix) {
    imaging::Crop c;
    c.channels = 3;
    c.height = c.width = size;
    c.box.size_px = size;
    c.box.pixel_mm = pix;
    c.box.side_mm = pix * size;
    c.box.centre_lps_mm = {15.0, 12.5, 6.0};
    c.box.step_x_lps = {pix, 0, 0};
    c.box.step_y_lps = {0, pix, 0};
    c.box.centre_slice = 2;
    return c;
  };
  s.tumour = box(16, 1.0);
  s.context = box(12, 2.0);  // 24 mm = 48 voxels: indices 6 .. 54 in i, 1 .. 49 in j
  s.slice_index = 2;
  return s;
}
}  // namespace

TEST(Overlay, CropBoxOfThePreprocessingMapsOntoTheSlice) {
  const auto s = known_sample();
  auto m = slice_mapping_of(s.tumour.box, s.image_geometry);
  EXPECT_NEAR(m.box.x0, 14.5, 1e-9);
  EXPECT_NEAR(m.box.x1, 46.5, 1e-9);
  EXPECT_NEAR(m.box.y0, 9.5, 1e-9);
  EXPECT_NEAR(m.box.y1, 41.5, 1e-9);
  auto c = slice_mapping_of(s.context.box, s.image_geometry);
  EXPECT_NEAR(c.box.x0, 6.5, 1e-9);
  EXPECT_NEAR(c.box.x1, 54.5, 1e-9);

  // a 4 x 4 grid map, hot in its top-left cell only
  auto grid = torch::zeros({4, 4}, torch::kFloat64);
  grid[0][0] = 1.0;
  io::Volume vol;
  vol.geometry = s.image_geometry;
  vol.voxels.resize(static_cast<std::size_t>(vol.geometry.voxel_count()));
  for (std::size_t i = 0; i < vol.voxels.size(); ++i) vol.voxels[i] = static_cast<float>(i % 97);
  auto slice = volume_slice(vol, 2);
  EXPECT_EQ(slice.width, 60);
  EXPECT_EQ(slice.height, 50);
  EXPECT_FLOAT_EQ(slice.at(7, 3), vol.at(7, 3, 2));
  auto heat = relevance_on_slice(grid, 16, 16, m, slice.width, slice.height);
  int inside = 0;
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 60; ++x) {
      const bool in_box = x + 0.5 >= 14.5 && x + 0.5 < 46.5 && y + 0.5 >= 9.5 && y + 0.5 < 41.5;
      EXPECT_EQ(std::isfinite(heat.at(x, y)), in_box) << x << "," << y;
      inside += in_box;
    }
  EXPECT_EQ(inside, 32 * 32);
  // the hot cell is the box's top-left quarter of a quarter: 8 x 8 voxels from (14, 9)
  EXPECT_NEAR(heat.at(14, 9), 1.0, 1e-6);
  EXPECT_LT(heat.at(45, 40), 1e-6);
  EXPECT_GT(heat.at(16, 11), heat.at(30, 25));

  // The map in the image's geometry: the same hot corner, on the crop's slab only.
  auto sample = s;
  sample.tumour.box.normal_lps = sample.context.box.normal_lps = {0, 0, 1};
  sample.tumour.box.slice_step_mm = sample.context.box.slice_step_mm = 3.0;
  const io::Volume map = relevance_volume(grid, sample.tumour, vol.geometry);
  ASSERT_TRUE(map.geometry.same_grid(vol.geometry, 1e-9));
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 60; ++x) {
      // the crop's 3 channels span slices 1..3 (4.5 mm either side of slice 2's centre)
      EXPECT_NEAR(map.at(x, y, 2), std::isfinite(heat.at(x, y)) ? heat.at(x, y) : 0.0, 1e-6) << x << "," << y;
      EXPECT_FLOAT_EQ(map.at(x, y, 1), map.at(x, y, 2));
      EXPECT_EQ(map.at(x, y, 0), 0.0f);
      EXPECT_EQ(map.at(x, y, 4), 0.0f);
    }

  auto fig = relevance_overlay(vol, map, sample.tumour, sample, "known box", "relevance");
  auto png = figtest::decode_png(fig.png);
  EXPECT_EQ(png.width, fig.width);
  EXPECT_EQ(png.height, fig.height);
  EXPECT_GT(figtest::distinct_colours(png), 50u);
  const auto& fr = fig.frames.at(0);
  // The view: the context box (24 mm) with half its size around it = 48 mm at 0.5 mm = 96 pixels,
  // centred on the crops' centre (voxel (30, 25)); the hot corner starts at voxel (14, 9).
  const double k = fr.width / 96.0;  // displayed pixels per view pixel
  // view pixel x holds voxel i = x - 17.5 (j = y - 22.5); its centre is displayed at (x + 0.5) * k
  auto at_voxel = [&](double i, double j) {
    return png.at(static_cast<int>(fr.left + (i + 17.5 + 0.5) * k), static_cast<int>(fr.top + (j + 22.5 + 0.5) * k));
  };
  // inside the hot corner: tinted (viridis yellow: r, g >> b); far outside the crop: grey (r = g = b)
  auto hot = at_voxel(15.5, 10.5);
  EXPECT_GT(static_cast<int>((hot >> 8) & 255) - static_cast<int>(hot & 255), 40);
  auto grey = at_voxel(2.5, 47.5);
  EXPECT_EQ((grey >> 16) & 255, grey & 255);
  EXPECT_EQ((grey >> 8) & 255, grey & 255);

  // a crop rotated against the slice cannot be drawn as an axis-aligned box
  auto rot = s.tumour.box;
  rot.step_x_lps = {0, 1.0, 0};
  rot.step_y_lps = {1.0, 0, 0};
  try {
    slice_mapping_of(rot, s.image_geometry);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not axis-aligned"), std::string::npos) << e.what();
  }
}
