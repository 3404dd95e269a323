// The run-folder files as types: every writer's output reads back to the same values (doubles
// bit for bit), and a damaged file is refused with exit code 4 and a message naming the file,
// line or field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <tuple>

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/explanations.h"
#include "runfolder/history.h"
#include "runfolder/layout.h"
#include "runfolder/metrics.h"
#include "runfolder/model_info.h"
#include "runfolder/predictions.h"
#include "test_util.h"

using namespace cervirisk;
using namespace cervirisk::runfolder;
using cervirisk::testing::error_message;
using cervirisk::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<Prediction> some_predictions() {
  // Doubles that need all 17 significant digits, an id that needs quoting, both groups.
  return {{"P,1", "train", "A", 1, 36.25, 1, 0.1 + 0.2, 1 / (1 + std::exp(-0.3)), -1.0 / 3, "high"},
          {"P2", "internal", "B", 0, 120, 0, -2.5e-7, 1e-300, 0, "low"},
          {"P3", "external", "C \"x\"", 0, 0.1, 0, 700, 1, 1e300, "low"}};
}

// Replaces the first occurrence of `from` in a file.
void damage(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_file(file);
  const auto pos = text.find(from);
  ASSERT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  write_file_atomic(file, text);
}

Metrics some_metrics() {
  Metrics m;
  m.reference_variant = "msm_tc";
  m.variants = {"clinical", "msm_tc"};
  m.cohorts = kCohortNames;
  MetricsRow full;
  full.variant = "clinical";
  full.cohort = "external";
  full.n = 115;
  full.events = 16;
  full.threshold = 0.2 / 3;
  full.auc = 0.7051;
  full.auc_ci = Interval{0.6, 0.81};
  full.at_threshold = AtThreshold{0.5, 0.75, kNaN, 0.9, {0.1, 0.8}, {0.6, 0.85}, {kNaN, kNaN}, {0.8, 0.95}};
  full.delong_p = 0.0123;
  full.calibration = MetricsRow::Calibration{0.12, 0.9, -0.1};
  full.c_index = MetricsRow::CIndex{0.66, {0.55, 0.77}};
  MetricsRow one_class;
  one_class.variant = "msm_tc";
  one_class.cohort = "internal";
  one_class.n = 3;
  one_class.threshold = 0.5;
  m.metrics = {full, one_class};
  SurvivalRow s;
  s.variant = "clinical";
  s.cohort = "external";
  s.cutpoint = -0.25;
  s.groups = {{"Low risk", {0, 12}, {1, 0.9}, {1, 0.8}, {1, 0.99}, {5}, {5, 12, 30}},
              {"High risk", {0}, {1}, {1}, {1}, {}, {}}};
  s.logrank_p = 0.03;  // hazard ratio not computable: left out
  m.survival = {s};
  CalibrationRow c{"clinical", "external", MetricsRow::Calibration{0.12, 0.9, -0.1}, std::vector<double>{0.1, 0.3},
                   std::vector<double>{0.0, 0.5}, std::nullopt};
  m.calibration = {c};
  m.decision_curve = {{"clinical", "external", {0.01, 0.02}, {0.1, 0.09}, {0.12, 0.11}}};
  SeedRow seed{"clinical", "external", 3, {}};
  seed.metrics["auc"] = {0.7, 0.05, {0.65, 0.7, 0.75}};
  m.seeds = std::vector<SeedRow>{seed};
  return m;
}

