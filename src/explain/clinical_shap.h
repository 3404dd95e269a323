// KernelSHAP over the clinical input features of a fusion model (Lundberg & Lee 2017,
// arXiv:1705.07874; shap's KernelExplainer, see shapley.h).
//
// Players = the clinical columns (each column's encoded features -- value, one-hot levels,
// missing indicator -- form one group, so a player is switched on or off as a whole). The
// explained function of a patient is the model's recurrence probability with its other
// modality blocks of the fused vector (image, report) held at the patient's own values and only
// the clinical block recomputed: v ↦ σ(classifier(head([fused_¬clinical, proj(mlp(v))]))).
// This equals the full model's output (eval mode: dropout off; to float rounding), at the cost
// of the clinical MLP and the head per row instead of a whole forward pass; the head's
// LayerNorm + Linear is split so that only the clinical block is multiplied per row.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "explain/shapley.h"
#include "models/clinical_encoder.h"
#include "models/fusion.h"

namespace cervirisk::explain {

// The patient's probability as a function of encoded clinical rows. `fused` is the patient's
// fused vector [fusion_dim × modalities] (the head's input); it may be undefined when the
// clinical block is the only modality (variant `clinical`). Throws ModelError when the model
// has no clinical path, is in training mode or `fused` has the wrong length.
// The explained probability is sigmoid(intercept + slope * logit): the bundle's recalibration, so
// that the values explain the probability the study reports.
struct LogitMap {
  double intercept = 0, slope = 1;
};
BatchModel clinical_model(models::RecurrenceModel model, const torch::Tensor& fused, LogitMap map = {});

// The patient's probability as a function of whole fused vectors (rows [n, fusion_dim ×
// modalities]): sigmoid(intercept + slope * classifier(head(row))). What modality Shapley values
// explain (players = the per-modality slices).
BatchModel fused_head_model(models::RecurrenceModel model, LogitMap map = {});

// Whether clinical_model uses the split head (the fast path) for this model's head structure;
// otherwise it runs the whole head per row (same values, slower).
bool clinical_head_split_applies(models::RecurrenceModel model);

// The player groups (encoded feature indices per clinical column) and their names.
struct ClinicalPlayers {
  std::vector<std::string> names;
  std::vector<std::vector<int>> groups;
};
ClinicalPlayers clinical_players(const models::ClinicalEncoder& encoder);

// One display value per column of a patient's raw row (the beeswarm colour): numeric → the
// number, ordinal → the level's rank, categorical → the level's index; missing or unknown → NaN.
std::vector<double> clinical_display_values(const models::ClinicalEncoder& encoder,
                                            const models::ClinicalRow& row);

// KernelSHAP of every patient (rows of X, encoded clinical vectors; fused rows of `fused`
// [n, D] or undefined) against `background`. options.groups is set from the encoder. The
// expected value differs per patient (its other modalities are its own), hence `expected`.
struct ClinicalShap {
  CohortExplanation shap;            // phi, fx per patient; shap.expected = mean of `expected`
  Eigen::VectorXd expected;          // E_background f per patient
  std::size_t coalitions = 0;        // per patient (the largest)
  double max_efficiency_error = 0;   // max |Σφ − (f(x) − E f)|
};
ClinicalShap clinical_kernel_shap(models::RecurrenceModel model, const models::ClinicalEncoder& encoder,
                                  const Eigen::MatrixXd& X, const torch::Tensor& fused, const Background& background,
                                  KernelShapOptions options, LogitMap map = {});

}  // namespace cervirisk::explain
