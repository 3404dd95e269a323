// Discrimination statistics against pROC (tests/data/stats/expected.json and goldens.json, see
// tests/data/stats/PROVENANCE.md), hand-checked tie cases, brute-force cross-checks of the
// O(n log n) algorithms, and degenerate inputs.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "stats/bootstrap.h"
#include "stats/delong.h"
#include "stats/proportion.h"
#include "stats/roc.h"
#include "stats_test_util.h"
#include "test_util.h"

using namespace cervirisk;
using namespace stats_test;
using cervirisk::testing::error_message;

namespace {

struct Asah {
  std::vector<int> y;
  std::vector<double> s100b, ndka, wfns;
  std::vector<std::string> gender;
  Asah() {
    Columns c(data_path("aSAH.csv"));
    for (const auto& o : c.str("outcome")) y.push_back(o == "Poor");
    s100b = c.num("s100b");
    ndka = c.num("ndka");
    wfns = c.num("wfns");
    gender = c.str("gender");
  }
};
const Asah& asah() {
  static const Asah a;
  return a;
}

}  // namespace

TEST(StatsRoc, ReferenceAucDelongMatchesPROC) {
  const auto& ref = reference()["aSAH"];
  const auto& a = asah();
  for (const auto& [name, s] : {std::pair<std::string, const std::vector<double>*>{"s100b", &a.s100b},
                                {"ndka", &a.ndka},
                                {"wfns", &a.wfns}}) {
    stats::AucDelong d = stats::auc_delong(*s, a.y);
    EXPECT_TRUE(rel_near(d.auc, ref[name]["auc"])) << name;
    EXPECT_TRUE(rel_near(stats::roc_auc(*s, a.y), ref[name]["auc"])) << name;
    EXPECT_TRUE(rel_near(d.var, ref[name]["var_delong"])) << name;
    EXPECT_TRUE(rel_near(d.ci.lower, ref[name]["ci_delong"][0])) << name;
    EXPECT_TRUE(rel_near(d.ci.upper, ref[name]["ci_delong"][1])) << name;
    EXPECT_EQ(d.n_cases, 41u);
    EXPECT_EQ(d.n_controls, 72u);
  }
}

TEST(StatsRoc, ReferencePairedDelongMatchesPROC) {
  const auto& ref = reference()["aSAH"]["paired_s100b_vs_wfns"];
  stats::AucDelongPaired p = stats::auc_delong_paired({asah().s100b, asah().wfns}, asah().y);
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_TRUE(rel_near(p.pairs[0].z, ref["z"]));
  EXPECT_TRUE(rel_near(p.pairs[0].p, ref["p"]));
  EXPECT_TRUE(rel_near(p.pairs[0].diff_ci.lower, ref["diff_ci"][0]));
  EXPECT_TRUE(rel_near(p.pairs[0].diff_ci.upper, ref["diff_ci"][1]));
}

TEST(StatsRoc, ReferenceYoudenMatchesPROC) {
  const auto& ref = reference()["aSAH"]["youden_s100b"];
  double t = stats::roc_youden_threshold(asah().s100b, asah().y);
  EXPECT_TRUE(rel_near(t, ref["threshold"]));
  stats::OperatingPoint op = stats::roc_operating_point(asah().s100b, asah().y, t);
  EXPECT_TRUE(rel_near(op.sensitivity, ref["sensitivity"]));
  EXPECT_TRUE(rel_near(op.specificity, ref["specificity"]));
  EXPECT_EQ(op.tp, ref["tp"].get<std::size_t>());
  EXPECT_EQ(op.fp, ref["fp"].get<std::size_t>());
  EXPECT_EQ(op.tn, ref["tn"].get<std::size_t>());
  EXPECT_EQ(op.fn, ref["fn"].get<std::size_t>());
}

