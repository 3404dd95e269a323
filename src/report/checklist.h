// The TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378, doi:10.1136/bmj-2023-078378) as a
// run folder answers it, and the run's limitations: both computed from what the run folder holds
// (metrics.json "design", the statistics present, model.json, the files), not a fixed text, so an
// item the run did not compute says "not addressed".
#pragma once

#include <string>
#include <vector>

#include "report/report_data.h"

namespace cervirisk::report {

enum class Coverage { kAddressed, kPartly, kNotAddressed };
// "addressed" | "partly addressed" | "not addressed"
const char* coverage_text(Coverage c);

struct TripodItem {
  std::string item;     // the checklist's number(s): "5a", "12e, 23a", "18a\u2013d"
  std::string topic;    // what the item asks for
  std::string where;    // the report section and/or run-folder file that answers it, or why it does not
  std::string section;  // the report section's id, to link to ("" = none)
  Coverage coverage = Coverage::kNotAddressed;
};

// The items relevant to a model development + validation study, in checklist order; title and
// abstract (1, 2) and introduction (3a-4) summarised in one row each.
std::vector<TripodItem> tripod_ai_items(const ReportData& d);

// The limitations of the run, one plain-text paragraph each: model selection, synthetic data,
// seed-to-seed spread, events per cohort, recalibration, follow-up (metrics.json warnings), the
// horizon endpoint's exclusions, the training-cohort fits.
std::vector<std::string> study_limitations(const ReportData& d);

}  // namespace cervirisk::report
