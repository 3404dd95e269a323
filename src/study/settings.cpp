#include "study/settings.h"

#include "core/choice.h"
#include "core/config.h"
#include "core/error.h"

namespace cervirisk::study {

namespace {
constexpr ChoiceNames<3> kSelectionNames{"split", "cv", "internal"};
constexpr ChoiceNames<4> kRecalibrationNames{"logistic", "intercept", "offset", "none"};

// The heads a loss trains against the heads the metrics read (docs/study.md "Heads and losses").
void check_heads(const StudySettings& s) {
  if (s.cox_head && (s.loss == "bce" || s.loss == "focal"))
    throw ConfigError("model.cox_head = true with train.loss = '" + s.loss +
                      "': the Cox risk head would stay untrained while the C-index, cut-point and risk groups are "
                      "computed from it; set train.loss = \"bce+cox\" to train both heads, or model.cox_head = false "
                      "(the logit is then the risk score)");
  if (s.cox_head && s.loss == "cox")
    throw ConfigError("model.cox_head = true with train.loss = 'cox': the classifier head would stay untrained while "
                      "AUC, threshold, calibration and decision curves are computed from it; set train.loss = "
                      "\"bce+cox\", or model.cox_head = false (one head trained by the Cox loss)");
  if (!s.cox_head && s.loss == "bce+cox")
    throw ConfigError("train.loss = 'bce+cox' needs model.cox_head = true (a second head for the Cox loss)");
  if (s.loss == "cox" && s.recalibration != Recalibration::kLogistic)
    throw ConfigError("train.loss = 'cox' with eval.recalibration = '" + to_string(s.recalibration) +
                      "': a Cox log-hazard is not a log-odds, so its probabilities need eval.recalibration = "
                      "\"logistic\"");
}
}  // namespace

std::string to_string(Selection s) { return choice_name(kSelectionNames, s); }
std::string to_string(Recalibration r) { return choice_name(kRecalibrationNames, r); }

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
  s.selection = parse_choice<Selection>(kSelectionNames, cfg.get_string("train.selection"), "train.selection");
  s.validation_fraction = cfg.get_double("train.validation_fraction");
  s.folds = static_cast<int>(cfg.get_int("train.cv_folds"));
  s.ladder_init = cfg.get_string("train.fusion_init") == "ladder";
  s.recalibration =
      parse_choice<Recalibration>(kRecalibrationNames, cfg.get_string("eval.recalibration"), "eval.recalibration");
  s.loss = cfg.get_string("train.loss");
  s.class_balance = cfg.get_string("train.class_balance");
  s.cox_head = cfg.get_bool("model.cox_head");
  s.bootstrap = static_cast<int>(cfg.get_int("eval.bootstrap"));
  s.tdauc_horizons = cfg.get_doubles("eval.tdauc_horizons");
  s.km_times = cfg.get_doubles("eval.km_times");
  s.synthetic = cfg.get_bool("study.synthetic");
  check_heads(s);
  return s;
}

}  // namespace cervirisk::study
