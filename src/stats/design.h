// Design matrices for regression models: numeric covariates as they are, categorical ones
// treatment-coded against the first level in sort order, with R's column names
// (factor "stage" with levels I, II, III -> columns "stageII", "stageIII").
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace cervirisk::stats {

struct Covariate {
  std::string name;
  bool categorical = false;
  std::vector<double> numeric;      // when !categorical
  std::vector<std::string> levels;  // when categorical: the level of each row
};

struct Design {
  Eigen::MatrixXd x;
  std::vector<std::string> terms;
};

// All covariates must have the same number of rows. A categorical covariate with one level
// only throws StatsError.
Design design_matrix(const std::vector<Covariate>& covariates);

// Distinct values in R's factor order: numerically when every value parses as a number,
// otherwise by byte-wise string comparison.
std::vector<std::string> sorted_levels(const std::vector<std::string>& values);

}  // namespace cervirisk::stats
