// Logistic regression, the nested likelihood-ratio test, continuous NRI / IDI, maxstat's Lau94 /
// Lau92 p-values and the reverse Kaplan-Meier median follow-up against R
// (tests/data/stats/incremental.json from scripts/stats_goldens_incremental.R: glm, anova,
// maxstat.test, pLausen94 / pLausen92, survfit(Surv(time, 1 - event) ~ 1); NRI / IDI written out
// from their definitions), plus invariants and invalid inputs.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "stats/calibration.h"
#include "stats/cutpoint.h"
#include "stats/followup.h"
#include "stats/incremental.h"
#include "stats/logistic.h"
#include "stats_test_util.h"
#include "test_util.h"

using namespace cervirisk;
using namespace stats_test;
using cervirisk::testing::error_message;

namespace {

const json& golden() {
  static const json j = [] {
    std::ifstream in(data_path("incremental.json"));
    return json::parse(in);
  }();
  return j;
}

// The largest relative difference to R over the finite, non-zero comparisons of a test.
double max_rel = 0;
void track(double ours, double r) {
  if (std::isfinite(r) && r != 0 && std::isfinite(ours))
    max_rel = std::max(max_rel, std::fabs(ours - r) / std::fabs(r));
}
::testing::AssertionResult near_r(double ours, const json& r, double tol = 1e-9) {
  const double e = r.is_null() ? NAN : r.get<double>();
  track(ours, e);
  return rel_near(ours, e, tol);
}
// jsonlite writes a vector of length one as a scalar.
const json& elem(const json& r, std::size_t i) { return r.is_array() ? r[i] : r; }
void near_vec(const Eigen::VectorXd& ours, const json& r, const std::string& what, double tol = 1e-9) {
  ASSERT_EQ(static_cast<std::size_t>(ours.size()), r.is_array() ? r.size() : 1u) << what;
  for (Eigen::Index i = 0; i < ours.size(); ++i)
    EXPECT_TRUE(near_r(ours(i), elem(r, i), tol)) << what << "[" << i << "]";
}
void report(const char* what) {
  ::testing::Test::RecordProperty("max_rel_diff_to_R", std::to_string(max_rel));
  std::printf("%s: max relative difference to R %.3g\n", what, max_rel);
  max_rel = 0;
}

std::vector<int> ivec(const json& j) {
  std::vector<int> v;
  for (const auto& e : j) v.push_back(e.get<int>());
  return v;
}
Eigen::MatrixXd cols(const std::vector<std::vector<double>>& c) {
  Eigen::MatrixXd x(c.empty() ? 0 : c[0].size(), c.size());
  for (std::size_t j = 0; j < c.size(); ++j)
    for (std::size_t i = 0; i < c[j].size(); ++i) x(i, j) = c[j][i];
  return x;
}

struct Asah {
  Columns c{data_path("aSAH.csv"), {"outcome", "age", "s100b", "ndka"}};
  std::vector<double> age = c.num("age"), s100b = c.num("s100b"), ndka = c.num("ndka");
  std::vector<int> y;
  Asah() {
    for (const auto& o : c.str("outcome")) y.push_back(o == "Poor");
  }
};
const Asah& asah() {
  static const Asah a;
  return a;
}
struct Binary {
  Columns c{data_path("binary.csv")};
  std::vector<double> marker = c.num("marker"), prob = c.num("prob"), male;
  std::vector<int> y = c.integer("y");
  Binary() {
    for (const auto& s : c.str("sex")) male.push_back(s == "M");
  }
};
const Binary& binary() {
  static const Binary b;
  return b;
}

void check_fit(const stats::LogisticFit& f, const json& g, const std::string& what, double tol = 1e-9) {
  near_vec(f.coef, g["coef"], what + " coef", tol);
  near_vec(f.se, g["se"], what + " se", tol);
  near_vec(f.z, g["z"], what + " z", tol);
  near_vec(f.p, g["p"], what + " p", tol);
  const json& v = g["vcov"];
  ASSERT_EQ(static_cast<std::size_t>(f.var.rows()), v.size()) << what;
  for (Eigen::Index i = 0; i < f.var.rows(); ++i)
    for (Eigen::Index j = 0; j < f.var.cols(); ++j)
      EXPECT_TRUE(near_r(f.var(i, j), elem(v[i], j), tol)) << what << " vcov " << i << "," << j;
  EXPECT_TRUE(near_r(f.deviance, g["deviance"], tol)) << what;
  EXPECT_TRUE(near_r(f.null_deviance, g["null_deviance"], tol)) << what;
  EXPECT_TRUE(near_r(f.aic, g["aic"], tol)) << what;
  EXPECT_EQ(f.df_residual, g["df_residual"].get<int>()) << what;
  EXPECT_EQ(f.iterations, g["iter"].get<int>()) << what;
  EXPECT_EQ(f.converged, g["converged"].get<bool>()) << what;
}

}  // namespace

