// Steps of the study tested on their own (src/study/steps.h): the choice of the report's example
// patients, the metrics of a hand-made prediction set, the horizon endpoint on a hand-built
// cohort, the selection split, the recalibration and the refused head/loss combinations.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "stats/calibration.h"
#include "study/steps.h"
#include "bundle/bundle.h"
#include "runfolder/layout.h"
#include "small_arch.h"

using namespace cervirisk;
using namespace cervirisk::study;

namespace {
runfolder::Prediction row(const char* id, const char* cohort, int label, double prob) {
  runfolder::Prediction r;
  r.id = id;
  r.cohort = cohort;
  r.label = label;
  r.probability = prob;
  return r;
}
}  // namespace

TEST(StudySteps, ChooseExamplesPerCohort) {
  const std::vector<runfolder::Prediction> p = {row("a", "external", 1, 0.9), row("b", "external", 1, 0.7),
                                                row("c", "external", 1, 0.2), row("d", "external", 1, 0.1),
                                                row("e", "external", 0, 0.95), row("f", "internal", 1, 0.3),
                                                row("g", "internal", 0, 0.05)};
  const auto ex = choose_examples(p, 0.5, "msm_tc", {"internal", "external"});
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].id, "f");
  EXPECT_EQ(ex[0].kind, "false negative");
  EXPECT_EQ(ex[1].id, "a");  // the true positive with the highest probability
  EXPECT_EQ(ex[1].kind, "true positive");
  EXPECT_EQ(ex[2].id, "d");  // the false negative with the lowest
  EXPECT_EQ(ex[2].variant, "msm_tc");
}

TEST(StudySteps, MetricsOfAHandMadePredictionSet) {
  // 4 cases, 4 controls on the external cohort; 15 of 16 case-control pairs ordered: AUC 15/16.
  std::vector<runfolder::Prediction> rows;
  const double prob[] = {0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05};
  for (int i = 0; i < 8; ++i) {
    auto r = row(("P" + std::to_string(i)).c_str(), "external", i < 4, prob[i]);
    r.time_months = 10.0 + i;
    r.event = i < 4;
    r.risk = std::log(prob[i] / (1 - prob[i]));
    rows.push_back(r);
  }
  std::vector<runfolder::Comparison> cmp;
  const auto m = compute_metrics(StudySettings{}, {"clinical"}, {{"clinical", {rows, 0.5, 0.0}}}, &cmp);
  EXPECT_EQ(m.reference_variant, "clinical");  // msm_tc absent: the last variant
  ASSERT_EQ(m.metrics.size(), 1u);
  const auto& e = m.metrics[0];
  EXPECT_EQ(e.n, 8);
  EXPECT_EQ(e.events, 4);
  EXPECT_DOUBLE_EQ(e.auc, 15.0 / 16);
  ASSERT_TRUE(e.at_threshold.has_value());
  EXPECT_DOUBLE_EQ(e.at_threshold->sensitivity, 0.75);  // 0.9, 0.8, 0.7 >= 0.5
  EXPECT_DOUBLE_EQ(e.at_threshold->specificity, 0.75);  // 0.6 >= 0.5 is a false positive
  EXPECT_FALSE(e.delong_p.has_value());                 // the reference itself
  EXPECT_TRUE(cmp.empty());
  ASSERT_EQ(m.survival.size(), 1u);
  EXPECT_EQ(m.survival[0].groups.size(), 2u);
  EXPECT_EQ(m.survival[0].groups[1].follow_up.size(), 4u);  // risk > 0: probability > 0.5
  EXPECT_FALSE(e.bootstrap.has_value());                     // eval.bootstrap = 0
}

