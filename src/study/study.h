// The study (`cervirisk study`, `train`, `evaluate`, `explain`, `report`, `predict`, `demo`): every
// step from the cohort manifest to the run folder of DESIGN.md "Outputs of a study run".
//
//   cohort.cpp        load + guards (exit 5)            -> cohorts.csv, table1.csv
//   features.cpp      fit on the TRAINING cohort only   -> imaging params, vocabulary, clinical encoder;
//                     every patient's features (imaging cache)
//   pretrain_text.cpp MLM pretraining of the report encoder on the training reports
//   train_variant.cpp one variant x seed: Trainer on train, threshold and cut-point on train
//                                                       -> models/<variant>/ (bundle)
//   (same file)       predictions of every cohort        -> predictions/<variant>.csv
//   evaluate.cpp      statistics                         -> metrics.json, comparisons.csv
//   explain.cpp       explanations of one variant        -> explain/
//   report.cpp        figures and report.html, once      -> figures/, report.html
//   predict.cpp       one new patient through a bundle
//   run_study.cpp     the order of the steps, run.json
//
// Study-design rules (DESIGN.md): the external cohort is never seen by fitting, early stopping,
// the threshold or the cut-point; everything fitted is fitted on the training cohort and frozen
// into the bundle. The fitting functions receive only the training (and internal) patients.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/synth.h"

namespace cervirisk::bundle {
struct Bundle;
}
namespace cervirisk::io {
struct Volume;
}

