#include "stats/incremental.h"

#include <Eigen/Dense>
#include <string>

#include "stats/detail.h"

namespace cervirisk::stats {

namespace {

// Two predictions per patient and a 0/1 outcome with both classes.
void check_pair(const char* fn, const std::vector<double>& p_old, const std::vector<double>& p_new,
                const std::vector<int>& y) {
  detail::check_same_size(fn, p_old.size(), p_new.size(), "p_old", "p_new");
  detail::check_scored_labels(fn, p_old, y, "p_old");
  detail::check_finite(fn, p_new, "p_new");
  detail::check_two_classes(fn, y);
}

}  // namespace

LikelihoodRatioTest lr_test_nested_logistic(const Eigen::MatrixXd& base, const Eigen::MatrixXd& added,
                                            const std::vector<int>& y) {
  const char* fn = "lr_test_nested_logistic";
  detail::check_same_size(fn, static_cast<std::size_t>(base.rows()), static_cast<std::size_t>(added.rows()),
                          "base (rows)", "added (rows)");
  if (added.cols() < 1) detail::fail(fn, "added has no column (nothing to test)");
  LikelihoodRatioTest t;
  t.base_fit = logistic_regression(base, y);
  Eigen::MatrixXd full(base.rows(), base.cols() + added.cols());
  full << base, added;
  t.full_fit = logistic_regression(full, y);
  if (!t.base_fit.converged || !t.full_fit.converged)
    detail::fail(fn, std::string("the ") + (t.base_fit.converged ? "full" : "base") +
                         " model did not converge in 25 iterations (separation?)");
  t.deviance_base = t.base_fit.deviance;
  t.deviance_full = t.full_fit.deviance;
  t.df = static_cast<int>(added.cols());
  // Nested maximum-likelihood fits: the difference is >= 0 up to the convergence tolerance.
  t.chisq = std::max(0.0, t.deviance_base - t.deviance_full);
  t.p = chisq_upper_p(t.chisq, t.df);
  return t;
}

Nri nri_continuous(const std::vector<double>& p_old, const std::vector<double>& p_new,
                   const std::vector<int>& y) {
  check_pair("nri_continuous", p_old, p_new, y);
  std::size_t up_e = 0, down_e = 0, up_n = 0, down_n = 0;
  Nri r;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const bool up = p_new[i] > p_old[i], down = p_new[i] < p_old[i];
    if (y[i] == 1) {
      ++r.n_events;
      up_e += up;
      down_e += down;
    } else {
      ++r.n_nonevents;
      up_n += up;
      down_n += down;
    }
  }
  const double ne = static_cast<double>(r.n_events), nn = static_cast<double>(r.n_nonevents);
  r.up_events = up_e / ne;
  r.down_events = down_e / ne;
  r.up_nonevents = up_n / nn;
  r.down_nonevents = down_n / nn;
  // Differences of counts first: identical predictions give exactly 0.
  r.nri_events = (static_cast<double>(up_e) - static_cast<double>(down_e)) / ne;
  r.nri_nonevents = (static_cast<double>(down_n) - static_cast<double>(up_n)) / nn;
  r.nri = r.nri_events + r.nri_nonevents;
  return r;
}

Idi idi(const std::vector<double>& p_old, const std::vector<double>& p_new, const std::vector<int>& y) {
  const char* fn = "idi";
  check_pair(fn, p_old, p_new, y);
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (p_old[i] < 0 || p_old[i] > 1)
      detail::fail(fn,
                   "p_old[" + std::to_string(i) + "] = " + std::to_string(p_old[i]) + " is outside [0, 1]");
    if (p_new[i] < 0 || p_new[i] > 1)
      detail::fail(fn,
                   "p_new[" + std::to_string(i) + "] = " + std::to_string(p_new[i]) + " is outside [0, 1]");
  }
  Idi r;
  double so_e = 0, so_n = 0, sn_e = 0, sn_n = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y[i] == 1) {
      ++r.n_events;
      so_e += p_old[i];
      sn_e += p_new[i];
    } else {
      ++r.n_nonevents;
      so_n += p_old[i];
      sn_n += p_new[i];
    }
  }
  const double ne = static_cast<double>(r.n_events), nn = static_cast<double>(r.n_nonevents);
  r.mean_old_events = so_e / ne;
  r.mean_old_nonevents = so_n / nn;
  r.mean_new_events = sn_e / ne;
  r.mean_new_nonevents = sn_n / nn;
  r.slope_old = r.mean_old_events - r.mean_old_nonevents;
  r.slope_new = r.mean_new_events - r.mean_new_nonevents;
  r.idi = r.slope_new - r.slope_old;
  return r;
}

}  // namespace cervirisk::stats
