// Internal helpers of src/stats (not part of the public API): input checks and ranks.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cervirisk::stats::detail {

// Throws StatsError "<fn>: <what>" .
[[noreturn]] void fail(const char* fn, const std::string& what);

void check_same_size(const char* fn, std::size_t a, std::size_t b, const char* name_a, const char* name_b);
void check_finite(const char* fn, const std::vector<double>& v, const char* name);
void check_binary(const char* fn, const std::vector<int>& v, const char* name);
// Counts of 1s and 0s; throws unless both are >= min_each.
void check_two_classes(const char* fn, const std::vector<int>& labels, std::size_t min_each = 1);
// A score (or probability, named by `scores_name`) per observation and its 0/1 label: the same
// length, finite scores, labels 0/1.
void check_scored_labels(const char* fn, const std::vector<double>& scores, const std::vector<int>& labels,
                         const char* scores_name = "scores");
// Right-censored times with a 0/1 event and a score per observation: the same length, finite times
// and scores, at least 2 observations.
void check_scored_survival(const char* fn, const std::vector<double>& time, const std::vector<int>& event,
                           const std::vector<double>& score);

// Mid-ranks (ties get the average rank, 1-based), O(n log n).
std::vector<double> midranks(const std::vector<double>& v);
// Sort permutation (stable).
std::vector<std::size_t> order(const std::vector<double>& v);

// survival's aeqSurv: times closer than sqrt(machine eps) (absolutely, or relative to the mean
// |time|) are merged onto the smaller one, as survfit/survdiff/coxph/concordance do by default.
// `sorted`, when given, receives an increasing order of the returned times (one sort for both).
std::vector<double> timefix(const std::vector<double>& time, std::vector<std::size_t>* sorted = nullptr);

// Fenwick (binary indexed) tree of counts over ranks 0..n-1.
class Fenwick {
 public:
  explicit Fenwick(std::size_t n) : t_(n + 1, 0.0) {}
  void add(std::size_t i, double w = 1.0) {
    for (++i; i < t_.size(); i += i & (~i + 1)) t_[i] += w;
  }
  // Sum over ranks [0, i).
  double prefix(std::size_t i) const {
    double s = 0;
    for (; i > 0; i -= i & (~i + 1)) s += t_[i];
    return s;
  }
  double total() const { return prefix(t_.size() - 1); }

 private:
  std::vector<double> t_;
};

}  // namespace cervirisk::stats::detail
