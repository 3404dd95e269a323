// The honest-validation parts of report.html (metrics.json cervirisk-metrics/2, model.json
// cervirisk-model/2; docs/report.md): design warnings, the study design, participants and
// follow-up, bootstrap intervals, time-dependent AUC, Kaplan–Meier at fixed times and the
// cut-point's p-values, calibration before and after recalibration, per-centre subgroups,
// incremental value over the clinical model, the TRIPOD+AI checklist and the limitations.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "report/checklist.h"
#include "report/html.h"
#include "report/html_parts.h"

namespace cervirisk::report::html {

namespace {
const char* kDash = "\u2013";

std::string td(const std::string& s) { return "<td class=\"num\">" + s + "</td>"; }
std::string td_text(const std::string& s) { return "<td>" + html_escape(s) + "</td>"; }

std::string fmt_count(int n) { return std::to_string(n); }

const runfolder::Design* design_of(const ReportData& d) { return d.design ? &*d.design : nullptr; }

// "0.750 [0.550–0.880]" over "bootstrap [0.600–0.850]" in one cell.
std::string with_bootstrap(const Estimate& e, const runfolder::Interval* b) {
  std::string s = fmt_est(e);
  if (b && std::isfinite(b->lo) && std::isfinite(b->hi))
    s += "<br><span class=\"boot\">" + fmt_interval(*b) + "<sup>b</sup></span>";
  return s;
}
}  // namespace

std::string fmt3(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", v) : kDash; }

std::string fmt_est(const Estimate& e) {
  if (!std::isfinite(e.value)) return kDash;
  if (std::isfinite(e.lo) && std::isfinite(e.hi))
    return fmt::format("{:.3f} [{:.3f}\u2013{:.3f}]", e.value, e.lo, e.hi);
  return fmt::format("{:.3f}", e.value);
}

std::string fmt_est(double value, const runfolder::Interval& ci) {
  return fmt_est(Estimate{value, ci.lo, ci.hi});
}

std::string fmt_interval(const runfolder::Interval& ci) {
  if (!std::isfinite(ci.lo) || !std::isfinite(ci.hi)) return kDash;
  return fmt::format("[{:.3f}\u2013{:.3f}]", ci.lo, ci.hi);
}

std::string fmt_p(double p) {
  if (!std::isfinite(p)) return kDash;
  if (p < 0.001) return "&lt;0.001";
  return fmt::format("{:.3f}", p);
}

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", 100 * v) : kDash; }

std::string fmt_num(double v) { return std::isfinite(v) ? fmt::format("{}", v) : kDash; }

const VariantMetrics* find_metrics(const ReportData& d, const std::string& v, const std::string& c) {
  for (const auto& m : d.metrics)
    if (m.variant == v && m.cohort == c) return &m;
  return nullptr;
}

std::vector<std::string> cohort_list(const ReportData& d) {
  std::vector<std::string> c = d.cohorts;
  if (c.empty()) {
    std::set<std::string> s;
    for (const auto& m : d.metrics) s.insert(m.cohort);
    c.assign(s.begin(), s.end());
  }
  return c;
}

// ---- warnings and design ------------------------------------------------------------------------

std::string warnings_banner(const ReportData& d) {
  if (d.warnings.empty()) return {};
  std::ostringstream h;
  h << "<div class=\"banner warn\" id=\"warnings\">Design warnings (metrics.json):<ul>";
  for (const auto& w : d.warnings) h << "<li>" << html_escape(w) << "</li>";
  h << "</ul></div>";
  return h.str();
}

std::string design_section(const ReportData& d) {
  const auto* g = design_of(d);
  if (!g) return {};
  std::ostringstream h;
  auto row = [&](const std::string& k, const std::string& v) {
    h << "<tr><th>" << html_escape(k) << "</th><td>" << html_escape(v) << "</td></tr>";
  };
  auto list = [](const std::vector<double>& v) {
    std::string s;
    for (double x : v) s += (s.empty() ? "" : ", ") + fmt_num(x);
    return s.empty() ? std::string("none") : s;
  };
  h << "<section id=\"design\"><h2>Study design</h2><table><tbody>";
  row("Endpoint", g->endpoint == "horizon" ? "recurrence within " + fmt_num(g->horizon_months) +
                                                 " months (data.endpoint = horizon)"
                                           : "recurrence during follow-up (data.endpoint = event)");
  std::string sel = g->selection;
  if (g->selection == "split")
    sel += " (" + fmt_num(100 * g->validation_fraction) + "% of the training cohort held out)";
  if (g->selection == "cv") sel += " (" + std::to_string(g->folds) + " folds within the training cohort)";
  if (g->selection == "internal") sel += " (the internal cohort chose the epoch: its results are optimistic)";
  row("Model selection (train.selection)", sel);
  auto ref = d.models.find(d.reference_variant);
  if (ref != d.models.end()) {
    const auto& s = ref->second.selection;
    if (s.mode == "split" && s.validation_n > 0)
      row("Selection sample (" + d.reference_variant + ")",
          fmt::format("{} patients, {} events", s.validation_n, s.validation_events));
    if (s.mode == "cv" && !s.fold_best_epochs.empty()) {
      std::string e;
      for (auto x : s.fold_best_epochs) e += (e.empty() ? "" : ", ") + std::to_string(x + 1);
      row("Best epoch per fold (" + d.reference_variant + ")", e);
    }
  }
  row("Training loss (train.loss)", g->loss);
  row("Class imbalance (train.class_balance)", g->class_balance);
  row("Recalibration (eval.recalibration)", g->recalibration);
  row("Threshold (eval.threshold)", g->threshold + ", fitted on the training cohort");
  row("Risk-group cut-point (eval.cutpoint)", g->cutpoint + ", fitted on the training cohort");
  row("Bootstrap replicates (eval.bootstrap)", std::to_string(g->bootstrap));
  row("Training seeds", std::to_string(g->seeds));
  row("Time-dependent AUC horizons (months)", list(g->tdauc_horizons));
  row("Kaplan\u2013Meier times (months)", list(g->km_times));
  row("Data", g->synthetic ? "synthetic" : "as given by the cohort manifest");
  h << "</tbody></table>";
  if (!d.selection_check.empty()) {
    // The optimism of choosing the epoch on the cohort one reports: the internal AUC after each
    // epoch of the same training, at the epoch the selection chose and at its maximum.
    h << "<h3>What selection on the internal cohort would have reported</h3><table><thead><tr><th>Model</th>"
         "<th>Selection</th><th>Chosen epoch</th><th>Internal AUC at it</th><th>Internal cohort's best epoch</th>"
         "<th>Internal AUC at that epoch</th><th>Optimism</th></tr></thead><tbody>";
    for (const auto& c : d.selection_check)
      h << "<tr>" << td_text(c.variant) << td_text(c.selection) << td(std::to_string(c.chosen_epoch + 1))
        << td(fmt3(c.internal_auc_chosen)) << td(std::to_string(c.internal_best_epoch + 1))
        << td(fmt3(c.internal_auc_best)) << td(fmt3(c.internal_auc_best - c.internal_auc_chosen)) << "</tr>";
    h << "</tbody></table><p class=\"note\">The internal cohort's AUC after every epoch of each model's training "
         "(recorded, never used for selection unless train.selection = internal). Choosing the epoch on it would "
         "report the maximum over epochs: the difference is the optimism that selection on the reported cohort "
         "adds. Epochs counted from 1.</p>";
  }
  h << "</section>\n";
  return h.str();
}

// ---- participants and follow-up -------------------------------------------------------------------

std::string participants_section(const ReportData& d) {
  if (d.flow.empty() && d.follow_up.empty()) return {};
  const auto* g = design_of(d);
  const bool horizon = g && g->endpoint == "horizon";
  const std::string h_months = g ? fmt_num(g->horizon_months) : "";
  std::ostringstream h;
  h << "<section id=\"participants\"><h2>Participants and follow-up</h2>";
  if (!d.flow.empty()) {
    h << "<table id=\"flow-table\"><thead><tr><th>Cohort</th><th>Analysed (n)</th><th>Events</th>";
    if (horizon) h << "<th>Excluded: censored before " << h_months << " months without an event</th>";
    h << "<th>No follow-up time</th></tr></thead><tbody>";
    for (const auto& f : d.flow) {
      h << "<tr>" << td_text(f.cohort) << td(fmt_count(f.n)) << td(fmt_count(f.events));
      if (horizon) h << td(fmt_count(f.excluded));
      h << td(fmt_count(f.missing_time)) << "</tr>";
    }
    h << "</tbody></table>";
    h << "<p class=\"note\">Analysed: the patients with a binary outcome";
    if (horizon)
      h << " (recurrence within " << h_months
        << " months); the excluded patients have no binary outcome and are "
        << "left out of the binary statistics (AUC, Se/Sp, calibration), but not of the survival statistics";
    h << ". Patients without a follow-up time are left out of every survival statistic.</p>";
  }
  if (!d.follow_up.empty()) {
    h << "<h3>Follow-up</h3><table id=\"follow-up-table\"><thead><tr><th>Cohort</th><th>Centre</th><th>n</th>"
         "<th>Events</th><th>No follow-up time</th><th>Median follow-up, months [95% CI]</th>"
      << "<th>Still followed at " << (g ? h_months + " months" : "the horizon")
      << " (%)</th></tr></thead><tbody>";
    for (const auto& f : d.follow_up) {
      h << "<tr" << (f.center.empty() ? " class=\"ref\"" : "") << ">" << td_text(f.cohort)
        << td_text(f.center.empty() ? "all" : f.center) << td(fmt_count(f.n)) << td(fmt_count(f.events))
        << td(fmt_count(f.missing_time));
      std::string median = std::isfinite(f.median) ? fmt::format("{:.1f}", f.median) : "not reached";
      if (std::isfinite(f.ci.lo) || std::isfinite(f.ci.hi))
        median += " [" + (std::isfinite(f.ci.lo) ? fmt::format("{:.1f}", f.ci.lo) : std::string("\u2013")) +
                  ", " + (std::isfinite(f.ci.hi) ? fmt::format("{:.1f}", f.ci.hi) : std::string("NA")) + "]";
      h << td(median) << td(pct(f.followed_at_horizon)) << "</tr>";
    }
    h << "</tbody></table><p class=\"note\">Median follow-up by the reverse Kaplan\u2013Meier method "
         "(censoring "
         "as the event), with its 95% CI; still followed: the reverse Kaplan\u2013Meier probability of being "
         "under follow-up at the horizon. A cohort followed for a shorter time has fewer observed "
         "recurrences.</p>";
  }
  h << "</section>\n";
  return h.str();
}

// ---- classification at the threshold, with bootstrap intervals --------------------------------

std::string threshold_table(const ReportData& d) {
  if (d.metrics.empty()) return {};
  int replicates = 0;
  for (const auto& m : d.metrics)
    if (m.bootstrap) replicates = std::max(replicates, m.bootstrap->replicates);
  std::ostringstream h;
  h << "<h3>Classification at the training threshold, C-index and calibration slope</h3><div "
       "class=\"wide\"><table "
       "id=\"threshold-table\"><thead><tr><th>Model</th><th>Cohort</th><th>Threshold</th><th>Sensitivity</th>"
       "<th>Specificity</th><th>PPV</th><th>NPV</th><th>C-index</th><th>Calibration "
       "slope</th></tr></thead><tbody>\n";
  for (const auto& c : cohort_list(d))
    for (const auto& v : d.variants) {
      const auto* m = find_metrics(d, v, c);
      if (!m) continue;
      const auto* b = m->bootstrap ? &*m->bootstrap : nullptr;
      h << "<tr" << (v == d.reference_variant ? " class=\"ref\"" : "") << ">" << td_text(v) << td_text(c)
        << td(fmt3(m->threshold)) << td(with_bootstrap(m->sensitivity, b ? &b->sensitivity : nullptr))
        << td(with_bootstrap(m->specificity, b ? &b->specificity : nullptr))
        << td(with_bootstrap(m->ppv, b ? &b->ppv : nullptr))
        << td(with_bootstrap(m->npv, b ? &b->npv : nullptr))
        << td(with_bootstrap(m->c_index, b ? &b->c_index : nullptr))
        << td(with_bootstrap(Estimate{m->calibration_slope.value}, b ? &b->calibration_slope : nullptr))
        << "</tr>\n";
    }
  h << "</tbody></table></div><p class=\"note\">Sensitivity, specificity, PPV and NPV at the threshold "
       "fitted on the "
       "training cohort with exact (Clopper\u2013Pearson) 95% CIs; Harrell's C-index of the risk score with "
       "its CI; "
       "calibration slope after recalibration.";
  if (replicates > 0)
    h << " <sup>b</sup>Percentile bootstrap 95% CI (" << replicates
      << " replicates, resampled within outcome classes), refitting nothing: the model and threshold are "
         "fixed.";
  h << "</p>\n";
  return h.str();
}

// ---- time-dependent AUC ---------------------------------------------------------------------------

std::string td_auc_section(const ReportData& d) {
  const auto* g = design_of(d);
  std::vector<double> horizons = g ? g->tdauc_horizons : std::vector<double>{};
  bool ipcw = g && g->endpoint == "horizon";
  for (const auto& m : d.metrics) {
    for (const auto& t : m.td_auc)
      if (std::find(horizons.begin(), horizons.end(), t.horizon) == horizons.end())
        horizons.push_back(t.horizon);
    if (!g && m.auc_ipcw) ipcw = true;
  }
  std::sort(horizons.begin(), horizons.end());
  bool any = false;
  for (const auto& m : d.metrics) any |= !m.td_auc.empty() || (ipcw && m.auc_ipcw);
  if (!any) return {};
  double ipcw_h = g ? g->horizon_months : kNaN;
  for (const auto& m : d.metrics)
    if (m.auc_ipcw && !std::isfinite(ipcw_h)) ipcw_h = m.auc_ipcw->horizon;
  std::ostringstream h;
  h << "<section id=\"td-auc\"><h2>Time-dependent AUC</h2><div class=\"wide\"><table "
       "id=\"td-auc-table\"><thead><tr>"
       "<th>Model</th><th>Cohort</th>";
  for (double t : horizons) h << "<th>" << fmt_num(t) << " months</th>";
  if (ipcw) h << "<th>IPCW AUC at the " << fmt_num(ipcw_h) << "-month horizon</th>";
  h << "</tr></thead><tbody>\n";
  auto cell = [](const runfolder::MetricsRow::TdAuc& t) {
    return fmt_est(t.auc, t.ci) + "<br><span class=\"boot\">" + std::to_string(t.cases) + " cases / " +
           std::to_string(t.controls) + " controls</span>";
  };
  for (const auto& c : cohort_list(d))
    for (const auto& v : d.variants) {
      const auto* m = find_metrics(d, v, c);
      if (!m || (m->td_auc.empty() && !m->auc_ipcw)) continue;
      h << "<tr" << (v == d.reference_variant ? " class=\"ref\"" : "") << ">" << td_text(v) << td_text(c);
      for (double t : horizons) {
        auto it =
            std::find_if(m->td_auc.begin(), m->td_auc.end(), [&](const auto& x) { return x.horizon == t; });
        h << td(it == m->td_auc.end() ? kDash : cell(*it));
      }
      if (ipcw) h << td(m->auc_ipcw ? cell(*m->auc_ipcw) : kDash);
      h << "</tr>\n";
    }
  h << "</tbody></table></div><p class=\"note\">Cumulative/dynamic time-dependent AUC of the risk score with "
       "inverse-probability-of-censoring weights (cases: recurrence by the time; controls: recurrence-free "
       "beyond "
       "it; R's timeROC), 95% CI by the percentile bootstrap.";
  if (ipcw)
    h << " The IPCW AUC at the horizon keeps the patients censored before it (weighted), which the binary "
         "AUC of "
         "the Performance table leaves out.";
  h << "</p></section>\n";
  return h.str();
}

// ---- survival: KM at fixed times, the cut-point's p-values -----------------------------------------

std::string survival_tables(const ReportData& d) {
  if (d.survival.empty()) return {};
  std::ostringstream h;
  std::vector<double> times;
  for (const auto& s : d.survival)
    for (const auto& a : s.at_times)
      if (std::find(times.begin(), times.end(), a.time) == times.end()) times.push_back(a.time);
  std::sort(times.begin(), times.end());
  if (!times.empty()) {
    h << "<h3>Recurrence-free survival at fixed times</h3><div class=\"wide\"><table "
         "id=\"km-table\"><thead><tr>"
         "<th>Model</th><th>Cohort</th><th>Risk group</th>";
    for (double t : times) h << "<th>" << fmt_num(t) << " months</th>";
    h << "</tr></thead><tbody>\n";
    for (const auto& s : d.survival) {
      std::vector<std::string> groups;
      for (const auto& a : s.at_times)
        if (std::find(groups.begin(), groups.end(), a.group) == groups.end()) groups.push_back(a.group);
      for (const auto& grp : groups) {
        h << "<tr>" << td_text(s.variant) << td_text(s.cohort) << td_text(grp);
        for (double t : times) {
          auto it = std::find_if(s.at_times.begin(), s.at_times.end(),
                                 [&](const auto& a) { return a.group == grp && a.time == t; });
          if (it == s.at_times.end() || !std::isfinite(it->surv)) {
            h << td(kDash);
            continue;
          }
          h << td(fmt_est(it->surv, it->ci) + "<br><span class=\"boot\">" + fmt_num(it->n_risk) +
                  " at risk</span>");
        }
        h << "</tr>\n";
      }
    }
    h << "</tbody></table></div><p class=\"note\">Kaplan\u2013Meier estimate per risk group with its 95% CI "
         "(log "
         "transformation; R's summary(survfit, times)); a dash: beyond the last follow-up.</p>\n";
  }
  h << "<h3>Risk groups: hazard ratio and log-rank test</h3><table "
       "id=\"cutpoint-table\"><thead><tr><th>Model</th>"
       "<th>Cohort</th><th>Cut-point</th><th>HR high vs low [95% CI]</th><th>Log-rank p (uncorrected)</th>"
       "<th>Maximally selected log-rank p (corrected)</th></tr></thead><tbody>\n";
  bool maxstat = false;
  for (const auto& s : d.survival) {
    maxstat |= std::isfinite(s.maxstat_p);
    h << "<tr>" << td_text(s.variant) << td_text(s.cohort) << td(fmt3(s.cutpoint))
      << td(std::isfinite(s.hazard_ratio.value)
                ? (std::isfinite(s.hazard_ratio.lo)
                       ? fmt::format("{:.2f} [{:.2f}\u2013{:.2f}]", s.hazard_ratio.value, s.hazard_ratio.lo,
                                     s.hazard_ratio.hi)
                       : fmt::format("{:.2f}", s.hazard_ratio.value))
                : kDash)
      << td(fmt_p(s.logrank_p)) << td(fmt_p(s.maxstat_p)) << "</tr>\n";
  }
  h << "</tbody></table><p class=\"note\">The cut-point was fitted on the training cohort";
  if (const auto* g = design_of(d)) h << " (eval.cutpoint = " << html_escape(g->cutpoint) << ")";
  h << ". ";
  if (maxstat)
    h << "Where it was searched for (maximally selected rank statistics), the training cohort's log-rank p "
         "is "
         "optimistic; the corrected p accounts for the search (R's maxstat.test, pmethod = \"Lau94\").";
  h << "</p>\n";
  return h.str();
}

// ---- calibration before / after recalibration ------------------------------------------------------

std::string calibration_tables(const ReportData& d) {
  bool any = false, raw = false;
  for (const auto& m : d.metrics) {
    any |= std::isfinite(m.brier.value) || m.calibration_raw.has_value();
    raw |= m.calibration_raw.has_value();
  }
  std::ostringstream h;
  if (any) {
    auto hl = [&](const std::string& v, const std::string& c, bool before) {
      for (const auto& s : d.calibration)
        if (s.variant == v && s.cohort == c) return fmt_p(before ? s.hl_p_raw : s.hl_p);
      return std::string(kDash);
    };
    h << "<h3>Calibration before and after recalibration</h3><div class=\"wide\"><table "
         "id=\"calibration-table\">"
         "<thead><tr><th rowspan=\"2\">Model</th><th rowspan=\"2\">Cohort</th><th colspan=\"4\">Before "
         "recalibration"
         "</th><th colspan=\"4\">After recalibration</th></tr><tr>";
    for (int k = 0; k < 2; ++k) h << "<th>Intercept</th><th>Slope</th><th>Brier</th><th>H\u2013L p</th>";
    h << "</tr></thead><tbody>\n";
    for (const auto& c : cohort_list(d))
      for (const auto& v : d.variants) {
        const auto* m = find_metrics(d, v, c);
        if (!m) continue;
        h << "<tr" << (v == d.reference_variant ? " class=\"ref\"" : "") << ">" << td_text(v) << td_text(c);
        if (const auto& r = m->calibration_raw)
          h << td(fmt3(r->intercept)) << td(fmt3(r->slope)) << td(fmt3(r->brier));
        else
          h << td(kDash) << td(kDash) << td(kDash);
        h << td(hl(v, c, true)) << td(fmt3(m->calibration_intercept.value))
          << td(fmt3(m->calibration_slope.value)) << td(fmt3(m->brier.value)) << td(hl(v, c, false))
          << "</tr>\n";
      }
    h << "</tbody></table></div><p class=\"note\">Calibration intercept and slope by logistic recalibration "
         "of the "
         "outcome on the logit of the probabilities (ideal: 0 and 1), Brier score, Hosmer\u2013Lemeshow p "
         "(deciles; "
         "where computed). Before: sigmoid of the model's logit; after: the probabilities of the predictions "
         "files";
    if (!raw) h << " (no statistics before recalibration in metrics.json)";
    h << ".</p>\n";
  }
  // The maps from model.json.
  bool maps = false;
  for (const auto& v : d.variants) maps |= d.models.count(v) > 0;
  if (maps) {
    h << "<h3 id=\"recalibration\">Recalibration maps (models/&lt;variant&gt;/model.json)</h3><table "
         "id=\"recalibration-table\"><thead><tr><th>Model</th><th>Method</th><th>Intercept a</th><th>Slope "
         "b</th>"
         "<th>Fitted on</th><th>n</th><th>Events</th><th>Note</th></tr></thead><tbody>\n";
    for (const auto& v : d.variants) {
      auto it = d.models.find(v);
      if (it == d.models.end()) continue;
      const auto& r = it->second.recalibration;
      h << "<tr>" << td_text(v) << td_text(r.method) << td(fmt3(r.intercept)) << td(fmt3(r.slope))
        << td_text(r.fitted_on) << td(std::to_string(r.n)) << td(std::to_string(r.events)) << td_text(r.note)
        << "</tr>\n";
    }
    h << "</tbody></table><p class=\"note\">p = sigmoid(a + b \u00b7 logit), fitted on held-out predictions "
         "of the "
         "training cohort; method none: a = 0, b = 1.</p>\n";
  }
  return h.str();
}

// ---- per-centre subgroups ----------------------------------------------------------------------------

std::string centers_section(const ReportData& d) {
  if (d.centers.empty()) return {};
  std::ostringstream h;
  h << "<section id=\"centers\"><h2>Per-centre subgroups</h2><div class=\"wide\"><table "
       "id=\"centers-table\"><thead>"
       "<tr><th>Model</th><th>Cohort</th><th>Centre</th><th>n</th><th>Events</th><th>AUC [95% CI]</th>"
       "<th>Calibration-in-the-large</th></tr></thead><tbody>\n";
  for (const auto& c : d.centers) {
    Estimate auc{c.auc, c.auc_ci ? c.auc_ci->lo : kNaN, c.auc_ci ? c.auc_ci->hi : kNaN};
    h << "<tr" << (c.variant == d.reference_variant ? " class=\"ref\"" : "") << ">" << td_text(c.variant)
      << td_text(c.cohort) << td_text(c.center) << td(std::to_string(c.n)) << td(std::to_string(c.events))
      << td(fmt_est(auc)) << td(c.citl ? fmt3(*c.citl) : kDash) << "</tr>\n";
  }
  h << "</tbody></table></div><p class=\"note\">AUC with DeLong 95% CI (a dash: one class only); "
       "calibration-in-the-large: the intercept of a logistic model of the outcome with the logit as offset "
       "(0: "
       "as many events as predicted, &gt; 0: more). Small centres give imprecise estimates.</p></section>\n";
  return h.str();
}

// ---- incremental value over the clinical model ------------------------------------------------------

std::string incremental_section(const ReportData& d) {
  bool any = false;
  for (const auto& m : d.metrics) any |= m.incremental.has_value();
  if (!any) return {};
  std::ostringstream h;
  h << "<section id=\"incremental\"><h2>Incremental value over the clinical model</h2><div "
       "class=\"wide\"><table "
       "id=\"incremental-table\"><thead><tr><th>Model</th><th>Cohort</th><th>Over</th><th>Continuous NRI "
       "[95% CI]"
       "</th><th>NRI events</th><th>NRI non-events</th><th>IDI [95% CI]</th><th>LR "
       "\u03c7\u00b2</th><th>df</th>"
       "<th>p</th></tr></thead><tbody>\n";
  for (const auto& c : cohort_list(d))
    for (const auto& v : d.variants) {
      const auto* m = find_metrics(d, v, c);
      if (!m || !m->incremental) continue;
      const auto& i = *m->incremental;
      h << "<tr" << (v == d.reference_variant ? " class=\"ref\"" : "") << ">" << td_text(v) << td_text(c)
        << td_text(i.over) << td(fmt_est(i.nri, i.nri_ci)) << td(fmt3(i.nri_events))
        << td(fmt3(i.nri_nonevents)) << td(fmt_est(i.idi, i.idi_ci))
        << td(std::isfinite(i.lr_chisq) ? fmt::format("{:.2f}", i.lr_chisq) : kDash)
        << td(std::to_string(i.lr_df)) << td(fmt_p(i.lr_p)) << "</tr>\n";
    }
  h << "</tbody></table></div><p class=\"note\">Continuous (category-free) net reclassification improvement "
       "(events + non-events parts) and integrated discrimination improvement of the model's probabilities "
       "over "
       "those of the clinical model (Pencina et al. 2008, 2011), 95% CIs by the bootstrap; likelihood-ratio "
       "test "
       "of glm(y ~ logit<sub>clinical</sub>) against glm(y ~ logit<sub>clinical</sub> + "
       "logit<sub>model</sub>).</p>"
       "</section>\n";
  return h.str();
}

// ---- TRIPOD+AI and limitations ---------------------------------------------------------------------

std::string tripod_section(const ReportData& d) {
  std::ostringstream h;
  h << "<section id=\"tripod\"><h2>TRIPOD+AI</h2><p class=\"note\">The TRIPOD+AI checklist (Collins et al., "
       "BMJ "
       "2024;385:e078378) for a model development and validation study: where this run answers each item, "
       "computed "
       "from the run folder. Items the run folder cannot answer (dates, ethics, funding, assessors) are the "
       "manuscript's.</p><div class=\"wide\"><table "
       "id=\"tripod-table\"><thead><tr><th>Item</th><th>Topic</th>"
       "<th>Where in this run</th><th>Status</th></tr></thead><tbody>\n";
  for (const auto& it : tripod_ai_items(d)) {
    const char* cls = it.coverage == Coverage::kAddressed ? "ok"
                      : it.coverage == Coverage::kPartly  ? "partly"
                                                          : "no";
    h << "<tr class=\"tripod-" << cls << "\"><td>" << html_escape(it.item) << "</td><td>"
      << html_escape(it.topic) << "</td><td>";
    if (!it.section.empty() && it.coverage != Coverage::kNotAddressed)
      h << "<a href=\"#" << it.section << "\">" << html_escape(it.where) << "</a>";
    else
      h << html_escape(it.where);
    h << "</td><td>" << coverage_text(it.coverage) << "</td></tr>\n";
  }
  h << "</tbody></table></div></section>\n";
  return h.str();
}

std::string limitations_section(const ReportData& d) {
  std::ostringstream h;
  h << "<section id=\"limitations\"><h2>Limitations</h2><ul>";
  for (const auto& l : study_limitations(d)) h << "<li>" << html_escape(l) << "</li>";
  h << "</ul></section>\n";
  return h.str();
}

}  // namespace cervirisk::report::html