// ---- logistic regression --------------------------------------------------------------------

TEST(StatsLogistic, MatchesGlm) {
  const auto& g = golden()["glm"];
  const auto& a = asah();
  check_fit(stats::logistic_regression(cols({a.age, a.s100b, a.ndka}), a.y), g["asah_age_s100b_ndka"],
            "aSAH");
  stats::LogisticFit f0 = stats::logistic_regression(Eigen::MatrixXd(a.y.size(), 0), a.y);
  check_fit(f0, g["asah_intercept_only"], "aSAH intercept only");
  // intercept only: the fit is the null model
  EXPECT_NEAR(f0.deviance, f0.null_deviance, 1e-9 * f0.deviance);
  const auto& b = binary();
  check_fit(stats::logistic_regression(cols({b.marker, b.male}), b.y), g["binary_marker_male"], "binary");
  report("glm");
}

TEST(StatsLogistic, SeparationDoesNotConvergeAsGlm) {
  const auto& g = golden()["glm"]["separation"];
  std::vector<double> x = dvec(g["x"]);
  stats::LogisticFit f = stats::logistic_regression(cols({x}), ivec(g["y"]));
  EXPECT_FALSE(f.converged);
  EXPECT_EQ(f.iterations, 25);
  // The same 25 iterations as glm.fit, so even the diverging estimates agree.
  near_vec(f.coef, g["coef"], "separation coef");
  near_vec(f.se, g["se"], "separation se");
  // The deviance (2e-9) sums -2 log(1 - mu) with mu within 1e-10 of 1: rounding of 1 - mu
  // limits the agreement to ~1e-7 relative.
  EXPECT_TRUE(rel_near(f.deviance, g["deviance"].get<double>(), 1e-6));
  report("glm under separation");
}

TEST(StatsLogistic, CalibrationUsesTheSameIrls) {
  // calibration_logistic's slope model is glm(y ~ qlogis(p)): the same fit, bit for bit.
  const auto& b = binary();
  std::vector<double> lp;
  for (double p : b.prob) lp.push_back(std::log(p / (1 - p)));
  stats::LogisticFit f = stats::logistic_regression(cols({lp}), b.y);
  stats::CalibrationFit c = stats::calibration_logistic(b.prob, b.y);
  EXPECT_EQ(c.slope_intercept, f.coef(0));
  EXPECT_EQ(c.slope, f.coef(1));
}

