#include "runfolder/metrics.h"

#include <cmath>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/json_format.h"
#include "runfolder/layout.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json interval(const Interval& i) { return json::array({i.lo, i.hi}); }

Interval read_interval(const json& obj, const std::string& key, const JsonPath& where) {
  const auto v = numbers_field(obj, key, where);
  if (v.size() != 2) where.at(key).fail("must be [lo, hi]");
  return {v[0], v[1]};
}

// --- writers: the keys and their presence are the format (docs/report.md) ---------------------

json to_json(const MetricsRow& r) {
  json e = {{"variant", r.variant}, {"cohort", r.cohort}, {"n", r.n}, {"events", r.events}, {"threshold", r.threshold}};
  e["auc"] = r.auc;
  if (r.auc_ci) e["auc_ci"] = interval(*r.auc_ci);
  if (const auto& t = r.at_threshold) {
    e["sensitivity"] = t->sensitivity;
    e["sensitivity_ci"] = interval(t->sensitivity_ci);
    e["specificity"] = t->specificity;
    e["specificity_ci"] = interval(t->specificity_ci);
    e["ppv"] = t->ppv;
    e["ppv_ci"] = interval(t->ppv_ci);
    e["npv"] = t->npv;
    e["npv_ci"] = interval(t->npv_ci);
  }
  if (r.delong_p) e["delong_p"] = *r.delong_p;
  if (const auto& c = r.calibration) {
    e["brier"] = c->brier;
    e["calibration_slope"] = c->slope;
    e["calibration_intercept"] = c->intercept;
  }
  if (r.c_index) {
    e["c_index"] = r.c_index->value;
    e["c_index_ci"] = interval(r.c_index->ci);
  }
  return e;
}

json to_json(const KmCurve& g) {
  return {{"label", g.label}, {"time", g.time},   {"surv", g.surv},         {"lower", g.lower},
          {"upper", g.upper}, {"censor_times", g.censor_times}, {"follow_up", g.follow_up}};
}

json to_json(const SurvivalRow& s) {
  json j = {{"variant", s.variant}, {"cohort", s.cohort}, {"cutpoint", s.cutpoint}};
  j["groups"] = json::array();
  for (const auto& g : s.groups) j["groups"].push_back(to_json(g));
  if (s.logrank_p) j["logrank_p"] = *s.logrank_p;
  if (s.hr) {
    j["hr"] = *s.hr;
    j["hr_ci"] = interval(s.hr_ci);
  }
  return j;
}

json to_json(const CalibrationRow& c) {
  json j = {{"variant", c.variant}, {"cohort", c.cohort}};
  if (c.fit) {
    j["slope"] = c.fit->slope;
    j["intercept"] = c.fit->intercept;
    j["brier"] = c.fit->brier;
  }
  if (c.predicted) j["predicted"] = *c.predicted;
  if (c.observed) j["observed"] = *c.observed;
  if (c.hl_p) j["hl_p"] = *c.hl_p;
  return j;
}

json to_json(const DecisionCurveRow& d) {
  return {{"variant", d.variant},
          {"cohort", d.cohort},
          {"threshold", d.threshold},
          {"net_benefit", d.net_benefit},
          {"treat_all", d.treat_all}};
}

json to_json(const SeedRow& s) {
  json e = {{"variant", s.variant}, {"cohort", s.cohort}, {"seeds", s.seeds}};
  json all = json::object();
  for (const auto& [name, m] : s.metrics) {
    all[name] = {{"mean", m.mean}, {"sd", m.sd}, {"n", m.values.size()}, {"values", m.values}};
    if (name == "auc") {
      e["auc_mean"] = m.mean;
      e["auc_sd"] = m.sd;
      e["auc"] = m.values;
    }
  }
  e["metrics"] = all;
  return e;
}

template <typename Row>
json array_of(const std::vector<Row>& rows) {
  json a = json::array();
  for (const auto& r : rows) a.push_back(to_json(r));
  return a;
}

// --- readers -------------------------------------------------------------------------------------

// The variant and cohort every row of metrics.json starts with.
template <typename Row>
Row keyed_row(const json& e, const JsonPath& w) {
  Row r;
  r.variant = string_field(e, "variant", w);
  r.cohort = string_field(e, "cohort", w);
  return r;
}

