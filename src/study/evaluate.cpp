// The evaluate step: every statistic of metrics.json from the predictions (docs/stats.md names the
// R function each one matches). A statistic that cannot be computed on a cohort (one class, too
// few events) is left out with a warning; the others are still written.
//
// Binary statistics use the patients with a binary label (the horizon endpoint leaves out those
// censored before the horizon: counted in "excluded"); survival statistics use the patients with
// a follow-up time (the others are counted in "missing_time").
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "models/arch.h"
#include "runfolder/layout.h"
#include "runfolder/model_info.h"
#include "stats/calibration.h"
#include "stats/cindex.h"
#include "stats/cox.h"
#include "stats/dca.h"
#include "stats/delong.h"
#include "stats/km.h"
#include "stats/logrank.h"
#include "stats/risk_group.h"
#include "stats/roc.h"
#include "study/evaluate_detail.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

namespace {

runfolder::KmCurve km_curve(const std::string& label, const std::vector<double>& t, const std::vector<int>& e) {
  runfolder::KmCurve g{label, {0}, {1}, {1}, {1}, {}, t};
  if (t.empty()) return g;
  for (const auto& r : stats::kaplan_meier(t, e).rows) {
    if (r.n_event > 0) {
      g.time.push_back(r.time);
      g.surv.push_back(r.surv);
      g.lower.push_back(std::isfinite(r.lower) ? r.lower : r.surv);
      g.upper.push_back(std::isfinite(r.upper) ? r.upper : r.surv);
    }
    if (r.n_censor > 0) g.censor_times.push_back(r.time);
  }
  return g;
}

// Brier, calibration slope and intercept, the decile curve and Hosmer-Lemeshow of `prob`.
struct CalibrationResult {
  std::optional<runfolder::MetricsRow::Calibration> fit;
  std::optional<std::vector<double>> predicted, observed;
  std::optional<double> hl_p;
};

CalibrationResult calibration(const std::vector<double>& prob, const std::vector<int>& y, const std::string& what) {
  CalibrationResult out;
  std::vector<double> p = prob;
  for (auto& x : p) x = std::clamp(x, 1e-6, 1 - 1e-6);
  try {
    const auto b = stats::calibration_brier(p, y);
    const auto fit = stats::calibration_logistic(p, y);
    out.fit = runfolder::MetricsRow::Calibration{b.brier, fit.slope, fit.intercept};
    std::vector<double> pred, obs;
    for (const auto& bin : stats::calibration_curve(p, y, 10, stats::BinStrategy::kQuantile)) {
      pred.push_back(bin.mean_pred);
      obs.push_back(bin.frac_pos);
    }
    out.predicted = pred;
    out.observed = obs;
    out.hl_p = stats::hosmer_lemeshow(p, y).p;
  } catch (const Error& err) {
    log::warn("calibration {}: {}", what, err.what());
  }
  return out;
}

std::vector<double> net_benefit(const std::vector<double>& prob, const std::vector<int>& y, std::vector<double>* grid,
                                std::vector<double>* treat_all) {
  std::vector<double> nb;
  for (const auto& r : stats::decision_curve(prob, y, stats::decision_curve_grid(0.01, 0.8, 0.01))) {
    if (grid) grid->push_back(r.threshold);
    if (treat_all) treat_all->push_back(r.net_benefit_all);
    nb.push_back(r.net_benefit_model);
  }
  return nb;
}

// Discrimination at the training threshold, calibration and the decision curve, each before
// and after recalibration where it differs.
void binary_metrics(const std::string& v, const std::string& cohort, const CohortPreds& c, runfolder::MetricsRow& e,
                    runfolder::Metrics& m) {
  const std::string what = v + " " + cohort;
  e.auc = stats::roc_auc(c.prob, c.label);
  try {  // DeLong needs >= 2 cases and >= 2 controls
    e.auc_ci = interval(stats::auc_delong(c.prob, c.label).ci);
  } catch (const Error& err) {
    log::warn("AUC CI {}: {}", what, err.what());
  }
  stats::OperatingPoint op;
  try {
    op = stats::roc_operating_point(c.prob, c.label, e.threshold);
  } catch (const Error& err) {
    log::warn("operating point {}: {}", what, err.what());
  }
  const auto& cp = op.ci_clopper_pearson;
  e.at_threshold = runfolder::AtThreshold{op.sensitivity,          op.specificity,          op.ppv,          op.npv,
                                          interval(cp.sensitivity), interval(cp.specificity), interval(cp.ppv),
                                          interval(cp.npv)};
  const CalibrationResult after = calibration(c.prob, c.label, what);
  const CalibrationResult before = calibration(c.prob_raw, c.label, what + " (before recalibration)");
  e.calibration = after.fit;
  e.calibration_raw = before.fit;
  m.calibration.push_back({v, cohort, after.fit, after.predicted, after.observed, after.hl_p, before.fit,
                           before.predicted, before.observed, before.hl_p});
  runfolder::DecisionCurveRow dc{v, cohort, {}, {}, {}, {}};
  dc.net_benefit = net_benefit(c.prob, c.label, &dc.threshold, &dc.treat_all);
  dc.net_benefit_raw = net_benefit(c.prob_raw, c.label, nullptr, nullptr);
  m.decision_curve.push_back(dc);
}

// The paired DeLong test against the reference variant.
void compare(const std::string& v, const std::string& ref, const std::string& cohort, const CohortPreds& c,
             const CohortPreds& r, runfolder::MetricsRow& e, std::vector<runfolder::Comparison>& out) {
  try {
    const auto pr = stats::auc_delong_paired({c.prob, r.prob}, c.label);
    e.delong_p = pr.pairs.at(0).p;
    const auto& d = pr.pairs[0];
    out.push_back({v, ref, cohort, pr.aucs[0].auc, pr.aucs[1].auc, d.diff, d.diff_ci.lower, d.diff_ci.upper, d.p});
  } catch (const Error& err) {
    log::warn("paired DeLong {} {}: {}", v, cohort, err.what());
  }
}

// Holm's adjustment of the paired DeLong p-values of one cohort (the family: every variant
// compared with the reference on that cohort).
void holm(std::vector<runfolder::MetricsRow>& rows, const std::string& cohort) {
  std::vector<double> p;
  std::vector<runfolder::MetricsRow*> with;
  for (auto& r : rows)
    if (r.cohort == cohort && r.delong_p) {
      p.push_back(*r.delong_p);
      with.push_back(&r);
    }
  const auto adj = stats::p_adjust_holm(p);
  for (std::size_t i = 0; i < with.size(); ++i) with[i]->delong_p_holm = adj[i];
}

// Harrell's C of the risk score, and the risk groups at the training cut-point.
void survival_metrics(const StudySettings& settings, const std::string& v, const std::string& cohort,
                      const CohortPreds& c, double cut, runfolder::MetricsRow& e, runfolder::Metrics& m) {
  try {
    const auto hc = stats::harrell_c(c.time, c.event, c.risk);
    e.c_index = runfolder::MetricsRow::CIndex{hc.c, {hc.c - 1.96 * hc.se, hc.c + 1.96 * hc.se}};
  } catch (const Error& err) {
    log::warn("c-index {} {}: {}", v, cohort, err.what());
  }
  std::vector<int> grp(c.risk.size());
  std::vector<double> tl, th;
  std::vector<int> el, eh;
  for (std::size_t i = 0; i < c.risk.size(); ++i) {
    grp[i] = stats::is_high_risk(c.risk[i], cut) ? 1 : 0;
    (grp[i] ? th : tl).push_back(c.time[i]);
    (grp[i] ? eh : el).push_back(c.event[i]);
  }
  runfolder::SurvivalRow s;
  s.variant = v;
  s.cohort = cohort;
  s.cutpoint = cut;
  s.groups = {km_curve("Low risk", tl, el), km_curve("High risk", th, eh)};
  s.at_times = km_at_times({{"Low risk", &tl, &el}, {"High risk", &th, &eh}}, settings.km_times);
  if (!tl.empty() && !th.empty()) {
    try {
      s.logrank_p = stats::logrank(c.time, c.event, grp).p;
      Eigen::MatrixXd x(static_cast<Eigen::Index>(grp.size()), 1);
      for (std::size_t i = 0; i < grp.size(); ++i) x(static_cast<Eigen::Index>(i), 0) = grp[i];
      const auto cox = stats::cox_ph(c.time, c.event, x, {"high"});
      s.hr = cox.hr[0];
      s.hr_ci = interval(cox.hr_ci[0]);
    } catch (const Error& err) {
      log::warn("survival {} {}: {}", v, cohort, err.what());
    }
  }
  if (cohort == runfolder::kCohortNames[0] && settings.cutpoint == CutpointMethod::kMaxstat)
    s.maxstat_p = maxstat_corrected_p(c, v);
  m.survival.push_back(s);
}

runfolder::MetricsRow variant_row(const StudySettings& settings, const std::string& v, const std::string& cohort,
                                  const VariantPredictions& vp, const CohortPreds& all, const CohortPreds& bin,
                                  bool bootstrap, runfolder::Metrics& m) {
  const CohortPreds surv = all.timed();
  runfolder::MetricsRow e;
  e.variant = v;
  e.cohort = cohort;
  e.n = static_cast<int>(bin.prob.size());
  e.events = std::accumulate(bin.label.begin(), bin.label.end(), 0);
  e.excluded = static_cast<int>(all.prob.size() - bin.prob.size());
  e.missing_time = static_cast<int>(all.prob.size() - surv.prob.size());
  e.threshold = vp.threshold;
  if (e.events > 0 && e.events < e.n) binary_metrics(v, cohort, bin, e, m);
  if (std::accumulate(surv.event.begin(), surv.event.end(), 0) > 0) {
    survival_metrics(settings, v, cohort, surv, vp.cutpoint, e, m);
    e.td_auc = td_auc_rows(settings, surv, settings.tdauc_horizons, bootstrap, v + "/" + cohort);
    if (settings.endpoint == Endpoint::kHorizon) {
      const auto h = td_auc_rows(settings, surv, {settings.horizon_months}, bootstrap, v + "/" + cohort + "/ipcw");
      if (!h.empty()) e.auc_ipcw = h[0];
    }
  }
  if (bootstrap && settings.bootstrap > 0) e.bootstrap = bootstrap_cis(settings, bin, surv, e, v + "/" + cohort);
  return e;
}

}  // namespace