// A hand-built 12-patient cohort, horizon 24 months: who has a binary label, and the counts the
// metrics report.
TEST(StudySteps, HorizonEndpointExcludesPatientsCensoredBeforeTheHorizon) {
  StudySettings s;
  s.endpoint = Endpoint::kHorizon;
  s.horizon_months = 24;
  struct Case {
    int event;
    double time;
    float expected;  // NaN = no binary label
  };
  const Case cases[] = {
      {1, 10, 1},    {1, 24, 1},      // recurrence by the horizon (24 itself included)
      {1, 30, 0},    {0, 30, 0},      // a recurrence after the horizon, censored after it
      {0, 24, 0},                     // followed exactly to the horizon without recurrence
      {0, 12, NAN},  {0, 0.5, NAN},   // censored before the horizon: unknown
      {0, -1, NAN},                   // no follow-up time recorded
      {1, 5, 1},     {0, 60, 0},      {1, 23.9, 1},
      {0, 23.9, NAN},                 // censored just before the horizon
  };
  std::vector<runfolder::Prediction> rows;
  for (int i = 0; i < 12; ++i) {
    data::Patient p;
    p.event = cases[i].event;
    p.time_months = cases[i].time;
    const float l = endpoint_label(s, p);
    if (std::isnan(cases[i].expected))
      EXPECT_TRUE(std::isnan(l)) << "patient " << i;
    else
      EXPECT_EQ(l, cases[i].expected) << "patient " << i;
    auto r = row(("P" + std::to_string(i)).c_str(), "external", std::isnan(l) ? -1 : static_cast<int>(l),
                 0.05 + 0.07 * i);
    r.center = "C";
    r.time_months = cases[i].time;
    r.event = cases[i].event;
    r.logit = std::log(r.probability / (1 - r.probability));
    r.risk = r.logit;
    rows.push_back(r);
  }
  // The "event" endpoint labels every patient by the event.
  data::Patient late;
  late.event = 1;
  late.time_months = 100;
  EXPECT_EQ(endpoint_label(StudySettings{}, late), 1.f);

  const auto m = compute_metrics(s, {"clinical"}, {{"clinical", {rows, 0.5, 0.0}}}, nullptr);
  ASSERT_EQ(m.metrics.size(), 1u);
  const auto& e = m.metrics[0];
  EXPECT_EQ(e.n, 8);           // 12 - 4 without a binary label
  EXPECT_EQ(e.events, 4);      // patients 0, 1, 8, 10
  EXPECT_EQ(e.excluded, 4);    // patients 5, 6, 7, 11
  EXPECT_EQ(e.missing_time, 1);  // patient 7
  // Binary labels of the 8: probabilities 0.05+0.07i for i = 0,1,2,3,4,8,9,10 with cases at
  // i = 0, 1, 8, 10: pairs (case > control) = i=8 beats 2,3,4 (3), i=10 beats 2,3,4,9 (4), 0 and
  // 1 beat none: 7 of 16.
  EXPECT_DOUBLE_EQ(e.auc, 7.0 / 16);
  // Survival statistics keep the censored-before-horizon patients and drop the missing time:
  // 11 patients in the two risk groups.
  ASSERT_EQ(m.survival.size(), 1u);
  EXPECT_EQ(m.survival[0].groups[0].follow_up.size() + m.survival[0].groups[1].follow_up.size(), 11u);
  ASSERT_TRUE(m.design.has_value());
  EXPECT_EQ(m.design->endpoint, "horizon");
  bool warned = false;
  for (const auto& w : m.warnings) warned |= w.find("4 patients censored before the 24-month horizon") != std::string::npos;
  EXPECT_TRUE(warned);
}

namespace {
std::vector<bundle::PatientFeatures> training_patients(int n, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<bundle::PatientFeatures> p(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    p[static_cast<std::size_t>(i)].id = "T" + std::to_string(i);
    p[static_cast<std::size_t>(i)].center = i % 3 == 0 ? "A" : "B";
    p[static_cast<std::size_t>(i)].label = g() % 4 == 0 ? 1.f : 0.f;
  }
  return p;
}
std::map<std::string, int> plan_by_id(const SelectionPlan& plan, const std::vector<const bundle::PatientFeatures*>& t) {
  std::map<std::string, int> m;
  for (std::size_t i = 0; i < t.size(); ++i) m[t[i]->id] = plan.fold[i];
  return m;
}
}  // namespace