MetricsRow read_metrics_row(const json& e, const JsonPath& w) {
  auto r = keyed_row<MetricsRow>(e, w);
  r.n = static_cast<int>(integer_field(e, "n", w));
  r.events = static_cast<int>(integer_field(e, "events", w));
  r.threshold = number_field(e, "threshold", w);
  r.auc = number_field(e, "auc", w);
  if (e.contains("auc_ci")) r.auc_ci = read_interval(e, "auc_ci", w);
  if (e.contains("sensitivity")) {
    AtThreshold t;
    t.sensitivity = number_field(e, "sensitivity", w);
    t.sensitivity_ci = read_interval(e, "sensitivity_ci", w);
    t.specificity = number_field(e, "specificity", w);
    t.specificity_ci = read_interval(e, "specificity_ci", w);
    t.ppv = number_field(e, "ppv", w);
    t.ppv_ci = read_interval(e, "ppv_ci", w);
    t.npv = number_field(e, "npv", w);
    t.npv_ci = read_interval(e, "npv_ci", w);
    r.at_threshold = t;
  }
  r.delong_p = optional_number(e, "delong_p", w);
  if (e.contains("brier"))
    r.calibration = MetricsRow::Calibration{number_field(e, "brier", w), number_field(e, "calibration_slope", w),
                                            number_field(e, "calibration_intercept", w)};
  if (e.contains("c_index")) r.c_index = MetricsRow::CIndex{number_field(e, "c_index", w), read_interval(e, "c_index_ci", w)};
  return r;
}

KmCurve read_km_curve(const json& g, const JsonPath& w) {
  KmCurve k{string_field(g, "label", w),        numbers_field(g, "time", w),  numbers_field(g, "surv", w),
            numbers_field(g, "lower", w),        numbers_field(g, "upper", w), numbers_field(g, "censor_times", w),
            numbers_field(g, "follow_up", w)};
  if (k.time.size() != k.surv.size() || k.lower.size() != k.surv.size() || k.upper.size() != k.surv.size())
    w.fail("time, surv, lower and upper must have the same length");
  return k;
}

SurvivalRow read_survival_row(const json& s, const JsonPath& w) {
  auto r = keyed_row<SurvivalRow>(s, w);
  r.cutpoint = number_field(s, "cutpoint", w);
  const json& groups = array_field(s, "groups", w);
  for (std::size_t g = 0; g < groups.size(); ++g) r.groups.push_back(read_km_curve(groups[g], w.at("groups").at(g)));
  r.logrank_p = optional_number(s, "logrank_p", w);
  r.hr = optional_number(s, "hr", w);
  if (r.hr) r.hr_ci = read_interval(s, "hr_ci", w);
  return r;
}

CalibrationRow read_calibration_row(const json& c, const JsonPath& w) {
  auto r = keyed_row<CalibrationRow>(c, w);
  if (c.contains("slope"))
    r.fit = MetricsRow::Calibration{number_field(c, "brier", w), number_field(c, "slope", w), number_field(c, "intercept", w)};
  r.predicted = optional_numbers(c, "predicted", w);
  r.observed = optional_numbers(c, "observed", w);
  if (r.predicted && r.observed && r.predicted->size() != r.observed->size())
    w.fail("predicted and observed must have the same length");
  r.hl_p = optional_number(c, "hl_p", w);
  return r;
}

DecisionCurveRow read_decision_row(const json& d, const JsonPath& w) {
  auto r = keyed_row<DecisionCurveRow>(d, w);
  r.threshold = numbers_field(d, "threshold", w);
  r.net_benefit = numbers_field(d, "net_benefit", w);
  r.treat_all = numbers_field(d, "treat_all", w);
  if (r.net_benefit.size() != r.threshold.size() || r.treat_all.size() != r.threshold.size())
    w.fail("threshold, net_benefit and treat_all must have the same length");
  return r;
}

SeedRow read_seed_row(const json& e, const JsonPath& w) {
  auto r = keyed_row<SeedRow>(e, w);
  r.seeds = static_cast<int>(integer_field(e, "seeds", w));
  const json& all = field(e, "metrics", w);
  if (!all.is_object()) w.at("metrics").fail("must be an object");
  for (const auto& [name, m] : all.items()) {
    const JsonPath mw = w.at("metrics").at(name);
    r.metrics[name] = {number_field(m, "mean", mw), number_field(m, "sd", mw), numbers_field(m, "values", mw)};
  }
  return r;
}