runfolder::Interval interval(const stats::Interval& i) { return {i.lower, i.upper}; }

CohortPreds CohortPreds::labelled() const { return subset([this](std::size_t i) { return label[i] >= 0; }); }
CohortPreds CohortPreds::timed() const { return subset([this](std::size_t i) { return time[i] >= 0; }); }

CohortPreds CohortPreds::subset(const std::function<bool(std::size_t)>& keep) const {
  CohortPreds s;
  for (std::size_t i = 0; i < prob.size(); ++i)
    if (keep(i)) {
      s.prob.push_back(prob[i]);
      s.prob_raw.push_back(prob_raw[i]);
      s.logit.push_back(logit[i]);
      s.risk.push_back(risk[i]);
      s.time.push_back(time[i]);
      s.label.push_back(label[i]);
      s.event.push_back(event[i]);
      s.center.push_back(center[i]);
    }
  return s;
}

std::map<std::string, CohortPreds> by_variant(const std::vector<std::string>& variants,
                                              const std::map<std::string, VariantPredictions>& preds,
                                              const std::string& cohort) {
  std::map<std::string, CohortPreds> by;
  for (const auto& v : variants)
    for (const auto& r : preds.at(v).rows)
      if (r.cohort == cohort) {
        auto& c = by[v];
        c.prob.push_back(r.probability);
        c.prob_raw.push_back(sigmoid(r.logit));
        c.logit.push_back(r.logit);
        c.risk.push_back(r.risk);
        c.time.push_back(r.time_months);
        c.label.push_back(r.label);
        c.event.push_back(r.event);
        c.center.push_back(r.center);
      }
  return by;
}

