#include "runfolder/model_info.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/json_format.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;
using nlohmann::json;

json to_json(const ModelInfo& m) {
  const auto& t = m.training_cohort;
  return {{"format", ModelInfo::kFormat},
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
            {"probability_quantiles", t.probability_quantiles}}}};
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
  return m;
}

}  // namespace cervirisk::runfolder
