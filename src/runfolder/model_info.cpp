#include "runfolder/model_info.h"

#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/json_format.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;
using nlohmann::json;

double Recalibration::apply(double logit) const { return 1.0 / (1.0 + std::exp(-(intercept + slope * logit))); }

json to_json(const ModelInfo& m) {
  const auto& t = m.training_cohort;
  const auto& r = m.recalibration;
  const auto& s = m.selection;
  json init = json::array();
  for (const auto& i : m.initialisation)
    init.push_back({{"part", i.part}, {"key", i.key}, {"file", i.file}, {"sha256", i.sha256}, {"tensors", i.tensors},
                    {"note", i.note}});
  json j = {{"format", ModelInfo::kFormat},
          {"variant", m.variant},
          {"preset", m.preset},
          {"arch", m.arch},
          {"threshold", m.threshold},
          {"cutpoint", m.cutpoint},
          {"seed", m.seed},
          {"best_epoch", m.best_epoch},
          {"epochs_done", m.epochs_done},
          {"stopped_early", m.stopped_early},
          {"fingerprint", m.fingerprint},
          {"config_sha256", m.config_sha256},
          {"training_cohort",
           {{"n", t.n},
            {"events", t.events},
            {"prevalence", t.prevalence},
            {"auc", t.auc},
            {"probability_quantiles", t.probability_quantiles}}},
          {"recalibration",
           {{"method", r.method},
            {"intercept", r.intercept},
            {"slope", r.slope},
            {"fitted_on", r.fitted_on},
            {"n", r.n},
            {"events", r.events},
            {"note", r.note}}},
          {"selection",
           {{"mode", s.mode},
            {"validation_n", s.validation_n},
            {"validation_events", s.validation_events},
            {"folds", s.folds},
            {"fold_best_epochs", s.fold_best_epochs}}}};
  j["initialisation"] = std::move(init);
  return j;
}

void write_model_info(const fs::path& file, const ModelInfo& m) { write_file_atomic(file, to_json(m).dump(2)); }

ModelInfo read_model_info(const fs::path& file) {
  if (!fs::exists(file))
    throw InputError(file.parent_path().string() + ": not a model bundle (model.json missing; an interrupted bundle has none)");
  const JsonPath w{file.string(), ""};
  const json j = read_json_format(file, ModelInfo::kFormat);
  ModelInfo m;
  m.variant = string_field(j, "variant", w);
  m.preset = string_field(j, "preset", w);
  m.arch = field(j, "arch", w);
  if (!m.arch.is_object()) w.at("arch").fail("must be an object");
  m.threshold = number_field(j, "threshold", w);
  m.cutpoint = number_field(j, "cutpoint", w);
  const std::int64_t seed = integer_field(j, "seed", w);
  m.seed = j["seed"].is_number_unsigned() ? j["seed"].get<std::uint64_t>() : static_cast<std::uint64_t>(seed);
  m.best_epoch = integer_field(j, "best_epoch", w);
  m.epochs_done = integer_field(j, "epochs_done", w);
  m.stopped_early = bool_field(j, "stopped_early", w);
  m.fingerprint = string_field(j, "fingerprint", w);
  m.config_sha256 = string_field(j, "config_sha256", w);
  const json& t = field(j, "training_cohort", w);
  const JsonPath tw = w.at("training_cohort");
  m.training_cohort = {integer_field(t, "n", tw), integer_field(t, "events", tw), number_field(t, "prevalence", tw),
                       number_field(t, "auc", tw), numbers_field(t, "probability_quantiles", tw)};
  const json& r = field(j, "recalibration", w);
  const JsonPath rw = w.at("recalibration");
  auto& rc = m.recalibration;
  rc.method = string_field(r, "method", rw);
  if (rc.method != "logistic" && rc.method != "intercept" && rc.method != "offset" && rc.method != "none")
    rw.at("method").fail("expected logistic, intercept, offset or none, got '" + rc.method + "'");
  rc.intercept = number_field(r, "intercept", rw);
  rc.slope = number_field(r, "slope", rw);
  if (!std::isfinite(rc.intercept) || !std::isfinite(rc.slope) || rc.slope <= 0)
    rw.fail("intercept must be finite and slope finite and > 0");
  rc.fitted_on = string_field(r, "fitted_on", rw);
  rc.n = integer_field(r, "n", rw);
  rc.events = integer_field(r, "events", rw);
  rc.note = string_field(r, "note", rw);
  const json& s = field(j, "selection", w);
  const JsonPath sw = w.at("selection");
  auto& sel = m.selection;
  sel.mode = string_field(s, "mode", sw);
  if (sel.mode != "split" && sel.mode != "cv" && sel.mode != "internal")
    sw.at("mode").fail("expected split, cv or internal, got '" + sel.mode + "'");
  sel.validation_n = integer_field(s, "validation_n", sw);
  sel.validation_events = integer_field(s, "validation_events", sw);
  sel.folds = integer_field(s, "folds", sw);
  const json& epochs = field(s, "fold_best_epochs", sw);
  if (!epochs.is_array()) sw.at("fold_best_epochs").fail("must be an array of integers");
  for (std::size_t k = 0; k < epochs.size(); ++k) {
    if (!epochs[k].is_number_integer()) sw.at("fold_best_epochs").at(k).fail("must be an integer, got " + epochs[k].dump());
    sel.fold_best_epochs.push_back(epochs[k].get<std::int64_t>());
  }
  if (j.contains("initialisation")) {  // absent in older bundles
    const json& init = j["initialisation"];
    const JsonPath iw = w.at("initialisation");
    if (!init.is_array()) iw.fail("must be an array");
    for (std::size_t k = 0; k < init.size(); ++k) {
      const JsonPath ew = iw.at(k);
      Initialisation i;
      i.part = string_field(init[k], "part", ew);
      i.key = string_field(init[k], "key", ew);
      i.file = string_field(init[k], "file", ew);
      i.sha256 = string_field(init[k], "sha256", ew);
      i.tensors = integer_field(init[k], "tensors", ew);
      i.note = string_field(init[k], "note", ew);
      m.initialisation.push_back(std::move(i));
    }
  }
  return m;
}

}  // namespace cervirisk::runfolder