TEST(StatsLogistic, InvalidInput) {
  const std::vector<int> y{0, 1, 0, 1, 1, 0};
  Eigen::MatrixXd x(6, 1);
  x << 1, 2, 3, 4, 5, 7;
  EXPECT_NE(error_message<StatsError>([&] {
              stats::logistic_regression(x, {0, 1, 0});
            }).find("values"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::logistic_regression(x, {0, 1, 0, 1, 2, 0});
            }).find("0 or 1"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::logistic_regression(x, {1, 1, 1, 1, 1, 1});
            }).find("control"),
            std::string::npos);
  Eigen::MatrixXd xn = x;
  xn(2, 0) = NAN;
  EXPECT_NE(error_message<StatsError>([&] { stats::logistic_regression(xn, y); }).find("NaN"),
            std::string::npos);
  Eigen::MatrixXd xc(6, 2);
  xc.col(0) = x.col(0);
  xc.col(1) = 2 * x.col(0);  // collinear
  EXPECT_NE(error_message<StatsError>([&] { stats::logistic_regression(xc, y); }).find("rank deficient"),
            std::string::npos);
  Eigen::MatrixXd xk = Eigen::MatrixXd::Constant(6, 1, 3.0);  // constant = the intercept
  EXPECT_NE(error_message<StatsError>([&] { stats::logistic_regression(xk, y); }).find("rank deficient"),
            std::string::npos);
  Eigen::MatrixXd wide = Eigen::MatrixXd::Random(6, 5);
  EXPECT_NE(error_message<StatsError>([&] { stats::logistic_regression(wide, y); }).find("more observations"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::glm_binomial_fit(Eigen::MatrixXd::Ones(6, 1), Eigen::VectorXd::Zero(5), y);
            }).find("offset"),
            std::string::npos);
}

// ---- likelihood-ratio test --------------------------------------------------------------------

TEST(StatsIncremental, LrTestMatchesAnova) {
  const auto& g = golden()["lrt"];
  const auto& a = asah();
  const auto& b = binary();
  struct Case {
    const char* key;
    Eigen::MatrixXd base, added;
    std::vector<int> y;
  };
  const Case cases[] = {
      {"asah_age_plus_s100b_ndka", cols({a.age}), cols({a.s100b, a.ndka}), a.y},
      {"asah_null_plus_s100b", Eigen::MatrixXd(a.y.size(), 0), cols({a.s100b}), a.y},
      {"binary_marker_plus_male", cols({b.marker}), cols({b.male}), b.y},
  };
  for (const auto& c : cases) {
    const json& r = g[c.key];
    stats::LikelihoodRatioTest t = stats::lr_test_nested_logistic(c.base, c.added, c.y);
    EXPECT_TRUE(near_r(t.deviance_base, r["deviance_base"])) << c.key;
    EXPECT_TRUE(near_r(t.deviance_full, r["deviance_full"])) << c.key;
    EXPECT_TRUE(near_r(t.chisq, r["chisq"])) << c.key;
    EXPECT_EQ(t.df, r["df"].get<int>()) << c.key;
    EXPECT_TRUE(near_r(t.p, r["p"])) << c.key;
    EXPECT_TRUE(t.base_fit.converged && t.full_fit.converged);
    EXPECT_GE(t.chisq, 0);
  }
  report("anova LRT");
}

TEST(StatsIncremental, LrTestInvariants) {
  // Adding any covariate can only lower the deviance: chisq >= 0, p in [0, 1].
  const auto& a = asah();
  std::mt19937 rng(7);
  std::normal_distribution<double> nd;
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<double> noise(a.y.size());
    for (double& v : noise) v = std::round(nd(rng) * 10) / 10;
    stats::LikelihoodRatioTest t = stats::lr_test_nested_logistic(cols({a.age}), cols({noise}), a.y);
    EXPECT_GE(t.chisq, 0);
    EXPECT_GE(t.p, 0);
    EXPECT_LE(t.p, 1);
    EXPECT_LE(t.deviance_full, t.deviance_base + 1e-9);
  }
  EXPECT_NE(error_message<StatsError>([&] {
              stats::lr_test_nested_logistic(cols({a.age}), Eigen::MatrixXd(a.y.size(), 0), a.y);
            }).find("no column"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::lr_test_nested_logistic(cols({a.age}), Eigen::MatrixXd::Ones(3, 1), a.y);
            }).find("rows"),
            std::string::npos);
}

// ---- NRI and IDI ------------------------------------------------------------------------------

