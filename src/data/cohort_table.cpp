// The cohort table printed and written by `cervirisk validate`.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "data/cohort.h"
#include "io/table.h"

namespace cervirisk::data {
namespace {

// Axis codes as nibabel's aff2axcodes: the anatomical direction each voxel axis points to.
std::string orientation(const io::Mat3& d, bool& oblique) {
  std::string code;
  oblique = false;
  for (int col = 0; col < 3; ++col) {
    int best = 0;
    for (int r = 1; r < 3; ++r)
      if (std::fabs(d[r][col]) > std::fabs(d[best][col])) best = r;
    const double v = d[best][col];
    if (std::fabs(v) < 0.9999) oblique = true;
    static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
    code += v > 0 ? pos[best] : neg[best];
  }
  return code;
}

std::string fmt(const char* f, double a, double b, double c) {
  char buf[96];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

CohortTableRow summarise(const Cohort& c, const std::string& center, const std::string& cohort,
                         const std::vector<const Patient*>& ps) {
  CohortTableRow r;
  r.center = center;
  r.cohort = cohort;
  r.missing.assign(c.schema.size(), 0);
  std::vector<double> t;
  std::vector<int> e;
  for (const Patient* p : ps) {
    ++r.patients;
    r.events += p->event;
    r.reports += p->report.has_value();
    t.push_back(p->time_months);
    e.push_back(p->event);
    for (std::size_t k = 0; k < c.schema.size(); ++k) r.missing[k] += p->clinical[k].missing;
  }
  r.followup_median_months = reverse_km_median(t, e);
  return r;
}

}  // namespace

CohortTable cohort_table(const Cohort& c, const std::vector<io::Geometry>* geometry) {
  CohortTable t;
  for (const auto& col : c.schema) t.columns.push_back(col.name);
  const auto centers = c.centers();
  for (CohortKind k : {CohortKind::kTrain, CohortKind::kInternal, CohortKind::kExternal}) {
    const auto all = c.in(k);
    if (all.empty()) continue;
    for (const auto& center : centers) {
      std::vector<const Patient*> ps;
      for (const Patient* p : all)
        if (p->center == center) ps.push_back(p);
      if (!ps.empty()) t.rows.push_back(summarise(c, center, cohort_name(k), ps));
    }
    t.rows.push_back(summarise(c, "all", cohort_name(k), all));
  }
  std::vector<const Patient*> everyone;
  for (const auto& p : c.patients) everyone.push_back(&p);
  t.rows.push_back(summarise(c, "all", "all", everyone));

  if (geometry) {
    for (const auto& center : centers) {
      CenterGeometry g;
      g.center = center;
      bool first = true;
      for (std::size_t i = 0; i < c.patients.size(); ++i) {
        const io::Geometry& q = (*geometry)[i];
        if (c.patients[i].center != center || q.voxel_count() == 0) continue;
        const std::string shape = std::to_string(q.shape[0]) + "x" + std::to_string(q.shape[1]) + "x" + std::to_string(q.shape[2]);
        const std::string spacing = fmt("%.2fx%.2fx%.2f", q.spacing_mm[0], q.spacing_mm[1], q.spacing_mm[2]);
        bool obl = false;
        const std::string orient = orientation(q.direction_lps, obl);
        if (first) {
          g.shape = shape, g.spacing_mm = spacing, g.orientation = orient, g.oblique = obl;
          first = false;
        } else if (shape != g.shape || spacing != g.spacing_mm || orient != g.orientation) {
          g.uniform = false;
        }
        g.oblique = g.oblique || obl;
      }
      if (!first) t.geometry.push_back(g);
    }
  }
  nlohmann::json f = nlohmann::json::array();
  for (const auto& x : c.findings)
    f.push_back({{"severity", x.severity == Severity::kError ? "error" : "warning"},
                 {"guard", x.guard},
                 {"message", x.message},
                 {"patients", x.patient_ids}});
  t.findings_json = f.dump();
  return t;
}

std::string CohortTable::csv() const {
  std::ostringstream o;
  o << "cohort,center,patients,events,event_percent,reports,followup_median_months";
  for (const auto& c : columns) o << ",missing_" << io::csv_field(c);
  o << "\n";
  for (const auto& r : rows) {
    o << r.cohort << "," << io::csv_field(r.center) << "," << r.patients << "," << r.events << ","
      << fmt("%.1f", r.patients ? 100.0 * r.events / r.patients : 0.0, 0, 0) << "," << r.reports << ",";
    if (std::isfinite(r.followup_median_months)) o << fmt("%.1f", r.followup_median_months, 0, 0);
    else o << "NA";
    for (int m : r.missing) o << "," << m;
    o << "\n";
  }
  return o.str();
}

std::string CohortTable::json() const {
  nlohmann::json j;
  j["clinical_columns"] = columns;
  j["rows"] = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json m = nlohmann::json::object();
    for (std::size_t k = 0; k < columns.size(); ++k) m[columns[k]] = r.missing[k];
    j["rows"].push_back({{"cohort", r.cohort},
                         {"center", r.center},
                         {"patients", r.patients},
                         {"events", r.events},
                         {"reports", r.reports},
                         {"followup_median_months",
                          std::isfinite(r.followup_median_months) ? nlohmann::json(r.followup_median_months) : nlohmann::json()},
                         {"missing", m}});
  }
  j["geometry"] = nlohmann::json::array();
  for (const auto& g : geometry)
    j["geometry"].push_back({{"center", g.center},
                             {"shape", g.shape},
                             {"spacing_mm", g.spacing_mm},
                             {"orientation", g.orientation},
                             {"oblique", g.oblique},
                             {"uniform", g.uniform}});
  j["findings"] = findings_json.empty() ? nlohmann::json::array() : nlohmann::json::parse(findings_json);
  return j.dump(2) + "\n";
}

std::string CohortTable::text() const {
  std::ostringstream o;
  char b[256];
  std::snprintf(b, sizeof b, "%-9s %-7s %8s %7s %7s %8s %12s", "cohort", "centre", "patients", "events", "events%",
                "reports", "follow-up(m)");
  o << b;
  for (const auto& c : columns) o << "  miss:" << c;
  o << "\n";
  for (const auto& r : rows) {
    std::snprintf(b, sizeof b, "%-9s %-7s %8d %7d %6.1f%% %8d %12s", r.cohort.c_str(), r.center.c_str(), r.patients,
                  r.events, r.patients ? 100.0 * r.events / r.patients : 0.0, r.reports,
                  std::isfinite(r.followup_median_months) ? fmt("%.1f", r.followup_median_months, 0, 0).c_str() : "NA");
    o << b;
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const std::string head = "  miss:" + columns[k];
      std::snprintf(b, sizeof b, "%*d", static_cast<int>(head.size()), r.missing[k]);
      o << b;
    }
    o << "\n";
  }
  if (!geometry.empty()) {
    o << "\nimage geometry per centre\n";
    for (const auto& g : geometry) {
      std::snprintf(b, sizeof b, "  %-6s %-12s spacing %-16s mm  orientation %s%s%s\n", g.center.c_str(), g.shape.c_str(),
                    g.spacing_mm.c_str(), g.orientation.c_str(), g.oblique ? " (oblique)" : "",
                    g.uniform ? "" : "  [varies within centre]");
      o << b;
    }
  }
  return o.str();
}

}  // namespace cervirisk::data
