// Figures rendered on known data: the PNG decodes with the requested size, is not blank, and
// the data sit where they should (pixels of the series colour at the data coordinates); the
// SVG is well-formed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "figure_check.h"
#include "report/figures.h"
#include "test_util.h"

using namespace cervirisk;
using namespace cervirisk::report;
using cervirisk::testing::TempDir;
using figtest::colour_near;
using figtest::decode_png;

namespace {
const Rgb kBlue = series_palette()[0];
const Rgb kVermillion = series_palette()[1];

void common_checks(const Figure& f, int w, int h, std::size_t min_colours = 8) {
  auto p = decode_png(f.png);
  EXPECT_EQ(p.width, w);
  EXPECT_EQ(p.height, h);
  EXPECT_GE(figtest::distinct_colours(p), min_colours);
  double nw = figtest::non_white_fraction(p);
  EXPECT_GT(nw, 0.01);
  EXPECT_LT(nw, 0.9);
  EXPECT_TRUE(figtest::svg_well_formed(f.svg));
  EXPECT_NE(f.svg.find("width=\"" + std::to_string(w)), std::string::npos);
}
}  // namespace

TEST(Figures, PaletteIsOkabeIto) {
  const auto& p = series_palette();
  ASSERT_EQ(p.size(), 8u);
  EXPECT_NEAR(p[0].r * 255, 0, 1e-9);
  EXPECT_NEAR(p[0].g * 255, 114, 1e-9);
  EXPECT_NEAR(p[1].r * 255, 213, 1e-9);
  auto v0 = viridis(0), v1 = viridis(1);
  EXPECT_NEAR(v0.r * 255, 68, 1e-9);
  EXPECT_NEAR(v1.g * 255, 231, 1e-9);
}

TEST(Figures, RocPointsAndFigure) {
  // scores with a tie between a case and a control: the curve moves diagonally
  auto r = roc_points({0.9, 0.8, 0.8, 0.3, 0.1}, {1, 1, 0, 0, 1}, "m");
  std::vector<double> fpr{0, 0, 0.5, 1, 1}, tpr{0, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1};
  ASSERT_EQ(r.fpr.size(), fpr.size());
  for (std::size_t i = 0; i < fpr.size(); ++i) {
    EXPECT_DOUBLE_EQ(r.fpr[i], fpr[i]);
    EXPECT_DOUBLE_EQ(r.tpr[i], tpr[i]);
  }
  EXPECT_THROW(roc_points({1, 2}, {1, 1}), StatsError);

  RocPlot plot;
  plot.title = "External validation";
  plot.series.push_back({"msm_tc", {0, 0.3, 1}, {0, 0.8, 1}, 0.812, 0.74, 0.88});
  plot.series.push_back({"clinical", {0, 0.6, 1}, {0, 0.5, 1}, 0.61, kNaN, kNaN});
  auto f = roc_figure(plot);
  common_checks(f, 800, 600);
  auto p = decode_png(f.png);
  const auto& fr = f.frames.at(0);
  EXPECT_TRUE(colour_near(p, fr.px(0.15), fr.py(0.4), kBlue));
  EXPECT_TRUE(colour_near(p, fr.px(0.65), fr.py(0.9), kBlue));
  EXPECT_TRUE(colour_near(p, fr.px(0.3), fr.py(0.25), kVermillion));
  EXPECT_FALSE(colour_near(p, fr.px(0.1), fr.py(0.9), kBlue, 2));  // nothing drawn there
}

TEST(Figures, KaplanMeierWithBandsCensorMarksAndRiskTable) {
  KmGroup lo{
      "Low risk", {0, 5, 10}, {1, 0.8, 0.5}, {1, 0.7, 0.35}, {1, 0.9, 0.65}, {7}, {2, 5, 7, 10, 12, 12, 20}};
  KmGroup hi{"High risk", {0, 2, 4}, {1, 0.6, 0.2}, {}, {}, {3}, {1, 2, 3, 4, 6}};
  EXPECT_EQ(number_at_risk(lo, 0), 7);
  EXPECT_EQ(number_at_risk(lo, 10), 4);
  EXPECT_EQ(number_at_risk(hi, 5), 1);
  KmPlot plot;
  plot.title = "Internal validation";
  plot.groups = {lo, hi};
  plot.annotation = {"log-rank p = 0.004", "HR 3.10 [1.40\u20136.90]"};
  auto f = km_figure(plot);
  common_checks(f, 800, 680);
  auto p = decode_png(f.png);
  const auto& fr = f.frames.at(0);
  EXPECT_DOUBLE_EQ(fr.xmin, 0);
  EXPECT_GE(fr.xmax, 20);
  EXPECT_TRUE(colour_near(p, fr.px(7.5), fr.py(0.8), kBlue, 2, 0.1));      // low-risk step at 0.8
  EXPECT_TRUE(colour_near(p, fr.px(3), fr.py(0.6), kVermillion, 2, 0.1));  // high-risk step at 0.6
  // the band is a light tint of blue between 0.7 and 0.9 at t = 8.5
  auto band = p.at(static_cast<int>(fr.px(8.5)), static_cast<int>(fr.py(0.74)));
  EXPECT_GT(band & 0xff, (band >> 16) & 0xff);  // bluish
  EXPECT_LT(band & 0xffffff, 0xffffffu);
  // the risk table lies under the axis: coloured labels there
  EXPECT_TRUE(colour_near(p, 30, fr.top + fr.height + 62 + 22 + 8, kBlue, 12, 0.2));
  EXPECT_TRUE(colour_near(p, 30, fr.top + fr.height + 62 + 44 + 8, kVermillion, 12, 0.2));
  KmPlot bad;
  bad.groups = {KmGroup{"x", {0, 1}, {1}, {}, {}, {}, {}}};
  EXPECT_THROW(km_figure(bad), ConfigError);
}

