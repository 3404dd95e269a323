// cervirisk predict: one patient through a model bundle; prints JSON.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "train/study.h"

namespace cervirisk::cli {

namespace fs = std::filesystem;

namespace {
fs::path find_in(const fs::path& dir, const std::string& stem) {
  if (dir.empty() || !fs::is_directory(dir)) return {};
  for (const char* ext : {".nii.gz", ".nii", ""}) {
    const fs::path p = dir / (stem + ext);
    if (fs::exists(p)) return p;
  }
  return {};
}
}  // namespace

void add_predict(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("predict", "Predict one patient with a model bundle (prints JSON)");
  struct Opts {
    std::string model, patient, image, mask, report, clinical;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--model", o->model, "Bundle folder models/<variant>")->required();
  sub->add_option("--patient", o->patient, "Folder with image(.nii.gz), mask(.nii.gz), report.txt, clinical.json");
  sub->add_option("--image", o->image, "Image (NIfTI or DICOM folder)");
  sub->add_option("--mask", o->mask, "Tumour mask (NIfTI)");
  sub->add_option("--report", o->report, "Report text file");
  sub->add_option("--clinical", o->clinical, "Clinical values as a JSON object {column: value}");
  sub->callback([&g, o] {
    apply_globals(g);
    const fs::path dir = o->patient;
    train::PredictInput in;
    in.image = !o->image.empty() ? fs::path(o->image) : find_in(dir, "image");
    in.mask = !o->mask.empty() ? fs::path(o->mask) : find_in(dir, "mask");
    if (in.image.empty() || in.mask.empty()) throw InputError("predict: give --patient DIR (with image and mask) or --image and --mask");
    fs::path rep = !o->report.empty() ? fs::path(o->report) : (dir.empty() ? fs::path() : dir / "report.txt");
    if (!rep.empty() && fs::exists(rep)) in.report = read_file(rep);
    else if (!o->report.empty()) throw InputError(o->report + ": report not found");
    fs::path cli = !o->clinical.empty() ? fs::path(o->clinical) : (dir.empty() ? fs::path() : dir / "clinical.json");
    if (!cli.empty() && fs::exists(cli)) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_file(cli));
      } catch (const nlohmann::json::exception& e) {
        throw FormatError(cli.string() + ": " + e.what());
      }
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it->is_null()) continue;
        in.clinical[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
      }
    } else if (!o->clinical.empty()) {
      throw InputError(o->clinical + ": clinical.json not found");
    }
    const auto r = train::predict_patient(o->model, in);
    nlohmann::json out = {{"probability", r.probability}, {"logit", r.logit},       {"risk_group", r.risk_group},
                          {"threshold", r.threshold},     {"cutpoint", r.cutpoint}, {"modalities_present", r.modalities_present}};
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace cervirisk::cli