// some_metrics() with every field of cervirisk-metrics/2 set (doubles that need 17 digits,
// NaN where a statistic is undefined), optional members present on the first rows only.
Metrics full_metrics() {
  Metrics m = some_metrics();
  Design d;
  d.endpoint = "horizon";
  d.horizon_months = 36;
  d.selection = "internal";
  d.validation_fraction = 0.2;
  d.folds = 5;
  d.loss = "bce";
  d.class_balance = "weighted";
  d.recalibration = "logistic";
  d.threshold = "youden";
  d.cutpoint = "maxstat";
  d.bootstrap = 2000;
  d.seeds = 3;
  d.synthetic = true;
  d.tdauc_horizons = {12, 24, 1.0 / 3};
  d.km_times = {12, 36, 60};
  m.design = d;
  MetricsRow& r = m.metrics[0];
  r.excluded = 7;
  r.missing_time = 2;
  r.calibration_raw = MetricsRow::Calibration{0.2 / 3, 1.0 / 7, kNaN};
  r.delong_p_holm = 0.0369;
  r.bootstrap = MetricsRow::Bootstrap{2000, {0.31, 0.69}, {0.6, 0.88}, {kNaN, kNaN}, {0.81, 0.97}, {0.5, 0.8}, {0.1 / 3, 1.9}};
  r.td_auc = {{12, 0.71, {0.6, 0.82}, 9, 90}, {24, kNaN, {kNaN, kNaN}, 0, 80}};
  r.auc_ipcw = MetricsRow::TdAuc{36, 0.7 / 3, {0.5, 0.9}, 14, 77};
  r.incremental = MetricsRow::Incremental{"clinical", 0.45, 0.25, 0.2, {0.1, 0.8}, 0.031, {-0.01, 0.07}, 6.25, 0.0124, 2};
  SurvivalRow& s = m.survival[0];
  s.at_times = {{"Low risk", 12, 40, 0.9, {0.8, 0.99}}, {"High risk", 36, 0, kNaN, {kNaN, kNaN}}};
  s.maxstat_p = 0.21;
  CalibrationRow& c = m.calibration[0];
  c.hl_p = 0.4;
  c.fit_raw = MetricsRow::Calibration{0.15, 0.6, -0.8};
  c.predicted_raw = std::vector<double>{0.2, 0.4};
  c.observed_raw = std::vector<double>{0.05, kNaN};
  c.hl_p_raw = 1e-5;
  m.decision_curve[0].net_benefit_raw = {0.08, kNaN};
  m.centers = {{"clinical", "external", "Hospital \"B\"", 40, 6, 0.75, Interval{0.6, 0.9}, -0.3},
               {"clinical", "external", "C", 12, 0, kNaN, std::nullopt, std::nullopt}};
  m.follow_up = {{"external", "", 115, 16, 2, 48.5, {40, 55}, 0.62},
                 {"external", "C", 12, 0, 0, kNaN, {30, kNaN}, 1.0 / 3}};
  m.warnings = {"Median follow-up differs: 48.5 months (external) vs 61 (train)", "only 16 events in external"};
  m.selection_check = {{"msm_tc", "split", 3, 0.712, 6, 0.781, 9}, {"clinical", "split", 2, kNaN, -1, kNaN, 4}};
  return m;
}

}  // namespace

TEST(RunFolderPredictions, RoundTripExact) {
  TempDir d("pred");
  const auto rows = some_predictions();
  write_predictions(d / "p.csv", rows);
  const auto back = read_predictions(d / "p.csv");
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].id, rows[i].id);
    EXPECT_EQ(back[i].cohort, rows[i].cohort);
    EXPECT_EQ(back[i].center, rows[i].center);
    EXPECT_EQ(back[i].label, rows[i].label);
    EXPECT_EQ(back[i].event, rows[i].event);
    EXPECT_EQ(back[i].time_months, rows[i].time_months);
    EXPECT_EQ(back[i].logit, rows[i].logit);  // %.17g reads back bit for bit
    EXPECT_EQ(back[i].probability, rows[i].probability);
    EXPECT_EQ(back[i].risk, rows[i].risk);
    EXPECT_EQ(back[i].risk_group, rows[i].risk_group);
  }
  // The writer is a pure function of the rows: writing what was read gives the same bytes.
  write_predictions(d / "q.csv", back);
  EXPECT_EQ(read_file(d / "p.csv"), read_file(d / "q.csv"));
}

TEST(RunFolderPredictions, MissingLabelAndTimeAreNA) {
  TempDir d("pred_na");
  auto rows = some_predictions();
  rows[1].label = -1;         // horizon endpoint: censored before the horizon without an event
  rows[2].time_months = -1;   // no follow-up time recorded
  EXPECT_FALSE(rows[1].has_label());
  EXPECT_FALSE(rows[2].has_time());
  write_predictions(d / "p.csv", rows);
  const std::string text = read_file(d / "p.csv");
  EXPECT_NE(text.find("P2,internal,B,NA,120,0,"), std::string::npos) << text;
  EXPECT_NE(text.find(",external,\"C \"\"x\"\"\",0,NA,0,"), std::string::npos) << text;
  const auto back = read_predictions(d / "p.csv");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_TRUE(back[0].has_label());
  EXPECT_TRUE(back[0].has_time());
  EXPECT_EQ(back[1].label, -1);
  EXPECT_FALSE(back[1].has_label());
  EXPECT_EQ(back[1].time_months, 120);
  EXPECT_EQ(back[2].label, 0);
  EXPECT_FALSE(back[2].has_time());
  EXPECT_EQ(back[2].logit, 700);
  write_predictions(d / "q.csv", back);
  EXPECT_EQ(read_file(d / "q.csv"), text);
  // Only "NA" means missing: another text or a negative time is refused, naming the cell.
  damage(d / "p.csv", "B,NA,", "B,na,");
  EXPECT_NE(error_message([&] { read_predictions(d / "p.csv"); }, ExitCode::kCorruptInput).find("p.csv:3: column 'label'"),
            std::string::npos);
  write_predictions(d / "p.csv", rows);
  damage(d / "p.csv", ",NA,0,700", ",-3,0,700");
  EXPECT_NE(error_message([&] { read_predictions(d / "p.csv"); }, ExitCode::kCorruptInput).find("p.csv:4: column 'time_months'"),
            std::string::npos);
}

