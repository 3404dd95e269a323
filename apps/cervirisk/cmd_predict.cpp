// cervirisk predict: one patient through a model bundle; prints JSON.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "commands.h"
#include "study/study.h"

namespace cervirisk::cli {

void add_predict(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("predict", "Predict one patient with a model bundle (prints JSON)");
  auto model = std::make_shared<std::string>();
  auto f = std::make_shared<study::PatientFiles>();
  sub->add_option("--model", *model, "Bundle folder models/<variant>")->required();
  sub->add_option("--patient", f->folder, "Folder with image(.nii.gz), mask(.nii.gz), report.txt, clinical.json");
  sub->add_option("--image", f->image, "Image (NIfTI or DICOM folder)");
  sub->add_option("--mask", f->mask, "Tumour mask (NIfTI, NRRD/.seg.nrrd, MetaImage, DICOM RTSTRUCT / SEG / series)");
  auto segment = std::make_shared<std::string>();
  auto explain_dir = std::make_shared<std::string>();
  sub->add_option("--mask-segment", *segment, "ROI / segment name or label value of a mask holding several");
  sub->add_option("--explain", *explain_dir,
                  "Write the Grad-CAM / rollout maps here: NIfTI on the image's grid + overlay PNGs");
  sub->add_option("--report", f->report, "Report text file");
  sub->add_option("--clinical", f->clinical, "Clinical values as a JSON object {column: value}");
  sub->callback([&g, model, f, segment, explain_dir] {
    apply_globals(g);
    auto in = study::read_patient(*f);
    in.mask_segment = *segment;
    in.explain_dir = *explain_dir;
    const auto r = study::predict_patient(*model, in);
    nlohmann::json out = {{"probability", r.probability}, {"logit", r.logit},
                                {"risk_group", r.risk_group},   {"threshold", r.threshold},
                                {"cutpoint", r.cutpoint},       {"modalities_present", r.modalities_present}};
    if (!r.modality_shap.empty()) {
      auto& m = out["modality_shap"] = nlohmann::json::object();
      for (const auto& [k, v] : r.modality_shap) m[k] = v;
      out["modality_expected"] = r.modality_expected;
    }
    if (!r.clinical_shap.empty()) {
      auto& m = out["clinical_shap"] = nlohmann::json::object();
      for (const auto& [k, v] : r.clinical_shap) m[k] = v;
      out["clinical_expected"] = r.clinical_expected;
    }
    if (!r.maps.empty()) {
      auto& maps = out["maps"] = nlohmann::json::array();
      for (const auto& p : r.maps) maps.push_back(p.string());
    }
    std::printf("%s\n", out.dump().c_str());
  });
}

}  // namespace cervirisk::cli
