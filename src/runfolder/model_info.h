// model.json of a model bundle (models/<variant>/): what was trained, from which config and
// seed, how training ended, and what was fitted on the training cohort (threshold, cut-point,
// the training cohort's summary). Its "format" tag versions the whole bundle: the bundle
// loader reads the other files (preprocessing.json, clinical.json, vocab.txt, weights) only
// after this tag was checked. Written last, so a bundle without it is incomplete.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cervirisk::runfolder {

struct TrainingCohortSummary {
  std::int64_t n = 0, events = 0;
  double prevalence = 0;
  double auc = 0;                              // apparent AUC on the training cohort (NaN: one class)
  std::vector<double> probability_quantiles;   // 10, 25, 50, 75, 90 %
};

// The map from the model's logit to the reported probability: p = sigmoid(intercept + slope *
// logit), fitted on held-out predictions of the training cohort (docs/study.md "Recalibration").
struct Recalibration {
  std::string method = "none";  // eval.recalibration: "logistic" | "intercept" | "offset" | "none"
  double intercept = 0, slope = 1;
  std::string fitted_on;        // "validation split" | "out-of-fold" | "training cohort" | "class weights"
  std::int64_t n = 0, events = 0;
  std::string note;             // why a fallback was used, if one was

  double apply(double logit) const;  // the recalibrated probability
};

// How the epoch (and so the weights) was chosen: train.selection.
struct Selection {
  std::string mode = "split";  // "split" | "cv" | "internal"
  std::int64_t validation_n = 0, validation_events = 0;  // split: the held-out part of the training cohort
  std::int64_t folds = 0;                                // cv
  std::vector<std::int64_t> fold_best_epochs;            // cv: best epoch (0-based) of each fold
};

// Where an encoder's starting weights came from (model.convnext_weights, model.vit_weights,
// text.pretrained; the MLM-pretrained BERT of the study): model.json "initialisation", one entry
// per part that did not start from random weights. Absent in bundles of older versions.
struct Initialisation {
  std::string part;    // "convnext" | "vit" | "text"
  std::string key;     // the configuration key, or "text.pretrain_epochs" for the study's own MLM
  std::string file;    // the checkpoint's file name ("" for the study's own MLM)
  std::string sha256;  // of the checkpoint file's bytes ("" for the study's own MLM)
  std::int64_t tensors = 0;  // tensors loaded
  std::string note;    // adaptations (input planes, position embeddings) and continued pretraining
};

struct ModelInfo {
  static constexpr const char* kFormat = "cervirisk-model/2";
  std::string variant, preset;
  nlohmann::json arch;  // models::ArchConfig::to_json(): rebuilds the network
  double threshold = 0.5, cutpoint = 0;
  std::uint64_t seed = 0;
  std::int64_t best_epoch = -1, epochs_done = 0;
  bool stopped_early = false;
  std::string fingerprint, config_sha256;
  TrainingCohortSummary training_cohort;
  Recalibration recalibration;
  Selection selection;
  std::vector<Initialisation> initialisation;
};

nlohmann::json to_json(const ModelInfo& m);
void write_model_info(const std::filesystem::path& file, const ModelInfo& m);
// InputError when missing ("not a model bundle"), FormatError naming the field otherwise.
ModelInfo read_model_info(const std::filesystem::path& file);

}  // namespace cervirisk::runfolder
