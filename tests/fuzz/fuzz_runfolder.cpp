// Every file of a run folder that `report`, `evaluate --resume` and the benchmark read back: the
// first byte picks the file (metrics.json, comparisons.csv, predictions/<v>.csv, history.csv,
// model.json, modality_shapley.csv, shap_clinical.csv, examples.json, run.json).
#include "fuzz_util.h"
#include "runfolder/explanations.h"
#include "runfolder/history.h"
#include "runfolder/json_format.h"
#include "runfolder/metrics.h"
#include "runfolder/model_info.h"
#include "runfolder/predictions.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  static const char* names[] = {"metrics.json",         "comparisons.csv",   "predictions.csv",
                                "history.csv",          "model.json",        "modality_shapley.csv",
                                "shap_clinical.csv",    "examples.json",     "run.json"};
  const auto in = fuzz::split(data, size, 9);
  const auto path = fuzz::write_input(names[in.choice], in.data, in.size);
  fuzz::expect_clean([&] {
    switch (in.choice) {
      case 0: runfolder::read_metrics(path); break;
      case 1: runfolder::read_comparisons(path); break;
      case 2: runfolder::read_predictions(path); break;
      case 3: runfolder::read_history(path); break;
      case 4: runfolder::read_model_info(path); break;
      case 5: runfolder::read_modality_shapley(path); break;
      case 6: runfolder::read_clinical_shap(path); break;
      case 7: runfolder::read_examples(path, fuzz::scratch()); break;
      default: runfolder::read_json_file(path); break;
    }
  });
  return 0;
}
