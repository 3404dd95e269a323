#include "stats/design.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {
bool parse_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}
}  // namespace

std::vector<std::string> sorted_levels(const std::vector<std::string>& values) {
  std::set<std::string> uniq(values.begin(), values.end());
  std::vector<std::string> lv(uniq.begin(), uniq.end());
  bool numeric = true;
  for (const auto& s : lv) {
    double v;
    numeric = numeric && parse_number(s, v);
  }
  if (numeric)
    std::stable_sort(lv.begin(), lv.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  return lv;
}

Design design_matrix(const std::vector<Covariate>& covariates) {
  const char* fn = "design_matrix";
  if (covariates.empty()) detail::fail(fn, "no covariates");
  const std::size_t n =
      covariates[0].categorical ? covariates[0].levels.size() : covariates[0].numeric.size();
  std::vector<std::vector<double>> cols;
  Design d;
  for (const Covariate& c : covariates) {
    const std::size_t rows = c.categorical ? c.levels.size() : c.numeric.size();
    detail::check_same_size(fn, rows, n, c.name.c_str(), covariates[0].name.c_str());
    if (!c.categorical) {
      detail::check_finite(fn, c.numeric, c.name.c_str());
      cols.push_back(c.numeric);
      d.terms.push_back(c.name);
      continue;
    }
    std::vector<std::string> lv = sorted_levels(c.levels);
    if (lv.size() < 2) detail::fail(fn, "categorical covariate '" + c.name + "' has only one level");
    for (std::size_t k = 1; k < lv.size(); ++k) {
      std::vector<double> col(n);
      for (std::size_t i = 0; i < n; ++i) col[i] = c.levels[i] == lv[k] ? 1.0 : 0.0;
      cols.push_back(std::move(col));
      d.terms.push_back(c.name + lv[k]);
    }
  }
  d.x.resize(n, cols.size());
  for (std::size_t j = 0; j < cols.size(); ++j)
    for (std::size_t i = 0; i < n; ++i) d.x(i, j) = cols[j][i];
  return d;
}

}  // namespace cervirisk::stats