TEST(Figures, CalibrationWithHistogram) {
  CalibrationSeries s{"msm_tc", {0.1, 0.3, 0.5, 0.7, 0.9}, {0.12, 0.25, 0.55, 0.6, 0.95}, {}, {}, {}};
  for (int i = 0; i < 200; ++i) s.predictions.push_back((i % 50) / 50.0 * 0.5 + 0.05);
  CalibrationPlot plot;
  plot.series = {s};
  plot.annotation = {"slope 0.95", "Brier 0.180"};
  auto f = calibration_figure(plot);
  common_checks(f, 700, 700);
  auto p = decode_png(f.png);
  ASSERT_EQ(f.frames.size(), 2u);
  const auto& fr = f.frames[0];
  EXPECT_TRUE(colour_near(p, fr.px(0.3), fr.py(0.25), kBlue, 1, 0.1));
  const auto& h = f.frames[1];
  EXPECT_GT(h.top, fr.top + fr.height);
  // predictions are in [0.05, 0.55): bars there, none above 0.6
  EXPECT_TRUE(colour_near(p, h.px(0.3), h.py(1), kBlue, 4, 0.5));
  EXPECT_FALSE(colour_near(p, h.px(0.8), h.py(1), kBlue, 4, 0.5));
}

TEST(Figures, DecisionCurve) {
  DecisionPlot plot;
  NetBenefitCurve m{"msm_tc", {}, {}}, all{"Treat all", {}, {}};
  const double prev = 0.3;
  for (int i = 1; i < 60; ++i) {
    double t = i / 100.0;
    m.threshold.push_back(t);
    m.net_benefit.push_back(0.25 - 0.3 * t);
    all.threshold.push_back(t);
    all.net_benefit.push_back(prev - (1 - prev) * t / (1 - t));
  }
  plot.models = {m};
  plot.treat_all = all;
  auto f = decision_curve_figure(plot);
  common_checks(f, 800, 600);
  auto p = decode_png(f.png);
  const auto& fr = f.frames[0];
  EXPECT_TRUE(colour_near(p, fr.px(0.2), fr.py(0.25 - 0.06), kBlue, 2, 0.1));
  EXPECT_TRUE(colour_near(p, fr.px(0.45), fr.py(0), Rgb{0.15, 0.15, 0.15}, 2, 0.15));  // treat none
}

TEST(Figures, ShapOrderBeeswarmAndBar) {
  ShapData d;
  d.title = "Clinical features";
  d.features = {"age", "FIGO stage", "SCC-Ag", "LVSI", "depth"};
  // mean |φ|: age 0.05, FIGO 0.4, SCC 0.2, LVSI 0.3, depth 0.1
  for (int i = 0; i < 40; ++i) {
    double s = i % 2 ? 1 : -1;
    d.phi.push_back({0.05 * s, 0.4 * s, 0.2 * s, 0.3 * s, 0.1 * s});
    double v = i % 2 ? 10.0 : 0.0;  // high value ↔ positive φ
    d.values.push_back({v, v, v, i % 4 == 0 ? kNaN : v, v});
  }
  auto order = shap_feature_order(d);
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 4, 0}));
  auto f = shap_beeswarm_figure(d);
  EXPECT_EQ(f.height, static_cast<int>(5 * 34 + 48 + 70));
  common_checks(f, 800, f.height);
  auto p = decode_png(f.png);
  const auto& fr = f.frames[0];
  // top row (FIGO, row 4 from bottom): high values (vermillion) at +0.4, low (blue) at −0.4
  EXPECT_TRUE(colour_near(p, fr.px(0.4), fr.py(4), kVermillion, 6, 0.25));
  EXPECT_TRUE(colour_near(p, fr.px(-0.4), fr.py(4), kBlue, 6, 0.25));
  EXPECT_FALSE(colour_near(p, fr.px(0.4), fr.py(0), kVermillion, 6, 0.25));  // age row has no dot at 0.4
  d.max_display = 3;  // FIGO, LVSI, "Sum of 3 other features"
  auto fb = shap_bar_figure(d);
  common_checks(fb, 800, fb.height);
  auto pb = decode_png(fb.png);
  const auto& fb0 = fb.frames[0];
  // rows from the top: FIGO 0.4, LVSI 0.3, sum of others 0.35 (0.2 + 0.1 + 0.05)
  EXPECT_TRUE(colour_near(pb, fb0.px(0.39), fb0.py(2), kVermillion, 2, 0.1));
  EXPECT_TRUE(colour_near(pb, fb0.px(0.34), fb0.py(0), kVermillion, 2, 0.1));
  EXPECT_FALSE(colour_near(pb, fb0.px(0.34), fb0.py(1), kVermillion, 2, 0.1));
  ShapData bad = d;
  bad.phi[3].pop_back();
  EXPECT_THROW(shap_feature_order(bad), ConfigError);
}