runfolder::Metrics compute_metrics(const StudySettings& settings, const std::vector<std::string>& variants,
                                   const std::map<std::string, VariantPredictions>& preds,
                                   std::vector<runfolder::Comparison>* comparisons, bool bootstrap) {
  runfolder::Metrics m;
  const std::string final_variant = models::variant_name(models::kFinalVariant);
  m.reference_variant =
      std::find(variants.begin(), variants.end(), final_variant) != variants.end() ? final_variant : variants.back();
  m.variants = variants;
  m.design = design_of(settings);
  std::vector<runfolder::Comparison> cmp;
  for (const auto& cohort : runfolder::kCohortNames) {
    auto by = by_variant(variants, preds, cohort);
    // The study's three cohorts are always listed; a test set only when the cohort has one.
    if (by.empty() && data::is_test_cohort(cohort)) continue;
    m.cohorts.push_back(cohort);
    if (by.empty()) continue;
    std::map<std::string, CohortPreds> bin;  // the patients with a binary label, per variant
    for (const auto& v : variants) bin[v] = by[v].labelled();
    for (const auto& v : variants) {
      auto e = variant_row(settings, v, cohort, preds.at(v), by[v], bin[v], bootstrap, m);
      if (v != m.reference_variant && e.events > 0 && e.events < e.n)
        compare(v, m.reference_variant, cohort, bin[v], bin[m.reference_variant], e, cmp);
      if (v != kClinicalVariant && bin.count(kClinicalVariant))
        e.incremental = incremental_value(settings, bin[kClinicalVariant], bin[v], bootstrap, v + "/" + cohort);
      m.metrics.push_back(e);
      append_centers(v, cohort, bin[v], m.centers);
    }
    holm(m.metrics, cohort);
    append_follow_up(settings, cohort, by.begin()->second, m.follow_up);
  }
  m.warnings = design_warnings(settings, m);
  for (const auto& v : variants)
    if (auto c = selection_check(v, preds.at(v).selection)) m.selection_check.push_back(*c);
  if (comparisons) *comparisons = std::move(cmp);
  return m;
}

