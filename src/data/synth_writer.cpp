// Writes the synthetic cohort to disk (docs/data-format.md) and computes the oracle AUC table.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/cohort.h"
#include "data/csv.h"
#include "io/table.h"
#include "data/synth.h"
#include "io/nifti.h"

namespace cervirisk::data {
namespace fs = std::filesystem;
namespace {

// The clinical columns of the synthetic cohort, as declared in its study.toml.
struct SynthColumn {
  const char* name;
  const char* type;
  const char* unit;
  double min, max;
  std::vector<const char*> levels;
  bool log;
};
const std::vector<SynthColumn>& synth_columns() {
  static const std::vector<SynthColumn> cols = {
      {"age", "numeric", "years", 18, 95, {}, false},
      {"histology", "categorical", "", 0, 0, {"SCC", "adenocarcinoma", "adenosquamous"}, false},
      {"figo_stage", "ordinal", "", 0, 0, {"IB1", "IB2", "IB3", "IIA1", "IIA2", "IIB", "IIIC1"}, false},
      {"scc_ag", "numeric", "ng/mL", 0, 500, {}, true},
      {"lvsi", "categorical", "", 0, 0, {"no", "yes"}, false},
      {"deep_stromal_invasion", "categorical", "", 0, 0, {"no", "yes"}, false},
      {"lymph_nodes", "categorical", "", 0, 0, {"negative", "positive"}, false},
      {"parametrium", "categorical", "", 0, 0, {"negative", "positive"}, false},
      {"margin", "categorical", "", 0, 0, {"negative", "positive"}, false},
      {"adjuvant_therapy", "categorical", "", 0, 0, {"none", "RT", "CRT"}, false},
  };
  return cols;
}

std::vector<std::string> clinical_values(const SynthPatient& p, const CenterProfile& c) {
  static const char* hist[] = {"SCC", "adenocarcinoma", "adenosquamous"};
  static const char* adj[] = {"none", "RT", "CRT"};
  const std::string na = c.name == "B" ? "NA" : "";
  return {fixed(p.age, 0),
          hist[p.histology],
          kStages[static_cast<std::size_t>(p.preop_stage)],
          p.scc_missing ? na : fixed(p.scc_ag, 1),
          p.lvsi_missing ? na : (p.lvsi ? "yes" : "no"),
          p.dsi_missing ? na : (p.dsi ? "yes" : "no"),
          p.nodes ? "positive" : "negative",
          p.parametrium ? "positive" : "negative",
          p.margin ? "positive" : "negative",
          p.adjuvant_missing ? na : adj[p.adjuvant]};
}

std::string study_toml(const SynthOptions& o, const std::vector<CenterProfile>& centers) {
  std::ostringstream t;
  t << "# Synthetic multicentre cohort written by `cervirisk synth` (seed " << o.seed << ").\n"
    << "# Check it with: cervirisk validate --config study.toml\n\n"
    << "[study]\nname = \"Synthetic multicentre cervical cancer cohort\"\nseed = " << o.seed
    << "\nout_dir = \"out\"\nsynthetic = true\n\n"
    << "[data]\nmanifest = \"manifest.csv\"\n\n[split]\nexternal_centers = [";
  if (centers.size() >= 2) t << "\"" << centers[std::min<std::size_t>(2, centers.size() - 1)].name << "\"";
  t << "]\ninternal_fraction = 0.3\nstratify = true\n";
  for (const auto& col : synth_columns()) {
    t << "\n[[clinical]]\nname = \"" << col.name << "\"\ntype = \"" << col.type << "\"\n";
    if (std::string(col.type) == "numeric") {
      t << "unit = \"" << col.unit << "\"\nmin = " << fixed(col.min, 1) << "\nmax = " << fixed(col.max, 1) << "\n";
      if (col.log) t << "log = true\n";
    } else {
      t << "levels = [";
      for (std::size_t i = 0; i < col.levels.size(); ++i) t << (i ? ", " : "") << "\"" << col.levels[i] << "\"";
      t << "]\n";
    }
  }
  return t.str();
}

// The default split of the study's patients (the test set is not split; it keeps its own kind).
std::vector<CohortKind> split_of(const std::vector<SynthPatient>& patients, const std::vector<CenterProfile>& centers,
                                 std::uint64_t seed) {
  std::vector<SplitRow> rows;
  std::vector<std::size_t> at;
  std::vector<CohortKind> kinds(patients.size(), CohortKind::kTrain);
  for (std::size_t i = 0; i < patients.size(); ++i) {
    const auto& p = patients[i];
    if (!p.test_cohort.empty()) {
      kinds[i] = parse_cohort(p.test_cohort).value();
      continue;
    }
    rows.push_back({p.id, centers[static_cast<std::size_t>(p.center)].name, p.event ? 1 : 0});
    at.push_back(i);
  }
  const auto split = assign_split(rows, external_centers_of(centers), 0.3, true, derive_seed(seed, "split"));
  for (std::size_t j = 0; j < at.size(); ++j) kinds[at[j]] = split[j];
  return kinds;
}

}  // namespace

std::vector<std::string> external_centers_of(const std::vector<CenterProfile>& centers) {
  if (centers.size() < 2) return {};
  return {centers[std::min<std::size_t>(2, centers.size() - 1)].name};
}

std::vector<OracleRow> oracle_table(const std::vector<SynthPatient>& patients,
                                    const std::vector<CenterProfile>& centers, std::uint64_t seed) {
  const auto kinds = split_of(patients, centers, seed);
  std::vector<OracleRow> out;
  for (CohortKind k : all_cohort_kinds()) {
    OracleRow r;
    r.cohort = cohort_name(k);
    std::vector<double> all, img, rep, cli, ir;
    std::vector<int> y;
    for (std::size_t i = 0; i < patients.size(); ++i) {
      if (kinds[i] != k) continue;
      const auto& p = patients[i];
      all.push_back(p.oracle_all), img.push_back(p.oracle_image), rep.push_back(p.oracle_report);
      cli.push_back(p.oracle_clinical), ir.push_back(p.oracle_image_report);
      y.push_back(p.event ? 1 : 0);
      ++r.n;
      r.events += p.event;
    }
    if (r.n == 0) continue;
    r.auc_all = mann_whitney_auc(all, y);
    r.auc_image = mann_whitney_auc(img, y);
    r.auc_report = mann_whitney_auc(rep, y);
    r.auc_clinical = mann_whitney_auc(cli, y);
    r.auc_image_report = mann_whitney_auc(ir, y);
    out.push_back(r);
  }
  return out;
}

namespace {

// Images and reports, in parallel over patients (each patient has its own random stream, so the
// files do not depend on the thread count).
void write_patient_files(const SynthOptions& o, const std::vector<CenterProfile>& centers,
                         const std::vector<SynthPatient>& patients, const fs::path& out,
                         const std::function<void(int, int)>& progress) {
  const int n = static_cast<int>(patients.size());
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::mutex err_mutex, progress_mutex;
  std::string first_error;
  ExitCode first_code = ExitCode::kOk;
  auto work = [&](std::size_t i) {
    if (failed) return;
    try {
      const SynthPatient& p = patients[i];
      const CenterProfile& c = centers[static_cast<std::size_t>(p.center)];
      if (o.images) {
        const SynthImages im = synth_images(p, c, o.size);
        io::write_nifti(im.image, out / "images" / (p.id + "_t2.nii.gz"), io::NiftiDtype::kInt16, 1);
        io::write_nifti(im.mask, out / "masks" / (p.id + "_mask.nii.gz"), io::NiftiDtype::kUInt8, 6);
      }
      if (p.has_report) write_file_atomic(out / "reports" / (p.id + ".txt"), synth_report(p, c));
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(err_mutex);
      if (first_error.empty()) first_error = e.what(), first_code = e.code();
      failed = true;
    }
    const int d = ++done;
    if (progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress(d, n);
    }
  };
  // Twice the cores by default: each patient's files are fsync'ed (atomic writes), and the
  // waits overlap with the other threads' computing.
  const int threads = o.threads > 0 ? o.threads : 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  parallel_for(patients.size(), worker_count(threads, patients.size()), work);
  if (!first_error.empty()) throw Error(first_code, first_error);
}

// clinical.csv, manifest.csv, truth.csv and study.toml.
void write_tables(const SynthOptions& o, const std::vector<CenterProfile>& centers,
                  const std::vector<SynthPatient>& patients, const fs::path& out) {
  std::ostringstream clinical, manifest, truth;
  clinical << "patient_id,center";
  // A test set is marked in the manifest's cohort column (empty for the study's patients, which
  // study.toml's [split] divides as before); without one the manifest has no such column.
  const bool test_set = std::any_of(patients.begin(), patients.end(), [](const SynthPatient& p) { return !p.test_cohort.empty(); });
  manifest << "patient_id,center" << (test_set ? ",cohort" : "") << ",image,mask,report,event,time_months";
  for (const auto& col : synth_columns()) clinical << "," << col.name, manifest << "," << col.name;
  clinical << "\n";
  manifest << "\n";
  truth << "patient_id,center,cohort,z,texture_latent,size_cm,stromal_depth,dsi,lvsi,nodes,parametrium,margin,vagina,"
           "adjuvant,linear_predictor,susceptible,event_time_true,censor_time,event,time_months,"
           "oracle_all,oracle_image,oracle_report,oracle_clinical,oracle_image_report\n";
  const auto kinds = split_of(patients, centers, o.seed);
  for (std::size_t i = 0; i < patients.size(); ++i) {
    const auto& p = patients[i];
    const auto& c = centers[static_cast<std::size_t>(p.center)];
    const auto vals = clinical_values(p, c);
    clinical << p.id << "," << c.name;
    manifest << p.id << "," << c.name << (test_set ? "," + p.test_cohort : std::string()) << ",images/" << p.id << "_t2.nii.gz,masks/" << p.id << "_mask.nii.gz,"
             << (p.has_report ? "reports/" + p.id + ".txt" : "") << "," << (p.event ? 1 : 0) << "," << fixed(p.time_months, 1);
    for (const auto& v : vals) clinical << "," << io::csv_field(v), manifest << "," << io::csv_field(v);
    clinical << "\n";
    manifest << "\n";
    truth << p.id << "," << c.name << "," << cohort_name(kinds[i]) << "," << fixed(p.z, 4) << "," << fixed(p.u, 4) << ","
          << fixed(p.size_cm, 3) << "," << fixed(p.depth, 3) << "," << p.dsi << "," << p.lvsi << "," << p.nodes << ","
          << p.parametrium << "," << p.margin << "," << p.vagina << "," << p.adjuvant << "," << fixed(p.lp, 4) << ","
          << p.susceptible << "," << (p.susceptible ? fixed(p.event_time_true, 2) : "NA") << "," << fixed(p.censor_time, 2)
          << "," << p.event << "," << fixed(p.time_months, 1) << "," << fixed(p.oracle_all, 4) << ","
          << fixed(p.oracle_image, 4) << "," << fixed(p.oracle_report, 4) << "," << fixed(p.oracle_clinical, 4) << ","
          << fixed(p.oracle_image_report, 4) << "\n";
  }
  write_file_atomic(out / "clinical.csv", clinical.str());
  write_file_atomic(out / "manifest.csv", manifest.str());
  write_file_atomic(out / "truth.csv", truth.str());
  write_file_atomic(out / "study.toml", study_toml(o, centers));
}

}  // namespace

SynthSummary write_synthetic_cohort(const SynthOptions& o, const fs::path& out,
                                    const std::function<void(int, int)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto centers = center_profiles(o.centers, o.lang, o.report_language);
  SynthSummary s;
  s.patients = synth_biology(o, centers);
  ensure_writable_dir(out);
  for (const char* d : {"images", "masks", "reports"}) ensure_writable_dir(out / d);
  write_patient_files(o, centers, s.patients, out, progress);
  write_tables(o, centers, s.patients, out);
  s.oracle = oracle_table(s.patients, centers, o.seed);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace cervirisk::data