TEST(Figures, ModalityContributionsSigned) {
  BarPlot b{"Modality contributions (patient P017)",
            {{"image", 0.31}, {"report", -0.12, -0.2, -0.05}, {"clinical", 0.08}},
            "Shapley value (log-odds)"};
  auto f = contribution_figure(b);
  common_checks(f, 700, f.height);
  auto p = decode_png(f.png);
  const auto& fr = f.frames[0];
  EXPECT_TRUE(colour_near(p, fr.px(0.15), fr.py(2), kVermillion, 1, 0.05));  // image: positive
  EXPECT_TRUE(colour_near(p, fr.px(-0.03), fr.py(1) + 8, kBlue, 1, 0.05));   // report: negative
}

TEST(Figures, TrainingCurves) {
  TrainingHistory h{"msm_tc", {}, {}, {}, {}, 6};
  for (int e = 1; e <= 12; ++e) {
    h.epoch.push_back(e);
    h.train_loss.push_back(0.7 * std::exp(-0.15 * e));
    h.val_loss.push_back(0.7 * std::exp(-0.1 * e) + 0.05);
    h.val_auc.push_back(0.6 + 0.2 * (1 - std::exp(-0.3 * e)));
  }
  auto f = training_curves_figure({h}, "Training");
  common_checks(f, 1000, 420);
  auto p = decode_png(f.png);
  ASSERT_EQ(f.frames.size(), 2u);
  EXPECT_TRUE(colour_near(p, f.frames[0].px(4), f.frames[0].py(0.7 * std::exp(-0.6)), kBlue, 2, 0.1));
  EXPECT_TRUE(
      colour_near(p, f.frames[1].px(8), f.frames[1].py(0.6 + 0.2 * (1 - std::exp(-2.4))), kBlue, 2, 0.1));
  // optional columns may be empty, not short
  TrainingHistory no_val{"clinical", h.epoch, h.train_loss, {}, {}, -1};
  EXPECT_NO_THROW(training_curves_figure({no_val}, ""));
  TrainingHistory short_auc = h;
  short_auc.val_auc.pop_back();
  EXPECT_THROW(training_curves_figure({short_auc}, ""), ConfigError);
}

TEST(Figures, MriOverlay) {
  MriOverlay o;
  o.title = "P017 \u2014 Grad-CAM (ConvNeXt)";
  o.slice = Raster(64, 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) o.slice.at(x, y) = static_cast<float>(x + y);
  o.heatmap = Raster(64, 48, std::nanf(""));
  for (int y = 10; y < 30; ++y)
    for (int x = 20; x < 50; ++x) o.heatmap.at(x, y) = static_cast<float>((x - 20) / 29.0);
  o.boxes = {{"tumour", 20, 10, 50, 30}, {"context", 10, 2, 60, 40}};
  o.pixels_per_voxel = 6;
  auto f = mri_overlay_figure(o);
  EXPECT_EQ(f.width, 64 * 6 + 16 + 110);
  common_checks(f, f.width, 48 * 6 + 44 + 16, 100);
  auto p = decode_png(f.png);
  const auto& fr = f.frames[0];
  // outside the heatmap: grey (r = g = b); inside: tinted towards viridis
  auto grey = p.at(static_cast<int>(fr.left + 5 * 6), static_cast<int>(fr.top + 44 * 6));
  EXPECT_EQ((grey >> 16) & 255, grey & 255);
  auto hot = p.at(static_cast<int>(fr.left + 48.5 * 6), static_cast<int>(fr.top + 20 * 6));
  EXPECT_NE((hot >> 16) & 255, hot & 255);
  EXPECT_TRUE(colour_near(p, fr.left + 35 * 6, fr.top + 10 * 6, series_palette()[3], 2, 0.1));  // tumour box
  Raster wrong(10, 10);
  o.heatmap = wrong;
  EXPECT_THROW(mri_overlay_figure(o), ConfigError);
}

TEST(Figures, WriteFigureWritesPngAndSvg) {
  TempDir tmp("figures");
  const auto dir = tmp / "out";  // write_figure creates it
  RocPlot plot;
  plot.series.push_back({"a", {0, 1}, {0, 1}});
  write_figure(roc_figure(plot, {400, 300}), dir / "roc");
  EXPECT_TRUE(std::filesystem::exists(dir / "roc.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "roc.svg"));
}
