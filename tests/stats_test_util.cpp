#include "stats_test_util.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace stats_test {

namespace {
json load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return json::parse(in);
}
}  // namespace

std::string data_path(const std::string& file) { return std::string(CERV_TEST_DATA) + "/stats/" + file; }

const json& reference() {
  static const json j = load(data_path("expected.json"));
  return j;
}
const json& goldens() {
  static const json j = load(data_path("goldens.json"));
  return j;
}
const json& sklearn_goldens() {
  static const json j = load(data_path("sklearn_calibration.json"));
  return j;
}

Columns::Columns(const std::string& path, const std::vector<std::string>& used)
    : table(cervirisk::io::Table::read_csv(path)) {
  std::vector<std::size_t> cols;
  for (const auto& u : used) cols.push_back(table.column_index(u));
  if (used.empty())
    for (std::size_t c = 0; c < table.cols(); ++c) cols.push_back(c);
  for (std::size_t r = 0; r < table.rows(); ++r) {
    bool ok = true;
    for (auto c : cols) ok = ok && !table.is_missing(r, c);
    if (ok) rows.push_back(r);
  }
}
std::vector<double> Columns::num(const std::string& name) const {
  std::size_t c = table.column_index(name);
  std::vector<double> v;
  for (auto r : rows) v.push_back(*table.number(r, c));
  return v;
}
std::vector<int> Columns::integer(const std::string& name) const {
  std::vector<int> v;
  for (double d : num(name)) v.push_back(static_cast<int>(d));
  return v;
}
std::vector<std::string> Columns::str(const std::string& name) const {
  std::size_t c = table.column_index(name);
  std::vector<std::string> v;
  for (auto r : rows) v.push_back(table.cell(r, c));
  return v;
}

std::vector<double> dvec(const json& j) {
  std::vector<double> v;
  if (!j.is_array()) {
    v.push_back(j.is_null() ? NAN : j.get<double>());
    return v;
  }
  for (const auto& e : j) v.push_back(e.is_null() ? NAN : e.get<double>());
  return v;
}

::testing::AssertionResult rel_near(double a, double e, double tol) {
  if (std::isnan(e)) {
    if (std::isnan(a)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected NA, got " << a;
  }
  if (std::isinf(e) && a == e) return ::testing::AssertionSuccess();
  const double diff = std::fabs(a - e);
  const double bound = e == 0 ? tol : tol * std::fabs(e);
  if (diff <= bound) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os.precision(17);
  os << "actual " << a << " vs expected " << e << " (rel diff " << (e == 0 ? diff : diff / std::fabs(e))
     << ", tol " << tol << ")";
  return ::testing::AssertionFailure() << os.str();
}

::testing::AssertionResult rel_near(double a, const json& e, double tol) {
  return rel_near(a, e.is_null() ? NAN : e.get<double>(), tol);
}

void expect_vec(const std::vector<double>& a, const json& e, double tol, const std::string& what) {
  std::vector<double> ev = dvec(e);
  ASSERT_EQ(a.size(), ev.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(rel_near(a[i], ev[i], tol)) << what << "[" << i << "]";
}

}  // namespace stats_test
