#include "runfolder/metrics.h"

#include <algorithm>
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

json to_json(const MetricsRow::Calibration& c) {
  return {{"brier", c.brier}, {"slope", c.slope}, {"intercept", c.intercept}};
}

json to_json(const MetricsRow::TdAuc& t) {
  return {{"horizon", t.horizon}, {"auc", t.auc}, {"ci", interval(t.ci)}, {"cases", t.cases}, {"controls", t.controls}};
}

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
  e["excluded"] = r.excluded;
  e["missing_time"] = r.missing_time;
  if (r.calibration_raw) e["calibration_raw"] = to_json(*r.calibration_raw);
  if (r.delong_p_holm) e["delong_p_holm"] = *r.delong_p_holm;
  if (const auto& b = r.bootstrap)
    e["bootstrap"] = {{"replicates", b->replicates},        {"sensitivity", interval(b->sensitivity)},
                      {"specificity", interval(b->specificity)}, {"ppv", interval(b->ppv)},
                      {"npv", interval(b->npv)},                {"c_index", interval(b->c_index)},
                      {"calibration_slope", interval(b->calibration_slope)}};
  e["td_auc"] = json::array();
  for (const auto& t : r.td_auc) e["td_auc"].push_back(to_json(t));
  if (r.auc_ipcw) e["auc_ipcw"] = to_json(*r.auc_ipcw);
  if (const auto& i = r.incremental)
    e["incremental"] = {{"over", i->over},
                        {"nri", i->nri},
                        {"nri_events", i->nri_events},
                        {"nri_nonevents", i->nri_nonevents},
                        {"nri_ci", interval(i->nri_ci)},
                        {"idi", i->idi},
                        {"idi_ci", interval(i->idi_ci)},
                        {"lr_chisq", i->lr_chisq},
                        {"lr_df", i->lr_df},
                        {"lr_p", i->lr_p}};
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
  j["at_times"] = json::array();
  for (const auto& a : s.at_times)
    j["at_times"].push_back(
        {{"group", a.group}, {"time", a.time}, {"n_risk", a.n_risk}, {"surv", a.surv}, {"ci", interval(a.ci)}});
  if (s.maxstat_p) j["maxstat_p"] = *s.maxstat_p;
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
  if (c.fit_raw) j["fit_raw"] = to_json(*c.fit_raw);
  if (c.predicted_raw) j["predicted_raw"] = *c.predicted_raw;
  if (c.observed_raw) j["observed_raw"] = *c.observed_raw;
  if (c.hl_p_raw) j["hl_p_raw"] = *c.hl_p_raw;
  return j;
}

json to_json(const DecisionCurveRow& d) {
  json j = {{"variant", d.variant},
            {"cohort", d.cohort},
            {"threshold", d.threshold},
            {"net_benefit", d.net_benefit},
            {"treat_all", d.treat_all}};
  if (!d.net_benefit_raw.empty()) j["net_benefit_raw"] = d.net_benefit_raw;
  return j;
}

json to_json(const CenterRow& c) {
  json j = {{"variant", c.variant}, {"cohort", c.cohort}, {"center", c.center},
            {"n", c.n},             {"events", c.events}, {"auc", c.auc}};
  if (c.auc_ci) j["auc_ci"] = interval(*c.auc_ci);
  if (c.citl) j["citl"] = *c.citl;
  return j;
}

json to_json(const FollowUpRow& f) {
  return {{"cohort", f.cohort}, {"center", f.center}, {"n", f.n}, {"events", f.events}, {"missing_time", f.missing_time},
          {"median", f.median}, {"ci", interval(f.ci)}, {"followed_at_horizon", f.followed_at_horizon}};
}

json to_json(const SelectionCheck& c) {
  return {{"variant", c.variant},
          {"selection", c.selection},
          {"chosen_epoch", c.chosen_epoch},
          {"internal_auc_chosen", c.internal_auc_chosen},
          {"internal_best_epoch", c.internal_best_epoch},
          {"internal_auc_best", c.internal_auc_best},
          {"epochs", c.epochs}};
}

