// The cohort step: the binary endpoint, Table 1.
#include <algorithm>
#include <cmath>

#include "report/table1.h"
#include "runfolder/layout.h"
#include "study/steps.h"

namespace cervirisk::study {

float endpoint_label(const StudySettings& settings, const data::Patient& p) {
  if (settings.endpoint == Endpoint::kEvent) return p.event ? 1.f : 0.f;
  const double h = settings.horizon_months, t = p.time_months;
  if (t < 0) return NAN;                 // no follow-up time: whether the event came before H is unknown
  if (p.event && t <= h) return 1.f;     // recurrence by the horizon
  if (t >= h) return 0.f;                // followed to the horizon without a recurrence (a later one counts 0)
  return NAN;                            // censored before the horizon: unknown
}

std::string table1_csv(const data::Cohort& cohort, const std::vector<float>& labels) {
  // The study's three cohorts, then a test set when the manifest has one.
  std::vector<std::string> groups;
  for (const auto& g : runfolder::kCohortNames) {
    const bool present = std::any_of(cohort.patients.begin(), cohort.patients.end(),
                                     [&](const data::Patient& p) { return g == data::cohort_name(p.cohort); });
    if (present || !data::is_test_cohort(g)) groups.push_back(g);
  }
  std::vector<int> group_of;
  for (const auto& p : cohort.patients) {
    const std::string c = data::cohort_name(p.cohort);
    group_of.push_back(static_cast<int>(std::find(groups.begin(), groups.end(), c) - groups.begin()));
  }
  using Summary = report::Table1Variable::Summary;
  std::vector<report::Table1Variable> vars(2);
  vars[0].name = "recurrence";
  vars[0].summary = Summary::kYesCount;
  vars[0].percent = true;
  for (float l : labels) vars[0].values.push_back(std::isnan(l) ? NAN : l > 0.5f);
  vars[1].name = "report available";
  vars[1].summary = Summary::kYesCount;
  vars[1].percent = true;
  for (const auto& p : cohort.patients) vars[1].values.push_back(p.report.has_value());
  for (std::size_t j = 0; j < cohort.schema.size(); ++j) {
    const auto& col = cohort.schema[j];
    report::Table1Variable v;
    if (col.type == data::ColumnType::kNumeric) {
      v.name = col.name + (col.unit.empty() ? "" : " (" + col.unit + ")");
      v.summary = Summary::kMedianIqr;
    } else {
      v.name = col.name;
      v.summary = Summary::kLevelCounts;
      v.levels = col.levels;
      v.percent = true;
    }
    for (const auto& p : cohort.patients) {
      const auto& c = p.clinical[j];
      v.values.push_back(c.missing ? NAN : col.type == data::ColumnType::kNumeric ? c.number : c.level);
    }
    vars.push_back(std::move(v));
  }
  return report::table1_csv(report::make_table1(groups, group_of, vars));
}

}  // namespace cervirisk::study