TEST(StatsIncremental, NriIdiMatchDefinitions) {
  for (const char* key : {"asah", "binary"}) {
    const json& r = golden()["nri_idi"][key];
    const std::vector<double> p_old = dvec(r["p_old"]), p_new = dvec(r["p_new"]);
    const std::vector<int> y = ivec(r["y"]);
    stats::Nri n = stats::nri_continuous(p_old, p_new, y);
    EXPECT_TRUE(near_r(n.nri, r["nri"])) << key;
    EXPECT_TRUE(near_r(n.nri_events, r["nri_events"])) << key;
    EXPECT_TRUE(near_r(n.nri_nonevents, r["nri_nonevents"])) << key;
    EXPECT_TRUE(near_r(n.up_events, r["up_events"])) << key;
    EXPECT_TRUE(near_r(n.down_events, r["down_events"])) << key;
    EXPECT_TRUE(near_r(n.up_nonevents, r["up_nonevents"])) << key;
    EXPECT_TRUE(near_r(n.down_nonevents, r["down_nonevents"])) << key;
    EXPECT_EQ(n.n_events, r["n_events"].get<std::size_t>()) << key;
    EXPECT_EQ(n.n_nonevents, r["n_nonevents"].get<std::size_t>()) << key;
    stats::Idi d = stats::idi(p_old, p_new, y);
    EXPECT_TRUE(near_r(d.idi, r["idi"])) << key;
    EXPECT_TRUE(near_r(d.slope_new, r["slope_new"])) << key;
    EXPECT_TRUE(near_r(d.slope_old, r["slope_old"])) << key;
    EXPECT_EQ(d.n_events, r["n_events"].get<std::size_t>()) << key;
  }
  // binary.csv's rounded predictions include ties: they count neither up nor down
  const json& r = golden()["nri_idi"]["binary"];
  EXPECT_LT(r["up_events"].get<double>() + r["down_events"].get<double>(), 1.0);
  report("NRI/IDI");
}

TEST(StatsIncremental, NriIdiInvariants) {
  const json& r = golden()["nri_idi"]["asah"];
  const std::vector<double> p_old = dvec(r["p_old"]), p_new = dvec(r["p_new"]);
  const std::vector<int> y = ivec(r["y"]);
  // identical predictions: no reclassification, no improvement
  stats::Nri same = stats::nri_continuous(p_old, p_old, y);
  EXPECT_EQ(same.nri, 0);
  EXPECT_EQ(same.nri_events, 0);
  EXPECT_EQ(same.nri_nonevents, 0);
  EXPECT_EQ(same.up_events + same.down_events + same.up_nonevents + same.down_nonevents, 0);
  EXPECT_EQ(stats::idi(p_new, p_new, y).idi, 0);
  // swapping old and new changes the sign
  stats::Idi fwd = stats::idi(p_old, p_new, y), back = stats::idi(p_new, p_old, y);
  EXPECT_EQ(fwd.idi, -back.idi);
  EXPECT_EQ(fwd.slope_new, back.slope_old);
  stats::Nri nf = stats::nri_continuous(p_old, p_new, y), nb = stats::nri_continuous(p_new, p_old, y);
  EXPECT_EQ(nf.nri_events, -nb.nri_events);
  EXPECT_EQ(nf.nri_nonevents, -nb.nri_nonevents);
  // only the direction of change counts: the same NRI on the logit scale
  std::vector<double> l_old, l_new;
  for (std::size_t i = 0; i < y.size(); ++i) {
    l_old.push_back(std::log(p_old[i] / (1 - p_old[i])));
    l_new.push_back(std::log(p_new[i] / (1 - p_new[i])));
  }
  EXPECT_EQ(stats::nri_continuous(l_old, l_new, y).nri, nf.nri);
  EXPECT_GE(nf.nri, -2);
  EXPECT_LE(nf.nri, 2);
}

