// Survival statistics against R's survival and maxstat packages (expected.json, goldens.json),
// hand-checked tie cases, brute-force checks and degenerate inputs.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "stats/cindex.h"
#include "stats/cox.h"
#include "stats/cutpoint.h"
#include "stats/design.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/tdauc.h"
#include "stats_test_util.h"
#include "test_util.h"

using namespace cervirisk;
using namespace stats_test;
using cervirisk::testing::error_message;

namespace {

struct Aml {
  std::vector<double> time;
  std::vector<int> status, grp;
  Aml() {
    Columns c(data_path("aml.csv"));
    time = c.num("time");
    status = c.integer("status");
    for (const auto& x : c.str("x")) grp.push_back(x == "Nonmaintained");
  }
};

// tests/data/stats/surv_ties.csv, complete cases (as the R script).
struct Ties {
  Columns c{data_path("surv_ties.csv")};
  std::vector<double> time = c.num("time"), x1 = c.num("x1"), x2 = c.num("x2"), score = c.num("score");
  std::vector<int> status = c.integer("status");
  std::vector<std::string> grp = c.str("grp"), stage = c.str("stage");
  std::vector<int> group_ids() const {
    std::vector<int> g;
    for (const auto& s : grp) g.push_back(s[0] - 'A');
    return g;
  }
};
const Ties& ties() {
  static const Ties t;
  return t;
}

void check_km_rows(const std::vector<stats::KmRow>& rows, const json& g, const std::string& what) {
  std::vector<double> t, nr, ne, s, se, lo, up;
  for (const auto& r : rows) {
    t.push_back(r.time);
    nr.push_back(r.n_risk);
    ne.push_back(r.n_event);
    s.push_back(r.surv);
    se.push_back(r.std_err);
    lo.push_back(r.lower);
    up.push_back(r.upper);
  }
  expect_vec(t, g["time"], 1e-12, what + " time");
  expect_vec(nr, g["n_risk"], 1e-12, what + " n_risk");
  expect_vec(ne, g["n_event"], 1e-12, what + " n_event");
  expect_vec(s, g["surv"], 1e-9, what + " surv");
  expect_vec(se, g["std_err"], 1e-9, what + " std_err");
  expect_vec(lo, g.contains("lower") ? g["lower"] : g["lower_log"], 1e-9, what + " lower");
  expect_vec(up, g.contains("upper") ? g["upper"] : g["upper_log"], 1e-9, what + " upper");
}

}  // namespace

TEST(StatsSurvival, ReferenceKaplanMeierAml) {
  Aml a;
  const auto& g = reference()["aml"]["km_pooled"];
  stats::KaplanMeier km = stats::kaplan_meier(a.time, a.status);
  check_km_rows(km.event_rows(), g, "aml log");
  EXPECT_TRUE(rel_near(km.median, g["median"]));
  EXPECT_TRUE(rel_near(km.median_ci.lower, g["median_ci_log"][0]));
  EXPECT_TRUE(rel_near(km.median_ci.upper, g["median_ci_log"][1]));
  stats::KaplanMeier ll = stats::kaplan_meier(a.time, a.status, {stats::KmConfType::kLogLog, 0.95});
  std::vector<double> lo, up;
  for (const auto& r : ll.event_rows()) {
    lo.push_back(r.lower);
    up.push_back(r.upper);
  }
  expect_vec(lo, g["lower_loglog"], 1e-9, "lower_loglog");
  expect_vec(up, g["upper_loglog"], 1e-9, "upper_loglog");
}

TEST(StatsSurvival, ReferenceLogrankAml) {
  Aml a;
  const auto& g = reference()["aml"]["logrank"];
  stats::Logrank lr = stats::logrank(a.time, a.status, a.grp);
  EXPECT_TRUE(rel_near(lr.chisq, g["chisq"]));
  expect_vec(lr.observed, g["obs"]);
  expect_vec(lr.expected, g["exp"]);
  EXPECT_TRUE(rel_near(lr.var(0, 0), g["var11"]));
  EXPECT_EQ(lr.df, 1);
}