template <typename Row, typename Read>
std::vector<Row> read_rows(const json& top, const std::string& key, const JsonPath& w, Read read) {
  std::vector<Row> rows;
  const json& a = array_field(top, key, w);
  for (std::size_t i = 0; i < a.size(); ++i) rows.push_back(read(a[i], w.at(key).at(i)));
  return rows;
}

}  // namespace

std::map<std::string, double> MetricsRow::scalars() const {
  std::map<std::string, double> s;
  auto put = [&s](const char* name, double v) {
    if (std::isfinite(v)) s[name] = v;
  };
  put("auc", auc);
  if (at_threshold) {
    put("sensitivity", at_threshold->sensitivity);
    put("specificity", at_threshold->specificity);
    put("ppv", at_threshold->ppv);
    put("npv", at_threshold->npv);
  }
  if (calibration) {
    put("brier", calibration->brier);
    put("calibration_slope", calibration->slope);
    put("calibration_intercept", calibration->intercept);
  }
  if (c_index) put("c_index", c_index->value);
  return s;
}

const MetricsRow* Metrics::find(const std::string& variant, const std::string& cohort) const {
  for (const auto& m : metrics)
    if (m.variant == variant && m.cohort == cohort) return &m;
  return nullptr;
}

json to_json(const Metrics& m) {
  json j;
  j["format"] = Metrics::kFormat;
  j["reference_variant"] = m.reference_variant;
  j["variants"] = m.variants;
  j["cohorts"] = m.cohorts;
  j["metrics"] = array_of(m.metrics);
  j["survival"] = array_of(m.survival);
  j["calibration"] = array_of(m.calibration);
  j["decision_curve"] = array_of(m.decision_curve);
  if (m.seeds) j["seeds"] = array_of(*m.seeds);
  return j;
}

void write_metrics(const fs::path& file, const Metrics& m) { write_file_atomic(file, to_json(m).dump(2)); }

Metrics read_metrics(const fs::path& file) {
  const JsonPath top{file.string(), ""};
  const json j = read_json_format(file, Metrics::kFormat);
  Metrics m;
  m.reference_variant = string_field(j, "reference_variant", top);
  m.variants = strings_field(j, "variants", top);
  m.cohorts = strings_field(j, "cohorts", top);
  m.metrics = read_rows<MetricsRow>(j, "metrics", top, read_metrics_row);
  m.survival = read_rows<SurvivalRow>(j, "survival", top, read_survival_row);
  m.calibration = read_rows<CalibrationRow>(j, "calibration", top, read_calibration_row);
  m.decision_curve = read_rows<DecisionCurveRow>(j, "decision_curve", top, read_decision_row);
  if (j.contains("seeds")) m.seeds = read_rows<SeedRow>(j, "seeds", top, read_seed_row);
  return m;
}

// --- comparisons.csv -------------------------------------------------------------------------------

const std::vector<std::string> kComparisonColumns = {"variant", "reference", "cohort",  "auc", "auc_reference",
                                                     "diff",    "diff_lo",   "diff_hi", "p"};

void write_comparisons(const fs::path& file, const std::vector<Comparison>& rows) {
  std::ostringstream o;  // six significant digits: a summary table, the exact values are in metrics.json
  o << csv_header(kComparisonColumns);
  for (const auto& c : rows)
    o << c.variant << ',' << c.reference << ',' << c.cohort << ',' << c.auc << ',' << c.auc_reference << ',' << c.diff
      << ',' << c.diff_lo << ',' << c.diff_hi << ',' << c.p << '\n';
  write_file_atomic(file, o.str());
}

std::vector<Comparison> read_comparisons(const fs::path& file) {
  return read_csv_rows<Comparison>(file, kComparisonColumns, [](Comparison& c, const io::Table& t, std::size_t r) {
    c.variant = t.cell(r, 0);
    c.reference = t.cell(r, 1);
    c.cohort = cell_choice(t, r, 2, kCohortNames);
    double* v[] = {&c.auc, &c.auc_reference, &c.diff, &c.diff_lo, &c.diff_hi, &c.p};
    for (std::size_t k = 0; k < 6; ++k) *v[k] = cell_number_or_nan(t, r, 3 + k);
  });
}

}  // namespace cervirisk::runfolder