TEST(StudySteps, SelectionSplitIsStratifiedAndDependsOnlyOnTheTrainingPatients) {
  auto patients = training_patients(83, 7);
  std::vector<const bundle::PatientFeatures*> train;
  for (const auto& p : patients) train.push_back(&p);
  StudySettings s;
  s.selection = Selection::kSplit;
  s.validation_fraction = 0.2;
  const auto plan = selection_plan(s, train, 42);
  // Each label x centre stratum contributes its share (within the carried rounding: +-1).
  std::map<std::pair<int, std::string>, std::pair<int, int>> strata;  // -> (validation, all)
  for (std::size_t i = 0; i < train.size(); ++i) {
    auto& c = strata[{train[i]->label > 0.5f, train[i]->center}];
    c.first += plan.fold[i];
    c.second += 1;
  }
  int total = 0;
  for (const auto& [k, c] : strata) {
    EXPECT_NEAR(c.first, 0.2 * c.second, 1.0) << k.second << " label " << k.first;
    total += c.first;
  }
  EXPECT_NEAR(total, 0.2 * 83, 1.0);
  // The manifest order does not matter: the same patients are held out after a shuffle.
  auto shuffled = train;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  EXPECT_EQ(plan_by_id(plan, train), plan_by_id(selection_plan(s, shuffled, 42), shuffled));
  // Another seed, another split.
  EXPECT_NE(plan_by_id(plan, train), plan_by_id(selection_plan(s, train, 43), train));
  // cv: every patient in one fold, fold sizes within a stratum differ by at most one.
  s.selection = Selection::kCv;
  s.folds = 5;
  const auto cv = selection_plan(s, train, 42);
  EXPECT_EQ(cv.parts, 5);
  std::map<std::pair<int, std::string>, std::vector<int>> sizes;
  for (std::size_t i = 0; i < train.size(); ++i) {
    auto& v = sizes[{train[i]->label > 0.5f, train[i]->center}];
    v.resize(5);
    ASSERT_GE(cv.fold[i], 0);
    ASSERT_LT(cv.fold[i], 5);
    v[static_cast<std::size_t>(cv.fold[i])] += 1;
  }
  for (const auto& [k, v] : sizes) EXPECT_LE(*std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()), 1);
  std::size_t out = 0;
  for (int k = 0; k < 5; ++k) out += cv.select(train, k, true).size();
  EXPECT_EQ(out, train.size());
}

TEST(StudySteps, LogisticRecalibrationIsCalibratedOnItsOwnData) {
  // Overconfident, shifted logits: the recalibrated probabilities have calibration intercept 0
  // and slope 1 on the data they were fitted on (the defining property of the logistic fit).
  std::mt19937 g(11);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> logit;
  std::vector<float> y;
  for (int i = 0; i < 300; ++i) {
    const double x = z(g);
    logit.push_back(3 * x + 1);  // true log-odds: x - 0.5
    y.push_back(std::uniform_real_distribution<double>(0, 1)(g) < 1 / (1 + std::exp(-(x - 0.5))) ? 1.f : 0.f);
  }
  logit.push_back(0.3);
  y.push_back(NAN);  // no binary label: left out
  const auto r = fit_recalibration(Recalibration::kLogistic, logit, y, -1.0, "validation split");
  EXPECT_EQ(r.method, "logistic");
  EXPECT_EQ(r.n, 300);
  EXPECT_TRUE(r.note.empty());
  EXPECT_NEAR(r.slope, 1.0 / 3, 0.12);  // the generating values, within sampling error
  std::vector<double> p;
  std::vector<int> yi;
  for (std::size_t i = 0; i < 300; ++i) {
    p.push_back(r.apply(logit[i]));
    yi.push_back(y[i] > 0.5f);
  }
  const auto c = stats::calibration_logistic(p, yi);
  EXPECT_NEAR(c.slope, 1.0, 1e-7);
  EXPECT_NEAR(c.slope_intercept, 0.0, 1e-7);
  // intercept only: calibration-in-the-large 0 after the shift, slope left at 1
  const auto ri = fit_recalibration(Recalibration::kIntercept, logit, y, -1.0, "validation split");
  EXPECT_EQ(ri.slope, 1.0);
  p.clear();
  for (std::size_t i = 0; i < 300; ++i) p.push_back(ri.apply(logit[i]));
  EXPECT_NEAR(stats::calibration_logistic(p, yi).intercept, 0.0, 1e-7);
  // offset: no fit, the class-weighting shift
  const auto ro = fit_recalibration(Recalibration::kOffset, logit, y, std::log(0.25), "");
  EXPECT_DOUBLE_EQ(ro.apply(0.0), 0.2);
  // too few events to fit: the offset, with the reason in the note
  std::vector<float> one(y.size(), 0.f);
  one[0] = 1.f;
  const auto rf = fit_recalibration(Recalibration::kLogistic, logit, one, std::log(0.25), "validation split");
  EXPECT_DOUBLE_EQ(rf.intercept, std::log(0.25));
  EXPECT_EQ(rf.slope, 1.0);
  EXPECT_NE(rf.note.find("too few"), std::string::npos);
  // none: the logit's own sigmoid
  EXPECT_DOUBLE_EQ(fit_recalibration(Recalibration::kNone, logit, y, 2.0, "").apply(0.0), 0.5);
}