std::vector<runfolder::SeedRow> seed_summary(const std::vector<runfolder::Metrics>& per_seed, int seeds) {
  std::map<std::string, std::map<std::string, std::vector<double>>> values;  // variant/cohort -> metric -> seeds
  for (const auto& m : per_seed)
    for (const auto& e : m.metrics)
      for (const auto& [name, v] : e.scalars()) values[e.variant + "/" + e.cohort][name].push_back(v);
  std::vector<runfolder::SeedRow> rows;
  for (const auto& [key, by_metric] : values) {
    const auto slash = key.find('/');
    runfolder::SeedRow r{key.substr(0, slash), key.substr(slash + 1), seeds, {}};
    // A metric undefined for some seed (e.g. one class) is summarised over the seeds that have it.
    for (const auto& [name, a] : by_metric) {
      const double mean = std::accumulate(a.begin(), a.end(), 0.0) / static_cast<double>(a.size());
      double var = 0;
      for (double x : a) var += (x - mean) * (x - mean);
      r.metrics[name] = {mean, a.size() > 1 ? std::sqrt(var / static_cast<double>(a.size() - 1)) : 0.0, a};
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void evaluate_run(const fs::path& run) {
  std::vector<std::string> variants;
  std::map<std::string, VariantPredictions> preds;
  for (const auto& v : models::variant_names()) {
    const fs::path f = runfolder::predictions_file(run, v);
    if (!fs::exists(f)) continue;
    const auto info = runfolder::read_model_info(runfolder::model_dir(run, v) / "model.json");
    variants.push_back(v);
    preds[v] = {runfolder::read_predictions(f), info.threshold, info.cutpoint, {}};
    auto& sel = preds[v].selection;
    sel.mode = info.selection.mode;
    sel.chosen_epoch = info.best_epoch;
    const fs::path trace = sel.mode == "internal" ? runfolder::model_dir(run, v) / "history.csv"
                                                  : runfolder::internal_trace_file(run, v);
    if (fs::exists(trace)) sel.internal = runfolder::read_history(trace);
  }
  if (variants.empty()) throw InputError((run / "predictions").string() + ": no predictions/<variant>.csv");
  // The run's own resolved configuration: endpoint, horizon, bootstrap, horizons, km times, design.
  if (!fs::exists(run / "config.toml"))
    throw InputError((run / "config.toml").string() + ": missing (the study writes it; evaluate reads the run's design from it)");
  const StudySettings settings = StudySettings::from_config(config::Config::load(run / "config.toml"));
  std::vector<runfolder::Comparison> comparisons;
  runfolder::write_metrics(run / "metrics.json", compute_metrics(settings, variants, preds, &comparisons, true));
  runfolder::write_comparisons(run / "comparisons.csv", comparisons);
}

}  // namespace cervirisk::study
