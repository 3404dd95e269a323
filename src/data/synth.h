// The synthetic multicentre cohort (docs/data-format.md): latent biology ->
// pathology -> adjuvant therapy (by indication) -> censored recurrence, observed through three
// modalities -- a T2-weighted NIfTI volume with a tumour mask, a radiology report in the centre's
// house style, and a clinical table -- plus the ground truth and per-modality oracle scores.
// Everything is a pure function of (options, seed): per-patient streams come from derive_seed,
// so the files are byte-identical whatever the thread count.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/volume.h"

namespace cervirisk::data {

enum class SynthSize { kSmall, kFull };

struct SynthOptions {
  int patients = 445;
  int centers = 3;
  // The default seed is one whose 445-patient oracle table is close to the population values
  // (over 20000 patients), with a typical number of events and of missing reports; any other
  // seed draws the same population with other sampling noise.
  std::uint64_t seed = 16;
  double recurrence_rate = 0.15;  // target fraction of patients with an observed recurrence
  SynthSize size = SynthSize::kFull;
  std::string lang = "auto";      // auto (every centre Chinese, in its own house style), zh, en
  // Per-centre report language overriding `lang`, e.g. {{"C", "en"}} (synth --report-language C=en).
  std::map<std::string, std::string> report_language;
  // The large held-out test set, from the same generative process: patients of the external
  // centres (cohort test_external) and of the training centres in their shares (test_internal).
  // They do not change the study's patients, files or split.
  int test_external = 0;
  int test_internal = 0;
  bool images = true;             // false: tables, reports and truth only (fast)
  double no_report_fraction = 0.05;
  int threads = 0;                // 0 = hardware concurrency
};

// One centre's acquisition protocol, case mix and house style.
struct CenterProfile {
  std::string name;           // "A", "B", ...
  std::string lang;           // "zh" or "en"
  int report_style = 0;       // template family within the language
  double share = 0;           // fraction of the cohort
  // case mix and policy
  double adeno = 0.10, adenosquamous = 0.03;
  double scc_missing = 0.12;  // SCC-Ag not measured
  double scc_assay_bias = 1.0;
  double sedlis_rt = 0.7;     // probability of adjuvant RT when Sedlis-positive
  double followup_min = 36, followup_max = 120;  // administrative follow-up, months
  double unexplained_sd = 0;  // outcome variation no modality records (log-odds SD)
  // reading channels (report)
  double pm_sens = 0.85, pm_spec = 0.85, node_sens = 0.58, node_spec = 0.96, size_sd_mm = 2.5;
  // image appearance and what it lets a reader see
  double texture_read_sd = 0.45;  // noise on the latent texture component as seen in the image
  double gain = 1.0, offset = 0.0, gamma = 1.0, bias = 0.15, noise = 0.02;
  double tumour_signal = 0.58, stroma_signal = 0.16;
  // geometry: in-plane spacing, slice spacing, matrix (full size), orientation
  double spacing_mm = 0.7, slice_mm = 4.0;
  std::array<int, 3> matrix{208, 208, 24};
  io::Mat3 direction_lps{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  bool oblique = false;
};

// `lang`: auto (each centre's default: Chinese, house styles 0, 1, 2, ...), zh or en for all;
// `per_centre` then sets single centres ("C" -> "en"); an unknown centre or language is a
// ConfigError.
std::vector<CenterProfile> center_profiles(int centers, const std::string& lang,
                                           const std::map<std::string, std::string>& per_centre = {});
// Parses "C=en" or "A=zh,C=en" (synth --report-language).
std::map<std::string, std::string> parse_report_languages(const std::string& spec);

// Truth and observations of one synthetic patient.
struct SynthPatient {
  std::string id;
  int center = 0;
  std::string test_cohort;  // "" (the study's cohort), "test_internal" or "test_external"
  std::uint64_t seed = 0;  // the patient's own stream (images, report)
  // latent
  double z = 0, u = 0;     // aggressiveness; texture-only latent component
  // tumour and pathology (truth)
  double age = 48, size_cm = 2.8, depth = 0.4;  // depth: fraction of stromal thickness invaded
  int histology = 0;                            // 0 SCC, 1 adenocarcinoma, 2 adenosquamous
  bool dsi = false, lvsi = false, nodes = false, parametrium = false, margin = false, vagina = false;
  int node_side = 0, tumour_side = 0;           // -1 right, +1 left (patient's side)
  double scc_ag = 1.8;                          // true value, ng/mL (assay bias applied)
  bool scc_missing = false;
  int adjuvant = 0;                             // 0 none, 1 RT, 2 CRT
  int preop_stage = 0;                          // index into kStages
  // missing-value pattern of the other clinical columns
  bool lvsi_missing = false, dsi_missing = false, adjuvant_missing = false;
  // outcome
  double lp = 0;                                // log-odds of being susceptible (cure model)
  bool susceptible = false;
  double event_time_true = -1;                  // months, before censoring (-1 = cured)
  double censor_time = 0;
  bool event = false;
  double time_months = 0;
  // image and report observation channels
  double texture_seen = 0, heterogeneity_seen = 0, depth_seen = 0;
  bool pm_sign_seen = false;
  bool has_report = true;
  double read_long_mm = 0, read_short_mm = 0, read_depth = 0;
  bool read_pm = false, read_nodes = false, read_vagina = false;
  double read_node_mm = 0;
  int read_stage = 0;
  // oracle scores: the part of the risk an ideal reader of each modality could know
  double oracle_all = 0, oracle_image = 0, oracle_report = 0, oracle_clinical = 0, oracle_image_report = 0;
};

extern const std::array<const char*, 7> kStages;  // IB1 IB2 IB3 IIA1 IIA2 IIB IIIC1

// The latent biology, pathology, therapy, outcome and reading channels (no images, no text):
// the study's patients, then the test set's (SynthOptions::test_*; ids T<centre><5 digits>).
std::vector<SynthPatient> synth_biology(const SynthOptions& options,
                                        const std::vector<CenterProfile>& centers);

// The centres the default split holds out (the third, or the last of two).
std::vector<std::string> external_centers_of(const std::vector<CenterProfile>& centers);

// The report text of one patient (empty when the patient has none).
std::string synth_report(const SynthPatient& p, const CenterProfile& c);

// The T2-like volume and the annotator's tumour mask, on the centre's grid.
struct SynthImages {
  io::Volume image;
  io::Volume mask;
};
SynthImages synth_images(const SynthPatient& p, const CenterProfile& c, SynthSize size);

// AUC (Mann-Whitney; ties count 1/2) of a score against a 0/1 outcome. NaN when one class is empty.
double mann_whitney_auc(const std::vector<double>& score, const std::vector<int>& outcome);

struct OracleRow {
  std::string cohort;  // train, internal, external, test_internal, test_external
  int n = 0, events = 0;
  double auc_all = 0, auc_image = 0, auc_report = 0, auc_clinical = 0, auc_image_report = 0;
};

struct SynthSummary {
  std::vector<SynthPatient> patients;
  std::vector<OracleRow> oracle;
  double seconds = 0;
};

// Writes the whole cohort into `out`: images/, masks/, reports/, clinical.csv, manifest.csv,
// study.toml, truth.csv. `progress` (may be empty) is called with patients done.
SynthSummary write_synthetic_cohort(const SynthOptions& options, const std::filesystem::path& out,
                                    const std::function<void(int, int)>& progress = {});

// Oracle AUC table per cohort of the default split (train / internal / external), then the test
// set's cohorts when there is one.
std::vector<OracleRow> oracle_table(const std::vector<SynthPatient>& patients,
                                    const std::vector<CenterProfile>& centers, std::uint64_t seed);

}  // namespace cervirisk::data
