#include "study/settings.h"

#include "core/config.h"

namespace cervirisk::study {

// The schema (core/config_schema.cpp) has already refused any other choice.
StudySettings StudySettings::from_config(const config::Config& cfg) {
  StudySettings s;
  s.seed = static_cast<std::uint64_t>(cfg.get_int("study.seed"));
  s.deterministic = cfg.get_bool("study.deterministic");
  s.endpoint = cfg.get_string("data.endpoint") == "horizon" ? Endpoint::kHorizon : Endpoint::kEvent;
  s.horizon_months = cfg.get_double("data.horizon_months");
  s.threshold = cfg.get_string("eval.threshold") == "fixed" ? ThresholdMethod::kFixed : ThresholdMethod::kYouden;
  s.fixed_threshold = cfg.get_double("eval.fixed_threshold");
  s.cutpoint = cfg.get_string("eval.cutpoint") == "median" ? CutpointMethod::kMedian : CutpointMethod::kMaxstat;
  return s;
}

}  // namespace cervirisk::study
