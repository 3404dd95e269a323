// The evaluate step: every statistic of metrics.json from the predictions (docs/stats.md names the
// R function each one matches). A statistic that cannot be computed on a cohort (one class, too
// few events) is left out with a warning; the others are still written.
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>

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
#include "stats/roc.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

namespace {

struct CohortPreds {
  std::vector<double> prob, risk, time;
  std::vector<int> label, event;
};

runfolder::Interval interval(const stats::Interval& i) { return {i.lower, i.upper}; }

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

// Discrimination at the training threshold, calibration and the decision curve (both classes).
void binary_metrics(const std::string& v, const std::string& cohort, const CohortPreds& c, runfolder::MetricsRow& e,
                    runfolder::Metrics& m) {
  e.auc = stats::roc_auc(c.prob, c.label);
  try {  // DeLong needs >= 2 cases and >= 2 controls
    e.auc_ci = interval(stats::auc_delong(c.prob, c.label).ci);
  } catch (const Error& err) {
    log::warn("AUC CI {} {}: {}", v, cohort, err.what());
  }
  stats::OperatingPoint op;
  try {
    op = stats::roc_operating_point(c.prob, c.label, e.threshold);
  } catch (const Error& err) {
    log::warn("operating point {} {}: {}", v, cohort, err.what());
  }
  const auto& cp = op.ci_clopper_pearson;
  e.at_threshold = runfolder::AtThreshold{op.sensitivity,          op.specificity,          op.ppv,          op.npv,
                                          interval(cp.sensitivity), interval(cp.specificity), interval(cp.ppv),
                                          interval(cp.npv)};
  std::vector<double> p = c.prob;
  for (auto& x : p) x = std::clamp(x, 1e-6, 1 - 1e-6);
  runfolder::CalibrationRow cal{v, cohort, {}, {}, {}, {}};
  try {
    const auto b = stats::calibration_brier(p, c.label);
    const auto fit = stats::calibration_logistic(p, c.label);
    e.calibration = runfolder::MetricsRow::Calibration{b.brier, fit.slope, fit.intercept};
    cal.fit = e.calibration;
    std::vector<double> pred, obs;
    for (const auto& bin : stats::calibration_curve(p, c.label, 10, stats::BinStrategy::kQuantile)) {
      pred.push_back(bin.mean_pred);
      obs.push_back(bin.frac_pos);
    }
    cal.predicted = pred;
    cal.observed = obs;
    cal.hl_p = stats::hosmer_lemeshow(p, c.label).p;
  } catch (const Error& err) {
    log::warn("calibration {} {}: {}", v, cohort, err.what());
  }
  m.calibration.push_back(cal);
  runfolder::DecisionCurveRow dc{v, cohort, {}, {}, {}};
  for (const auto& r : stats::decision_curve(c.prob, c.label, stats::decision_curve_grid(0.01, 0.8, 0.01))) {
    dc.threshold.push_back(r.threshold);
    dc.net_benefit.push_back(r.net_benefit_model);
    dc.treat_all.push_back(r.net_benefit_all);
  }
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

// Harrell's C of the risk score, and the risk groups at the training cut-point.
void survival_metrics(const std::string& v, const std::string& cohort, const CohortPreds& c, double cut,
                      runfolder::MetricsRow& e, runfolder::Metrics& m) {
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
    grp[i] = c.risk[i] >= cut ? 1 : 0;
    (grp[i] ? th : tl).push_back(c.time[i]);
    (grp[i] ? eh : el).push_back(c.event[i]);
  }
  runfolder::SurvivalRow s;
  s.variant = v;
  s.cohort = cohort;
  s.cutpoint = cut;
  s.groups = {km_curve("Low risk", tl, el), km_curve("High risk", th, eh)};
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
  m.survival.push_back(s);
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
        c.risk.push_back(r.risk);
        c.time.push_back(r.time_months);
        c.label.push_back(r.label);
        c.event.push_back(r.event);
      }
  return by;
}

}  // namespace

runfolder::Metrics compute_metrics(const std::vector<std::string>& variants,
                                   const std::map<std::string, VariantPredictions>& preds,
                                   std::vector<runfolder::Comparison>* comparisons) {
  runfolder::Metrics m;
  const std::string final_variant = models::variant_name(models::kFinalVariant);
  m.reference_variant =
      std::find(variants.begin(), variants.end(), final_variant) != variants.end() ? final_variant : variants.back();
  m.variants = variants;
  m.cohorts = runfolder::kCohortNames;
  std::vector<runfolder::Comparison> cmp;
  for (const auto& cohort : runfolder::kCohortNames) {
    auto by = by_variant(variants, preds, cohort);
    if (by.empty()) continue;
    for (const auto& v : variants) {
      const auto& c = by[v];
      runfolder::MetricsRow e;
      e.variant = v;
      e.cohort = cohort;
      e.n = static_cast<int>(c.prob.size());
      e.events = std::accumulate(c.label.begin(), c.label.end(), 0);
      e.threshold = preds.at(v).threshold;
      if (e.events > 0 && e.events < e.n) {
        binary_metrics(v, cohort, c, e, m);
        if (v != m.reference_variant) compare(v, m.reference_variant, cohort, c, by[m.reference_variant], e, cmp);
      }
      if (std::accumulate(c.event.begin(), c.event.end(), 0) > 0)
        survival_metrics(v, cohort, c, preds.at(v).cutpoint, e, m);
      m.metrics.push_back(e);
    }
  }
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
    preds[v] = {runfolder::read_predictions(f), info.threshold, info.cutpoint};
  }
  if (variants.empty()) throw InputError((run / "predictions").string() + ": no predictions/<variant>.csv");
  std::vector<runfolder::Comparison> comparisons;
  runfolder::write_metrics(run / "metrics.json", compute_metrics(variants, preds, &comparisons));
  runfolder::write_comparisons(run / "comparisons.csv", comparisons);
}

}  // namespace cervirisk::study
