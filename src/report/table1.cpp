#include "report/table1.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "io/table.h"
#include "stats/group_tests.h"

namespace cervirisk::report {

namespace {

using Summary = Table1Variable::Summary;

std::string mean_sd(const std::vector<double>& x) {
  if (x.empty()) return "NA";
  double m = 0;
  for (double v : x) m += v;
  m /= x.size();
  if (x.size() < 2) return fmt::format("{:.1f} (NA)", m);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return fmt::format("{:.1f} ({:.1f})", m, std::sqrt(ss / (x.size() - 1)));
}

std::string median_iqr(const std::vector<double>& x) {
  if (x.empty()) return "NA";
  return fmt::format("{:.1f} [{:.1f}, {:.1f}]", stats::quantile_type7(x, 0.5), stats::quantile_type7(x, 0.25),
                     stats::quantile_type7(x, 0.75));
}

void check_level(const Table1Variable& v, std::size_t i, std::size_t levels) {
  const double x = v.values[i];
  if (x < 0 || x >= static_cast<double>(levels) || x != std::floor(x))
    throw ValidationError("table1: characteristic '" + v.name + "', patient " + std::to_string(i) +
                          ": value " + fmt::format("{}", x) + " is not a level index in [0, " +
                          std::to_string(levels) + ")");
}

}  // namespace

std::string format_p(double p) {
  if (!std::isfinite(p)) return "NA";
  if (p < 0.001) return "< 0.001";
  return fmt::format("{:.3f}", p);
}

Table1 make_table1(const std::vector<std::string>& groups, const std::vector<int>& group_of,
                   const std::vector<Table1Variable>& variables) {
  Table1 t;
  t.groups = groups;
  t.group_n.assign(groups.size(), 0);
  for (std::size_t i = 0; i < group_of.size(); ++i) {
    if (group_of[i] < 0 || static_cast<std::size_t>(group_of[i]) >= groups.size())
      throw ValidationError("table1: patient " + std::to_string(i) + " has group index " +
                            std::to_string(group_of[i]) + ", expected 0.." +
                            std::to_string(groups.size() - 1));
    ++t.group_n[static_cast<std::size_t>(group_of[i])];
  }
  const std::size_t ng = groups.size();
  for (const auto& v : variables) {
    if (v.values.size() != group_of.size())
      throw ValidationError("table1: characteristic '" + v.name + "' has " + std::to_string(v.values.size()) +
                            " values for " + std::to_string(group_of.size()) + " patients");
    // the non-missing values of each group
    std::vector<std::vector<double>> by(ng);
    for (std::size_t i = 0; i < v.values.size(); ++i)
      if (!std::isnan(v.values[i])) by[static_cast<std::size_t>(group_of[i])].push_back(v.values[i]);

    if (v.summary == Summary::kMedianIqr || v.summary == Summary::kMeanSd) {
      const bool median = v.summary == Summary::kMedianIqr;
      Table1Row r;
      r.cells.push_back(v.name + (median ? ", median [IQR]" : ", mean (SD)"));
      for (const auto& x : by) {
        for (std::size_t i = 0; i < x.size(); ++i)
          if (!std::isfinite(x[i]))
            throw ValidationError("table1: characteristic '" + v.name + "' has the non-finite value " +
                                  fmt::format("{}", x[i]));
        r.cells.push_back(median ? median_iqr(x) : mean_sd(x));
      }
      const auto test = median ? stats::kruskal_test(by) : stats::oneway_anova(by);
      r.has_test = true;
      r.p = test.p;
      r.test = median ? "Kruskal-Wallis" : "ANOVA";
      t.rows.push_back(std::move(r));
      continue;
    }

    const bool yes_no = v.summary == Summary::kYesCount;
    const std::size_t nl = yes_no ? 2 : v.levels.size();
    if (!yes_no)
      for (std::size_t i = 0; i < v.values.size(); ++i)
        if (!std::isnan(v.values[i])) check_level(v, i, nl);
    std::vector<std::vector<double>> counts(ng, std::vector<double>(nl, 0.0));
    for (std::size_t g = 0; g < ng; ++g)
      for (double x : by[g]) {
        if (yes_no && x != 0 && x != 1)
          throw ValidationError("table1: characteristic '" + v.name + "' has the value " +
                                fmt::format("{}", x) + ", expected 0 or 1");
        counts[g][static_cast<std::size_t>(x)] += 1;
      }
    const auto test = stats::chisq_test(counts);
    const std::string test_name = test.small_expected() ? "chi-squared, expected < 5" : "chi-squared";
    if (yes_no) {
      Table1Row r;
      r.cells.push_back(v.name);
      for (std::size_t g = 0; g < ng; ++g) {
        const double k = counts[g][1], n = counts[g][0] + counts[g][1];
        r.cells.push_back(v.percent ? fmt::format("{:.0f} ({:.1f}%)", k, n > 0 ? 100 * k / n : 0.0)
                                    : fmt::format("{:.0f}", k));
      }
      r.has_test = true;
      r.p = test.p;
      r.test = test_name;
      t.rows.push_back(std::move(r));
      continue;
    }
    for (std::size_t l = 0; l < nl; ++l) {
      Table1Row r;
      r.cells.push_back(v.name + " = " + v.levels[l]);
      for (std::size_t g = 0; g < ng; ++g) {
        double n = 0;  // the group's patients with a value
        for (double c : counts[g]) n += c;
        r.cells.push_back(v.percent && n > 0 ? fmt::format("{:.0f} ({:.1f}%)", counts[g][l], 100 * counts[g][l] / n)
                                             : fmt::format("{:.0f}", counts[g][l]));
      }
      if (l == 0) {
        r.has_test = true;
        r.p = test.p;
        r.test = test_name;
      }
      t.rows.push_back(std::move(r));
    }
  }
  return t;
}

std::string table1_csv(const Table1& t) {
  std::ostringstream o;
  o << "characteristic";
  for (std::size_t g = 0; g < t.groups.size(); ++g)
    o << ',' << io::csv_field(t.groups[g] + " (n = " + std::to_string(t.group_n[g]) + ")");
  o << ",p,test\n";
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < r.cells.size(); ++i) o << (i ? "," : "") << io::csv_field(r.cells[i]);
    o << ',' << (r.has_test ? io::csv_field(format_p(r.p)) : "") << ',' << io::csv_field(r.test) << '\n';
  }
  return o.str();
}

}  // namespace cervirisk::report
