// The study-level choices of the configuration, parsed once (the config keys stay strings in
// study.toml; the code compares enums).
#pragma once

#include <cstdint>

namespace cervirisk::config {
class Config;
}

namespace cervirisk::study {

// data.endpoint: "event" = recurrence observed during follow-up; "horizon" = recurrence within
// data.horizon_months.
enum class Endpoint { kEvent, kHorizon };
// eval.threshold: "youden" on the training cohort's ROC, or eval.fixed_threshold.
enum class ThresholdMethod { kYouden, kFixed };
// eval.cutpoint: "maxstat" (maximally selected log-rank) or "median" of the training risk scores.
enum class CutpointMethod { kMaxstat, kMedian };

struct StudySettings {
  std::uint64_t seed = 0;
  bool deterministic = false;
  Endpoint endpoint = Endpoint::kEvent;
  double horizon_months = 0;
  ThresholdMethod threshold = ThresholdMethod::kYouden;
  double fixed_threshold = 0.5;
  CutpointMethod cutpoint = CutpointMethod::kMaxstat;

  // Throws ConfigError naming the key and its choices.
  static StudySettings from_config(const config::Config& cfg);
};

}  // namespace cervirisk::study
