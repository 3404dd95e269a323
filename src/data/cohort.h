// The study's cohort: the manifest (one row per patient), the clinical schema declared in the
// config, the split into training / internal / external cohorts, and the guards that stop a
// study before it trains on broken or leaking data (docs/data-format.md).
//
//   data::Cohort cohort = data::load_cohort(cfg);       // throws ValidationError (exit 5)
//   for (const data::Patient* p : cohort.in(data::CohortKind::kTrain)) ...
//
// load_cohort() runs every table-level guard; check_images() adds the guards that read the
// image files (content hashes, mask empty or outside its image).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/volume.h"

namespace cervirisk::config {
class Config;
}

namespace cervirisk::data {

// train / internal / external: the study's cohorts (the split). test_internal / test_external: a
// held-out test set (e.g. the synthetic cohort's large test set, `synth --test-patients`) from
// the training centres' or the external centres' population, named in the manifest's cohort
// column; no fitting or selection step sees it, and it is evaluated like the others.
enum class CohortKind { kTrain = 0, kInternal = 1, kExternal = 2, kTestInternal = 3, kTestExternal = 4 };
constexpr int kCohortKinds = 5;
const char* cohort_name(CohortKind k);  // "train", "internal", "external", "test_internal", "test_external"
std::optional<CohortKind> parse_cohort(const std::string& s);
inline bool is_test(CohortKind k) { return k == CohortKind::kTestInternal || k == CohortKind::kTestExternal; }
// The same for a cohort's name as the run folder writes it ("test_external" -> true; an unknown name -> false).
inline bool is_test_cohort(const std::string& name) {
  const auto k = parse_cohort(name);
  return k && is_test(*k);
}
// Every kind, in order (the study's three first).
const std::vector<CohortKind>& all_cohort_kinds();

enum class ColumnType { kNumeric, kCategorical, kOrdinal };

// One declared clinical column ([[clinical]] in study.toml).
struct ClinicalColumn {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::string unit;
  double min = -1e308, max = 1e308;
  std::vector<std::string> levels;  // categorical: allowed; ordinal: in order
  bool log = false;
};
std::vector<ClinicalColumn> clinical_schema(const config::Config& cfg);

struct ClinicalValue {
  bool missing = true;
  std::string raw;     // as written in the manifest (trimmed)
  double number = 0;   // numeric value, or the level index for categorical / ordinal
  int level = -1;      // index into ClinicalColumn::levels (categorical / ordinal)
};

struct Patient {
  std::string id;
  std::string center;
  CohortKind cohort = CohortKind::kTrain;
  std::size_t row = 0;  // 1-based data row in the manifest (the header is row 0)
  std::filesystem::path image, mask;  // absolute (resolved against the manifest's folder)
  std::string mask_segment;           // manifest column mask_segment, else data.mask_segment ("" = the only one)
  std::filesystem::path report_path;  // empty when the report is inline or absent
  std::optional<std::string> report;  // the text (valid UTF-8); nullopt = no report
  int event = 0;
  double time_months = -1;            // < 0: not recorded
  std::vector<ClinicalValue> clinical;  // in schema order
};

enum class Severity { kWarning, kError };

// A guard's finding: which guard, a message naming rows / columns / values, and the patients.
struct Finding {
  Severity severity = Severity::kError;
  std::string guard;  // e.g. "duplicate_id", "clinical_out_of_range"
  std::string message;
  std::vector<std::string> patient_ids;
};

struct Cohort {
  std::filesystem::path manifest;
  std::vector<ClinicalColumn> schema;
  std::vector<Patient> patients;
  std::string split_source;  // "manifest" (cohort column) or "config"
  std::vector<Finding> findings;

  std::vector<const Patient*> in(CohortKind k) const;
  std::vector<std::string> centers() const;  // sorted
  // The patient's non-missing clinical values as written in the manifest, by column name (the
  // raw row the clinical encoder and the explanations read).
  std::map<std::string, std::string> clinical_row(const Patient& p) const;
  bool has_errors() const;
};

// Reads the manifest of cfg (data.manifest), the clinical schema and the reports, applies the
// split and runs the table-level guards. Findings are collected in Cohort::findings; with
// `throw_on_error` any error throws one ValidationError (exit 5) listing them all. A missing or
// unreadable manifest throws InputError; a malformed one FormatError.
Cohort load_cohort(const config::Config& cfg, bool throw_on_error = true);

// Image guards: image and mask files exist and load, identical image files (SHA-256 of the
// bytes; of every file for a DICOM folder) under different patients, mask empty, mask not
// overlapping its image. An image that is a folder is read as a DICOM series, chosen by
// `dicom_series` (data.dicom_series) when the folder holds several. Appends to cohort.findings
// and returns each patient's image geometry (empty Geometry when unreadable).
std::vector<io::Geometry> check_images(Cohort& cohort, int threads = 0, const std::string& dicom_series = "");

// Throws ValidationError listing every error finding (no-op when there is none).
void throw_if_errors(const Cohort& cohort);

// The configured split. External = patients of `external_centers`; of the rest a fraction
// goes to internal validation, stratified by event when `stratify`, drawn with `seed`.
struct SplitRow {
  std::string id;
  std::string center;
  int event = 0;
};
std::vector<CohortKind> assign_split(const std::vector<SplitRow>& rows,
                                     const std::vector<std::string>& external_centers,
                                     double internal_fraction, bool stratify, std::uint64_t seed);

// Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith, Control Clin Trials
// 1996, doi:10.1016/0197-2456(96)00075-X): censoring is the "event". NaN when undefined.
double reverse_km_median(const std::vector<double>& time, const std::vector<int>& event);

// The cohort table: patients, events, follow-up and missing values per centre x cohort, plus the
// image geometry per centre when `geometry` is given. Written as CSV and JSON by validate.
struct CohortTableRow {
  std::string center;  // "all" for a cohort total
  std::string cohort;  // "all" for the grand total
  int patients = 0, events = 0, reports = 0;
  double followup_median_months = 0;
  std::vector<int> missing;  // per clinical column
};
struct CenterGeometry {
  std::string center;
  std::string shape, spacing_mm, orientation;  // e.g. "208x208x24", "0.70x0.70x4.00", "PIL"
  bool uniform = true;  // all patients of the centre share shape and spacing
  bool oblique = false;
};
struct CohortTable {
  std::vector<std::string> columns;  // clinical column names
  std::vector<CohortTableRow> rows;
  std::vector<CenterGeometry> geometry;
  std::string csv() const;
  std::string json() const;   // includes findings when given to cohort_table
  std::string text() const;   // aligned, for the terminal
  std::string findings_json;  // filled by cohort_table
};
CohortTable cohort_table(const Cohort& cohort, const std::vector<io::Geometry>* geometry = nullptr);

}  // namespace cervirisk::data
