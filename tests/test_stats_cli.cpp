// `cervirisk stats ...` through the real binary on the reference data.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"
#include "test_util.h"

using nlohmann::json;

namespace {
using Result = cervirisk::testing::CliResult;
Result run(const std::string& args) { return cervirisk::testing::run_cli(args); }
// tests/data/stats: the reference data sets and goldens (PROVENANCE.md there)
std::string data(const std::string& f) { return std::string(CERV_TEST_DATA) + "/stats/" + f; }
json expected() {
  std::ifstream in(data("expected.json"));
  return json::parse(in);
}
void near_rel(double a, double e) { EXPECT_LE(std::fabs(a - e), 1e-9 * std::fabs(e)) << a << " vs " << e; }
}  // namespace

TEST(StatsCli, AucOnASAHPrintsPROCNumbers) {
  Result r = run("stats auc --csv " + data("aSAH.csv") +
                 " --label outcome --positive Poor --score s100b --score wfns --json");
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  json e = expected()["aSAH"];
  EXPECT_EQ(j["n"], 113);
  EXPECT_EQ(j["n_cases"], 41);
  EXPECT_EQ(j["n_controls"], 72);
  ASSERT_EQ(j["scores"].size(), 2u);
  const char* names[] = {"s100b", "wfns"};
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(j["scores"][k]["name"], names[k]);
    near_rel(j["scores"][k]["auc"], e[names[k]]["auc"]);
    near_rel(j["scores"][k]["var_delong"], e[names[k]]["var_delong"]);
    near_rel(j["scores"][k]["ci_delong"][0], e[names[k]]["ci_delong"][0]);
    near_rel(j["scores"][k]["ci_delong"][1], e[names[k]]["ci_delong"][1]);
  }
  ASSERT_EQ(j["paired"].size(), 1u);
  EXPECT_EQ(j["paired"][0]["a"], "s100b");
  EXPECT_EQ(j["paired"][0]["b"], "wfns");
  near_rel(j["paired"][0]["z"], e["paired_s100b_vs_wfns"]["z"]);
  near_rel(j["paired"][0]["p"], e["paired_s100b_vs_wfns"]["p"]);
  near_rel(j["paired"][0]["diff_ci"][0], e["paired_s100b_vs_wfns"]["diff_ci"][0]);
  near_rel(j["paired"][0]["diff_ci"][1], e["paired_s100b_vs_wfns"]["diff_ci"][1]);
}

TEST(StatsCli, BootstrapIsSeeded) {
  std::string args = "stats auc --csv " + data("aSAH.csv") +
                     " --label outcome --positive Poor --score s100b --bootstrap 300 --seed 3 --json";
  Result a = run(args), b = run("--threads 1 " + args);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(json::parse(a.out)["scores"][0]["ci_bootstrap"], json::parse(b.out)["scores"][0]["ci_bootstrap"]);
}

TEST(StatsCli, SurvivalCommandsOnReferenceData) {
  json e = expected();
  Result km = run("stats km --csv " + data("aml.csv") + " --time time --event status --json");
  ASSERT_EQ(km.code, 0) << km.err;
  json k = json::parse(km.out)["groups"][0];
  EXPECT_EQ(k["name"], "all");
  EXPECT_EQ(k["median"], 27.0);
  EXPECT_EQ(k["median_ci"], json::array({18.0, 45.0}));
  ASSERT_EQ(k["table"].size(), e["aml"]["km_pooled"]["time"].size());
  near_rel(k["table"][3]["std_err"], e["aml"]["km_pooled"]["std_err"][3]);

  Result lr = run("stats logrank --csv " + data("aml.csv") + " --time time --event status --group x --json");
  ASSERT_EQ(lr.code, 0) << lr.err;
  near_rel(json::parse(lr.out)["chisq"], e["aml"]["logrank"]["chisq"]);

  // lung: R's 1/2 event coding, NA rows dropped and counted
  Result cx = run("stats cox --csv " + data("lung.csv") +
                  " --time time --event status --event-code 2 --covariates age,sex --json");
  ASSERT_EQ(cx.code, 0) << cx.err;
  json c = json::parse(cx.out);
  EXPECT_EQ(c["n"], 228);
  EXPECT_EQ(c["n_dropped"], 0);
  near_rel(c["coef"][1], e["lung"]["cox_efron_age_sex"]["coef"][1]);
  near_rel(c["loglik"][1], e["lung"]["cox_efron_age_sex"]["loglik"][1]);
  near_rel(c["concordance"], e["lung"]["cox_efron_age_sex"]["concordance"]);
  EXPECT_EQ(c["terms"], json::array({"age", "sex"}));

  Result cf = run("stats cox --csv " + data("aml.csv") +
                  " --time time --event status --covariates x --categorical x --ties breslow --json");
  ASSERT_EQ(cf.code, 0) << cf.err;
  json f = json::parse(cf.out);
  EXPECT_EQ(f["terms"], json::array({"xNonmaintained"}));
  near_rel(f["coef"][0], e["aml"]["cox_breslow"]["coef"]);

  Result ci = run("stats cindex --csv " + data("lung.csv") +
                  " --time time --event status --event-code 2 --score ph.ecog --json");
  ASSERT_EQ(ci.code, 0) << ci.err;
  EXPECT_GT(json::parse(ci.out)["n_dropped"].get<int>(), 0);
}