TEST(StatsRoc, GoldenYoudenAllScores) {
  const auto& g = goldens()["aSAH"];
  const auto& a = asah();
  for (const auto& [name, s] : {std::pair<std::string, const std::vector<double>*>{"s100b", &a.s100b},
                                {"ndka", &a.ndka},
                                {"wfns", &a.wfns}}) {
    const auto& ref = g[name]["youden"];
    double t = stats::roc_youden_threshold(*s, a.y);
    EXPECT_TRUE(rel_near(t, ref["threshold"])) << name;
    stats::OperatingPoint op = stats::roc_operating_point(*s, a.y, t);
    EXPECT_EQ(op.tp, ref["tp"].get<std::size_t>()) << name;
    EXPECT_EQ(op.fp, ref["fp"].get<std::size_t>()) << name;
    EXPECT_TRUE(rel_near(op.sensitivity, ref["sensitivity"])) << name;
    EXPECT_TRUE(rel_near(op.specificity, ref["specificity"])) << name;
  }
}

TEST(StatsRoc, GoldenAllPairsWithHolm) {
  const auto& g = goldens()["aSAH"]["paired"];
  stats::AucDelongPaired p = stats::auc_delong_paired({asah().s100b, asah().ndka, asah().wfns}, asah().y);
  ASSERT_EQ(p.pairs.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(rel_near(p.pairs[i].z, g[i]["z"])) << i;
    EXPECT_TRUE(rel_near(p.pairs[i].p, g[i]["p"])) << i;
    EXPECT_TRUE(rel_near(p.pairs[i].p_holm, g[i]["p_holm"])) << i;
    EXPECT_TRUE(rel_near(p.pairs[i].diff_ci.lower, g[i]["diff_ci"][0])) << i;
    EXPECT_TRUE(rel_near(p.pairs[i].diff_ci.upper, g[i]["diff_ci"][1])) << i;
  }
  // the covariance matrix diagonal is each score's own DeLong variance
  EXPECT_TRUE(rel_near(p.cov(1, 1), goldens()["aSAH"]["ndka"]["var_delong"]));
}

TEST(StatsRoc, GoldenUnpairedDelong) {
  const auto& g = goldens()["aSAH"]["unpaired_s100b_male_vs_female"];
  const auto& a = asah();
  std::vector<double> sm, sf;
  std::vector<int> ym, yf;
  for (std::size_t i = 0; i < a.y.size(); ++i) {
    (a.gender[i] == "Male" ? sm : sf).push_back(a.s100b[i]);
    (a.gender[i] == "Male" ? ym : yf).push_back(a.y[i]);
  }
  stats::AucDelongUnpaired u = stats::auc_delong_unpaired(sm, ym, sf, yf);
  EXPECT_TRUE(rel_near(u.t, g["t"]));
  EXPECT_TRUE(rel_near(u.df, g["df"]));
  EXPECT_TRUE(rel_near(u.p, g["p"]));
}

TEST(StatsRoc, GoldenRocCurve) {
  const auto& g = goldens()["aSAH"]["roc_curve_s100b"];
  std::vector<stats::RocPoint> pts = stats::roc_curve(asah().s100b, asah().y);
  std::vector<double> t, se, sp;
  for (const auto& p : pts) {
    t.push_back(p.threshold);
    se.push_back(p.sensitivity);
    sp.push_back(p.specificity);
  }
  // pROC writes -Inf/Inf as strings in JSON: compare the finite interior
  ASSERT_EQ(t.size(), g["threshold"].size());
  for (std::size_t i = 1; i + 1 < t.size(); ++i) EXPECT_TRUE(rel_near(t[i], g["threshold"][i])) << i;
  expect_vec(se, g["sensitivity"], 1e-9, "se");
  expect_vec(sp, g["specificity"], 1e-9, "sp");
}