json to_json(const Design& d) {
  return {{"endpoint", d.endpoint},
          {"horizon_months", d.horizon_months},
          {"selection", d.selection},
          {"validation_fraction", d.validation_fraction},
          {"folds", d.folds},
          {"loss", d.loss},
          {"class_balance", d.class_balance},
          {"recalibration", d.recalibration},
          {"threshold", d.threshold},
          {"cutpoint", d.cutpoint},
          {"bootstrap", d.bootstrap},
          {"seeds", d.seeds},
          {"synthetic", d.synthetic},
          {"tdauc_horizons", d.tdauc_horizons},
          {"km_times", d.km_times}};
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

int int_field(const json& obj, const std::string& key, const JsonPath& w) {
  return static_cast<int>(integer_field(obj, key, w));
}

// An object member: FormatError naming the path unless it is a JSON object.
const json& object_field(const json& obj, const std::string& key, const JsonPath& w) {
  const json& v = field(obj, key, w);
  if (!v.is_object()) w.at(key).fail("must be an object, got " + v.dump());
  return v;
}

// A string that must be one of `choices`.
std::string choice_field(const json& obj, const std::string& key, const JsonPath& w,
                         const std::vector<std::string>& choices) {
  std::string v = string_field(obj, key, w);
  if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  w.at(key).fail("is '" + v + "', expected one of " + list);
}

MetricsRow::Calibration read_calibration_fit(const json& obj, const std::string& key, const JsonPath& w) {
  const json& c = object_field(obj, key, w);
  const JsonPath cw = w.at(key);
  return {number_field(c, "brier", cw), number_field(c, "slope", cw), number_field(c, "intercept", cw)};
}

MetricsRow::TdAuc read_td_auc(const json& t, const JsonPath& w) {
  if (!t.is_object()) w.fail("must be an object, got " + t.dump());
  MetricsRow::TdAuc a;
  a.horizon = number_field(t, "horizon", w);
  a.auc = number_field(t, "auc", w);
  a.ci = read_interval(t, "ci", w);
  a.cases = int_field(t, "cases", w);
  a.controls = int_field(t, "controls", w);
  return a;
}

MetricsRow::Bootstrap read_bootstrap(const json& b, const JsonPath& w) {
  MetricsRow::Bootstrap r;
  r.replicates = int_field(b, "replicates", w);
  r.sensitivity = read_interval(b, "sensitivity", w);
  r.specificity = read_interval(b, "specificity", w);
  r.ppv = read_interval(b, "ppv", w);
  r.npv = read_interval(b, "npv", w);
  r.c_index = read_interval(b, "c_index", w);
  r.calibration_slope = read_interval(b, "calibration_slope", w);
  return r;
}

MetricsRow::Incremental read_incremental(const json& i, const JsonPath& w) {
  MetricsRow::Incremental r;
  r.over = string_field(i, "over", w);
  r.nri = number_field(i, "nri", w);
  r.nri_events = number_field(i, "nri_events", w);
  r.nri_nonevents = number_field(i, "nri_nonevents", w);
  r.nri_ci = read_interval(i, "nri_ci", w);
  r.idi = number_field(i, "idi", w);
  r.idi_ci = read_interval(i, "idi_ci", w);
  r.lr_chisq = number_field(i, "lr_chisq", w);
  r.lr_df = int_field(i, "lr_df", w);
  r.lr_p = number_field(i, "lr_p", w);
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
  r.excluded = int_field(e, "excluded", w);
  r.missing_time = int_field(e, "missing_time", w);
  if (e.contains("calibration_raw")) r.calibration_raw = read_calibration_fit(e, "calibration_raw", w);
  r.delong_p_holm = optional_number(e, "delong_p_holm", w);
  if (e.contains("bootstrap")) r.bootstrap = read_bootstrap(object_field(e, "bootstrap", w), w.at("bootstrap"));
  const json& td = array_field(e, "td_auc", w);
  for (std::size_t i = 0; i < td.size(); ++i) r.td_auc.push_back(read_td_auc(td[i], w.at("td_auc").at(i)));
  if (e.contains("auc_ipcw")) r.auc_ipcw = read_td_auc(object_field(e, "auc_ipcw", w), w.at("auc_ipcw"));
  if (e.contains("incremental"))
    r.incremental = read_incremental(object_field(e, "incremental", w), w.at("incremental"));
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
  const json& at = array_field(s, "at_times", w);
  for (std::size_t i = 0; i < at.size(); ++i) {
    const JsonPath aw = w.at("at_times").at(i);
    r.at_times.push_back({string_field(at[i], "group", aw), number_field(at[i], "time", aw),
                          number_field(at[i], "n_risk", aw), number_field(at[i], "surv", aw),
                          read_interval(at[i], "ci", aw)});
  }
  r.maxstat_p = optional_number(s, "maxstat_p", w);
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
  if (c.contains("fit_raw")) r.fit_raw = read_calibration_fit(c, "fit_raw", w);
  r.predicted_raw = optional_numbers(c, "predicted_raw", w);
  r.observed_raw = optional_numbers(c, "observed_raw", w);
  if (r.predicted_raw.has_value() != r.observed_raw.has_value() ||
      (r.predicted_raw && r.predicted_raw->size() != r.observed_raw->size()))
    w.fail("predicted_raw and observed_raw must both be present with the same length");
  r.hl_p_raw = optional_number(c, "hl_p_raw", w);
  return r;
}

DecisionCurveRow read_decision_row(const json& d, const JsonPath& w) {
  auto r = keyed_row<DecisionCurveRow>(d, w);
  r.threshold = numbers_field(d, "threshold", w);
  r.net_benefit = numbers_field(d, "net_benefit", w);
  r.treat_all = numbers_field(d, "treat_all", w);
  if (r.net_benefit.size() != r.threshold.size() || r.treat_all.size() != r.threshold.size())
    w.fail("threshold, net_benefit and treat_all must have the same length");
  if (d.contains("net_benefit_raw")) {
    r.net_benefit_raw = numbers_field(d, "net_benefit_raw", w);
    if (r.net_benefit_raw.size() != r.threshold.size())
      w.at("net_benefit_raw").fail("must have the length of threshold (" + std::to_string(r.threshold.size()) + ")");
  }
  return r;
}

CenterRow read_center_row(const json& c, const JsonPath& w) {
  auto r = keyed_row<CenterRow>(c, w);
  r.center = string_field(c, "center", w);
  r.n = int_field(c, "n", w);
  r.events = int_field(c, "events", w);
  r.auc = number_field(c, "auc", w);
  if (c.contains("auc_ci")) r.auc_ci = read_interval(c, "auc_ci", w);
  r.citl = optional_number(c, "citl", w);
  return r;
}

FollowUpRow read_follow_up_row(const json& f, const JsonPath& w) {
  FollowUpRow r;
  r.cohort = string_field(f, "cohort", w);
  r.center = string_field(f, "center", w);
  r.n = int_field(f, "n", w);
  r.events = int_field(f, "events", w);
  r.missing_time = int_field(f, "missing_time", w);
  r.median = number_field(f, "median", w);
  r.ci = read_interval(f, "ci", w);
  r.followed_at_horizon = number_field(f, "followed_at_horizon", w);
  return r;
}

SelectionCheck read_selection_check(const json& c, const JsonPath& w) {
  SelectionCheck r;
  r.variant = string_field(c, "variant", w);
  r.selection = string_field(c, "selection", w);
  r.chosen_epoch = int_field(c, "chosen_epoch", w);
  r.internal_auc_chosen = number_field(c, "internal_auc_chosen", w);
  r.internal_best_epoch = int_field(c, "internal_best_epoch", w);
  r.internal_auc_best = number_field(c, "internal_auc_best", w);
  r.epochs = int_field(c, "epochs", w);
  return r;
}

Design read_design(const json& d, const JsonPath& w) {
  Design r;
  r.endpoint = choice_field(d, "endpoint", w, {"event", "horizon"});
  r.horizon_months = number_field(d, "horizon_months", w);
  r.selection = choice_field(d, "selection", w, {"split", "cv", "internal"});
  r.validation_fraction = number_field(d, "validation_fraction", w);
  r.folds = int_field(d, "folds", w);
  r.loss = string_field(d, "loss", w);
  r.class_balance = string_field(d, "class_balance", w);
  r.recalibration = string_field(d, "recalibration", w);
  r.threshold = string_field(d, "threshold", w);
  r.cutpoint = string_field(d, "cutpoint", w);
  r.bootstrap = int_field(d, "bootstrap", w);
  r.seeds = int_field(d, "seeds", w);
  r.synthetic = bool_field(d, "synthetic", w);
  r.tdauc_horizons = numbers_field(d, "tdauc_horizons", w);
  r.km_times = numbers_field(d, "km_times", w);
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
  if (m.design) j["design"] = to_json(*m.design);
  j["reference_variant"] = m.reference_variant;
  j["variants"] = m.variants;
  j["cohorts"] = m.cohorts;
  j["metrics"] = array_of(m.metrics);
  j["survival"] = array_of(m.survival);
  j["calibration"] = array_of(m.calibration);
  j["decision_curve"] = array_of(m.decision_curve);
  if (m.seeds) j["seeds"] = array_of(*m.seeds);
  j["centers"] = array_of(m.centers);
  j["follow_up"] = array_of(m.follow_up);
  j["warnings"] = m.warnings;
  if (!m.selection_check.empty()) j["selection_check"] = array_of(m.selection_check);
  return j;
}

void write_metrics(const fs::path& file, const Metrics& m) { write_file_atomic(file, to_json(m).dump(2)); }

Metrics read_metrics(const fs::path& file) {
  const JsonPath top{file.string(), ""};
  const json j = read_json_format(file, Metrics::kFormat);
  Metrics m;
  if (j.contains("design")) m.design = read_design(object_field(j, "design", top), top.at("design"));
  m.reference_variant = string_field(j, "reference_variant", top);
  m.variants = strings_field(j, "variants", top);
  m.cohorts = strings_field(j, "cohorts", top);
  m.metrics = read_rows<MetricsRow>(j, "metrics", top, read_metrics_row);
  m.survival = read_rows<SurvivalRow>(j, "survival", top, read_survival_row);
  m.calibration = read_rows<CalibrationRow>(j, "calibration", top, read_calibration_row);
  m.decision_curve = read_rows<DecisionCurveRow>(j, "decision_curve", top, read_decision_row);
  if (j.contains("seeds")) m.seeds = read_rows<SeedRow>(j, "seeds", top, read_seed_row);
  m.centers = read_rows<CenterRow>(j, "centers", top, read_center_row);
  m.follow_up = read_rows<FollowUpRow>(j, "follow_up", top, read_follow_up_row);
  m.warnings = strings_field(j, "warnings", top);
  if (j.contains("selection_check"))
    m.selection_check = read_rows<SelectionCheck>(j, "selection_check", top, read_selection_check);
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
