// The run-folder files as types: every writer's output reads back to the same values (doubles
// bit for bit), and a damaged file is refused with exit code 4 and a message naming the file,
// line or field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

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
  EXPECT_EQ(j["format"], "cervirisk-metrics/1");
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
  damage(f, "cervirisk-metrics/1", "cervirisk-metrics/2");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("format is \"cervirisk-metrics/2\", expected"),
            std::string::npos);
  write_metrics(f, some_metrics());
  damage(f, "\"auc\": 0.7051", "\"auc\": \"high\"");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("metrics[0].auc must be a number"),
            std::string::npos);
  write_metrics(f, some_metrics());
  damage(f, "\"c_index_ci\"", "\"c_index_xx\"");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("metrics[0].c_index_ci is missing"),
            std::string::npos);
  write_file_atomic(f, "{\"format\": \"cervirisk-metrics/1\", \"variants\": [");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("not valid JSON"), std::string::npos);
  write_file_atomic(f, "[1, 2]");
  EXPECT_NE(error_message([&] { read_metrics(f); }, ExitCode::kCorruptInput).find("must be a JSON object"),
            std::string::npos);
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
  write_model_info(d / "model.json", m);
  const ModelInfo b = read_model_info(d / "model.json");
  EXPECT_EQ(b.seed, m.seed);
  EXPECT_EQ(b.threshold, m.threshold);
  EXPECT_EQ(b.cutpoint, m.cutpoint);
  EXPECT_EQ(b.arch, m.arch);
  EXPECT_TRUE(std::isnan(b.training_cohort.auc));
  write_model_info(d / "again.json", b);
  EXPECT_EQ(read_file(d / "model.json"), read_file(d / "again.json"));
  damage(d / "model.json", "cervirisk-model/1", "other-tool/3");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("format is \"other-tool/3\""),
            std::string::npos);
  write_model_info(d / "model.json", m);
  damage(d / "model.json", "\"stopped_early\": true", "\"stopped_early\": 1");
  EXPECT_NE(error_message([&] { read_model_info(d / "model.json"); }, ExitCode::kCorruptInput).find("stopped_early must be true or false"),
            std::string::npos);
  EXPECT_NE(error_message([&] { read_model_info(d / "none" / "model.json"); }, ExitCode::kInputMissing).find("not a model bundle"),
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
