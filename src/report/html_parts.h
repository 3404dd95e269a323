// What the parts of report.html share (internal to src/report): number formats and lookups, and
// the sections of the honest-validation report (html_validation.cpp), each an HTML fragment that
// is empty when the run folder has nothing for it.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.h"

namespace cervirisk::report::html {

// "0.123"; a dash for NaN.
std::string fmt3(double v);
// "0.790 [0.700–0.880]", "0.790" without a CI; a dash for NaN.
std::string fmt_est(const Estimate& e);
std::string fmt_est(double value, const runfolder::Interval& ci);
// "[0.700–0.880]"; a dash when either end is NaN.
std::string fmt_interval(const runfolder::Interval& ci);
// "0.012", "&lt;0.001" (HTML); a dash for NaN.
std::string fmt_p(double p);
// 0.123 -> "12.3"; a dash for NaN.
std::string pct(double v);
// A number as short as it reads: 36 -> "36", 2.5 -> "2.5".
std::string fmt_num(double v);

const VariantMetrics* find_metrics(const ReportData& d, const std::string& variant,
                                   const std::string& cohort);
// The cohorts in table order (metrics.json "cohorts", else those of the metrics rows).
std::vector<std::string> cohort_list(const ReportData& d);

// --- sections (html_validation.cpp) ---------------------------------------------------------
std::string warnings_banner(const ReportData& d);       // metrics.json warnings, at the top
std::string design_section(const ReportData& d);        // id="design": how the study ran
std::string participants_section(const ReportData& d);  // id="participants": flow, exclusions, follow-up
std::string threshold_table(
    const ReportData& d);                         // id="threshold-table": Se/Sp/PPV/NPV, C, slope + bootstrap
std::string td_auc_section(const ReportData& d);  // id="td-auc": time-dependent AUC, IPCW AUC at the horizon
std::string survival_tables(const ReportData& d);      // KM at eval.km_times, cut-point p-values
std::string calibration_tables(const ReportData& d);   // before / after recalibration, the recalibration maps
std::string centers_section(const ReportData& d);      // id="centers": per-centre subgroups
std::string incremental_section(const ReportData& d);  // id="incremental": NRI, IDI, LR test over clinical
std::string tripod_section(const ReportData& d);       // id="tripod": the TRIPOD+AI checklist
std::string limitations_section(const ReportData& d);  // id="limitations"

}  // namespace cervirisk::report::html