TEST(StatsSurvival, ReferenceCoxAml) {
  Aml a;
  for (const char* ties : {"efron", "breslow"}) {
    const auto& g = reference()["aml"][std::string("cox_") + ties];
    Eigen::MatrixXd x(a.grp.size(), 1);
    for (std::size_t i = 0; i < a.grp.size(); ++i) x(i, 0) = a.grp[i];
    stats::CoxOptions o;
    o.ties = std::string(ties) == "efron" ? stats::CoxTies::kEfron : stats::CoxTies::kBreslow;
    stats::CoxFit f = stats::cox_ph(a.time, a.status, x, {"grp"}, o);
    EXPECT_TRUE(rel_near(f.coef(0), g["coef"])) << ties;
    EXPECT_TRUE(rel_near(f.se(0), g["se"])) << ties;
    EXPECT_TRUE(rel_near(f.loglik_null, g["loglik"][0])) << ties;
    EXPECT_TRUE(rel_near(f.loglik, g["loglik"][1])) << ties;
    EXPECT_TRUE(rel_near(f.wald, g["wald"])) << ties;
    EXPECT_TRUE(rel_near(f.score, g["score"])) << ties;
    EXPECT_TRUE(f.converged);
  }
}

TEST(StatsSurvival, ReferenceCoxLungAndConcordance) {
  Columns c(data_path("lung.csv"), {"time", "status", "age", "sex"});
  std::vector<double> t = c.num("time");
  std::vector<int> e;
  for (int s : c.integer("status")) e.push_back(s == 2);
  stats::Design d =
      stats::design_matrix({{"age", false, c.num("age"), {}}, {"sex", false, c.num("sex"), {}}});
  stats::CoxFit f = stats::cox_ph(t, e, d.x, d.terms);
  const auto& g = reference()["lung"]["cox_efron_age_sex"];
  for (int j = 0; j < 2; ++j) {
    EXPECT_TRUE(rel_near(f.coef(j), g["coef"][j])) << j;
    EXPECT_TRUE(rel_near(f.se(j), g["se"][j])) << j;
  }
  EXPECT_TRUE(rel_near(f.loglik_null, g["loglik"][0]));
  EXPECT_TRUE(rel_near(f.loglik, g["loglik"][1]));
  EXPECT_TRUE(rel_near(f.lr, g["lr"]));
  EXPECT_TRUE(rel_near(f.wald, g["wald"]));
  EXPECT_TRUE(rel_near(f.score, g["score"]));
  std::vector<double> lp(f.linear_predictor.data(), f.linear_predictor.data() + f.linear_predictor.size());
  stats::Concordance cc = stats::harrell_c(t, e, lp);
  EXPECT_TRUE(rel_near(cc.c, g["concordance"]));
  EXPECT_TRUE(rel_near(cc.var, g["concordance_var"]));
}

TEST(StatsSurvival, ReferenceCoxOvarian) {
  Columns c(data_path("ovarian.csv"));
  stats::Design d =
      stats::design_matrix({{"age", false, c.num("age"), {}}, {"ecog.ps", false, c.num("ecog.ps"), {}}});
  stats::CoxFit f = stats::cox_ph(c.num("futime"), c.integer("fustat"), d.x, d.terms);
  const auto& g = reference()["ovarian"]["cox_efron_age_ecog"];
  for (int j = 0; j < 2; ++j) {
    EXPECT_TRUE(rel_near(f.coef(j), g["coef"][j])) << j;
    EXPECT_TRUE(rel_near(f.se(j), g["se"][j])) << j;
  }
  EXPECT_TRUE(rel_near(f.loglik_null, g["loglik"][0]));
  EXPECT_TRUE(rel_near(f.loglik, g["loglik"][1]));
}

