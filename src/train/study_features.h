// Internal to the study runner: the fitted feature pipeline (imaging parameters, tokenizer,
// clinical encoder), one patient's model inputs, the in-memory dataset and the model bundle.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imaging/params.h"
#include "imaging/roi.h"
#include "models/arch.h"
#include "models/clinical_encoder.h"
#include "models/fusion.h"
#include "text/tokenizer.h"
#include "train/loader.h"

namespace cervirisk::train {

// Everything fitted before training (on the training cohort), frozen into every bundle.
struct FeatureSpec {
  imaging::PreprocessParams imaging;
  imaging::AugmentParams augment;
  std::shared_ptr<text::Tokenizer> tokenizer;  // null: no reports in the training cohort
  std::int64_t max_tokens = 128;
  text::LongPolicy policy = text::LongPolicy::kHeadTail;
  models::ClinicalEncoder clinical;

  nlohmann::json to_json() const;  // preprocessing.json (without vocabulary / encoder)
};

struct PatientFeatures {
  std::string id, cohort, center;
  float label = 0, time = 0, event = 0;
  imaging::PatientSample image;
  std::vector<std::int64_t> text_ids, text_mask;
  bool has_text = false;
  std::vector<float> clinical;
  bool has_clinical = false;
};

// Text + clinical part of the features (the image part comes from src/imaging).
void fill_text_clinical(const FeatureSpec& spec, const std::optional<std::string>& report,
                        const models::ClinicalRow& row, PatientFeatures& f);

// The model's named inputs of one patient (augmented when rng is given).
TensorDict feature_tensors(const PatientFeatures& f, const FeatureSpec& spec, std::mt19937_64* rng);
models::ModelInputs model_inputs(const TensorDict& batch_inputs);

class FeatureDataset : public Dataset {
 public:
  FeatureDataset(std::vector<const PatientFeatures*> patients, const FeatureSpec* spec)
      : patients_(std::move(patients)), spec_(spec) {}
  std::size_t size() const override { return patients_.size(); }
  Sample get(std::size_t index, std::mt19937_64* augment_rng) const override;
  float label(std::size_t index) const override { return patients_[index]->label; }
  const PatientFeatures& patient(std::size_t i) const { return *patients_[i]; }

 private:
  std::vector<const PatientFeatures*> patients_;
  const FeatureSpec* spec_;
};

// Eval-mode forward over a dataset in order: logit and risk (= logit without a Cox head).
struct Scores {
  std::vector<double> logit, risk;
};
Scores score_dataset(models::RecurrenceModel& model, const Dataset& data, std::int64_t batch_size = 64);

// A loaded bundle.
struct Bundle {
  nlohmann::json model_json;
  models::ArchConfig arch;
  FeatureSpec spec;
  models::RecurrenceModel model{nullptr};
  double threshold = 0.5, cutpoint = 0;
};
Bundle load_bundle(const std::filesystem::path& dir);

}  // namespace cervirisk::train