TEST(StatsCli, ErrorsMapToExitCodes) {
  const cervirisk::testing::TempDir tmp("stats_cli");
  const std::string one_class = (tmp / "one_class.csv").string();
  std::ofstream(one_class) << "y;score\n1;0.5\n1;0.7\nNA;0.1\n";
  Result one = run("stats auc --csv " + one_class + " --label y --score score --json");
  EXPECT_EQ(one.code, 5);
  EXPECT_NE(one.err.find("0 control(s)"), std::string::npos) << one.err;
  Result lvl = run("stats auc --csv " + data("aSAH.csv") + " --label outcome --positive Bad --score s100b");
  EXPECT_EQ(lvl.code, 5);
  EXPECT_NE(lvl.err.find("no level 'Bad'"), std::string::npos) << lvl.err;
  Result col = run("stats auc --csv " + data("aSAH.csv") + " --label outcome --positive Poor --score nope");
  EXPECT_EQ(col.code, 2);
  EXPECT_NE(col.err.find("no column 'nope'"), std::string::npos) << col.err;
  Result code = run("stats km --csv " + data("lung.csv") + " --time time --event status");
  EXPECT_EQ(code.code, 5);
  EXPECT_NE(code.err.find("see --event-code"), std::string::npos) << code.err;
  Result missing = run("stats km --csv /nonexistent.csv --time t --event e");
  EXPECT_EQ(missing.code, 3);
}

namespace {
json goldens() {
  std::ifstream in(data("goldens.json"));
  return json::parse(in);
}
}  // namespace

TEST(StatsCli, ThresholdCalibrationDcaCutpointMatchGoldens) {
  json g = goldens();
  Result th = run("stats threshold --csv " + data("aSAH.csv") +
                  " --label outcome --positive Poor --score s100b --at 0.2 --json");
  ASSERT_EQ(th.code, 0) << th.err;
  json t = json::parse(th.out);
  EXPECT_EQ(t["tp"], g["aSAH"]["operating_0.2"]["tp"]);
  near_rel(t["ci_wilson"]["sensitivity"][0], g["aSAH"]["operating_0.2"]["wilson"]["sensitivity"][0]);
  near_rel(t["ci_clopper_pearson"]["npv"][1], g["aSAH"]["operating_0.2"]["clopper_pearson"]["npv"][1]);

  Result ca = run("stats calibration --csv " + data("binary.csv") + " --label y --prob prob --lowess --json");
  ASSERT_EQ(ca.code, 0) << ca.err;
  json c = json::parse(ca.out);
  for (const char* k : {"brier", "brier_scaled", "slope", "intercept", "hl_chisq", "hl_p"})
    near_rel(c[k], g["calibration"][k]);
  EXPECT_EQ(c["hl_df"], g["calibration"]["hl_df"]);
  std::ifstream sk(data("sklearn_calibration.json"));
  json skl = json::parse(sk)["uniform_10"];
  ASSERT_EQ(c["bins"].size(), skl["frac_pos"].size());  // empty bins are left out, as sklearn does
  for (std::size_t i = 0; i < c["bins"].size(); ++i) near_rel(c["bins"][i]["frac_pos"], skl["frac_pos"][i]);
  EXPECT_EQ(c["lowess"].size(), 240u);

  Result dc = run("stats dca --csv " + data("binary.csv") +
                  " --label y --prob prob --thresholds 0.05:0.6:0.05 --json");
  ASSERT_EQ(dc.code, 0) << dc.err;
  json d = json::parse(dc.out)["rows"];
  ASSERT_EQ(d.size(), g["calibration"]["dca"]["threshold"].size());
  for (std::size_t i = 0; i < d.size(); ++i)
    near_rel(d[i]["net_benefit_model"], g["calibration"]["dca"]["net_benefit_model"][i]);

  // surv_ties.csv: x1 has the only missing values, so the complete rows equal R's complete cases
  Result cp =
      run("stats cutpoint --csv " + data("surv_ties.csv") + " --time time --event status --score x1 --json");
  ASSERT_EQ(cp.code, 0) << cp.err;
  json k = json::parse(cp.out);
  EXPECT_EQ(k["n_dropped"], 2);
  near_rel(k["cut"], g["survival"]["maxstat_x1"]["cut"]);
  near_rel(k["statistic"], g["survival"]["maxstat_x1"]["statistic"]);

  Result td = run("stats tdauc --csv " + data("surv_ties.csv") +
                  " --time time --event status --score score --horizons 5,10 --json");
  ASSERT_EQ(td.code, 0) << td.err;
  EXPECT_EQ(json::parse(td.out)["horizons"].size(), 2u);

  Result ro = run("stats auc --csv " + data("aSAH.csv") +
                  " --label outcome --positive Poor --score wfns --roc --json");
  ASSERT_EQ(ro.code, 0) << ro.err;
  json r = json::parse(ro.out)["scores"][0]["roc"];
  EXPECT_TRUE(r.front()["threshold"].is_null());
  EXPECT_EQ(r.front()["sensitivity"], 1.0);
  EXPECT_EQ(r.back()["specificity"], 1.0);
}