TEST(StudySteps, AnUntrainedHeadIsAConfigurationErrorNamingTheKeys) {
  const auto dir = std::filesystem::temp_directory_path() / ("cerv_heads_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto settings_of = [&](const std::string& model, const std::string& train, const std::string& eval = "") {
    std::ofstream(dir / "c.toml", std::ios::trunc) << "[model]\n" << model << "\n[train]\n" << train << "\n[eval]\n" << eval << "\n";
    return StudySettings::from_config(config::Config::load(dir / "c.toml"));
  };
  auto refused = [&](const std::string& model, const std::string& train, const std::string& eval,
                     const std::vector<std::string>& names) {
    try {
      settings_of(model, train, eval);
      ADD_FAILURE() << model << " / " << train << " / " << eval << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadArguments);
      for (const auto& n : names) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  };
  refused("cox_head = true", "loss = \"bce\"", "", {"model.cox_head", "train.loss", "risk head"});
  refused("cox_head = true", "loss = \"focal\"", "", {"model.cox_head", "train.loss"});
  refused("cox_head = true", "loss = \"cox\"", "", {"model.cox_head", "train.loss", "classifier"});
  refused("cox_head = false", "loss = \"bce+cox\"", "", {"train.loss", "model.cox_head"});
  refused("cox_head = false", "loss = \"cox\"", "recalibration = \"offset\"", {"train.loss", "eval.recalibration"});
  EXPECT_EQ(settings_of("cox_head = true", "loss = \"bce+cox\"").loss, "bce+cox");
  EXPECT_EQ(settings_of("cox_head = false", "loss = \"cox\"").recalibration, Recalibration::kLogistic);
  EXPECT_EQ(settings_of("cox_head = false", "loss = \"bce\"").selection, Selection::kSplit);  // the default
  std::filesystem::remove_all(dir);
}

