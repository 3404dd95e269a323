// report.html: one self-contained page (figures embedded as base64 PNG, CSS inline, no
// scripts, no external references) that opens like a paper: the design warnings, the performance
// table with bootstrap intervals, the study design, participants and follow-up, Table 1, ROC and
// Kaplan–Meier figures (with survival at fixed times and the cut-point's p-values), time-dependent
// AUC, explanations of example patients, calibration and decision curves before and after
// recalibration, per-centre subgroups, incremental value over the clinical model, training
// curves, the TRIPOD+AI checklist (report/checklist.h), the limitations, the run manifest and a
// model card (docs/report.md).
#pragma once

#include <filesystem>
#include <string>

#include "report/report_data.h"

namespace cervirisk::report {

std::string render_report_html(const ReportData& data);
// Renders and writes atomically (a failure leaves no half-written report).
void write_report_html(const ReportData& data, const std::filesystem::path& file);

// Also writes every figure of the report as PNG + SVG under figures_dir (roc_<cohort>,
// km_<cohort>, calibration_<cohort>, dca_<cohort>, shap_beeswarm, shap_bar, modalities,
// training); returns the stems written.
std::vector<std::string> write_report_figures(const ReportData& data,
                                              const std::filesystem::path& figures_dir);

std::string html_escape(const std::string& s);
std::string base64_encode(const std::string& bytes);

}  // namespace cervirisk::report