TEST(StatsRoc, GoldenOperatingPointIntervals) {
  const auto& g = goldens()["aSAH"]["operating_0.2"];
  stats::OperatingPoint op = stats::roc_operating_point(asah().s100b, asah().y, 0.2);
  EXPECT_EQ(op.tp, g["tp"].get<std::size_t>());
  EXPECT_EQ(op.tn, g["tn"].get<std::size_t>());
  auto check = [](const stats::OperatingPoint::Cis& c, const json& r) {
    const std::pair<const char*, const stats::Interval*> items[] = {{"sensitivity", &c.sensitivity},
                                                                    {"specificity", &c.specificity},
                                                                    {"ppv", &c.ppv},
                                                                    {"npv", &c.npv},
                                                                    {"accuracy", &c.accuracy}};
    for (const auto& [name, ci] : items) {
      EXPECT_TRUE(rel_near(ci->lower, r[name][0])) << name;
      EXPECT_TRUE(rel_near(ci->upper, r[name][1])) << name;
    }
  };
  check(op.ci_wilson, g["wilson"]);
  check(op.ci_clopper_pearson, g["clopper_pearson"]);
  const auto& e = goldens()["aSAH"]["prop_edge"];
  auto w0 = stats::proportion_ci_wilson(0, 10), w10 = stats::proportion_ci_wilson(10, 10);
  auto c0 = stats::proportion_ci_clopper_pearson(0, 10), c10 = stats::proportion_ci_clopper_pearson(10, 10);
  EXPECT_TRUE(rel_near(w0.lower, e["wilson_0_10"][0]));
  EXPECT_TRUE(rel_near(w0.upper, e["wilson_0_10"][1]));
  EXPECT_TRUE(rel_near(w10.lower, e["wilson_10_10"][0]));
  EXPECT_TRUE(rel_near(w10.upper, e["wilson_10_10"][1]));
  EXPECT_TRUE(rel_near(c0.upper, e["cp_0_10"][1]));
  EXPECT_TRUE(rel_near(c10.lower, e["cp_10_10"][0]));
}

TEST(StatsRoc, BootstrapCiWithinToleranceOfPROCAndThreadIndependent) {
  const auto& g = goldens()["aSAH"]["bootstrap_s100b"];
  stats::BootstrapOptions o;
  o.seed = 7;
  o.threads = 1;
  stats::BootstrapCi one = stats::bootstrap_ci_auc(asah().s100b, asah().y, o);
  o.threads = 4;
  stats::BootstrapCi four = stats::bootstrap_ci_auc(asah().s100b, asah().y, o);
  EXPECT_EQ(one.values, four.values);
  EXPECT_EQ(one.values.size(), 2000u);
  EXPECT_NEAR(one.ci.lower, g[0].get<double>(), 0.01);
  EXPECT_NEAR(one.ci.upper, g[1].get<double>(), 0.01);
  EXPECT_TRUE(rel_near(one.estimate, reference()["aSAH"]["s100b"]["auc"]));
}

