// Manifest loading, clinical schema, split and the table-level guards (docs/data-format.md).
#include "data/cohort.h"
#include "stats/followup.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/choice.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "io/table.h"
#include "data/rng.h"
#include "data/utf8.h"

namespace cervirisk::data {
namespace fs = std::filesystem;

namespace {
constexpr ChoiceNames<kCohortKinds> kCohortNames{"train", "internal", "external", "test_internal",
                                                "test_external"};              // CohortKind order
constexpr ChoiceNames<3> kColumnTypes{"numeric", "categorical", "ordinal"};  // ColumnType order
}  // namespace

const char* cohort_name(CohortKind k) { return choice_name(kCohortNames, k); }

const std::vector<CohortKind>& all_cohort_kinds() {
  static const std::vector<CohortKind> kinds = {CohortKind::kTrain, CohortKind::kInternal, CohortKind::kExternal,
                                                CohortKind::kTestInternal, CohortKind::kTestExternal};
  return kinds;
}

// Case-insensitive: a manifest may write "Train" or "EXTERNAL".
std::optional<CohortKind> parse_cohort(const std::string& s) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return find_choice<CohortKind>(kCohortNames, l);
}

std::vector<const Patient*> Cohort::in(CohortKind k) const {
  std::vector<const Patient*> out;
  for (const auto& p : patients)
    if (p.cohort == k) out.push_back(&p);
  return out;
}

std::vector<std::string> Cohort::centers() const {
  std::set<std::string> s;
  for (const auto& p : patients) s.insert(p.center);
  return {s.begin(), s.end()};
}

std::map<std::string, std::string> Cohort::clinical_row(const Patient& p) const {
  std::map<std::string, std::string> row;
  for (std::size_t i = 0; i < schema.size() && i < p.clinical.size(); ++i)
    if (!p.clinical[i].missing) row[schema[i].name] = p.clinical[i].raw;
  return row;
}

bool Cohort::has_errors() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kError; });
}

std::vector<ClinicalColumn> clinical_schema(const config::Config& cfg) {
  std::vector<ClinicalColumn> out;
  std::set<std::string> seen;
  for (const auto& r : cfg.get_records("clinical")) {
    ClinicalColumn c;
    c.name = std::get<std::string>(r.at("name"));
    const std::string type = std::get<std::string>(r.at("type"));
    c.type = find_choice<ColumnType>(kColumnTypes, type).value_or(ColumnType::kNumeric);
    c.unit = std::get<std::string>(r.at("unit"));
    c.min = std::get<double>(r.at("min"));
    c.max = std::get<double>(r.at("max"));
    c.levels = std::get<std::vector<std::string>>(r.at("levels"));
    c.log = std::get<bool>(r.at("log"));
    const std::string where = cfg.source() + ": [[clinical]] '" + c.name + "'";
    if (!seen.insert(c.name).second) throw ConfigError(where + " is declared twice");
    if (c.type != ColumnType::kNumeric && c.levels.size() < 2)
      throw ConfigError(where + ": a " + type + " column needs at least 2 levels, got " +
                        std::to_string(c.levels.size()));
    if (c.type == ColumnType::kNumeric && !c.levels.empty())
      throw ConfigError(where + ": levels are for categorical or ordinal columns, not numeric");
    if (c.min > c.max) throw ConfigError(where + ": min > max");
    if (c.log && c.min < 0) throw ConfigError(where + ": log = true needs min >= 0");
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const auto e = s.find_last_not_of(ws);
  s.erase(e == std::string::npos ? 0 : e + 1);
  return s;
}

bool is_missing(const std::string& s) {
  return s.empty() || s == "NA" || s == "N/A" || s == "na" || s == "NaN" || s == "nan" ||
         s == "null" || s == "NULL" || s == ".";
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string fmt_num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

void add(Cohort& c, Severity sev, std::string guard, std::string message, std::vector<std::string> ids) {
  c.findings.push_back({sev, std::move(guard), std::move(message), std::move(ids)});
}

}  // namespace

std::vector<CohortKind> assign_split(const std::vector<SplitRow>& rows,
                                     const std::vector<std::string>& external_centers,
                                     double internal_fraction, bool stratify, std::uint64_t seed) {
  std::vector<CohortKind> out(rows.size(), CohortKind::kTrain);
  const std::set<std::string> ext(external_centers.begin(), external_centers.end());
  std::map<int, std::vector<std::size_t>> strata;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (ext.count(rows[i].center)) out[i] = CohortKind::kExternal;
    else strata[stratify ? rows[i].event : 0].push_back(i);
  }
  Rng rng(seed);
  for (auto& [key, idx] : strata) {
    // Sorted by id first: the split does not depend on the manifest's row order.
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return rows[a].id != rows[b].id ? rows[a].id < rows[b].id : a < b;
    });
    for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
    const auto n_internal = static_cast<std::size_t>(std::lround(internal_fraction * static_cast<double>(idx.size())));
    for (std::size_t i = 0; i < n_internal && i < idx.size(); ++i) out[idx[i]] = CohortKind::kInternal;
  }
  return out;
}