TEST(RunFolderPredictions, DamagedFilesNameFileLineAndColumn) {
  TempDir d("pred_bad");
  const fs::path f = d / "vit.csv";
  auto fresh = [&] { write_predictions(f, some_predictions()); };
  fresh();
  damage(f, ",120,0,", ",120,7,");
  EXPECT_NE(error_message([&] { read_predictions(f); }, ExitCode::kCorruptInput).find("vit.csv:3: column 'event': '7', expected 0 or 1"),
            std::string::npos);
  fresh();
  damage(f, "internal", "validation");
  EXPECT_NE(error_message([&] { read_predictions(f); }, ExitCode::kCorruptInput).find("vit.csv:3: column 'cohort': 'validation'"),
            std::string::npos);
  fresh();
  damage(f, "1e-300", "0.x");
  EXPECT_NE(error_message([&] { read_predictions(f); }, ExitCode::kCorruptInput).find("column 'probability': '0.x' is not a number"),
            std::string::npos);
  fresh();
  damage(f, "1e-300", "1.5");
  EXPECT_NE(error_message([&] { read_predictions(f); }, ExitCode::kCorruptInput).find("expected a probability in [0, 1]"),
            std::string::npos);
  fresh();
  damage(f, "risk,risk_group", "risk,group");  // a foreign / older header
  EXPECT_NE(error_message([&] { read_predictions(f); }, ExitCode::kCorruptInput).find("expected 'id,cohort,center"),
            std::string::npos);
  fresh();
  const std::string text = read_file(f);
  write_file_atomic(f, text.substr(0, text.size() - 9));  // truncated in the last row
  EXPECT_EQ(cervirisk::testing::thrown_by([&] { read_predictions(f); }).exit_code, static_cast<int>(ExitCode::kCorruptInput));
  EXPECT_EQ(cervirisk::testing::thrown_by([&] { read_predictions(d / "none.csv"); }).exit_code,
            static_cast<int>(ExitCode::kInputMissing));
}

TEST(RunFolderMetrics, RoundTripKeepsPresenceAndNulls) {
  TempDir d("metrics");
  const Metrics m = some_metrics();
  write_metrics(d / "metrics.json", m);
  const Metrics back = read_metrics(d / "metrics.json");
  // Written again, the same bytes: presence, nulls and every double survive.
  write_metrics(d / "again.json", back);
  EXPECT_EQ(read_file(d / "metrics.json"), read_file(d / "again.json"));
  const nlohmann::json j = nlohmann::json::parse(read_file(d / "metrics.json"));
  EXPECT_EQ(j["format"], "cervirisk-metrics/2");
  EXPECT_FALSE(j.contains("design"));                       // absent: left out
  EXPECT_EQ(j["metrics"][0]["td_auc"], nlohmann::json::array());  // none computed: empty
  EXPECT_FALSE(j["metrics"][0].contains("bootstrap"));
  EXPECT_FALSE(j["metrics"][0].contains("incremental"));
  EXPECT_FALSE(j["calibration"][0].contains("fit_raw"));
  EXPECT_FALSE(j["decision_curve"][0].contains("net_benefit_raw"));
  EXPECT_EQ(j["warnings"], nlohmann::json::array());
  EXPECT_FALSE(back.design.has_value());
  EXPECT_FALSE(back.metrics[0].bootstrap.has_value());
  EXPECT_FALSE(back.survival[0].maxstat_p.has_value());
  EXPECT_TRUE(j["metrics"][1]["auc"].is_null());           // one class
  EXPECT_FALSE(j["metrics"][1].contains("sensitivity"));  // not computed: left out
  EXPECT_TRUE(j["metrics"][0]["ppv"].is_null());          // computed, undefined
  EXPECT_FALSE(j["survival"][0].contains("hr"));
  EXPECT_EQ(j["seeds"][0]["metrics"]["auc"]["n"], 3);
  ASSERT_EQ(back.metrics.size(), 2u);
  EXPECT_EQ(back.metrics[0].threshold, 0.2 / 3);
  EXPECT_TRUE(std::isnan(back.metrics[1].auc));
  EXPECT_FALSE(back.metrics[1].at_threshold.has_value());
  EXPECT_FALSE(back.survival[0].hr.has_value());
  EXPECT_EQ(back.metrics[0].scalars().size(), 8u);  // auc, se, sp, npv, brier, slope, intercept, c (ppv is NaN)
}

