// The steps of the study, shared by the files of src/study (not a public header: apps and other
// modules use study.h).
#pragma once

#include <torch/torch.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bundle/features.h"
#include "core/run_manifest.h"
#include "data/cohort.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "models/weights.h"
#include "runfolder/explanations.h"
#include "runfolder/history.h"
#include "runfolder/metrics.h"
#include "runfolder/model_info.h"
#include "runfolder/predictions.h"
#include "study/settings.h"
#include "study/study.h"

namespace cervirisk::config {
class Config;
}

namespace cervirisk::study {

// Wall-clock seconds of the steps, into run.json and the CLI's summary.
class StepTimer {
 public:
  StepTimer(RunManifest& manifest, std::map<std::string, double>& timings) : manifest_(manifest), timings_(timings) {}
  void add(const std::string& step, double seconds);  // accumulates
  static double since(std::chrono::steady_clock::time_point t0);

 private:
  RunManifest& manifest_;
  std::map<std::string, double>& timings_;
};

// --- cohort.cpp -------------------------------------------------------------------------------
// The binary endpoint of a patient (settings.endpoint): 1 / 0, or NaN = none (horizon: censored
// before the horizon without a recurrence, or no follow-up time).
float endpoint_label(const StudySettings& settings, const data::Patient& p);
// Table 1 (report/table1.h): characteristics by cohort with the p-value of the comparison.
std::string table1_csv(const data::Cohort& cohort, const std::vector<float>& labels);

// --- features.cpp -----------------------------------------------------------------------------
// The fitted feature pipeline and every patient's features. Not movable: the datasets point into it.
struct StudyFeatures {
  bundle::FeatureSpec spec;
  std::vector<bundle::PatientFeatures> patients;          // manifest order
  std::array<std::vector<const bundle::PatientFeatures*>, data::kCohortKinds> by_cohort;  // by data::CohortKind
  std::vector<std::string> train_reports, internal_reports;
  std::map<std::string, std::string> train_report_of;  // training patient id -> report
  // train.aux_targets: per column its kind (true = binary / ordinal scaled to [0, 1], BCE; false
  // = numeric z-scored on the training cohort, MSE) and every patient's targets (NaN = missing).
  std::vector<std::string> aux_names;
  std::vector<bool> aux_binary;
  std::map<std::string, std::vector<float>> aux_of;

  StudyFeatures() = default;
  StudyFeatures(const StudyFeatures&) = delete;
  StudyFeatures& operator=(const StudyFeatures&) = delete;