double reverse_km_median(const std::vector<double>& time, const std::vector<int>& event) {
  // The median potential follow-up (stats/followup.h), over the patients with a time.
  std::vector<double> t;
  std::vector<int> e;
  for (std::size_t i = 0; i < time.size(); ++i)
    if (time[i] >= 0) t.push_back(time[i]), e.push_back(event[i] != 0);
  if (t.empty()) return std::nan("");
  const double m = stats::median_follow_up(t, e).median;
  return std::isfinite(m) ? m : std::nan("");
}

namespace {

// Where each manifest column is (-1: absent). The required ones and the declared clinical columns
// are checked here, before any row is read.
struct ManifestColumns {
  int id = -1, center = -1, cohort = -1, image = -1, mask = -1, report = -1, text = -1, event = -1, time = -1;
  int segment = -1;      // optional mask_segment column
  std::string default_segment;  // data.mask_segment
  std::vector<int> clinical;  // in schema order
};

ManifestColumns manifest_columns(const io::Table& t, const Cohort& c, const config::Config& cfg) {
  auto column = [&](const std::string& name) {
    return t.has_column(name) ? static_cast<int>(t.column_index(name)) : -1;
  };
  for (const char* req : {"patient_id", "center", "image", "mask", "event", "time_months"})
    if (column(req) < 0)
      throw ValidationError(c.manifest.string() + ": required column '" + req + "' is missing (header: " + join(t.column_names()) + ")");
  ManifestColumns m;
  for (const auto& col : c.schema) {
    m.clinical.push_back(column(col.name));
    if (m.clinical.back() < 0)
      throw ValidationError(c.manifest.string() + ": clinical column '" + col.name + "' declared in " +
                            cfg.source() + " is not in the manifest (header: " + join(t.column_names()) + ")");
  }
  m.id = column("patient_id"), m.center = column("center"), m.cohort = column("cohort");
  m.image = column("image"), m.mask = column("mask"), m.report = column("report");
  m.text = column("report_text"), m.event = column("event"), m.time = column("time_months");
  m.segment = column("mask_segment");
  m.default_segment = cfg.get_string("data.mask_segment");
  return m;
}

// What the row loop collects: the guards that list all their patients in one finding, and the
// manifest's own split (one entry per patient read).
struct RowLists {
  std::vector<std::string> no_report, event_no_time, time_missing, bad_utf8_ids, bad_utf8_msgs;
  bool any_cohort = false, all_cohort = true;
  bool any_split_cohort = false;  // a cohort cell naming train, internal or external
  std::vector<std::optional<CohortKind>> manifest_cohort;
};

// One manifest row being read into a patient: its cells (trimmed) and where it is, for messages.
struct ManifestRow {
  const io::Table& table;
  const ManifestColumns& col;
  std::size_t r;
  std::string where;  // "manifest.csv row 3 (line 4) (patient P1)"
  std::string cell(int i) const { return i < 0 ? std::string() : trim(table.cell(r, static_cast<std::size_t>(i))); }
};

void read_cohort_cell(Cohort& c, const ManifestRow& m, const Patient& p, RowLists& lists) {
  std::optional<CohortKind> ck;
  if (m.col.cohort >= 0 && !m.cell(m.col.cohort).empty()) {
    lists.any_cohort = true;
    ck = parse_cohort(m.cell(m.col.cohort));
    if (!ck)
      add(c, Severity::kError, "unknown_cohort",
          m.where + ", column cohort: '" + m.cell(m.col.cohort) +
              "' is not one of train, internal, external, test_internal, test_external",
          {p.id});
    else if (!is_test(*ck))
      lists.any_split_cohort = true;
  } else {
    lists.all_cohort = false;
  }
  lists.manifest_cohort.push_back(ck);
}

void read_files(Cohort& c, const ManifestRow& m, const fs::path& base, Patient& p) {
  const std::string img = m.cell(m.col.image), msk = m.cell(m.col.mask);
  if (img.empty()) add(c, Severity::kError, "image_missing", m.where + ": empty image", {p.id});
  else p.image = fs::absolute(base / img).lexically_normal();
  if (msk.empty()) add(c, Severity::kError, "mask_missing", m.where + ": empty mask", {p.id});
  else p.mask = fs::absolute(base / msk).lexically_normal();
  const std::string seg = m.cell(m.col.segment);
  p.mask_segment = seg.empty() ? m.col.default_segment : seg;
}

// The report: a file named in `report` (resolved against the manifest's folder) or the inline
// `report_text`. A blank or absent report is a warning (a missing modality), invalid UTF-8 an error.
void read_report(Cohort& c, const ManifestRow& m, const fs::path& base, Patient& p, RowLists& lists) {
  std::string text;
  bool have = false, listed_missing = false;
  if (m.col.report >= 0 && !m.cell(m.col.report).empty()) {
    p.report_path = fs::absolute(base / m.cell(m.col.report)).lexically_normal();
    if (!fs::exists(p.report_path)) {
      add(c, Severity::kError, "report_file_missing", m.where + ", column report: file not found: " + p.report_path.string(), {p.id});
      listed_missing = true;
    } else {
      text = read_file(p.report_path);
      have = true;
    }
  } else if (m.col.text >= 0 && !m.cell(m.col.text).empty()) {
    text = m.table.cell(m.r, static_cast<std::size_t>(m.col.text));
    have = true;
  }
  if (have) {
    const std::size_t bad = utf8_invalid_offset(text);
    if (bad != std::string_view::npos) {
      lists.bad_utf8_ids.push_back(p.id);
      lists.bad_utf8_msgs.push_back(p.id + " (" + (p.report_path.empty() ? std::string("report_text") : p.report_path.string()) +
                                    ", byte " + std::to_string(bad) + ")");
    } else if (!trim(text).empty()) {
      if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
      p.report = text;
    } else {
      lists.no_report.push_back(p.id);
    }
  } else if (!listed_missing) {
    lists.no_report.push_back(p.id);
  }
}

void read_outcome(Cohort& c, const ManifestRow& m, Patient& p, RowLists& lists) {
  const std::string ev = m.cell(m.col.event), tm = m.cell(m.col.time);
  if (ev == "0" || ev == "1") p.event = ev == "1";
  else add(c, Severity::kError, "bad_event", m.where + ", column event: '" + ev + "' is not 0 or 1", {p.id});
  double tv;
  if (is_missing(tm)) {
    (p.event ? lists.event_no_time : lists.time_missing).push_back(p.id);
  } else if (!parse_number(tm, tv) || tv < 0) {
    add(c, Severity::kError, "bad_time", m.where + ", column time_months: '" + tm + "' is not a number >= 0", {p.id});
  } else {
    p.time_months = tv;
  }
}

// One clinical cell checked against its declared column: a number in range, or a known level.
ClinicalValue read_clinical_value(Cohort& c, const ClinicalColumn& col, std::string raw, const std::string& where,
                                  const std::string& id) {
  ClinicalValue v;
  v.raw = std::move(raw);
  if (is_missing(v.raw)) return v;
  if (col.type == ColumnType::kNumeric) {
    double x;
    if (!parse_number(v.raw, x)) {
      add(c, Severity::kError, "clinical_not_numeric", where + ": '" + v.raw + "' is not a number", {id});
    } else if (x < col.min || x > col.max) {
      add(c, Severity::kError, "clinical_out_of_range",
          where + ": " + v.raw + (col.unit.empty() ? "" : " " + col.unit) + " is outside the plausible range [" +
              fmt_num(col.min) + ", " + fmt_num(col.max) + "]",
          {id});
    } else {
      v.missing = false;
      v.number = x;
    }
    return v;
  }
  const auto it = std::find(col.levels.begin(), col.levels.end(), v.raw);
  if (it == col.levels.end()) {
    add(c, Severity::kError, "clinical_unknown_level",
        where + ": unknown level '" + v.raw + "' (allowed: " + join(col.levels) + ")", {id});
  } else {
    v.missing = false;
    v.level = static_cast<int>(it - col.levels.begin());
    v.number = v.level;
  }
  return v;
}

// Row r of the manifest: a patient appended to c.patients, or (empty patient_id) only a finding.
void read_row(Cohort& c, const io::Table& t, const ManifestColumns& col, std::size_t r, RowLists& lists) {
  const fs::path base = c.manifest.parent_path();
  Patient p;
  p.row = r + 1;
  ManifestRow m{t, col, r, c.manifest.filename().string() + " row " + std::to_string(p.row) + " (line " + std::to_string(t.line_of(r)) + ")"};
  p.id = m.cell(col.id);
  p.center = m.cell(col.center);
  if (p.id.empty()) {
    add(c, Severity::kError, "missing_id", m.where + ": empty patient_id", {});
    return;
  }
  if (p.center.empty()) add(c, Severity::kError, "missing_center", m.where + " (patient " + p.id + "): empty center", {p.id});
  m.where += " (patient " + p.id + ")";
  read_cohort_cell(c, m, p, lists);
  read_files(c, m, base, p);
  read_report(c, m, base, p, lists);
  read_outcome(c, m, p, lists);
  for (std::size_t k = 0; k < c.schema.size(); ++k)
    p.clinical.push_back(read_clinical_value(c, c.schema[k], m.cell(col.clinical[k]), m.where + ", column " + c.schema[k].name, p.id));
  c.patients.push_back(std::move(p));
}

void add_row_list_findings(Cohort& c, const RowLists& l) {
  if (!l.no_report.empty())
    add(c, Severity::kWarning, "report_missing",
        std::to_string(l.no_report.size()) + " patient(s) have no report (the model treats it as a missing modality): " + join(l.no_report),
        l.no_report);
  if (!l.bad_utf8_ids.empty())
    add(c, Severity::kError, "report_not_utf8", "report is not valid UTF-8: " + join(l.bad_utf8_msgs), l.bad_utf8_ids);
  if (!l.event_no_time.empty())
    add(c, Severity::kError, "event_without_time",
        "event = 1 with no time_months: " + join(l.event_no_time), l.event_no_time);
  if (!l.time_missing.empty())
    add(c, Severity::kWarning, "time_missing",
        "censored patients without time_months (excluded from follow-up and survival analyses): " + join(l.time_missing), l.time_missing);
}

// The split: the manifest's cohort column when it is filled for every patient, else the config's.
// Rows marked test_internal / test_external are a held-out test set either way: the config splits
// the other rows, exactly as it would without them.
void apply_split(Cohort& c, const config::Config& cfg, const RowLists& l) {
  if (l.any_split_cohort && !l.all_cohort) {
    add(c, Severity::kError, "cohort_partial",
        "the manifest's cohort column names train, internal or external for some rows only: fill it for every patient "
        "or leave it empty (test_internal / test_external alone may be given) to split by the config", {});
  }
  if (l.any_split_cohort && l.all_cohort) {
    c.split_source = "manifest";
    for (std::size_t i = 0; i < c.patients.size(); ++i)
      if (l.manifest_cohort[i]) c.patients[i].cohort = *l.manifest_cohort[i];
    if (cfg.is_set("split.external_centers"))
      log::warn("{}: the manifest has a cohort column; split.external_centers is ignored", cfg.source());
    return;
  }
  c.split_source = "config";
  const auto& ext = cfg.get_strings("split.external_centers");
  const auto centers = c.centers();
  for (const auto& e : ext)
    if (std::find(centers.begin(), centers.end(), e) == centers.end())
      add(c, Severity::kError, "unknown_external_center",
          cfg.source() + ": split.external_centers names centre '" + e + "', which has no patient (centres: " + join(centers) + ")", {});
  std::vector<SplitRow> rows;
  std::vector<std::size_t> split_rows;  // the patients the config splits (not the test set)
  for (std::size_t i = 0; i < c.patients.size(); ++i) {
    const auto& mc = l.manifest_cohort[i];
    if (mc && is_test(*mc)) {
      c.patients[i].cohort = *mc;
      continue;
    }
    rows.push_back({c.patients[i].id, c.patients[i].center, c.patients[i].event});
    split_rows.push_back(i);
  }
  const auto kinds = assign_split(rows, ext, cfg.get_double("split.internal_fraction"), cfg.get_bool("split.stratify"),
                                  derive_seed(static_cast<std::uint64_t>(cfg.get_int("study.seed")), "split"));
  for (std::size_t j = 0; j < split_rows.size(); ++j) c.patients[split_rows[j]].cohort = kinds[j];
}

// Duplicate ids, and a patient in two cohorts (leakage).
void check_duplicate_ids(Cohort& c) {
  std::map<std::string, std::vector<std::size_t>> by_id;
  for (std::size_t i = 0; i < c.patients.size(); ++i) by_id[c.patients[i].id].push_back(i);
  std::vector<std::string> dup, two;
  std::vector<std::string> dup_msg, two_msg;
  for (const auto& [id, idx] : by_id) {
    if (idx.size() < 2) continue;
    std::set<CohortKind> kinds;
    std::string rows;
    for (std::size_t i : idx) {
      kinds.insert(c.patients[i].cohort);
      rows += (rows.empty() ? "" : ", ") + std::to_string(c.patients[i].row) + " (" + cohort_name(c.patients[i].cohort) + ")";
    }
    if (kinds.size() > 1) two.push_back(id), two_msg.push_back(id + " in rows " + rows);
    else dup.push_back(id), dup_msg.push_back(id + " in rows " + rows);
  }
  if (!two.empty())
    add(c, Severity::kError, "patient_in_two_cohorts", "patient in more than one cohort (leakage): " + join(two_msg, "; "), two);
  if (!dup.empty()) add(c, Severity::kError, "duplicate_id", "duplicate patient_id: " + join(dup_msg, "; "), dup);
}

// The external cohort must not share a centre with training.
void check_external_centres(Cohort& c) {
  std::map<std::string, std::set<CohortKind>> kinds;
  for (const auto& p : c.patients) kinds[p.center].insert(p.cohort);
  for (const auto& [center, k] : kinds) {
    if (k.count(CohortKind::kExternal) && (k.count(CohortKind::kTrain) || k.count(CohortKind::kInternal))) {
      std::vector<std::string> ids;
      for (const auto& p : c.patients)
        if (p.center == center && p.cohort == CohortKind::kExternal) ids.push_back(p.id);
      add(c, Severity::kError, "external_shares_center",
          "centre '" + center + "' has patients in the external cohort and in training/internal validation: the external cohort must be a held-out centre (external patients: " + join(ids) + ")",
          ids);
    }
  }
}

// Clinical columns missing more than the configured fraction (training cohort).
void check_missing_fraction(Cohort& c, const config::Config& cfg) {
  const double max_missing = cfg.get_double("data.max_missing_fraction");
  for (std::size_t k = 0; k < c.schema.size(); ++k) {
    int miss = 0, n = 0;
    for (const auto& p : c.patients)
      if (p.cohort == CohortKind::kTrain) ++n, miss += p.clinical[k].missing;
    if (n > 0 && static_cast<double>(miss) / n > max_missing)
      add(c, Severity::kWarning, "clinical_mostly_missing",
          "clinical column " + c.schema[k].name + " is missing for " + std::to_string(miss) + " of " + std::to_string(n) +
              " training patients (more than data.max_missing_fraction = " + fmt_num(max_missing) + ")",
          {});
  }
}

}  // namespace