namespace cervirisk::study {

struct StudyOptions {
  std::filesystem::path config, out;  // out empty = study.out_dir of the config
  std::vector<std::string> variants;  // empty = train.variants
  int seeds = 1;
  bool resume = false;
  bool report = true;                 // explanations of explain_variant, then figures + report.html
  std::string explain_variant;        // empty = the final variant (msm_tc)
  std::string command = "study";
};

struct ExplainSummary {
  std::string variant;
  int patients = 0;
  int examples = 0;
  int overlays = 0;                // PNG files written
  bool modality_shapley = false;   // the variant fuses several modalities
  bool clinical_shap = false;      // the variant has a clinical path
  double modality_seconds = 0, clinical_seconds = 0, overlay_seconds = 0;
  std::size_t clinical_coalitions = 0;  // per patient
  double max_efficiency_error = 0;      // max |sum phi - (f(x) - E f)| over patients (clinical)
};

struct StudyResult {
  std::filesystem::path run_dir;
  // AUC [lo, hi] per variant x cohort of the first seed (for the CLI's table).
  struct Row {
    std::string variant, cohort;
    double auc = 0, lo = 0, hi = 0;
    int n = 0, events = 0;
  };
  std::vector<Row> table;
  std::map<std::string, double> timings;
  std::optional<ExplainSummary> explained;
  // A failed explanation or report: the run's other files are written; the caller finishes its
  // output and rethrows (the exit code is the error's).
  std::exception_ptr failure;
};

// Writes the run folder of DESIGN.md "Outputs of a study run".
StudyResult run_study(const StudyOptions& options);

// Recomputes metrics.json and comparisons.csv from predictions/*.csv and the bundles' model.json.
void evaluate_run(const std::filesystem::path& run_dir);

// Explanations of one variant of a run (explain/): modality group Shapley values, KernelSHAP over
// the clinical features, the report's example patients with Grad-CAM and rollout overlays.
// Throws Error subclasses whose message names the step that failed ("explain (clinical
// KernelSHAP): ..."), keeping the original exit code; nullopt when the variant has no bundle.
std::optional<ExplainSummary> explain_run(const std::filesystem::path& run_dir, const std::string& variant);

// figures/ and report.html of a run folder (rendered from its files alone).
struct ReportOutput {
  std::size_t figures = 0;
  std::filesystem::path html;
};
ReportOutput write_report(const std::filesystem::path& run_dir, bool figures = true,
                          const std::filesystem::path& html = {});

// One patient, for `cervirisk predict`.
struct PredictInput {
  std::filesystem::path image, mask;
  std::optional<std::string> report;          // text; nullopt = no report
  std::map<std::string, std::string> clinical;  // raw values by column; empty = no clinical data
  std::string mask_segment;                     // ROI / segment / label of a multi-structure mask
  std::filesystem::path explain_dir;            // non-empty: write the image maps there (NIfTI + PNG)
};
struct PredictOutput {
  double probability = 0, logit = 0, threshold = 0, cutpoint = 0;
  std::string risk_group;
  std::vector<std::string> modalities_present;
  std::vector<std::filesystem::path> maps;  // explain_dir's NIfTI maps (image geometry), then overlay PNGs
  // With explain_dir, when the bundle has explain_background.safetensors: the patient's exact
  // modality Shapley values and clinical KernelSHAP values of the probability (name, value), each
  // against the training cohort's background (E f = the *_expected value); the values sum to
  // probability - expected.
  std::vector<std::pair<std::string, double>> modality_shap, clinical_shap;
  double modality_expected = 0, clinical_expected = 0;
};
PredictOutput predict_patient(const std::filesystem::path& bundle, const PredictInput& input);
// The same with a bundle already loaded and the image and mask already read (input.image / mask
// are not read; the service reads them itself to name the failing upload). Not thread-safe for
// one bundle: callers serialise.
PredictOutput predict_loaded(const bundle::Bundle& bundle, const io::Volume& image, const io::Volume& mask,
                             const PredictInput& input);
// clinical.json's text ({"column": value}; null = missing) as raw values by column. FormatError
// naming `where`.
std::map<std::string, std::string> clinical_from_json(const std::string& text, const std::string& where);
// A patient folder: image(.nii.gz|.nii|.nrrd|.mha) or a DICOM folder `image`, mask (same, or an
// RTSTRUCT / SEG file mask.dcm), report.txt
// and clinical.json ({"column": value}, null = missing), each replaceable by a file of its own
// (empty path = take it from the folder). InputError naming what is missing.
struct PatientFiles {
  std::filesystem::path folder, image, mask, report, clinical;
};
PredictInput read_patient(const PatientFiles& files);

// `cervirisk demo`: a synthetic multicentre cohort into out/data, the demo's training settings
// (kDemoToml: minutes on 2 cores) appended to its study.toml as demo.toml, the whole study into
// out/run.
struct DemoOptions {
  std::filesystem::path out = "out/demo";
  int patients = 445;
  int test_patients = 0;  // a large external-centre test set (synth --test-patients; 0 = none)
  int threads = 0;
  std::vector<std::string> variants;  // empty = all six
};
struct DemoResult {
  data::SynthSummary synth;
  StudyResult study;
  double seconds = 0;  // the study part
};
extern const char* const kDemoToml;
DemoResult run_demo(const DemoOptions& options);

// `cervirisk benchmark` (docs/benchmark.md): synth + study (the demo's settings, optionally
// refined by a settings file) over K seeds, each cohort's AUCs against the simulation's oracle
// AUCs, and the paired DeLong tests of the paper's ladder (convnext, vit < msm < msm_t < msm_tc).
struct BenchmarkOptions {
  std::filesystem::path out = "out/benchmark";
  int seeds = 5;
  std::uint64_t first_seed = 1;
  int patients = 445;
  int test_patients = 2000;           // test_external (the external centre's process)
  int test_internal_patients = 0;     // test_internal (the training centres')
  std::map<std::string, std::string> report_language;  // e.g. {"C", "en"}
  std::filesystem::path settings;     // TOML laid over the demo's settings (empty = none)
  std::vector<std::string> variants;  // empty = all six
  bool resume = false;                // reuse the seeds whose run finished (metrics.json written), and the written cohort of a seed whose study did not (its study resumes)
  int threads = 0;
};
// One variant on one cohort over the seeds.
struct BenchmarkCell {
  std::string variant, cohort, oracle;  // oracle: "image", "image_report", "all", "clinical"
  std::vector<double> auc, oracle_auc, ratio;  // per seed
};
// One step of the ladder (lower -> upper) on one cohort over the seeds: paired DeLong per seed
// and the inverse-variance (fixed-effect) pooled difference.
struct BenchmarkStep {
  std::string lower, upper, cohort;
  std::vector<double> diff, p;  // per seed: AUC(upper) - AUC(lower), two-sided p
  double pooled_diff = 0, pooled_se = 0, pooled_p = 1;
};
struct BenchmarkSeedRun {
  std::uint64_t seed = 0;
  double synth_seconds = 0, study_seconds = 0;
  std::vector<data::OracleRow> oracle;
};
struct BenchmarkResult {
  BenchmarkOptions options;
  std::vector<BenchmarkSeedRun> runs;
  std::vector<BenchmarkCell> cells;
  std::vector<BenchmarkStep> ladder;
  std::string machine;  // cores, load average before and after
  double seconds = 0;
  std::string text() const;      // the terminal table
  std::string markdown() const;  // the same tables for docs/benchmark.md
  std::string json() const;
};
BenchmarkResult run_benchmark(const BenchmarkOptions& options);

// `cervirisk pretrain-text`: MLM pretraining of a BERT on report text into a HuggingFace folder
// (config.json, model.safetensors in BertForMaskedLM layout, vocab.txt, tokenizer_config.json,
// pretrain_history.json). Zero / empty fields take the config's [text] keys and study.seed.
struct PretrainTextOptions {
  std::filesystem::path config, reports, held_out, out, pretrained;
  std::string preset;
  std::int64_t vocab_size = 0, epochs = -1, max_length = 0, batch_size = 0;
  double lr = 0, mask_probability = 0;
  bool whole_word = false;
  std::int64_t seed = -1;
};
struct PretrainTextEpoch {
  int epoch = 0;
  double train_loss = 0, held_out_loss = 0, held_out_accuracy = 0, seconds = 0;
};
std::vector<PretrainTextEpoch> pretrain_text_folder(const PretrainTextOptions& options);
// Reports: one per line of a UTF-8 text file, or one per *.txt file of a folder (sorted by name).
std::vector<std::string> read_reports(const std::filesystem::path& path);

}  // namespace cervirisk::study
