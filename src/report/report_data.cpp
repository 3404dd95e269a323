#include "report/report_data.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "io/table.h"
#include "runfolder/explanations.h"
#include "runfolder/history.h"
#include "runfolder/json_format.h"
#include "runfolder/layout.h"
#include "runfolder/metrics.h"
#include "runfolder/model_info.h"

namespace cervirisk::report {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Estimate estimate(double value, const std::optional<runfolder::Interval>& ci) {
  return {value, ci ? ci->lo : kNaN, ci ? ci->hi : kNaN};
}

void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (j.is_string()) {
    out.emplace_back(prefix, j.get<std::string>());
  } else {
    out.emplace_back(prefix, j.dump());
  }
}

// run.json (core/run_manifest.h): flattened for display, the input hashes, the model card.
void load_manifest(const fs::path& dir, ReportData& d) {
  const fs::path run = dir / "run.json";
  if (!fs::exists(run)) throw InputError("report: " + run.string() + " is missing (written by cervirisk study)");
  const json rj = runfolder::read_json_file(run);
  if (!rj.is_object()) throw FormatError(run.string() + ": expected a JSON object");
  if (rj.contains("synthetic"))
    d.synthetic = rj["synthetic"].is_boolean() ? rj["synthetic"].get<bool>() : rj["synthetic"] == "true";
  if (rj.contains("title") && rj["title"].is_string()) d.title = rj["title"].get<std::string>();
  if (rj.contains("model_card") && rj["model_card"].is_object())
    for (auto it = rj["model_card"].begin(); it != rj["model_card"].end(); ++it)
      if (it.value().is_string()) d.model_card[it.key()] = it.value().get<std::string>();
  for (auto it = rj.begin(); it != rj.end(); ++it)
    if (it.key() != "inputs" && it.key() != "model_card") flatten(it.value(), it.key(), d.manifest);
  if (rj.contains("inputs") && rj["inputs"].is_object())
    for (auto it = rj["inputs"].begin(); it != rj["inputs"].end(); ++it)
      d.data_hashes.emplace_back(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
}

VariantMetrics variant_metrics(const runfolder::MetricsRow& m) {
  VariantMetrics vm;
  vm.variant = m.variant;
  vm.cohort = m.cohort;
  vm.n = m.n;
  vm.events = m.events;
  vm.auc = estimate(m.auc, m.auc_ci);
  if (const auto& t = m.at_threshold) {
    vm.sensitivity = estimate(t->sensitivity, t->sensitivity_ci);
    vm.specificity = estimate(t->specificity, t->specificity_ci);
    vm.ppv = estimate(t->ppv, t->ppv_ci);
    vm.npv = estimate(t->npv, t->npv_ci);
  }
  vm.threshold = m.threshold;
  vm.delong_p = m.delong_p.value_or(kNaN);
  if (m.c_index) vm.c_index = estimate(m.c_index->value, m.c_index->ci);
  if (const auto& c = m.calibration) {
    vm.brier.value = c->brier;
    vm.calibration_slope.value = c->slope;
    vm.calibration_intercept.value = c->intercept;
  }
  vm.excluded = m.excluded;
  vm.missing_time = m.missing_time;
  vm.delong_p_holm = m.delong_p_holm.value_or(kNaN);
  vm.calibration_raw = m.calibration_raw;
  vm.bootstrap = m.bootstrap;
  vm.td_auc = m.td_auc;
  vm.auc_ipcw = m.auc_ipcw;
  vm.incremental = m.incremental;
  return vm;
}

// Who was analysed per cohort: the reference variant's row (any variant's when it has none).
std::vector<CohortFlow> cohort_flow(const runfolder::Metrics& m) {
  std::vector<CohortFlow> flow;
  std::vector<std::string> cohorts = m.cohorts;
  for (const auto& r : m.metrics)
    if (std::find(cohorts.begin(), cohorts.end(), r.cohort) == cohorts.end()) cohorts.push_back(r.cohort);
  for (const auto& c : cohorts) {
    const runfolder::MetricsRow* row = m.find(m.reference_variant, c);
    for (const auto& r : m.metrics)
      if (!row && r.cohort == c) row = &r;
    if (row) flow.push_back({c, row->n, row->events, row->excluded, row->missing_time});
  }
  return flow;
}

// metrics.json: the tables and the survival, calibration and decision-curve figures.
void load_metrics(const fs::path& dir, ReportData& d) {
  const fs::path file = dir / "metrics.json";
  if (!fs::exists(file)) throw InputError("report: " + file.string() + " is missing (written by cervirisk study)");
  const runfolder::Metrics m = runfolder::read_metrics(file);
  d.reference_variant = m.reference_variant;
  d.variants = m.variants;
  d.cohorts = m.cohorts;
  d.design = m.design;
  d.flow = cohort_flow(m);
  d.centers = m.centers;
  d.follow_up = m.follow_up;
  d.warnings = m.warnings;
  d.selection_check = m.selection_check;
  d.seeds_reported = m.seeds.has_value();
  for (const auto& r : m.metrics) {
    if (!std::isfinite(r.auc)) continue;  // one class only: nothing to show
    d.metrics.push_back(variant_metrics(r));
  }
  for (const auto& s : m.survival) {
    SurvivalSummary ss{s.variant,  s.cohort,   {}, s.logrank_p.value_or(kNaN), {},
                       s.cutpoint, s.at_times, s.maxstat_p.value_or(kNaN)};
    if (s.hr) ss.hazard_ratio = {*s.hr, s.hr_ci.lo, s.hr_ci.hi};
    for (const auto& g : s.groups)
      ss.groups.push_back({g.label, g.time, g.surv, g.lower, g.upper, g.censor_times, g.follow_up});
    d.survival.push_back(std::move(ss));
  }
  for (const auto& c : m.calibration) {
    CalibrationSummary cs;
    cs.variant = c.variant;
    cs.cohort = c.cohort;
    cs.curve.label = c.variant;
    cs.curve.predicted = c.predicted.value_or(std::vector<double>{});
    cs.curve.observed = c.observed.value_or(std::vector<double>{});
    if (c.fit) cs.slope = c.fit->slope, cs.intercept = c.fit->intercept, cs.brier = c.fit->brier;
    cs.hl_p = c.hl_p.value_or(kNaN);
    cs.curve_raw.predicted = c.predicted_raw.value_or(std::vector<double>{});
    cs.curve_raw.observed = c.observed_raw.value_or(std::vector<double>{});
    if (!cs.curve_raw.predicted.empty()) {
      cs.curve.label = c.variant + ", recalibrated";
      cs.curve_raw.label = c.variant + ", before recalibration";
    }
    if (c.fit_raw) cs.slope_raw = c.fit_raw->slope, cs.intercept_raw = c.fit_raw->intercept, cs.brier_raw = c.fit_raw->brier;
    cs.hl_p_raw = c.hl_p_raw.value_or(kNaN);
    d.calibration.push_back(std::move(cs));
  }
  for (const auto& c : m.decision_curve) {
    DecisionSummary ds{c.variant, c.cohort, {c.variant, c.threshold, c.net_benefit}, {"Treat all", c.threshold, c.treat_all}, {}};
    if (!c.net_benefit_raw.empty()) {
      ds.model.label = c.variant + ", recalibrated";
      ds.model_raw = {c.variant + ", before recalibration", c.threshold, c.net_benefit_raw};
    }
    d.decision.push_back(std::move(ds));
  }
  for (const auto& s : m.seeds.value_or(std::vector<runfolder::SeedRow>{})) {
    SeedSummary ss{s.variant, s.cohort, s.seeds, {}};
    for (const auto& [name, v] : s.metrics) ss.mean_sd[name] = {v.mean, v.sd};
    d.seed_summary.push_back(std::move(ss));
  }
}

void load_predictions(const fs::path& dir, ReportData& d) {
  if (!fs::is_directory(dir)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) d.predictions[f.stem().string()] = runfolder::read_predictions(f);
  for (auto& c : d.calibration) {  // the histogram under each calibration curve: the patients with an outcome
    if (!d.predictions.count(c.variant)) continue;
    const bool fill = c.curve.predictions.empty(), fill_raw = !c.curve_raw.predicted.empty() && c.curve_raw.predictions.empty();
    for (const auto& p : d.predictions.at(c.variant)) {
      if (p.cohort != c.cohort || !p.has_label()) continue;
      if (fill) c.curve.predictions.push_back(p.probability);
      if (fill_raw) c.curve_raw.predictions.push_back(1 / (1 + std::exp(-p.logit)));
    }
  }
}

// The paired DeLong p from comparisons.csv where metrics.json does not carry it.
void load_comparisons(const fs::path& file, ReportData& d) {
  if (!fs::exists(file)) return;
  for (const auto& c : runfolder::read_comparisons(file)) {
    if (c.reference != d.reference_variant) continue;
    for (auto& m : d.metrics)
      if (m.variant == c.variant && m.cohort == c.cohort && !std::isfinite(m.delong_p)) m.delong_p = c.p;
  }
}

void load_table1(const fs::path& file, ReportData& d) {
  if (!fs::exists(file)) return;
  io::CsvOptions o;
  o.delimiter = ',';
  o.missing = {};
  const io::Table t = io::Table::read_csv(file, o);
  d.table1_header = t.column_names();
  for (std::size_t r = 0; r < t.rows(); ++r) {
    std::vector<std::string> row;
    for (std::size_t c = 0; c < t.cols(); ++c) row.push_back(t.cell(r, c));
    d.table1_rows.push_back(std::move(row));
  }
}

void load_examples(const fs::path& dir, ReportData& d) {
  const fs::path file = runfolder::explain_dir(dir) / "examples.json";
  if (fs::exists(file)) d.examples = runfolder::read_examples(file, dir).examples;
}

// explain/shap_clinical.csv -> patients x features (beeswarm, bar).
void load_clinical_shap(const fs::path& file, ReportData& d) {
  if (!fs::exists(file)) return;
  ShapData s;
  s.title = "Clinical features";
  std::map<std::string, std::size_t> fidx, pidx;
  std::vector<std::vector<std::pair<double, double>>> cells;  // patient -> feature -> (phi, value)
  for (const auto& r : runfolder::read_clinical_shap(file)) {
    if (!fidx.count(r.feature)) {
      fidx[r.feature] = s.features.size();
      s.features.push_back(r.feature);
    }
    if (!pidx.count(r.id)) {
      pidx[r.id] = cells.size();
      cells.emplace_back();
    }
    auto& c = cells[pidx[r.id]];
    const std::size_t fi = fidx[r.feature];
    if (c.size() <= fi) c.resize(fi + 1, {0.0, kNaN});
    c[fi] = {r.phi, r.value};
    d.clinical_shap_variant = r.variant;
  }
  for (auto& c : cells) {
    c.resize(s.features.size(), {0.0, kNaN});
    std::vector<double> ph, va;
    for (auto& [p, v] : c) {
      ph.push_back(p);
      va.push_back(v);
    }
    s.phi.push_back(ph);
    s.values.push_back(va);
  }
  d.clinical_shap = std::move(s);
}

// explain/modality_shapley.csv -> mean |phi| per modality.
void load_modality_shapley(const fs::path& file, ReportData& d) {
  if (!fs::exists(file)) return;
  std::map<std::string, std::pair<double, int>> acc;
  std::vector<std::string> order;
  for (const auto& r : runfolder::read_modality_shapley(file)) {
    if (!acc.count(r.modality)) order.push_back(r.modality);
    auto& a = acc[r.modality];
    a.first += std::abs(r.phi);
    a.second += 1;
  }
  for (const auto& n : order) d.modality_importance.push_back({n, acc[n].first / acc[n].second});
}

// The variants whose model folders to read: metrics.json's, or every folder under models/.
std::vector<std::string> model_variants(const fs::path& dir, const ReportData& d) {
  const fs::path models = dir / "models";
  if (!fs::is_directory(models)) return {};
  std::vector<std::string> names = d.variants;
  if (names.empty())
    for (const auto& e : fs::directory_iterator(models)) names.push_back(e.path().filename().string());
  return names;
}

void load_training(const fs::path& dir, ReportData& d) {
  for (const auto& v : model_variants(dir, d)) {
    const fs::path h = runfolder::model_dir(dir, v) / "history.csv";
    if (!fs::exists(h)) continue;
    TrainingHistory th;
    th.label = v;
    for (const auto& r : runfolder::read_history(h)) {
      th.epoch.push_back(r.epoch);
      th.train_loss.push_back(r.train_loss);
      th.val_loss.push_back(r.val_loss);
      th.val_auc.push_back(r.val_auc);
    }
    if (auto it = d.models.find(v); it != d.models.end()) th.best_epoch = static_cast<int>(it->second.best_epoch);
    d.training.push_back(std::move(th));
  }
}

// The variants' model.json (recalibration, selection, best epoch).
void load_models(const fs::path& dir, ReportData& d) {
  for (const auto& v : model_variants(dir, d)) {
    const fs::path mj = runfolder::model_dir(dir, v) / "model.json";
    if (fs::exists(mj)) d.models[v] = runfolder::read_model_info(mj);
  }
}

// Which of the run folder's files are present (for the TRIPOD+AI section).
void list_files(const fs::path& dir, ReportData& d) {
  std::vector<std::string> names = {"config.toml", "run.json", "cohorts.csv", "table1.csv", "metrics.json",
                                    "comparisons.csv", "explain/shap_clinical.csv", "explain/modality_shapley.csv",
                                    "explain/examples.json"};
  for (const auto& v : d.variants) {
    names.push_back("predictions/" + v + ".csv");
    for (const char* f : {"model.json", "preprocessing.json", "clinical.json", "weights.safetensors", "history.csv"})
      names.push_back("models/" + v + "/" + f);
  }
  for (const auto& n : names)
    if (fs::exists(dir / n)) d.files.insert(n);
}

}  // namespace

ReportData load_run_folder(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError("report: run folder " + dir.string() + " does not exist");
  ReportData d;
  load_manifest(dir, d);
  load_metrics(dir, d);
  load_predictions(dir / "predictions", d);
  load_comparisons(dir / "comparisons.csv", d);
  load_table1(dir / "table1.csv", d);
  load_examples(dir, d);
  load_clinical_shap(runfolder::explain_dir(dir) / "shap_clinical.csv", d);
  load_modality_shapley(runfolder::explain_dir(dir) / "modality_shapley.csv", d);
  load_models(dir, d);
  load_training(dir, d);
  list_files(dir, d);
  log::debug("report: loaded {} metrics rows, {} prediction files, {} examples from {}", d.metrics.size(),
             d.predictions.size(), d.examples.size(), dir.string());
  return d;
}

}  // namespace cervirisk::report
