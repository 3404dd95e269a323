// Calibration and decision curves against R (glm, lowess, Hosmer-Lemeshow written out with
// quantile/cut) and scikit-learn (calibration_curve, brier_score_loss).
#include <gtest/gtest.h>

#include "core/error.h"
#include "stats/calibration.h"
#include "stats/dca.h"
#include "stats/lowess.h"
#include "stats_test_util.h"
#include "test_util.h"

using namespace cervirisk;
using namespace stats_test;
using cervirisk::testing::error_message;

namespace {
struct Binary {
  Columns c{data_path("binary.csv")};
  std::vector<int> y = c.integer("y");
  std::vector<double> p = c.num("prob");
};
const Binary& bin() {
  static const Binary b;
  return b;
}
}  // namespace

TEST(StatsCalibration, GoldenBrierSlopeInterceptHosmerLemeshow) {
  const auto& g = goldens()["calibration"];
  stats::Brier b = stats::calibration_brier(bin().p, bin().y);
  EXPECT_TRUE(rel_near(b.brier, g["brier"]));
  EXPECT_TRUE(rel_near(b.brier, sklearn_goldens()["brier"]));
  EXPECT_TRUE(rel_near(b.scaled, g["brier_scaled"]));
  stats::CalibrationFit f = stats::calibration_logistic(bin().p, bin().y);
  EXPECT_TRUE(rel_near(f.slope, g["slope"]));
  EXPECT_TRUE(rel_near(f.slope_intercept, g["slope_intercept"]));
  EXPECT_TRUE(rel_near(f.intercept, g["intercept"]));
  stats::HosmerLemeshow hl = stats::hosmer_lemeshow(bin().p, bin().y);
  EXPECT_TRUE(rel_near(hl.chisq, g["hl_chisq"]));
  EXPECT_EQ(hl.df, g["hl_df"].get<int>());
  EXPECT_TRUE(rel_near(hl.p, g["hl_p"]));
}

TEST(StatsCalibration, SklearnCalibrationCurve) {
  for (const char* strategy : {"uniform", "quantile"})
    for (int bins : {5, 10}) {
      const std::string key = std::string(strategy) + "_" + std::to_string(bins);
      const auto& g = sklearn_goldens()[key];
      auto curve = stats::calibration_curve(
          bin().p, bin().y, bins,
          std::string(strategy) == "uniform" ? stats::BinStrategy::kUniform : stats::BinStrategy::kQuantile);
      std::vector<double> fp, mp;
      std::size_t total = 0;
      for (const auto& c : curve) {
        fp.push_back(c.frac_pos);
        mp.push_back(c.mean_pred);
        total += c.n;
      }
      expect_vec(fp, g["frac_pos"], 1e-9, key + " frac_pos");
      expect_vec(mp, g["mean_pred"], 1e-9, key + " mean_pred");
      EXPECT_EQ(total, bin().y.size());
    }
}

TEST(StatsCalibration, GoldenLowess) {
  const auto& g = goldens()["calibration"];
  std::vector<double> yd(bin().y.begin(), bin().y.end());
  stats::LowessCurve lc = stats::lowess(bin().p, yd);
  expect_vec(lc.x, g["lowess_x"], 1e-12, "lowess x");
  expect_vec(lc.y, g["lowess_y"], 1e-9, "lowess y");
}

TEST(StatsCalibration, GoldenDecisionCurve) {
  const auto& g = goldens()["calibration"]["dca"];
  auto rows = stats::decision_curve(bin().p, bin().y, stats::decision_curve_grid(0.05, 0.6, 0.05));
  std::vector<double> t, m, a;
  for (const auto& r : rows) {
    t.push_back(r.threshold);
    m.push_back(r.net_benefit_model);
    a.push_back(r.net_benefit_all);
    EXPECT_EQ(r.net_benefit_none, 0.0);
  }
  expect_vec(t, g["threshold"], 1e-12, "threshold");
  expect_vec(m, g["net_benefit_model"], 1e-9, "nb model");
  expect_vec(a, g["net_benefit_all"], 1e-9, "nb all");
}

TEST(StatsCalibration, HandCheckedDecisionCurveAndDegenerates) {
  // 4 patients, 2 events; at pt = 0.5 (odds 1) the model treats p >= 0.5: 1 TP, 1 FP -> 1/4 - 1/4 = 0
  auto r = stats::decision_curve({0.9, 0.6, 0.2, 0.1}, {1, 0, 1, 0}, {0.5});
  EXPECT_DOUBLE_EQ(r[0].net_benefit_model, 0.0);
  EXPECT_DOUBLE_EQ(r[0].net_benefit_all, 0.0);
  auto msg = [](auto f) { return error_message<StatsError>(f); };
  EXPECT_NE(msg([] {
              stats::decision_curve({0.5, 0.2}, {1, 0}, {1.0});
            }).find("outside (0, 1)"),
            std::string::npos);
  EXPECT_NE(msg([] {
              stats::calibration_logistic({0.0, 0.5, 0.7}, {0, 1, 1});
            }).find("infinite logit"),
            std::string::npos);
  EXPECT_NE(msg([] {
              stats::calibration_logistic({0.2, 0.5, 0.7}, {1, 1, 1});
            }).find("0 control(s)"),
            std::string::npos);
  EXPECT_NE(msg([] {
              stats::calibration_brier({1.2, 0.5}, {1, 0});
            }).find("outside [0, 1]"),
            std::string::npos);
  EXPECT_NE(msg([] {
              stats::hosmer_lemeshow({0.3, 0.3, 0.3, 0.3}, {1, 0, 1, 0});
            }).find("hosmer_lemeshow"),
            std::string::npos);
  // one class only: Brier defined, its scaled version NA
  stats::Brier b = stats::calibration_brier({0.2, 0.4}, {1, 1});
  EXPECT_DOUBLE_EQ(b.brier, (0.64 + 0.36) / 2);
  EXPECT_TRUE(stats::is_na(b.scaled));
}