  bundle::FeatureDataset dataset(data::CohortKind k) const {
    return bundle::FeatureDataset(by_cohort[static_cast<int>(k)], &spec);
  }
  std::vector<float> train_labels() const;
  models::DataSizes sizes() const;
};
// Fits the spec on the training cohort only and computes every patient's features (the imaging
// cache of src/imaging; a text/ folder in the run folder holds the fitted vocabulary).
void fit_features(const config::Config& cfg, const data::Cohort& cohort, const std::vector<float>& labels,
                  const std::filesystem::path& run, StudyFeatures& out);

// --- selection.cpp ----------------------------------------------------------------------------
// The parts of the training cohort (dataset order) for train.selection. split: part 1 = the
// validation part (validation_fraction of every label x centre stratum), part 0 = the rest;
// cv: parts 0..folds-1; internal: everything in part 0 (the internal cohort selects).
struct SelectionPlan {
  Selection mode = Selection::kSplit;
  int parts = 1;
  std::vector<int> fold;  // per training patient
  // The training patients in `part` (in = true) or in every other part (in = false).
  std::vector<const bundle::PatientFeatures*> select(const std::vector<const bundle::PatientFeatures*>& train, int part,
                                                     bool in) const;
};
// Deterministic in (seed, the training patients' ids, labels and centres).
SelectionPlan selection_plan(const StudySettings& settings, const std::vector<const bundle::PatientFeatures*>& train,
                             std::uint64_t seed);

// --- recalibration.cpp -----------------------------------------------------------------------
// The recalibration of eval.recalibration fitted on held-out logits and labels (NaN label = none,
// skipped); `offset` = the log-odds shift of class weighting (used by "offset", and as the
// fallback when a fit is impossible: fewer than 2 patients of a class, no convergence, slope <= 0).
runfolder::Recalibration fit_recalibration(Recalibration method, const std::vector<double>& logit,
                                           const std::vector<float>& label, double offset,
                                           const std::string& fitted_on);

// --- pretrain_text.cpp --------------------------------------------------------------------------
// MLM pretraining of the report encoder on the training reports (held out, for the log only: the
// reports of the selection plan's validation part / first fold, the internal reports with
// train.selection = internal);
// empty when no variant reads text, there is no vocabulary, a pretrained BERT is configured or
// text.pretrain_epochs = 0.
models::TensorMap pretrain_text(const config::Config& cfg, const StudySettings& settings,
                                const std::vector<std::string>& variants, const StudyFeatures& features,
                                const SelectionPlan& plan, StepTimer& timer);

// --- initialisation.cpp ---------------------------------------------------------------------------
// How the encoders start, decided once per study: the report encoder's weights (text.pretrained,
// with continued MLM when text.pretrain_epochs > 0, or the study's own MLM-pretrained BERT) and
// the image backbones' checkpoints (model.convnext_weights, model.vit_weights), read and hashed
// once. `records` say where each came from (model.json "initialisation").
struct StudyInit {
  models::TensorMap bert;  // empty: the BERT starts from random weights
  models::PretrainedFile convnext, vit;
  std::vector<runfolder::Initialisation> records;  // per part; a bundle keeps those of its branches
};
StudyInit study_init(const config::Config& cfg, const StudySettings& settings, const std::vector<std::string>& variants,
                     const StudyFeatures& features, const SelectionPlan& plan, StepTimer& timer);
// Loads the initialisations into a freshly built model (only the branches it has). FormatError
// (exit 4) naming the file and tensors when one does not fit.
void apply_init(const StudyInit& init, models::RecurrenceModel& model);
// The records of the branches `model` has (nothing is loaded: the same checks, for model.json).
std::vector<runfolder::Initialisation> init_records(const StudyInit& init, models::RecurrenceModel& model);

// The internal cohort's loss and AUC after each epoch of the final model's training (recorded,
// never used, with train.selection = split / cv; the selection history itself with internal), and
// the epoch that was chosen: metrics.json "selection_check".
struct SelectionTrace {
  std::string mode;
  std::int64_t chosen_epoch = -1;
  std::vector<runfolder::EpochRow> internal;
};

// --- train_variant.cpp ----------------------------------------------------------------------------
struct VariantJob {
  const config::Config* cfg = nullptr;
  const StudySettings* settings = nullptr;
  const StudyFeatures* features = nullptr;
  const StudyInit* init = nullptr;
  std::filesystem::path run;
  std::string variant;
  int seed_index = 0, seeds = 1;  // seed = settings.seed + seed_index
  bool resume = false;
};
struct TrainedVariant {
  double threshold = 0.5, cutpoint = 0;
  std::vector<runfolder::Prediction> predictions;  // every patient of every cohort
  SelectionTrace selection;
};
// train.fusion_init = "ladder": the variants a fusion variant starts from (empty for the others).
std::vector<std::string> ladder_sources(const std::string& variant);
// What a fusion variant takes from the rungs' bundles in run/models/ (seed_index > 0 of `seeds`:
// their seed-k folders): every tensor `target` has under the same name and shape -- encoders,
// projections, missing-modality tokens -- the first source winning, except the fusion head
// (head.*, classifier.*, risk_head.*). ConfigError (exit 2) naming the bundle when a rung has
// none.
// fold >= 0 (train.selection = cv): from the rungs' fold-k models (cv_fold_weights) instead, so
// that a fold model never starts from weights that saw its held-out patients.
models::TensorMap ladder_weights(const std::filesystem::path& run, const std::string& variant, int seed_index, int seeds,
                                 const models::RecurrenceModel& target, int fold = -1);
// train.selection = cv: the weights of fold k's model, kept in the bundle folder (cv/fold-k.safetensors).
std::filesystem::path cv_fold_weights(const std::filesystem::path& model_dir, int fold);
// Trains one variant with one seed, writes its bundle (models/<variant>/ or .../seed-k/), and
// for the first seed predictions/<variant>.csv and the fused vectors of explain/.
TrainedVariant train_variant(const VariantJob& job, StepTimer& timer);

// --- evaluate.cpp -----------------------------------------------------------------------------------
struct VariantPredictions {
  std::vector<runfolder::Prediction> rows;
  double threshold = 0.5, cutpoint = 0;  // fitted on the training cohort
  SelectionTrace selection;
};
// metrics.json (and the rows of comparisons.csv) from the predictions of every variant.
// `bootstrap` = false leaves out the bootstrap intervals (the per-seed metrics of --seeds).
runfolder::Metrics compute_metrics(const StudySettings& settings, const std::vector<std::string>& variants,
                                   const std::map<std::string, VariantPredictions>& preds,
                                   std::vector<runfolder::Comparison>* comparisons, bool bootstrap = true);
// metrics.json "seeds": mean / sd of every scalar metric over the seeds' own metrics.
std::vector<runfolder::SeedRow> seed_summary(const std::vector<runfolder::Metrics>& per_seed, int seeds);

double sigmoid(double x);

// --- explain.cpp ------------------------------------------------------------------------------------
// "report", "image (ConvNeXt)", "image (ViT)", "clinical": a modality's name for people.
std::string modality_label(const std::string& modality);
// What one patient's explanations are measured against, kept in the bundle
// (explain_background.safetensors): k-means summaries of the training cohort's fused vectors
// ("fused", 20 centres; multi-modality variants) and encoded clinical rows ("clinical",
// `clinical_rows` centres), each with "<name>_weights" (cluster sizes). The run folder's
// explanations use the same construction.
models::TensorMap explanation_background(models::RecurrenceModel& model, const StudyFeatures& features,
                                         std::uint64_t seed, int clinical_rows);
// The example patients of the report: per cohort the true positive with the highest
// probability and the false negative with the lowest (at the training threshold: positive =
// probability >= threshold). Cohorts without such a patient contribute none.
std::vector<runfolder::ExampleRecord> choose_examples(const std::vector<runfolder::Prediction>& predictions,
                                                      double threshold, const std::string& variant,
                                                      const std::vector<std::string>& cohorts);

}  // namespace cervirisk::study