TEST(RunFolderMetrics, ForeignOrDamagedFilesAreRefused) {
  TempDir d("metrics_bad");
  const fs::path f = d / "metrics.json";
  write_metrics(f, some_metrics());
  damage(f, "cervirisk-metrics/2", "cervirisk-metrics/1");  // the format before the honest-validation fields
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput)
                .find("format is \"cervirisk-metrics/1\", expected \"cervirisk-metrics/2\""),
            std::string::npos);
  write_metrics(f, some_metrics());
  damage(f, "\"auc\": 0.7051", "\"auc\": \"high\"");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("metrics[0].auc must be a number"),
            std::string::npos);
  write_metrics(f, some_metrics());
  damage(f, "\"c_index_ci\"", "\"c_index_xx\"");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("metrics[0].c_index_ci is missing"),
            std::string::npos);
  write_file_atomic(f, "{\"format\": \"cervirisk-metrics/2\", \"variants\": [");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("not valid JSON"), std::string::npos);
  write_file_atomic(f, "[1, 2]");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("must be a JSON object"),
            std::string::npos);
  // A number beyond double's range is the parser's out_of_range, not parse_error (found by fuzzing:
  // it escaped as an internal error, exit 1).
  write_file_atomic(f, "{\"format\": \"cervirisk-metrics/2\", \"x\": 1e3086203968606304}");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("not valid JSON"), std::string::npos);
}

