// Explanation time per patient: exact group Shapley over 3 modality groups and KernelSHAP with
// 2M + 2048 coalitions over 12 features, on the 12-feature model of
// scripts/explain_shap_golden.py (model12) with a background of B rows. Prints one JSON line.
// Usage: bench_explain PATIENTS BACKGROUND_ROWS
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "explain/shapley.h"

using namespace cervirisk::explain;

int main(int argc, char** argv) {
  const int patients = argc > 1 ? std::atoi(argv[1]) : 20;
  const int rows = argc > 2 ? std::atoi(argv[2]) : 50;
  static const double w[12] = {0.8, -0.5, 0.3, 0.0, 0.6, -0.2, 0.1, 0.45, -0.35, 0.25, 0.05, -0.15};
  BatchModel model = [](const Eigen::MatrixXd& X) {
    Eigen::VectorXd z = Eigen::VectorXd::Constant(X.rows(), -0.2);
    for (int j = 0; j < 12; ++j) z += w[j] * X.col(j);
    z.array() += 0.4 * X.col(0).array() * X.col(1).array() - 0.3 * X.col(2).array() * X.col(5).array() +
                 (X.col(7).array() * X.col(8).array()).tanh() * 0.25;
    return Eigen::VectorXd(1.0 / (1.0 + (-z.array()).exp()));
  };
  // Same data as bench/explain.sh's Python side: a fixed grid, no RNG differences.
  Eigen::MatrixXd bg(rows, 12), X(patients, 12);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < 12; ++j) bg(i, j) = std::sin(1.0 + i * 0.7 + j * 1.3);
  for (int i = 0; i < patients; ++i)
    for (int j = 0; j < 12; ++j) X(i, j) = std::cos(0.5 + i * 0.9 + j * 0.4);
  Background b = make_background(bg);
  ShapleyOptions so;
  so.groups = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}};
  KernelShapOptions ko;
  ko.seed = 1;
  double checksum = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < patients; ++i) checksum += exact_shapley(model, X.row(i).transpose(), b, so).phi.sum();
  auto t1 = std::chrono::steady_clock::now();
  double max_eff = 0;
  for (int i = 0; i < patients; ++i) {
    auto e = kernel_shap(model, X.row(i).transpose(), b, ko);
    max_eff = std::max(max_eff, std::abs(e.phi.sum() - (e.fx - e.expected)));
    checksum += e.phi(0);
  }
  auto t2 = std::chrono::steady_clock::now();
  std::printf(
      "{\"patients\": %d, \"background\": %d, \"group_ms_per_patient\": %.4f, \"kernel_ms_per_patient\": "
      "%.4f, "
      "\"max_efficiency_error\": %.3g, \"checksum\": %.12f}\n",
      patients, rows, std::chrono::duration<double, std::milli>(t1 - t0).count() / patients,
      std::chrono::duration<double, std::milli>(t2 - t1).count() / patients, max_eff, checksum);
  return 0;
}
