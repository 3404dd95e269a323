// Clinical-table encoder: turns a patient's raw clinical values into a fixed float vector.
// Fitted on the training cohort only (DESIGN.md study rules) and saved with the model:
//   numeric     -> (x - mean) / sd, optionally of log(x) (positive columns), + missing indicator
//   categorical -> one-hot over the levels (declared, else seen in training) + missing indicator
//   ordinal     -> rank of the level (0..k-1) standardised like a numeric + missing indicator
// A missing value encodes as 0 (the training mean / no level) with its indicator set to 1, so
// the model sees missingness explicitly (van Buuren, "Flexible Imputation of Missing Data",
// 2nd ed., 2018, sec. 1.3.3 on the indicator method). Torch-free.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/choice.h"
#include "core/config_fwd.h"

namespace cervirisk::models {

enum class ClinicalType { kNumeric, kCategorical, kOrdinal };
inline constexpr ChoiceNames<3> kClinicalTypeNames{"numeric", "categorical", "ordinal"};
const char* clinical_type_name(ClinicalType t);
ClinicalType parse_clinical_type(const std::string& s);  // throws ConfigError

struct ClinicalColumn {
  std::string name;
  ClinicalType type = ClinicalType::kNumeric;
  std::vector<std::string> levels;  // categorical: allowed levels; ordinal: in order
  bool log = false;                 // numeric: log-transform before standardising
};

// The [[clinical]] tables of a study config.
std::vector<ClinicalColumn> clinical_columns_from_config(const config::Config& cfg);

// One patient's raw values by column name, as the manifest holds them (strings). A value that is
// absent, empty, "NA", "NaN", "nan", "null" or "." is missing.
using ClinicalRow = std::map<std::string, std::string>;
bool is_missing_value(const std::string& s);

class ClinicalEncoder {
 public:
  ClinicalEncoder() = default;
  // Fits standardisation statistics and category levels on the training rows. Throws
  // ValidationError naming the column when a numeric value does not parse, a log column has a
  // non-positive value, or an ordinal value is not a declared level.
  static ClinicalEncoder fit(const std::vector<ClinicalColumn>& columns,
                             const std::vector<ClinicalRow>& training_rows);

  // The encoded vector (size feature_count()). Unknown categorical levels encode as missing.
  std::vector<float> encode(const ClinicalRow& row) const;
  // Many rows, row-major [rows.size() x feature_count()].
  std::vector<float> encode_all(const std::vector<ClinicalRow>& rows) const;

  std::size_t feature_count() const { return feature_names_.size(); }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // For each feature, the index of the column it came from (for grouped explanations).
  const std::vector<std::size_t>& feature_column() const { return feature_column_; }
  const std::vector<ClinicalColumn>& columns() const { return columns_; }

  nlohmann::json to_json() const;
  static ClinicalEncoder from_json(const nlohmann::json& j);  // throws FormatError

  struct Stats {
    double mean = 0.0, sd = 1.0;  // numeric (after log) and ordinal ranks
    std::size_t n_missing = 0;
  };
  const std::vector<Stats>& stats() const { return stats_; }

 private:
  void build_feature_names();
  std::optional<double> numeric_value(std::size_t col, const std::string& raw) const;

  std::vector<ClinicalColumn> columns_;
  std::vector<Stats> stats_;
  std::vector<std::string> feature_names_;
  std::vector<std::size_t> feature_column_;
};

}  // namespace cervirisk::models
