// PLAN -- the study runner (issue "Train and validate the whole study"). Declarations only: nothing
// here is defined yet and nothing calls it. It is the contract the runner will be implemented
// against once the image pipeline (src/imaging), the cohort (src/data), the statistics
// (src/stats), the tokenizer + BERT (src/text, src/models) and the model family (src/models)
// are merged. The generic pieces it drives are done: loader.h, losses.h, schedule.h,
// trainer.h, checkpoint.h.
//
// Flow of `cervirisk study --config study.toml [--out DIR] [--variants ...] [--seeds N]`:
//   1. load_cohort + check_images (src/data)             -> cohorts.csv, guards (exit 5 on leakage)
//   2. fit_preprocessing on the TRAINING cohort only     -> intensity stats, vocabulary, clinical encoder
//   3. build_sample_cache: every patient of every cohort -> <out>/cache/<patient>.safetensors
//   4. per variant (x seed): train_variant               -> models/<variant>/ bundle + checkpoint
//   5. predict_all: every patient of every cohort        -> predictions/<variant>.csv
//   6. study_statistics (src/stats)                      -> metrics.json, comparisons.csv
//   7. run.json (core/run_manifest.h) with timings "preprocess", "train/<variant>", "evaluate"
//
// Study-design rules this code must keep (DESIGN.md; the tests of issue 8 guard them): the
// external cohort is never seen by fitting, early stopping, the threshold or the cut-point;
// everything fitted is fitted on the training cohort and frozen into the bundle.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "train/loader.h"
#include "train/trainer.h"

namespace cervirisk::config {
class Config;
}

namespace cervirisk::train {

// --- 2/3. Preprocessing fitted on the training cohort, and the per-patient cache -----------------

// Everything fitted before training, frozen into every bundle. Built from the training cohort's
// patients only (the function receives only those, so it cannot peek).
struct Preprocessing {
  // imaging: crop sizes in mm and px, in-plane spacing, slices (2.5D), intensity normalisation
  // parameters (per-image z-score or fitted percentiles) -- imaging::CropConfig once merged
  std::string imaging_json;
  std::filesystem::path vocab;   // vocab.txt (built from training reports, or the pretrained one)
  std::int64_t max_tokens = 128;
  std::string clinical_encoder_json;  // models::ClinicalEncoder::to_json()
};

// One patient's model inputs, computed once and reused by every variant, epoch and seed:
//   "tumour"  [C,H,W] float, "context" [C,H2,W2] float (unaugmented crops; augmentation is
//             applied in Dataset::get from the sample's own stream)
//   "text_ids", "text_mask" [L] int64, "has_text" [] bool
//   "clinical" [F] float, "has_clinical" [] bool
// stored as <cache>/<patient>.safetensors (io/safetensors.h), keyed by the SHA-256 of the
// inputs + preprocessing so a changed file or setting invalidates it.
class SampleCache;  // build(cohort, preprocessing, threads) / load(id) -> TensorDict

// The Dataset the Loader reads: a cohort's patients from the cache, with label (binary endpoint,
// horizon rule applied), time_months and event; augmentation (flip, small rotation/scale,
// intensity jitter -- src/imaging) only when get() receives an rng.
class CohortDataset;  // : public Dataset

// --- 4. Training one variant ---------------------------------------------------------------------

struct VariantRun {
  std::string variant;             // clinical | convnext | vit | msm | msm_t | msm_tc
  std::uint64_t seed = 42;         // study.seed (+ k for --seeds N)
  std::filesystem::path out;       // <run>/models/<variant>[/seed-k]
  bool resume = false;             // --resume: continue <out>/checkpoint.pt
};

// Trainer options from study.toml ([train] keys of core/config_schema.cpp):
//   epochs, batch_size, lr (head), backbone_lr, weight_decay, warmup_epochs, grad_clip,
//   loss (bce|focal|cox), focal_gamma, class_balance (weighted -> LossConfig weights from
//   balanced_class_weights(train labels); sampler -> Sampling::kBalanced; none),
//   early_stop_patience, select_on (auc|loss), loader_workers; study.seed, study.deterministic.
// Backbone prefixes: "convnext.", "vit.", "text." (models::RecurrenceModelImpl::is_backbone_name).
// Fingerprint: variant + config hash + seed, so --resume refuses a checkpoint of another run.
TrainerOptions trainer_options(const config::Config& cfg, const VariantRun& run);

struct TrainedVariant {
  FitResult fit;               // history, best epoch, early stop
  double threshold = 0;        // fitted on the TRAINING cohort's predictions (eval.threshold)
  double cutpoint = 0;         // risk cut-point fitted on the TRAINING cohort (eval.cutpoint)
  std::filesystem::path bundle;
};

// Builds the variant (models::build_model(models::make_arch(preset, variant, sizes))), loads
// pretrained backbones, trains on `train`, selects on `internal` (Trainer), predicts the
// training cohort to fit threshold and cut-point, and writes the bundle. Never receives the
// external cohort.
TrainedVariant train_variant(const config::Config& cfg, const VariantRun& run, const Preprocessing& prep,
                             const Dataset& train, const Dataset& internal);

// --- The model bundle: models/<variant>/ ---------------------------------------------------------
//   model.json          architecture (models::ArchConfig::to_json), variant, preset, versions,
//                       threshold, cutpoint, training-cohort summary (n, events, prevalence,
//                       AUC, score quantiles), the fingerprint and the git revision
//   weights.safetensors the best epoch's state dict (models::state_dict, io/safetensors.h)
//   preprocessing.json  Preprocessing::imaging_json + max_tokens
//   vocab.txt           when the variant reads text
//   clinical.json       the clinical encoder, when the variant reads clinical data
// All files are written atomically; model.json last, so a bundle without it is incomplete.
void write_bundle(const std::filesystem::path& dir, const TrainedVariant& trained, const Preprocessing& prep);

// --- 5. Predictions ------------------------------------------------------------------------------

struct Prediction {
  std::string id, cohort, center;
  float label = 0, time = 0, event = 0;
  double logit = 0, probability = 0;
  double risk = 0;               // Cox head when present, else the logit
  std::string risk_group;        // "high" | "low" (>= cutpoint)
};
// predictions/<variant>.csv: id,cohort,center,label,time_months,event,logit,probability,risk,risk_group
std::vector<Prediction> predict_all(const std::filesystem::path& bundle, const std::vector<const Dataset*>& cohorts,
                                    const std::vector<std::string>& cohort_names);

// --- 6. Statistics (src/stats) -------------------------------------------------------------------
// Per variant x cohort: roc_auc + DeLong CI; Se/Sp/PPV/NPV at the training threshold (with
// exact binomial CIs); calibration (intercept, slope, Brier, Hosmer-Lemeshow); risk groups by
// the training cut-point: Kaplan-Meier, log-rank p, Cox HR (95% CI), Harrell's C.
// Paired DeLong of each variant against msm_tc per cohort -> comparisons.csv.
// With --seeds N each number becomes mean +- sd over seeds.
struct StudyMetrics;  // -> metrics.json
StudyMetrics study_statistics(const std::map<std::string, std::vector<Prediction>>& by_variant,
                              const std::map<std::string, TrainedVariant>& trained);

// --- 1-7. The whole study --------------------------------------------------------------------------
struct StudyOptions {
  std::filesystem::path config, out;
  std::vector<std::string> variants;  // default train.variants
  int seeds = 1;
  bool resume = false;
};
// Writes the run folder of DESIGN.md "Outputs of a study run" and returns the exit code.
int run_study(const StudyOptions& options);

}  // namespace cervirisk::train