TEST(RunFolderMetrics, EveryHonestValidationFieldRoundTrips) {
  TempDir d("metrics2");
  const Metrics m = full_metrics();
  write_metrics(d / "metrics.json", m);
  const Metrics b = read_metrics(d / "metrics.json");
  write_metrics(d / "again.json", b);
  EXPECT_EQ(read_file(d / "metrics.json"), read_file(d / "again.json"));  // bit for bit, presence kept
  const nlohmann::json j = nlohmann::json::parse(read_file(d / "metrics.json"));
  EXPECT_TRUE(j["metrics"][0]["calibration_raw"]["intercept"].is_null());  // NaN as null
  EXPECT_EQ(j["metrics"][0]["bootstrap"]["ppv"], nlohmann::json::parse("[null, null]"));
  EXPECT_EQ(j["metrics"][0]["incremental"]["over"], "clinical");
  EXPECT_FALSE(j["metrics"][1].contains("auc_ipcw"));
  EXPECT_EQ(j["metrics"][1]["excluded"], 0);
  EXPECT_FALSE(j["centers"][1].contains("auc_ci"));
  EXPECT_FALSE(j["centers"][1].contains("citl"));
  EXPECT_TRUE(j["follow_up"][1]["median"].is_null());  // not reached
  EXPECT_EQ(j["design"]["synthetic"], true);

  // design
  ASSERT_TRUE(b.design.has_value());
  const Design& dg = *b.design;
  EXPECT_EQ(dg.endpoint, "horizon");
  EXPECT_EQ(dg.horizon_months, 36);
  EXPECT_EQ(dg.selection, "internal");
  EXPECT_EQ(dg.validation_fraction, 0.2);
  EXPECT_EQ(dg.folds, 5);
  EXPECT_EQ(dg.loss, "bce");
  EXPECT_EQ(dg.class_balance, "weighted");
  EXPECT_EQ(dg.recalibration, "logistic");
  EXPECT_EQ(dg.threshold, "youden");
  EXPECT_EQ(dg.cutpoint, "maxstat");
  EXPECT_EQ(dg.bootstrap, 2000);
  EXPECT_EQ(dg.seeds, 3);
  EXPECT_TRUE(dg.synthetic);
  EXPECT_EQ(dg.tdauc_horizons, (std::vector<double>{12, 24, 1.0 / 3}));
  EXPECT_EQ(dg.km_times, (std::vector<double>{12, 36, 60}));

  // metrics rows
  const MetricsRow& r = b.metrics[0];
  EXPECT_EQ(r.excluded, 7);
  EXPECT_EQ(r.missing_time, 2);
  ASSERT_TRUE(r.calibration_raw.has_value());
  EXPECT_EQ(r.calibration_raw->brier, 0.2 / 3);
  EXPECT_EQ(r.calibration_raw->slope, 1.0 / 7);
  EXPECT_TRUE(std::isnan(r.calibration_raw->intercept));
  EXPECT_EQ(r.delong_p_holm, 0.0369);
  ASSERT_TRUE(r.bootstrap.has_value());
  EXPECT_EQ(r.bootstrap->replicates, 2000);
  EXPECT_EQ(r.bootstrap->sensitivity.lo, 0.31);
  EXPECT_EQ(r.bootstrap->specificity.hi, 0.88);
  EXPECT_TRUE(std::isnan(r.bootstrap->ppv.lo));
  EXPECT_EQ(r.bootstrap->npv.lo, 0.81);
  EXPECT_EQ(r.bootstrap->c_index.hi, 0.8);
  EXPECT_EQ(r.bootstrap->calibration_slope.lo, 0.1 / 3);
  ASSERT_EQ(r.td_auc.size(), 2u);
  EXPECT_EQ(r.td_auc[0].horizon, 12);
  EXPECT_EQ(r.td_auc[0].auc, 0.71);
  EXPECT_EQ(r.td_auc[0].ci.lo, 0.6);
  EXPECT_EQ(r.td_auc[0].cases, 9);
  EXPECT_EQ(r.td_auc[0].controls, 90);
  EXPECT_TRUE(std::isnan(r.td_auc[1].auc));
  EXPECT_TRUE(std::isnan(r.td_auc[1].ci.hi));
  ASSERT_TRUE(r.auc_ipcw.has_value());
  EXPECT_EQ(r.auc_ipcw->horizon, 36);
  EXPECT_EQ(r.auc_ipcw->auc, 0.7 / 3);
  EXPECT_EQ(r.auc_ipcw->cases, 14);
  ASSERT_TRUE(r.incremental.has_value());
  EXPECT_EQ(r.incremental->over, "clinical");
  EXPECT_EQ(r.incremental->nri, 0.45);
  EXPECT_EQ(r.incremental->nri_events, 0.25);
  EXPECT_EQ(r.incremental->nri_nonevents, 0.2);
  EXPECT_EQ(r.incremental->nri_ci.hi, 0.8);
  EXPECT_EQ(r.incremental->idi, 0.031);
  EXPECT_EQ(r.incremental->idi_ci.lo, -0.01);
  EXPECT_EQ(r.incremental->lr_chisq, 6.25);
  EXPECT_EQ(r.incremental->lr_df, 2);
  EXPECT_EQ(r.incremental->lr_p, 0.0124);
  EXPECT_FALSE(b.metrics[1].calibration_raw.has_value());
  EXPECT_FALSE(b.metrics[1].delong_p_holm.has_value());
  EXPECT_FALSE(b.metrics[1].incremental.has_value());

  // survival, calibration, decision curve
  const SurvivalRow& s = b.survival[0];
  ASSERT_EQ(s.at_times.size(), 2u);
  EXPECT_EQ(s.at_times[0].group, "Low risk");
  EXPECT_EQ(s.at_times[0].time, 12);
  EXPECT_EQ(s.at_times[0].n_risk, 40);
  EXPECT_EQ(s.at_times[0].surv, 0.9);
  EXPECT_EQ(s.at_times[0].ci.hi, 0.99);
  EXPECT_TRUE(std::isnan(s.at_times[1].surv));
  EXPECT_EQ(s.maxstat_p, 0.21);
  const CalibrationRow& c = b.calibration[0];
  ASSERT_TRUE(c.fit_raw.has_value());
  EXPECT_EQ(c.fit_raw->slope, 0.6);
  EXPECT_EQ(c.fit_raw->intercept, -0.8);
  EXPECT_EQ(c.fit_raw->brier, 0.15);
  EXPECT_EQ(*c.predicted_raw, (std::vector<double>{0.2, 0.4}));
  EXPECT_TRUE(std::isnan(c.observed_raw->at(1)));
  EXPECT_EQ(c.hl_p_raw, 1e-5);
  ASSERT_EQ(b.decision_curve[0].net_benefit_raw.size(), 2u);
  EXPECT_EQ(b.decision_curve[0].net_benefit_raw[0], 0.08);

  // centres, follow-up, warnings
  ASSERT_EQ(b.centers.size(), 2u);
  EXPECT_EQ(b.centers[0].center, "Hospital \"B\"");
  EXPECT_EQ(b.centers[0].n, 40);
  EXPECT_EQ(b.centers[0].events, 6);
  EXPECT_EQ(b.centers[0].auc, 0.75);
  EXPECT_EQ(b.centers[0].auc_ci->hi, 0.9);
  EXPECT_EQ(b.centers[0].citl, -0.3);
  EXPECT_TRUE(std::isnan(b.centers[1].auc));
  EXPECT_FALSE(b.centers[1].auc_ci.has_value());
  EXPECT_FALSE(b.centers[1].citl.has_value());
  ASSERT_EQ(b.follow_up.size(), 2u);
  EXPECT_EQ(b.follow_up[0].center, "");
  EXPECT_EQ(b.follow_up[0].n, 115);
  EXPECT_EQ(b.follow_up[0].events, 16);
  EXPECT_EQ(b.follow_up[0].missing_time, 2);
  EXPECT_EQ(b.follow_up[0].median, 48.5);
  EXPECT_EQ(b.follow_up[0].ci.lo, 40);
  EXPECT_EQ(b.follow_up[0].followed_at_horizon, 0.62);
  EXPECT_TRUE(std::isnan(b.follow_up[1].median));
  EXPECT_TRUE(std::isnan(b.follow_up[1].ci.hi));
  EXPECT_EQ(b.follow_up[1].followed_at_horizon, 1.0 / 3);
  EXPECT_EQ(b.warnings, m.warnings);
  ASSERT_EQ(b.selection_check.size(), 2u);
  EXPECT_EQ(b.selection_check[0].internal_best_epoch, 6);
  EXPECT_EQ(b.selection_check[0].internal_auc_best, 0.781);
  EXPECT_TRUE(std::isnan(b.selection_check[1].internal_auc_chosen));
}

