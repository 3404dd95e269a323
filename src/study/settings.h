// The study-level choices of the configuration, parsed once (the config keys stay strings in
// study.toml; the code compares enums), and the combinations that cannot give honest numbers
// refused here, before anything is trained.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cervirisk::config {
class Config;
}

namespace cervirisk::study {

// data.endpoint: "event" = recurrence observed during follow-up; "horizon" = recurrence within
// data.horizon_months (patients censored before it without an event have no binary label).
enum class Endpoint { kEvent, kHorizon };
// eval.threshold: "youden" on the training cohort's ROC, or eval.fixed_threshold.
enum class ThresholdMethod { kYouden, kFixed };
// eval.cutpoint: "maxstat" (maximally selected log-rank) or "median" of the training risk scores.
enum class CutpointMethod { kMaxstat, kMedian };
// train.selection: what chooses the epoch (docs/study.md "Model selection").
enum class Selection { kSplit, kCv, kInternal };
// eval.recalibration (docs/study.md "Recalibration").
enum class Recalibration { kLogistic, kIntercept, kOffset, kNone };

struct StudySettings {
  std::uint64_t seed = 0;
  bool deterministic = false;
  Endpoint endpoint = Endpoint::kEvent;
  double horizon_months = 0;
  ThresholdMethod threshold = ThresholdMethod::kYouden;
  double fixed_threshold = 0.5;
  CutpointMethod cutpoint = CutpointMethod::kMaxstat;
  Selection selection = Selection::kSplit;
  double validation_fraction = 0.2;
  int folds = 5;
  Recalibration recalibration = Recalibration::kLogistic;
  std::string loss = "bce";  // train.loss
  std::string class_balance = "weighted";  // train.class_balance
  bool cox_head = false;     // model.cox_head
  bool ladder_init = false;  // train.fusion_init = "ladder" (train_variant.cpp ladder_sources)
  int bootstrap = 0;         // eval.bootstrap replicates
  std::vector<double> tdauc_horizons, km_times;
  bool synthetic = false;

  // Throws ConfigError (exit 2) naming the keys of a combination in which a statistic would be
  // computed from an untrained head, or a probability from a score that is not one.
  static StudySettings from_config(const config::Config& cfg);
};

std::string to_string(Selection s);      // "split" | "cv" | "internal"
std::string to_string(Recalibration r);  // "logistic" | "intercept" | "offset" | "none"

}  // namespace cervirisk::study