TEST(StatsRoc, HandCheckedTies) {
  // cases {2, 3}, controls {1, 2}: 3 wins twice, 2 beats 1 and ties 2 -> (2 + 1 + 0.5) / 4
  EXPECT_DOUBLE_EQ(stats::roc_auc({1, 2, 2, 3}, {0, 0, 1, 1}), 0.875);
  // all tied: AUC 1/2, placements all 1/2 -> variance 0, interval collapses
  stats::AucDelong d = stats::auc_delong({5, 5, 5, 5}, {0, 1, 0, 1});
  EXPECT_DOUBLE_EQ(d.auc, 0.5);
  EXPECT_DOUBLE_EQ(d.var, 0.0);
  EXPECT_DOUBLE_EQ(d.ci.lower, 0.5);
  // a worse-than-chance score is not flipped
  EXPECT_DOUBLE_EQ(stats::roc_auc({3, 2, 1, 0}, {1, 1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(stats::roc_auc({0, 1, 2, 3}, {1, 1, 0, 0}), 0.0);
  // identical scores: the paired test is undefined (NA), not a division by zero
  auto p = stats::auc_delong_paired({{1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}}, {0, 1, 0, 1, 1});
  EXPECT_TRUE(stats::is_na(p.pairs[0].z));
  EXPECT_DOUBLE_EQ(p.pairs[0].diff, 0.0);
}

TEST(StatsRoc, MatchesBruteForceOnRandomTiedData) {
  std::mt19937_64 gen(11);
  std::uniform_int_distribution<int> v(0, 20), lab(0, 1);
  std::vector<double> s(700);
  std::vector<int> y(700);
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = v(gen);
    y[i] = lab(gen);
  }
  double num = 0, m = 0, n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (y[i] != 1) continue;
    m += 1;
    for (std::size_t j = 0; j < s.size(); ++j)
      if (y[j] == 0) num += s[i] > s[j] ? 1 : (s[i] == s[j] ? 0.5 : 0);
  }
  n = s.size() - m;
  EXPECT_TRUE(rel_near(stats::roc_auc(s, y), num / (m * n), 1e-12));
}

TEST(StatsRoc, DegenerateInputsThrowWithMessage) {
  EXPECT_NE(error_message<StatsError>([] {
              stats::roc_auc({1, 2, 3}, {1, 1, 1});
            }).find("roc_auc: need at least 1 case(s) and control(s), got 3 case(s) and 0 control(s)"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::auc_delong({1, 2, 3}, {1, 0, 0});
            }).find("at least 2 case(s)"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::roc_auc({1, NAN, 3}, {1, 0, 0});
            }).find("scores[1] is nan"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::roc_auc({1, 2}, {1, 0, 0});
            }).find("scores has 2 values but labels has 3"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::roc_auc({1, 2, 3}, {1, 0, 2});
            }).find("labels[2] is 2, expected 0 or 1"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] { stats::roc_auc({}, {}); }).find("got 0 case(s)"),
            std::string::npos);
  stats::OperatingPoint op = stats::roc_operating_point({1, 2, 3}, {1, 0, 1}, 10.0);  // nobody positive
  EXPECT_TRUE(stats::is_na(op.ppv));
  EXPECT_TRUE(stats::is_na(op.ci_wilson.ppv.lower));
  EXPECT_DOUBLE_EQ(op.sensitivity, 0.0);
}

TEST(StatsRoc, HolmMatchesRDefinition) {
  // p.adjust(c(0.01, 0.04, 0.03, NA), "holm") = 0.03 0.06 0.06 NA
  std::vector<double> a = stats::p_adjust_holm({0.01, 0.04, 0.03, NAN});
  EXPECT_DOUBLE_EQ(a[0], 0.03);
  EXPECT_DOUBLE_EQ(a[1], 0.06);
  EXPECT_DOUBLE_EQ(a[2], 0.06);
  EXPECT_TRUE(std::isnan(a[3]));
}

TEST(StatsBootstrap, AnyMetricSeededAndFailuresCounted) {
  // The mean of 0..99 resampled: estimate exact, interval around it, reproducible by seed.
  std::vector<double> v(100);
  for (int i = 0; i < 100; ++i) v[i] = i;
  auto mean = [&](const std::vector<std::size_t>& rows) {
    double s = 0;
    for (auto r : rows) s += v[r];
    return s / rows.size();
  };
  stats::BootstrapOptions o;
  o.replicates = 500;
  o.seed = 9;
  stats::BootstrapCi a = stats::bootstrap_ci(v.size(), {}, mean, o),
                     b = stats::bootstrap_ci(v.size(), {}, mean, o);
  EXPECT_DOUBLE_EQ(a.estimate, 49.5);
  EXPECT_EQ(a.values, b.values);
  EXPECT_LT(a.ci.lower, 49.5);
  EXPECT_GT(a.ci.upper, 49.5);
  // se of the mean = 29.0 / 10; the percentile interval is about +-1.96 se wide
  EXPECT_NEAR(a.ci.upper - a.ci.lower, 2 * 1.96 * 2.9, 2.0);
  o.seed = 10;
  EXPECT_NE(stats::bootstrap_ci(v.size(), {}, mean, o).values, a.values);
  // a statistic undefined on most resamples is an error, not a silent interval
  auto picky = [&](const std::vector<std::size_t>& rows) -> double {
    if (rows[0] != 0) throw StatsError("undefined");
    return 1.0;
  };
  EXPECT_NE(error_message<StatsError>([&] {
              stats::bootstrap_ci(v.size(), {}, picky, o);
            }).find("replicates failed"),
            std::string::npos);
}
