// The validation statistics a reviewer asks for (docs/stats.md, docs/study.md "Honest
// validation"): bootstrap intervals, time-dependent AUC, Kaplan-Meier at fixed times, the
// corrected maxstat p-value, per-centre subgroups, follow-up, incremental value over the
// clinical model, and the warnings the report repeats.
#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "stats/bootstrap.h"
#include "stats/calibration.h"
#include "stats/cindex.h"
#include "stats/cutpoint.h"
#include "stats/delong.h"
#include "stats/followup.h"
#include "stats/incremental.h"
#include "stats/km.h"
#include "stats/roc.h"
#include "stats/tdauc.h"
#include "study/evaluate_detail.h"

namespace cervirisk::study {

namespace {

using Rows = std::vector<std::size_t>;

template <typename T>
std::vector<T> pick(const std::vector<T>& v, const Rows& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (std::size_t r : rows) out.push_back(v[r]);
  return out;
}

stats::BootstrapOptions boot_options(const StudySettings& settings, const std::string& stream) {
  stats::BootstrapOptions o;
  o.replicates = settings.bootstrap;
  o.seed = derive_seed(settings.seed, "bootstrap/" + stream);
  o.threads = 1;  // the study already uses the cores; one thread keeps the run's timing predictable
  return o;
}

// The percentile interval of `statistic`, or NaN ends (with a warning) when it cannot be had.
runfolder::Interval boot(const StudySettings& settings, std::size_t n, const std::vector<int>& strata,
                         const stats::BootstrapStatistic& statistic, const std::string& stream) {
  try {
    return interval(stats::bootstrap_ci(n, strata, statistic, boot_options(settings, stream)).ci);
  } catch (const Error& e) {
    log::warn("bootstrap {}: {}", stream, e.what());
    return {};
  }
}

double clamp_p(double p) { return std::clamp(p, 1e-6, 1 - 1e-6); }

}  // namespace

std::vector<runfolder::SurvivalRow::AtTime> km_at_times(const std::vector<KmGroup>& groups,
                                                        const std::vector<double>& times) {
  std::vector<runfolder::SurvivalRow::AtTime> out;
  for (const auto& g : groups) {
    if (g.time->empty()) continue;
    try {
      const auto fit = stats::kaplan_meier(*g.time, *g.event);
      for (const auto& r : stats::kaplan_meier_at(fit, times))
        out.push_back({g.label, r.time, r.n_risk, r.surv, {r.lower, r.upper}});
    } catch (const Error& e) {
      log::warn("Kaplan-Meier at times ({}): {}", g.label, e.what());
    }
  }
  return out;
}

std::vector<runfolder::MetricsRow::TdAuc> td_auc_rows(const StudySettings& settings, const CohortPreds& surv,
                                                      const std::vector<double>& horizons, bool bootstrap,
                                                      const std::string& stream) {
  std::vector<runfolder::MetricsRow::TdAuc> out;
  if (horizons.empty()) return out;
  std::vector<stats::TdAuc> est;
  try {
    est = stats::td_auc(surv.time, surv.event, surv.risk, horizons);
  } catch (const Error& e) {
    log::warn("time-dependent AUC {}: {}", stream, e.what());
    return out;
  }
  for (std::size_t h = 0; h < est.size(); ++h) {
    if (stats::is_na(est[h].auc)) continue;
    runfolder::MetricsRow::TdAuc row{est[h].t, est[h].auc, {}, static_cast<int>(est[h].n_cases),
                                     static_cast<int>(est[h].n_controls)};
    if (bootstrap && settings.bootstrap > 0) {
      const double t = est[h].t;
      row.ci = boot(settings, surv.time.size(), surv.event,
                    [&](const Rows& r) {
                      return stats::td_auc(pick(surv.time, r), pick(surv.event, r), pick(surv.risk, r), {t})[0].auc;
                    },
                    fmt::format("{}/tdauc/{}", stream, t));
    }
    out.push_back(row);
  }
  return out;
}

runfolder::MetricsRow::Bootstrap bootstrap_cis(const StudySettings& settings, const CohortPreds& bin,
                                               const CohortPreds& surv, const runfolder::MetricsRow& row,
                                               const std::string& stream) {
  runfolder::MetricsRow::Bootstrap b;
  b.replicates = settings.bootstrap;
  if (row.events > 0 && row.events < row.n) {
    const double thr = row.threshold;
    auto op = [&](double stats::OperatingPoint::*field) {
      return [&bin, thr, field](const Rows& r) {
        return stats::roc_operating_point(pick(bin.prob, r), pick(bin.label, r), thr).*field;
      };
    };
    b.sensitivity = boot(settings, bin.prob.size(), bin.label, op(&stats::OperatingPoint::sensitivity), stream + "/se");
    b.specificity = boot(settings, bin.prob.size(), bin.label, op(&stats::OperatingPoint::specificity), stream + "/sp");
    b.ppv = boot(settings, bin.prob.size(), bin.label, op(&stats::OperatingPoint::ppv), stream + "/ppv");
    b.npv = boot(settings, bin.prob.size(), bin.label, op(&stats::OperatingPoint::npv), stream + "/npv");
    b.calibration_slope = boot(settings, bin.prob.size(), bin.label,
                               [&](const Rows& r) {
                                 auto p = pick(bin.prob, r);
                                 for (auto& x : p) x = clamp_p(x);
                                 return stats::calibration_logistic(p, pick(bin.label, r)).slope;
                               },
                               stream + "/slope");
  }
  if (std::accumulate(surv.event.begin(), surv.event.end(), 0) > 0)
    b.c_index = boot(settings, surv.time.size(), surv.event,
                     [&](const Rows& r) { return stats::harrell_c(pick(surv.time, r), pick(surv.event, r), pick(surv.risk, r)).c; },
                     stream + "/cindex");
  return b;
}

std::optional<double> maxstat_corrected_p(const CohortPreds& surv, const std::string& variant) {
  try {
    const double p = stats::cutpoint_maxstat(surv.time, surv.event, surv.risk).p_lau94;
    if (!stats::is_na(p)) return std::min(1.0, p);  // Lau94 is an upper bound: it may exceed 1
  } catch (const Error& e) {
    log::warn("maxstat p {}: {}", variant, e.what());
  }
  return std::nullopt;
}

std::optional<runfolder::MetricsRow::Incremental> incremental_value(const StudySettings& settings,
                                                                    const CohortPreds& clinical,
                                                                    const CohortPreds& variant, bool bootstrap,
                                                                    const std::string& stream) {
  const auto& y = variant.label;
  const int events = std::accumulate(y.begin(), y.end(), 0);
  if (y.size() != clinical.label.size() || events < 2 || events > static_cast<int>(y.size()) - 2) return std::nullopt;
  runfolder::MetricsRow::Incremental inc;
  inc.over = kClinicalVariant;
  try {
    const auto nri = stats::nri_continuous(clinical.prob, variant.prob, y);
    inc.nri = nri.nri;
    inc.nri_events = nri.nri_events;
    inc.nri_nonevents = nri.nri_nonevents;
    inc.idi = stats::idi(clinical.prob, variant.prob, y).idi;
  } catch (const Error& e) {
    log::warn("NRI/IDI {}: {}", stream, e.what());
    return std::nullopt;
  }
  if (bootstrap && settings.bootstrap > 0) {
    inc.nri_ci = boot(settings, y.size(), y,
                      [&](const Rows& r) {
                        return stats::nri_continuous(pick(clinical.prob, r), pick(variant.prob, r), pick(y, r)).nri;
                      },
                      stream + "/nri");
    inc.idi_ci = boot(settings, y.size(), y,
                      [&](const Rows& r) { return stats::idi(pick(clinical.prob, r), pick(variant.prob, r), pick(y, r)).idi; },
                      stream + "/idi");
  }
  try {
    const auto n = static_cast<Eigen::Index>(y.size());
    Eigen::MatrixXd base(n, 1), added(n, 1);
    for (Eigen::Index i = 0; i < n; ++i) {
      base(i, 0) = clinical.logit[static_cast<std::size_t>(i)];
      added(i, 0) = variant.logit[static_cast<std::size_t>(i)];
    }
    const auto lr = stats::lr_test_nested_logistic(base, added, y);
    inc.lr_chisq = lr.chisq;
    inc.lr_df = lr.df;
    inc.lr_p = lr.p;
  } catch (const Error& e) {
    log::warn("likelihood-ratio test {}: {}", stream, e.what());
  }
  return inc;
}

void append_centers(const std::string& variant, const std::string& cohort, const CohortPreds& bin,
                    std::vector<runfolder::CenterRow>& out) {
  const std::set<std::string> centers(bin.center.begin(), bin.center.end());
  for (const auto& c : centers) {
    const CohortPreds s = bin.subset([&](std::size_t i) { return bin.center[i] == c; });
    runfolder::CenterRow row;
    row.variant = variant;
    row.cohort = cohort;
    row.center = c;
    row.n = static_cast<int>(s.prob.size());
    row.events = std::accumulate(s.label.begin(), s.label.end(), 0);
    if (row.events > 0 && row.events < row.n) {
      row.auc = stats::roc_auc(s.prob, s.label);
      try {
        row.auc_ci = interval(stats::auc_delong(s.prob, s.label).ci);
      } catch (const Error&) {  // fewer than 2 of a class: the AUC without an interval
      }
      try {
        std::vector<double> p = s.prob;
        for (auto& x : p) x = clamp_p(x);
        row.citl = stats::calibration_logistic(p, s.label).intercept;
      } catch (const Error& e) {
        log::warn("calibration-in-the-large {} {} centre {}: {}", variant, cohort, c, e.what());
      }
    }
    out.push_back(row);
  }
}

namespace {
runfolder::FollowUpRow follow_up_row(const StudySettings& settings, const std::string& cohort, const std::string& center,
                                     const CohortPreds& all) {
  runfolder::FollowUpRow row;
  row.cohort = cohort;
  row.center = center;
  const CohortPreds s = all.timed();
  row.n = static_cast<int>(all.prob.size());
  row.missing_time = static_cast<int>(all.prob.size() - s.prob.size());
  row.events = std::accumulate(s.event.begin(), s.event.end(), 0);
  if (s.time.empty()) return row;
  try {
    const auto fu = stats::median_follow_up(s.time, s.event);
    row.median = fu.median;
    row.ci = interval(fu.median_ci);
    row.followed_at_horizon = stats::fraction_followed_beyond(s.time, s.event, settings.horizon_months);
  } catch (const Error& e) {
    log::warn("follow-up {} {}: {}", cohort, center, e.what());
  }
  return row;
}
}  // namespace

void append_follow_up(const StudySettings& settings, const std::string& cohort, const CohortPreds& all,
                      std::vector<runfolder::FollowUpRow>& out) {
  out.push_back(follow_up_row(settings, cohort, "", all));
  const std::set<std::string> centers(all.center.begin(), all.center.end());
  for (const auto& c : centers)
    out.push_back(follow_up_row(settings, cohort, c, all.subset([&](std::size_t i) { return all.center[i] == c; })));
}

std::optional<runfolder::SelectionCheck> selection_check(const std::string& variant, const SelectionTrace& trace) {
  if (trace.internal.empty() || trace.chosen_epoch < 0) return std::nullopt;
  runfolder::SelectionCheck c;
  c.variant = variant;
  c.selection = trace.mode;
  c.epochs = static_cast<int>(trace.internal.size());
  for (std::size_t e = 0; e < trace.internal.size(); ++e) {
    const auto& r = trace.internal[e];
    if (static_cast<std::int64_t>(r.epoch) == trace.chosen_epoch) {
      c.chosen_epoch = static_cast<int>(r.epoch);
      c.internal_auc_chosen = r.val_auc;
    }
    if (std::isfinite(r.val_auc) && (c.internal_best_epoch < 0 || r.val_auc > c.internal_auc_best)) {
      c.internal_best_epoch = static_cast<int>(r.epoch);
      c.internal_auc_best = r.val_auc;
    }
  }
  if (c.chosen_epoch < 0) return std::nullopt;  // a resumed run's trace lacks the chosen epoch
  return c;
}

runfolder::Design design_of(const StudySettings& s) {
  runfolder::Design d;
  d.endpoint = s.endpoint == Endpoint::kHorizon ? "horizon" : "event";
  d.horizon_months = s.horizon_months;
  d.selection = to_string(s.selection);
  if (s.selection == Selection::kSplit) d.validation_fraction = s.validation_fraction;
  if (s.selection == Selection::kCv) d.folds = s.folds;
  d.loss = s.loss;
  d.class_balance = s.class_balance;
  d.recalibration = to_string(s.recalibration);
  d.threshold = s.threshold == ThresholdMethod::kFixed ? fmt::format("fixed {}", s.fixed_threshold) : "youden";
  d.cutpoint = s.cutpoint == CutpointMethod::kMedian ? "median" : "maxstat";
  d.bootstrap = s.bootstrap;
  d.synthetic = s.synthetic;
  d.tdauc_horizons = s.tdauc_horizons;
  d.km_times = s.km_times;
  return d;
}

std::vector<std::string> design_warnings(const StudySettings& s, const runfolder::Metrics& m) {
  std::vector<std::string> w;
  if (s.selection == Selection::kInternal)
    w.push_back("train.selection = internal: the internal cohort chose each model's epoch, so its AUC is optimistic "
                "and it is not an independent validation.");
  // Follow-up by centre: a centre followed for less than the horizon undercounts recurrences.
  double lo = INFINITY, hi = 0;
  std::string lo_center, hi_center;
  for (const auto& f : m.follow_up) {
    if (f.center.empty()) continue;
    if (!stats::is_na(f.followed_at_horizon) && f.followed_at_horizon < 0.5)
      w.push_back(fmt::format("Centre {} ({} cohort): only {:.0f}% of its patients were still followed at the {:g}-month "
                              "horizon (reverse Kaplan-Meier); {}",
                              f.center, f.cohort, 100 * f.followed_at_horizon, s.horizon_months,
                              s.endpoint == Endpoint::kEvent
                                  ? "the 'event' endpoint undercounts its recurrences (consider data.endpoint = "
                                    "\"horizon\")."
                                  : "its patients censored before the horizon have no binary label."));
    if (stats::is_na(f.median)) continue;
    if (f.median < lo) lo = f.median, lo_center = f.center;
    if (f.median > hi) hi = f.median, hi_center = f.center;
  }
  if (hi > 0 && std::isfinite(lo) && hi > 1.5 * lo)
    w.push_back(fmt::format("Median follow-up differs between centres: {:.1f} months (centre {}) against {:.1f} months "
                            "(centre {}); outcomes observed over different follow-up are not comparable without a "
                            "horizon.",
                            lo, lo_center, hi, hi_center));
  if (s.endpoint == Endpoint::kHorizon) {
    for (const auto& e : m.metrics)
      if (e.variant == m.reference_variant && e.excluded > 0)
        w.push_back(fmt::format("{} cohort: {} patients censored before the {:g}-month horizon without a recurrence have "
                                "no binary label and are left out of the binary statistics.",
                                e.cohort, e.excluded, s.horizon_months));
  }
  return w;
}

}  // namespace cervirisk::study