TEST(StatsIncremental, NriIdiInvalidInput) {
  const std::vector<double> a{0.1, 0.4, 0.6, 0.8}, b{0.2, 0.3, 0.7, 0.9};
  const std::vector<int> y{0, 0, 1, 1};
  EXPECT_NE(error_message<StatsError>([&] {
              stats::nri_continuous(a, {0.2, 0.3}, y);
            }).find("p_new has 2"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::idi(a, b, {0, 1, 1});
            }).find("labels has 3"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::nri_continuous(a, b, {1, 1, 1, 1});
            }).find("control"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::idi(a, b, {0, 0, 0, 0});
            }).find("case"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::nri_continuous(a, {0.2, NAN, 0.7, 0.9}, y);
            }).find("p_new[1]"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::idi({NAN, 0.4, 0.6, 0.8}, b, y);
            }).find("p_old[0]"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::idi(a, {0.2, 0.3, 1.7, 0.9}, y);
            }).find("outside [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] {
              stats::nri_continuous(a, b, {0, 2, 1, 1});
            }).find("0 or 1"),
            std::string::npos);
}

// ---- maxstat p-values -----------------------------------------------------------------------

TEST(StatsCutpointP, MaxstatLau94Lau92MatchR) {
  const auto& g = golden()["maxstat"];
  struct Case {
    const char* key;
    const char* file;
    const char* status;
    const char* score;
    int event_code;
  };
  const Case cases[] = {{"lung_age", "lung.csv", "status", "age", 2},
                        {"lung_ph_karno", "lung.csv", "status", "ph.karno", 2},
                        {"ties_score", "surv_ties.csv", "status", "score", 1},
                        {"ties_x1", "surv_ties.csv", "status", "x1", 1},
                        {"ties_x2", "surv_ties.csv", "status", "x2", 1}};
  for (const auto& c : cases) {
    Columns d(data_path(c.file), {"time", c.status, c.score});
    std::vector<int> ev;
    for (int s : d.integer(c.status)) ev.push_back(s == c.event_code);
    const json& r = g[c.key];
    ASSERT_EQ(d.rows.size(), r["n"].get<std::size_t>()) << c.key;
    stats::Cutpoint cp = stats::cutpoint_maxstat(d.num("time"), ev, d.num(c.score), 0.1, 0.9);
    EXPECT_TRUE(near_r(cp.cut, r["cut"])) << c.key;
    EXPECT_TRUE(near_r(cp.statistic, r["statistic"])) << c.key;
    EXPECT_TRUE(near_r(cp.p_lau94, r["p_lau94"])) << c.key;
    EXPECT_TRUE(near_r(cp.p_lau92, r["p_lau92"])) << c.key;
    // both correct the plain log-rank p upwards
    EXPECT_GT(cp.p_lau94, stats::normal_two_sided_p(cp.statistic));
    if (std::string(c.key) == "lung_age") {
      // median / fixed cuts are not selected: no correction
      stats::Cutpoint m = stats::cutpoint_median(d.num("time"), ev, d.num(c.score));
      EXPECT_TRUE(stats::is_na(m.p_lau94) && stats::is_na(m.p_lau92));
      stats::Cutpoint f = stats::cutpoint_fixed(d.num("time"), ev, d.num(c.score), 65);
      EXPECT_TRUE(stats::is_na(f.p_lau94) && stats::is_na(f.p_lau92));
    }
  }
  report("maxstat.test Lau94/Lau92");
}