TEST(RunFolderMetrics, DamagedHonestValidationFieldsNameThePath) {
  TempDir d("metrics2_bad");
  const fs::path f = d / "metrics.json";
  // Each damage of the written file and the path the error must name.
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"\"excluded\": 7", "\"excluded\": \"7\"", "metrics[0].excluded must be an integer"},
      {"\"missing_time\": 2", "\"missing_tim\": 2", "follow_up[0].missing_time is missing"},  // keys are sorted
      {"\"calibration_raw\": {\n        \"brier\"", "\"calibration_raw\": {\n        \"brie\"",
       "metrics[0].calibration_raw.brier is missing"},
      {"\"delong_p_holm\": 0.0369", "\"delong_p_holm\": \"0.04\"", "metrics[0].delong_p_holm must be a number"},
      {"\"replicates\": 2000", "\"replicates\": 2000.5", "metrics[0].bootstrap.replicates must be an integer"},
      {"\"ppv\": [\n          null,", "\"ppv\": [", "metrics[0].bootstrap.ppv must be [lo, hi]"},
      {"\"cases\": 9", "\"cases\": null", "metrics[0].td_auc[0].cases must be an integer"},
      {"\"td_auc\": [", "\"td_auc\": 3, \"x\": [", "metrics[0].td_auc must be an array"},
      {"\"auc_ipcw\": {", "\"auc_ipcw\": [], \"x\": {", "metrics[0].auc_ipcw must be an object"},
      {"\"over\": \"clinical\"", "\"over\": 1", "metrics[0].incremental.over must be a string"},
      {"\"lr_df\": 2", "\"lr_df\": \"2\"", "metrics[0].incremental.lr_df must be an integer"},
      {"\"n_risk\": 40.0", "\"n_risk\": \"forty\"", "survival[0].at_times[0].n_risk must be a number"},
      {"\"maxstat_p\": 0.21", "\"maxstat_p\": true", "survival[0].maxstat_p must be a number"},
      {"\"slope\": 0.6", "\"slope\": \"x\"", "calibration[0].fit_raw.slope must be a number"},
      {"\"predicted_raw\"", "\"predicted_rax\"", "calibration[0] predicted_raw and observed_raw must both be present"},
      {"\"net_benefit_raw\": [\n        0.08,", "\"net_benefit_raw\": [", "decision_curve[0].net_benefit_raw must have the length"},
      {"\"center\": \"C\"", "\"center\": null", "centers[1].center must be a string"},
      {"\"citl\": -0.3", "\"citl\": [-0.3]", "centers[0].citl must be a number"},
      {"\"followed_at_horizon\": 0.62", "\"followed_at_horizon\": \"62%\"", "follow_up[0].followed_at_horizon must be a number"},
      {"\"selection\": \"internal\"", "\"selection\": \"external\"", "design.selection is 'external', expected one of split, cv, internal"},
      {"\"endpoint\": \"horizon\"", "\"endpoint\": \"death\"", "design.endpoint is 'death'"},
      {"\"synthetic\": true", "\"synthetic\": \"yes\"", "design.synthetic must be true or false"},
      {"\"km_times\": [", "\"km_times\": [\"a\",", "design.km_times[0] must be a number"},
      {"\"warnings\": [", "\"warnings\": [1,", "warnings[0] must be a string"},
      {"\"follow_up\": [", "\"follow_ups\": [", "follow_up is missing"},
  };
  for (const auto& [from, to, want] : cases) {
    write_metrics(f, full_metrics());
    damage(f, from, to);
    const std::string msg = error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput);
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
    EXPECT_NE(msg.find(f.string()), std::string::npos) << msg;
  }
}