TEST(StatsSurvival, GoldenKaplanMeierByGroupAllConfTypes) {
  const Ties& d = ties();
  const std::pair<const char*, stats::KmConfType> types[] = {{"km_log", stats::KmConfType::kLog},
                                                             {"km_log-log", stats::KmConfType::kLogLog},
                                                             {"km_plain", stats::KmConfType::kPlain}};
  for (const auto& [key, type] : types) {
    const auto& g = goldens()["survival"][key];
    for (std::size_t k = 0; k < 3; ++k) {
      std::vector<double> t;
      std::vector<int> e;
      for (std::size_t i = 0; i < d.time.size(); ++i)
        if (d.grp[i] == g[k]["name"].get<std::string>()) {
          t.push_back(d.time[i]);
          e.push_back(d.status[i]);
        }
      stats::KaplanMeier km = stats::kaplan_meier(t, e, {type, 0.95});
      const std::string what = std::string(key) + " " + g[k]["name"].get<std::string>();
      check_km_rows(km.event_rows(), g[k], what);
      EXPECT_TRUE(rel_near(km.median, g[k]["median"])) << what;
      EXPECT_TRUE(rel_near(km.median_ci.lower, g[k]["median_ci"][0])) << what;
      EXPECT_TRUE(rel_near(km.median_ci.upper, g[k]["median_ci"][1])) << what;
    }
  }
}

TEST(StatsSurvival, GoldenKaplanMeierAtTimes) {
  const auto& g = goldens()["survival"]["km_at"];
  stats::KaplanMeier km = stats::kaplan_meier(ties().time, ties().status);
  check_km_rows(stats::kaplan_meier_at(km, dvec(g["times"])), g, "km_at");
}

TEST(StatsSurvival, GoldenLogrankThreeGroupsAndPetoPeto) {
  for (int rho : {0, 1}) {
    const auto& g = goldens()["survival"]["logrank_rho" + std::to_string(rho)];
    stats::Logrank lr = stats::logrank(ties().time, ties().status, ties().group_ids(), rho);
    EXPECT_TRUE(rel_near(lr.chisq, g["chisq"])) << rho;
    expect_vec(lr.observed, g["obs"], 1e-9, "obs");
    expect_vec(lr.expected, g["exp"], 1e-9, "exp");
    EXPECT_EQ(lr.df, 2);
  }
}

TEST(StatsSurvival, GoldenCoxWithFactorsAndTies) {
  const Ties& d = ties();
  stats::Design des = stats::design_matrix({{"x1", false, d.x1, {}},
                                            {"x2", false, d.x2, {}},
                                            {"factor(stage)", true, {}, d.stage},
                                            {"grp", true, {}, d.grp}});
  ASSERT_EQ(des.terms,
            (std::vector<std::string>{"x1", "x2", "factor(stage)II", "factor(stage)III", "grpB", "grpC"}));
  for (const char* ties : {"efron", "breslow"}) {
    const auto& g = goldens()["survival"][std::string("cox_") + ties];
    stats::CoxOptions o;
    o.ties = std::string(ties) == "efron" ? stats::CoxTies::kEfron : stats::CoxTies::kBreslow;
    stats::CoxFit f = stats::cox_ph(d.time, d.status, des.x, des.terms, o);
    std::vector<double> coef(f.coef.data(), f.coef.data() + 6), se(f.se.data(), f.se.data() + 6);
    expect_vec(coef, g["coef"], 1e-9, std::string(ties) + " coef");
    expect_vec(se, g["se"], 1e-9, std::string(ties) + " se");
    EXPECT_TRUE(rel_near(f.loglik_null, g["loglik"][0])) << ties;
    EXPECT_TRUE(rel_near(f.loglik, g["loglik"][1])) << ties;
    EXPECT_TRUE(rel_near(f.wald, g["wald"])) << ties;
    EXPECT_TRUE(rel_near(f.score, g["score"])) << ties;
    EXPECT_EQ(f.iterations, g["iter"].get<int>()) << ties;
    std::vector<double> lp(f.linear_predictor.data(), f.linear_predictor.data() + f.linear_predictor.size());
    EXPECT_TRUE(rel_near(stats::harrell_c(d.time, d.status, lp).c, g["concordance"])) << ties;
  }
}

TEST(StatsSurvival, GoldenLungCoxWithCategoricalAndMissing) {
  Columns c(data_path("lung.csv"), {"time", "status", "age", "ph.ecog", "sex"});
  std::vector<int> e;
  for (int s : c.integer("status")) e.push_back(s == 2);
  stats::Design d = stats::design_matrix({{"age", false, c.num("age"), {}},
                                          {"ph.ecog", true, {}, c.str("ph.ecog")},
                                          {"sex", false, c.num("sex"), {}}});
  stats::CoxFit f = stats::cox_ph(c.num("time"), e, d.x, d.terms);
  const auto& g = goldens()["survival"]["lung_cox_ecog"];
  EXPECT_EQ(f.n, g["n"].get<std::size_t>());
  std::vector<double> coef(f.coef.data(), f.coef.data() + f.coef.size()),
      se(f.se.data(), f.se.data() + f.se.size());
  expect_vec(coef, g["coef"], 1e-9, "coef");
  expect_vec(se, g["se"], 1e-9, "se");
  EXPECT_TRUE(rel_near(f.loglik, g["loglik"][1]));
}

