#include "bundle/bundle.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/registry.h"
#include "models/weights.h"

namespace cervirisk::bundle {

namespace fs = std::filesystem;

void write_bundle(const fs::path& dir, const models::RecurrenceModel& model, const models::ArchConfig& arch,
                  const FeatureSpec& spec, runfolder::ModelInfo info, const std::vector<runfolder::EpochRow>& history,
                  const models::TensorMap& background) {
  ensure_writable_dir(dir);
  models::write_safetensors(dir / "weights.safetensors", models::state_dict(*model));
  write_preprocessing(dir / "preprocessing.json", spec);
  if (spec.tokenizer && arch.modalities().text) spec.tokenizer->save(dir);
  if (arch.modalities().clinical) write_file_atomic(dir / "clinical.json", spec.clinical.to_json().dump(2));
  runfolder::write_history(dir / "history.csv", history);
  if (!background.empty()) models::write_safetensors(dir / "explain_background.safetensors", background);
  info.arch = arch.to_json();
  runfolder::write_model_info(dir / "model.json", info);  // last: a bundle without it is incomplete
}

Bundle load_bundle(const fs::path& dir) {
  Bundle b;
  b.info = runfolder::read_model_info(dir / "model.json");
  try {
    b.arch = models::ArchConfig::from_json(b.info.arch);
  } catch (const Error& e) {
    throw FormatError((dir / "model.json").string() + ": arch: " + e.what());
  }
  b.spec = read_feature_spec(dir);
  b.model = models::build_model(b.arch);
  models::load_weights(*b.model, models::read_safetensors(dir / "weights.safetensors"));
  b.model->eval();
  if (fs::exists(dir / "explain_background.safetensors"))
    b.background = models::read_safetensors(dir / "explain_background.safetensors");
  return b;
}

}  // namespace cervirisk::bundle