Cohort load_cohort(const config::Config& cfg, bool throw_on_error) {
  Cohort c;
  c.schema = clinical_schema(cfg);
  c.manifest = cfg.get_path("data.manifest");
  if (!fs::exists(c.manifest))
    throw InputError("manifest not found: " + c.manifest.string() + " (data.manifest in " + cfg.source() + ")");
  // The manifest dialect (BOM, comma or semicolon, RFC 4180 quoting) is io::Table's; cells are
  // read raw here so that the missing markers and every value check are the cohort's own.
  io::CsvOptions csv;
  csv.missing = {};
  const io::Table t = io::Table::read_csv(c.manifest, csv);
  const ManifestColumns columns = manifest_columns(t, c, cfg);
  // Per-guard collections, so each guard is one finding listing all its patients.
  RowLists lists;
  for (std::size_t r = 0; r < t.rows(); ++r) read_row(c, t, columns, r, lists);
  add_row_list_findings(c, lists);
  apply_split(c, cfg, lists);
  check_duplicate_ids(c);
  check_external_centres(c);
  check_missing_fraction(c, cfg);
  if (c.patients.empty()) add(c, Severity::kError, "empty_manifest", c.manifest.string() + ": no patient rows", {});
  for (const auto& f : c.findings)
    if (f.severity == Severity::kWarning) log::warn("{}", f.message);
  if (throw_on_error) throw_if_errors(c);
  return c;
}

void throw_if_errors(const Cohort& c) {
  std::string msg;
  int n = 0;
  for (const auto& f : c.findings) {
    if (f.severity != Severity::kError) continue;
    msg += "\n  [" + f.guard + "] " + f.message;
    ++n;
  }
  if (n > 0) throw ValidationError(c.manifest.string() + ": " + std::to_string(n) + " validation error(s):" + msg);
}

}  // namespace cervirisk::data