TEST(StatsSurvival, GoldenConcordanceWithTies) {
  const auto& g = goldens()["survival"]["cindex_score"];
  stats::Concordance c = stats::harrell_c(ties().time, ties().status, ties().score);
  EXPECT_TRUE(rel_near(c.c, g["c"]));
  EXPECT_TRUE(rel_near(c.var, g["var"]));
  EXPECT_EQ(c.concordant, g["count"]["concordant"].get<double>());
  EXPECT_EQ(c.discordant, g["count"]["discordant"].get<double>());
  EXPECT_EQ(c.tied_x, g["count"]["tied.x"].get<double>());
  EXPECT_EQ(c.tied_y, g["count"]["tied.y"].get<double>());
  EXPECT_EQ(c.tied_xy, g["count"]["tied.xy"].get<double>());
}

TEST(StatsSurvival, ConcordanceHandCountedTies) {
  // Worked by hand (and by survival::concordance(..., reverse = TRUE)): 17 concordant,
  // 2 discordant (the events at 2 vs the censored 2 with a higher score), 1 tied on the score
  // (event 3 vs censored 3), 1 pair of events tied on time and score.
  stats::Concordance c =
      stats::harrell_c({1, 2, 2, 2, 3, 3, 4, 5}, {1, 1, 1, 0, 1, 0, 0, 1}, {5, 3, 3, 4, 2, 2, 1, 1});
  EXPECT_EQ(c.concordant, 17);
  EXPECT_EQ(c.discordant, 2);
  EXPECT_EQ(c.tied_x, 1);
  EXPECT_EQ(c.tied_y, 0);
  EXPECT_EQ(c.tied_xy, 1);
  EXPECT_DOUBLE_EQ(c.c, 0.875);
  EXPECT_NEAR(c.var, 0.01023437, 5e-9);  // R prints 0.01023437
}

TEST(StatsSurvival, ConcordanceMatchesBruteForce) {
  std::mt19937_64 gen(5);
  std::uniform_int_distribution<int> tv(1, 30), sv(0, 15), ev(0, 1);
  const int n = 400;
  std::vector<double> t(n), s(n);
  std::vector<int> e(n);
  for (int i = 0; i < n; ++i) {
    t[i] = tv(gen);
    s[i] = sv(gen);
    e[i] = ev(gen);
  }
  double conc = 0, disc = 0, tie = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      if (!(e[i] == 1 && (t[i] < t[j] || (t[i] == t[j] && e[j] == 0)))) continue;
      if (s[i] > s[j])
        conc++;
      else if (s[i] < s[j])
        disc++;
      else
        tie++;
    }
  stats::Concordance c = stats::harrell_c(t, e, s);
  EXPECT_EQ(c.concordant, conc);
  EXPECT_EQ(c.discordant, disc);
  EXPECT_EQ(c.tied_x, tie);
}

TEST(StatsSurvival, GoldenMaxstatCutpoints) {
  const auto& g = goldens()["survival"];
  stats::Cutpoint c = stats::cutpoint_maxstat(ties().time, ties().status, ties().score, 0.1, 0.9);
  EXPECT_TRUE(rel_near(c.cut, g["maxstat_score"]["cut"]));
  EXPECT_TRUE(rel_near(c.statistic, g["maxstat_score"]["statistic"]));
  stats::Cutpoint c2 = stats::cutpoint_maxstat(ties().time, ties().status, ties().x1, 0.1, 0.9);
  EXPECT_TRUE(rel_near(c2.cut, g["maxstat_x1"]["cut"]));
  EXPECT_TRUE(rel_near(c2.statistic, g["maxstat_x1"]["statistic"]));
  EXPECT_EQ(c2.n_low + c2.n_high, ties().time.size());
  // the median split is reported with the same statistic at that cut
  stats::Cutpoint m = stats::cutpoint_median(ties().time, ties().status, ties().x1);
  EXPECT_LE(m.statistic, c2.statistic + 1e-12);
}