// train.fusion_init = "ladder": a fusion variant takes the encoders, projections and missing
// tokens of the rungs below from their bundles, and nothing of their fusion heads.
TEST(StudySteps, LadderStartTakesTheRungsEncodersButNotTheirHeads) {
  const auto run = std::filesystem::temp_directory_path() / ("cerv_ladder_" + std::to_string(::getpid()));
  std::filesystem::remove_all(run);
  bundle::FeatureSpec spec;
  spec.imaging.tumour_size_px = 32;
  spec.imaging.context_size_px = 48;
  spec.max_tokens = 16;
  auto make = [&](models::Variant v, std::uint64_t seed) {
    torch::manual_seed(seed);
    auto arch = cervirisk::testing::small_arch(v, 5, 40);
    return std::make_pair(arch, models::build_model(arch));
  };
  auto write = [&](const std::string& name, const models::ArchConfig& arch, const models::RecurrenceModel& m) {
    runfolder::ModelInfo info;
    info.variant = name;
    info.preset = arch.preset;
    bundle::write_bundle(runfolder::model_dir(run, name), m, arch, spec, info, {});
  };
  auto [target_arch, target] = make(models::Variant::kMsmTC, 1);
  // Without the rungs' bundles: a configuration error naming the missing bundle.
  try {
    ladder_weights(run, "msm_tc", 0, 1, target);
    ADD_FAILURE() << "no bundles, no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("models/msm_t/model.json"), std::string::npos) << e.what();
  }
  auto [t_arch, msm_t] = make(models::Variant::kMsmT, 2);
  auto [c_arch, clinical] = make(models::Variant::kClinical, 3);
  write("msm_t", t_arch, msm_t);
  write("clinical", c_arch, clinical);
  const auto take = ladder_weights(run, "msm_tc", 0, 1, target);
  const auto want_t = models::state_dict(*msm_t), want_c = models::state_dict(*clinical), have = models::state_dict(*target);
  std::set<std::string> prefixes;
  for (const auto& [name, t] : take) {
    prefixes.insert(name.substr(0, name.find('.')));
    const bool from_t = want_t.count(name) > 0;
    EXPECT_TRUE(torch::equal(t, from_t ? want_t.at(name) : want_c.at(name))) << name;
    EXPECT_NE(name.rfind("head.", 0), 0u) << name;
    EXPECT_NE(name.rfind("classifier.", 0), 0u) << name;
  }
  for (const char* p : {"convnext", "vit", "text", "clinical", "proj", "missing_text", "missing_clinical"})
    EXPECT_TRUE(prefixes.count(p)) << p;
  // Every non-head tensor of the target with a same-shaped source is taken.
  for (const auto& [name, t] : have) {
    const bool head = name.rfind("head.", 0) == 0 || name.rfind("classifier.", 0) == 0;
    const bool available = (want_t.count(name) && want_t.at(name).sizes() == t.sizes()) ||
                           (want_c.count(name) && want_c.at(name).sizes() == t.sizes());
    EXPECT_EQ(take.count(name) > 0, !head && available) << name;
  }
  EXPECT_TRUE(ladder_weights(run, "convnext", 0, 1, target).empty());  // not a fusion variant
  EXPECT_EQ(ladder_sources("msm"), (std::vector<std::string>{"convnext", "vit"}));
  // With cv selection fold k starts from the rungs' fold-k models, not their refits.
  auto [t2_arch, msm_t_fold] = make(models::Variant::kMsmT, 4);
  auto [c2_arch, clinical_fold] = make(models::Variant::kClinical, 5);
  try {
    ladder_weights(run, "msm_tc", 0, 1, target, 1);
    ADD_FAILURE() << "no fold weights, no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cv/fold-1.safetensors"), std::string::npos) << e.what();
  }
  std::filesystem::create_directories(runfolder::model_dir(run, "msm_t") / "cv");
  std::filesystem::create_directories(runfolder::model_dir(run, "clinical") / "cv");
  models::write_safetensors(cv_fold_weights(runfolder::model_dir(run, "msm_t"), 1), models::state_dict(*msm_t_fold));
  models::write_safetensors(cv_fold_weights(runfolder::model_dir(run, "clinical"), 1), models::state_dict(*clinical_fold));
  const auto fold_t = models::state_dict(*msm_t_fold), fold_c = models::state_dict(*clinical_fold);
  const auto take1 = ladder_weights(run, "msm_tc", 0, 1, target, 1);
  EXPECT_EQ(take1.size(), take.size());
  for (const auto& [name, t] : take1)
    EXPECT_TRUE(torch::equal(t, fold_t.count(name) ? fold_t.at(name) : fold_c.at(name))) << name;
  std::filesystem::remove_all(run);
}
