// Times AUC + DeLong, Kaplan-Meier, log-rank, Cox (5 covariates) and Harrell's C on one data
// set written by bench/stats_data.R (raw little-endian doubles, column-major:
// time, status, group, label, score, x1..x5). Prints "task seconds" lines: CPU seconds, best of `reps`.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "stats/cindex.h"
#include "stats/cox.h"
#include "stats/delong.h"
#include "stats/km.h"
#include "stats/logrank.h"

using namespace cervirisk;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: stats_bench DATA.bin N [reps]\n";
    return 2;
  }
  const std::size_t n = std::stoul(argv[2]);
  const int reps = argc > 3 ? std::stoi(argv[3]) : 1;
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<double> raw(n * 10);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size() * sizeof(double)));
  if (!in) {
    std::cerr << "cannot read " << n << " rows from " << argv[1] << "\n";
    return 3;
  }
  auto col = [&](int c) { return std::vector<double>(raw.begin() + c * n, raw.begin() + (c + 1) * n); };
  std::vector<double> time = col(0), score = col(4);
  std::vector<int> status, group, label;
  for (double v : col(1)) status.push_back(static_cast<int>(v));
  for (double v : col(2)) group.push_back(static_cast<int>(v));
  for (double v : col(3)) label.push_back(static_cast<int>(v));
  Eigen::MatrixXd x(n, 5);
  for (int j = 0; j < 5; ++j)
    for (std::size_t i = 0; i < n; ++i) x(i, j) = raw[(5 + j) * n + i];

  double sink = 0;
  auto timeit = [&](const char* name, const std::function<double()>& f) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      // process CPU time, not wall time: the shared build machine is often oversubscribed
      const std::clock_t t0 = std::clock();
      sink += f();
      best = std::min(best, static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC);
    }
    std::printf("%s %.6f\n", name, best);
  };
  timeit("auc_delong", [&] { return stats::auc_delong(score, label).var; });
  timeit("km", [&] { return stats::kaplan_meier(time, status).rows.back().surv; });
  timeit("logrank", [&] { return stats::logrank(time, status, group).chisq; });
  timeit("cox5", [&] { return stats::cox_ph(time, status, x, {"x1", "x2", "x3", "x4", "x5"}).loglik; });
  timeit("cindex", [&] { return stats::harrell_c(time, status, score).var; });
  std::fprintf(stderr, "checksum %.6g\n", sink);
  return 0;
}