TEST(StatsCutpointP, PLausenFunctionsMatchR) {
  const json& g = golden()["maxstat_functions"];
  const std::vector<double> b = dvec(g["b"]);
  std::vector<std::size_t> m;
  for (const auto& v : g["m"]) m.push_back(v.get<std::size_t>());
  const std::size_t n = g["n"].get<std::size_t>();
  for (std::size_t i = 0; i < b.size(); ++i) {
    // including the tiny p-values at b = 7 and 7.5, where 1 - Phi(b) is formed by subtraction as in R
    EXPECT_TRUE(near_r(stats::maxstat_p_lau94(b[i], n, m), g["lau94"][i])) << "b = " << b[i];
    EXPECT_TRUE(near_r(stats::maxstat_p_lau94(b[i], n, {150}), g["lau94_one_cut"][i])) << "b = " << b[i];
    EXPECT_TRUE(near_r(stats::maxstat_p_lau92(b[i], 0.1, 0.9), g["lau92"][i])) << "b = " << b[i];
    EXPECT_TRUE(near_r(stats::maxstat_p_lau92(b[i], 0.25, 0.75), g["lau92_0.25"][i])) << "b = " << b[i];
  }
  EXPECT_TRUE(stats::is_na(stats::maxstat_p_lau92(3, 0, 0.9)));
  EXPECT_NE(error_message<StatsError>([&] {
              stats::maxstat_p_lau94(2, 300, {50, 40});
            }).find("increase"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([&] { stats::maxstat_p_lau94(NAN, 300, {50}); }).find("finite"),
            std::string::npos);
  report("pLausen94/pLausen92");
}

// ---- median follow-up ------------------------------------------------------------------------

TEST(StatsFollowUp, ReverseKaplanMeierMatchesSurvfit) {
  for (const char* key : {"lung", "lung_loglog", "aml", "ties"}) {
    const json& r = golden()["follow_up"][key];
    const std::vector<double> time = dvec(r["time"]);
    const std::vector<int> event = ivec(r["event"]);
    stats::KmOptions o;
    if (std::string(key) == "lung_loglog") o.conf_type = stats::KmConfType::kLogLog;
    stats::FollowUp f = stats::median_follow_up(time, event, o);
    EXPECT_EQ(f.n, r["n"].get<std::size_t>()) << key;
    EXPECT_EQ(f.censored, r["censored"].get<std::size_t>()) << key;
    EXPECT_TRUE(near_r(f.median, r["median"])) << key;
    EXPECT_TRUE(near_r(f.median_ci.lower, r["median_ci"][0])) << key;
    EXPECT_TRUE(near_r(f.median_ci.upper, r["median_ci"][1])) << key;
    const std::vector<double> times = dvec(r["times"]), surv = dvec(r["surv"]);
    for (std::size_t i = 0; i < times.size(); ++i)
      EXPECT_TRUE(near_r(stats::fraction_followed_beyond(time, event, times[i]), elem(r["surv"], i)))
          << key << " t = " << times[i];
  }
  report("reverse KM");
}

TEST(StatsFollowUp, Invariants) {
  const json& r = golden()["follow_up"]["aml"];
  const std::vector<double> time = dvec(r["time"]);
  const std::vector<int> event = ivec(r["event"]);
  double prev = 1;
  for (double t = -5; t <= 161; t += 0.5) {
    const double s = stats::fraction_followed_beyond(time, event, t);
    EXPECT_LE(s, prev) << t;
    EXPECT_GE(s, 0) << t;
    prev = s;
  }
  EXPECT_EQ(stats::fraction_followed_beyond(time, event, -1), 1);
  EXPECT_TRUE(stats::is_na(stats::fraction_followed_beyond(time, event, 161.5)));
  // no censoring: follow-up is never observed to end, the median is NA
  stats::FollowUp all = stats::median_follow_up({1, 2, 3}, {1, 1, 1});
  EXPECT_EQ(all.censored, 0u);
  EXPECT_TRUE(stats::is_na(all.median));
  // nobody with an event: the reverse KM is the KM of the observed times
  stats::FollowUp none = stats::median_follow_up({1, 2, 3, 4}, {0, 0, 0, 0});
  EXPECT_EQ(none.median, 2.5);
  EXPECT_NE(error_message<StatsError>([] {
              stats::median_follow_up({1, 2}, {1});
            }).find("event has 1"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::median_follow_up({1, NAN}, {1, 0});
            }).find("NaN"),
            std::string::npos);
  EXPECT_NE(error_message<StatsError>([] {
              stats::fraction_followed_beyond({1, 2}, {1, 0}, NAN);
            }).find("finite"),
            std::string::npos);
}
