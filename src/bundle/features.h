// One patient's model inputs (preprocessed crops, token ids, encoded clinical row), the dataset
// the trainer reads them through, and the eval-mode scores of a model over a dataset.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bundle/feature_spec.h"
#include "imaging/roi.h"
#include "models/fusion.h"
#include "train/loader.h"

namespace cervirisk::bundle {

struct PatientFeatures {
  std::string id, cohort, center;
  float label = 0, time = 0, event = 0;  // label NaN = no binary label; time -1 = not recorded
  double time_months = -1;                 // the follow-up as recorded (time is its float for the losses)
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
train::TensorDict feature_tensors(const PatientFeatures& f, const FeatureSpec& spec, std::mt19937_64* rng);
models::ModelInputs model_inputs(const train::TensorDict& batch_inputs);

class FeatureDataset : public train::Dataset {
 public:
  FeatureDataset(std::vector<const PatientFeatures*> patients, const FeatureSpec* spec)
      : patients_(std::move(patients)), spec_(spec) {}
  std::size_t size() const override { return patients_.size(); }
  train::Sample get(std::size_t index, std::mt19937_64* augment_rng) const override;
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
Scores score_dataset(models::RecurrenceModel& model, const train::Dataset& data, std::int64_t batch_size = 64);

// The fused vectors (the head's input) of every patient of the datasets, in order: the players
// of the modality group Shapley values.
torch::Tensor fused_vectors(models::RecurrenceModel& model, const std::vector<const train::Dataset*>& data,
                            std::int64_t batch_size = 64);

}  // namespace cervirisk::bundle