TEST(StatsSurvival, GoldenTimeDependentAuc) {
  const auto& g = goldens()["survival"]["tdauc_score"];
  std::vector<stats::TdAuc> r = stats::td_auc(ties().time, ties().status, ties().score, dvec(g["t"]));
  std::vector<double> auc;
  for (const auto& h : r) auc.push_back(h.auc);
  expect_vec(auc, g["auc"], 1e-9, "tdauc");
  // a horizon before the first event has no case: NA
  EXPECT_TRUE(stats::is_na(stats::td_auc(ties().time, ties().status, ties().score, {0.5})[0].auc));
}

TEST(StatsSurvival, HandCheckedKaplanMeierMedianMidpoint) {
  // S = 3/4 at 1, 1/2 at 2 (exactly, until 3), 0 at 3: the median is the midpoint 2.5.
  stats::KaplanMeier km = stats::kaplan_meier({1, 2, 2, 3}, {1, 1, 0, 1});
  ASSERT_EQ(km.rows.size(), 3u);
  EXPECT_DOUBLE_EQ(km.rows[1].surv, 0.5);
  EXPECT_DOUBLE_EQ(km.median, 2.5);
  // S = 0 at the end: std_err NaN and NA log limits, as summary.survfit
  EXPECT_TRUE(std::isnan(km.rows[2].std_err));
  EXPECT_TRUE(stats::is_na(km.rows[2].lower));
  // times within sqrt(eps) are one time (survival's timefix)
  stats::KaplanMeier fx = stats::kaplan_meier({1.0, 1.0 + 1e-12, 2.0}, {1, 1, 0});
  EXPECT_EQ(fx.rows.size(), 2u);
  EXPECT_EQ(fx.rows[0].n_event, 2);
}

TEST(StatsSurvival, DegenerateInputs) {
  // everything censored: KM flat at 1 with an NA median; tests that need events refuse
  stats::KaplanMeier km = stats::kaplan_meier({1, 2, 3}, {0, 0, 0});
  EXPECT_TRUE(stats::is_na(km.median));
  EXPECT_EQ(km.event_rows().size(), 0u);
  EXPECT_NE(error_message<StatsError>([] {
              stats::logrank({1, 2, 3, 4}, {0, 0, 0, 0}, {0, 1, 0, 1});
            }).find("no events"),
            std::string::npos);
  Eigen::MatrixXd x(4, 1);
  x << 1, 2, 3, 4;
  EXPECT_NE(error_message<StatsError>([&] {
              stats::cox_ph({1, 2, 3, 4}, {0, 0, 0, 0}, x, {"x"});
            }).find("cox_ph: no events"),
            std::string::npos);
  Eigen::MatrixXd constant = Eigen::MatrixXd::Ones(4, 1);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::cox_ph({1, 2, 3, 4}, {1, 0, 1, 1}, constant, {"k"});
            }).find("singular"),
            std::string::npos);
  EXPECT_NE(
      error_message<StatsError>([] { stats::harrell_c({1}, {1}, {0.5}); }).find("at least 2 observations"),
      std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::harrell_c({1, 2}, {0, 0}, {0.5, 1});
            }).find("no comparable pairs"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::kaplan_meier({1, NAN}, {1, 0});
            }).find("time[1] is nan"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::logrank({1, 2, 3}, {1, 1, 0}, {0, 0, 0});
            }).find("need at least 2 groups"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::design_matrix({{"g", true, {}, {"a", "a"}}});
            }).find("only one level"),
            std::string::npos);
  // a constant score: C = 1/2 (all comparable pairs tied)
  EXPECT_DOUBLE_EQ(stats::harrell_c({1, 2, 3, 4}, {1, 1, 0, 1}, {2, 2, 2, 2}).c, 0.5);
  EXPECT_NE(error_message<StatsError>([] {
              stats::cutpoint_maxstat({1, 2, 3, 4}, {1, 0, 1, 1}, {1, 1, 1, 1});
            }).find("no cut-point"),
            std::string::npos);
}
