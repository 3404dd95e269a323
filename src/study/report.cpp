// The report step: figures/ and report.html from the run folder's files (rendered once per run).
#include "report/html.h"
#include "report/report_data.h"
#include "study/study.h"

namespace cervirisk::study {

ReportOutput write_report(const std::filesystem::path& run, bool figures, const std::filesystem::path& html) {
  const auto data = report::load_run_folder(run);
  ReportOutput out;
  if (figures) out.figures = report::write_report_figures(data, run / "figures").size();
  out.html = html.empty() ? run / "report.html" : html;
  report::write_report_html(data, out.html);
  return out;
}

}  // namespace cervirisk::study