TEST(RunFolderMetrics, ComparisonsRoundTrip) {
  TempDir d("cmp");
  write_comparisons(d / "c.csv", {{"vit", "msm_tc", "external", 0.65, 0.7, -0.05, -0.1, 0.01, 0.2}});
  const auto c = read_comparisons(d / "c.csv");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].variant, "vit");
  EXPECT_DOUBLE_EQ(c[0].diff_lo, -0.1);
  EXPECT_DOUBLE_EQ(c[0].p, 0.2);
}

TEST(RunFolderModelInfo, RoundTripAndFormatChecked) {
  TempDir d("model");
  ModelInfo m;
  m.variant = "msm_tc";
  m.preset = "cpu-small";
  m.arch = {{"variant", "msm_tc"}, {"fusion_dim", 64}};
  m.threshold = 0.2 / 3;
  m.cutpoint = -1.0 / 7;
  m.seed = 18446744073709551615ull;  // the largest seed survives (unsigned)
  m.best_epoch = 4;
  m.epochs_done = 9;
  m.stopped_early = true;
  m.fingerprint = "abc";
  m.config_sha256 = std::string(64, 'f');
  m.training_cohort = {215, 38, 38.0 / 215, kNaN, {0.1, 0.2, 0.3, 0.4, 0.5}};
  m.recalibration = {"logistic", -0.2 / 3, 0.8125, "out-of-fold", 215, 38, "a \"note\""};
  m.selection = {"cv", 0, 0, 5, {3, 7, 4, 4, 6}};
  write_model_info(d / "model.json", m);
  const ModelInfo b = read_model_info(d / "model.json");
  EXPECT_EQ(b.recalibration.method, "logistic");
  EXPECT_EQ(b.recalibration.intercept, -0.2 / 3);
  EXPECT_EQ(b.recalibration.slope, 0.8125);
  EXPECT_EQ(b.recalibration.fitted_on, "out-of-fold");
  EXPECT_EQ(b.recalibration.n, 215);
  EXPECT_EQ(b.recalibration.events, 38);
  EXPECT_EQ(b.recalibration.note, "a \"note\"");
  EXPECT_DOUBLE_EQ(b.recalibration.apply(0.0), 1 / (1 + std::exp(0.2 / 3)));
  EXPECT_DOUBLE_EQ(b.recalibration.apply(2.0), 1 / (1 + std::exp(0.2 / 3 - 0.8125 * 2)));
  EXPECT_EQ(b.selection.mode, "cv");
  EXPECT_EQ(b.selection.folds, 5);
  EXPECT_EQ(b.selection.fold_best_epochs, (std::vector<std::int64_t>{3, 7, 4, 4, 6}));
  EXPECT_EQ(b.selection.validation_n, 0);
  EXPECT_EQ(b.seed, m.seed);
  EXPECT_EQ(b.threshold, m.threshold);
  EXPECT_EQ(b.cutpoint, m.cutpoint);
  EXPECT_EQ(b.arch, m.arch);
  EXPECT_TRUE(std::isnan(b.training_cohort.auc));
  write_model_info(d / "again.json", b);
  EXPECT_EQ(read_file(d / "model.json"), read_file(d / "again.json"));
  damage(d / "model.json", "cervirisk-model/2", "other-tool/3");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("format is \"other-tool/3\""),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"stopped_early\": true", "\"stopped_early\": 1");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("stopped_early must be true or false"),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"method\": \"logistic\"", "\"method\": \"platt\"");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("recalibration.method expected"),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"slope\": 0.8125", "\"slope\": -1");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("recalibration intercept must be finite"),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"mode\": \"cv\"", "\"mode\": \"holdout\"");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("selection.mode expected split, cv or internal"),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"selection\"", "\"selected\"");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("selection is missing"),
            std::string::npos);
  EXPECT_NE(error_message([&] { read_model_info(d / "none" / "model.json"); }, ExitCode::kInputMissing).find("not a model bundle"),
            std::string::npos);
}

// fold_best_epochs are epoch numbers: a fractional one (or null) is a corrupt file, not truncated.
TEST(RunFolderModelInfo, FractionalFoldEpochIsRefused) {
  TempDir d("model_epochs");
  ModelInfo m;
  m.arch = {{"variant", "msm_tc"}};
  m.selection = {"cv", 0, 0, 2, {3, 4}};
  write_model_info(d / "model.json", m);
  EXPECT_EQ(read_model_info(d / "model.json").selection.fold_best_epochs, (std::vector<std::int64_t>{3, 4}));
  damage(d / "model.json", "\"fold_best_epochs\": [\n      3,", "\"fold_best_epochs\": [\n      3.5,");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("selection.fold_best_epochs[0]"),
            std::string::npos);
}

TEST(RunFolderHistory, RoundTripWithMissingValidation) {
  TempDir d("hist");
  write_history(d / "history.csv", {{1, 0.7, 0.75, 0.6}, {2, 0.6, kNaN, kNaN}});
  EXPECT_EQ(read_file(d / "history.csv"), "epoch,train_loss,val_loss,val_auc\n1,0.7,0.75,0.6\n2,0.6,,\n");
  const auto h = read_history(d / "history.csv");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].train_loss, 0.6);
  EXPECT_TRUE(std::isnan(h[1].val_auc));
  damage(d / "history.csv", "2,0.6", "x,0.6");
  EXPECT_NE(error_message([&] { read_history(d / "history.csv"); }, ExitCode::kCorruptInput).find("history.csv:3: column 'epoch'"),
            std::string::npos);
}

TEST(RunFolderExplanations, RoundTrip) {
  TempDir d("explain");
  write_clinical_shap(d / "s.csv", {{"P1", "train", "msm_tc", "FIGO, stage", 2, 0.25}, {"P1", "train", "msm_tc", "age", kNaN, -0.125}});
  const auto s = read_clinical_shap(d / "s.csv");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].feature, "FIGO, stage");
  EXPECT_TRUE(std::isnan(s[1].value));
  EXPECT_EQ(s[1].phi, -0.125);
  write_modality_shapley(d / "m.csv", {{"P1", "train", "image", 0.5}});
  EXPECT_EQ(read_modality_shapley(d / "m.csv").at(0).phi, 0.5);

  write_file_atomic(d / "explain" / "P1.png", "png");
  ExampleRecord e;
  e.id = "P1";
  e.cohort = "train";
  e.kind = "true positive";
  e.variant = "msm_tc";
  e.probability = 0.9;
  e.label = 1;
  e.modalities = {{"image", 0.5}};
  e.clinical = {{"LVSI", "yes", 0.2}};
  e.images = {d / "explain" / "P1.png"};
  write_examples(d / "explain" / "examples.json", {{e}}, d.path());
  const auto back = read_examples(d / "explain" / "examples.json", d.path());
  ASSERT_EQ(back.examples.size(), 1u);
  EXPECT_EQ(back.examples[0].images.at(0), d / "explain" / "P1.png");
  EXPECT_EQ(back.examples[0].clinical.at(0).value, "yes");
  EXPECT_EQ(back.examples[0].probability, 0.9);
  ExampleRecord outside = e;
  outside.images = {d / ".." / "elsewhere.png"};
  EXPECT_NE(error_message([&] { write_examples(d / "x.json", {{outside}}, d.path()); }, ExitCode::kOutputNotWritable)
                .find("is not inside the run folder"),
            std::string::npos);
  fs::remove(d / "explain" / "P1.png");
  EXPECT_NE(error_message([&] { read_examples(d / "explain" / "examples.json", d.path()); }, ExitCode::kInputMissing)
                .find("examples[0].images[0] names"),
            std::string::npos);
}
