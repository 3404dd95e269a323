// One new patient through a model bundle (`cervirisk predict`).
#include <nlohmann/json.hpp>

#include "bundle/bundle.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/torch/runtime.h"
#include "explain/clinical_shap.h"
#include "explain/patient_maps.h"
#include "explain/shapley.h"
#include "imaging/cache.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io/volume.h"
#include "stats/risk_group.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

PredictOutput predict_patient(const std::filesystem::path& dir, const PredictInput& input) {
  const bundle::Bundle b = bundle::load_bundle(dir);
  const io::Volume image = io::read_image(input.image);
  const io::Volume mask = io::read_mask(input.mask, image.geometry, io::MaskReadOptions{input.mask_segment});
  return predict_loaded(b, image, mask, input);
}

namespace {

explain::Background background_of(const models::TensorMap& t, const std::string& name) {
  explain::Background b;
  const auto d = t.at(name).to(torch::kFloat64).contiguous();
  const auto w = t.at(name + "_weights").to(torch::kFloat64).contiguous();
  b.data = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      d.data_ptr<double>(), d.size(0), d.size(1));
  b.weights = Eigen::Map<const Eigen::VectorXd>(w.data_ptr<double>(), w.size(0));
  return b;
}

// One patient's modality and clinical Shapley values against the bundle's training backgrounds
// (as the run folder's explanations compute them for the study's patients).
void patient_shapley(const bundle::Bundle& b, models::RecurrenceModel model, const bundle::FeatureDataset& ds,
                     const PredictInput& input, PredictOutput& o) {
  const auto& bg = b.background;
  const auto& order = model->modality_order();
  const explain::LogitMap map{b.info.recalibration.intercept, b.info.recalibration.slope};
  torch::Tensor fused;
  if (order.size() > 1) {
    fused = bundle::fused_vectors(model, {&ds}).to(torch::kFloat64).contiguous();
    if (bg.count("fused")) {
      explain::ShapleyOptions so;
      so.groups = explain::contiguous_groups(order.size(), b.arch.fusion_dim);
      const Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(fused.data_ptr<double>(), fused.size(1));
      const auto e = explain::exact_shapley(explain::fused_head_model(model, map), x, background_of(bg, "fused"), so);
      for (std::size_t m = 0; m < order.size(); ++m) o.modality_shap.emplace_back(modality_label(order[m]), e.phi(static_cast<Eigen::Index>(m)));
      o.modality_expected = e.expected;
    }
  }
  if (b.arch.modalities().clinical && bg.count("clinical")) {
    const auto& enc = b.spec.clinical;
    const auto players = explain::clinical_players(enc);
    const models::ClinicalRow row(input.clinical.begin(), input.clinical.end());
    const auto v = enc.encode(row);
    Eigen::MatrixXd X(1, static_cast<Eigen::Index>(v.size()));
    for (std::size_t j = 0; j < v.size(); ++j) X(0, static_cast<Eigen::Index>(j)) = v[j];
    explain::KernelShapOptions ko;
    ko.seed = b.info.seed;
    ko.batch_size = 1024;
    ko.nsamples = 2 * players.names.size() + 2048;
    const auto r = explain::clinical_kernel_shap(model, enc, X, fused,
                                                 background_of(bg, "clinical"), ko, map);
    for (std::size_t j = 0; j < players.names.size(); ++j)
      o.clinical_shap.emplace_back(players.names[j], r.shap.phi(0, static_cast<Eigen::Index>(j)));
    o.clinical_expected = r.expected(0);
  }
}

}  // namespace

PredictOutput predict_loaded(const bundle::Bundle& b, const io::Volume& image, const io::Volume& mask,
                             const PredictInput& input) {
  bundle::PatientFeatures f;
  f.image = imaging::preprocess(image, mask, b.spec.imaging);
  const models::ClinicalRow row(input.clinical.begin(), input.clinical.end());
  bundle::fill_text_clinical(b.spec, input.report, row, f);
  const bundle::FeatureDataset ds({&f}, &b.spec);
  auto model = b.model;
  model->to(command_device());  // --device; inputs follow the model
  const auto sc = bundle::score_dataset(model, ds, 1);
  PredictOutput o;
  o.logit = sc.logit[0];
  o.probability = b.info.recalibration.apply(o.logit);
  o.threshold = b.info.threshold;
  o.cutpoint = b.info.cutpoint;
  o.risk_group = stats::risk_group(sc.risk[0], b.info.cutpoint);
  const auto m = b.arch.modalities();
  if (!input.explain_dir.empty()) {
    if (!m.convnext && !m.vit)
      throw ConfigError("predict --explain: the " + b.info.variant + " model has no image branch, so no image maps");
    ensure_writable_dir(input.explain_dir);
    model->to(torch::kCPU);  // explanations run on the CPU in this version (docs/install.md)
    std::vector<train::Sample> one{ds.get(0, nullptr)};
    const auto in = bundle::model_inputs(train::collate(std::move(one)).inputs);
    const auto maps = explain::patient_relevance_maps(model, in);
    std::vector<fs::path> pngs;
    for (const auto& mo : explain::patient_map_outputs(maps, f.image, image, "patient", {})) {
      o.maps.push_back(input.explain_dir / (mo.stem + ".nii.gz"));
      io::write_nifti(mo.map, o.maps.back());
      pngs.push_back(input.explain_dir / (mo.stem + ".png"));
      write_file_atomic(pngs.back(), mo.figure.png);
    }
    o.maps.insert(o.maps.end(), pngs.begin(), pngs.end());
    patient_shapley(b, model, ds, input, o);
  }
  if (m.convnext || m.vit) o.modalities_present.push_back("image");
  if (m.text && f.has_text) o.modalities_present.push_back("report");
  if (m.clinical && f.has_clinical) o.modalities_present.push_back("clinical");
  return o;
}

namespace {

fs::path find_in(const fs::path& dir, const std::string& stem) {
  if (dir.empty() || !fs::is_directory(dir)) return {};
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".seg.nrrd", ".nhdr", ".mha", ".mhd", ".dcm", ""}) {
    const fs::path p = dir / (stem + ext);
    if (fs::exists(p)) return p;
  }
  return {};
}

// {"column": value}: strings as they are, numbers as JSON writes them, null = missing.
std::map<std::string, std::string> read_clinical_json(const fs::path& file) {
  return clinical_from_json(read_file(file), file.string());
}

}  // namespace

std::map<std::string, std::string> clinical_from_json(const std::string& text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(where + ": " + e.what());
  }
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object {\"column\": value}");
  std::map<std::string, std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!it->is_null()) out[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  return out;
}

PredictInput read_patient(const PatientFiles& files) {
  const fs::path& dir = files.folder;
  PredictInput in;
  in.image = !files.image.empty() ? files.image : find_in(dir, "image");
  in.mask = !files.mask.empty() ? files.mask : find_in(dir, "mask");
  if (in.image.empty() || in.mask.empty())
    throw InputError("predict: give --patient DIR (with image and mask) or --image and --mask");
  const fs::path rep = !files.report.empty() ? files.report : (dir.empty() ? fs::path() : dir / "report.txt");
  if (!rep.empty() && fs::exists(rep))
    in.report = read_file(rep);
  else if (!files.report.empty())
    throw InputError(files.report.string() + ": report not found");
  const fs::path cli = !files.clinical.empty() ? files.clinical : (dir.empty() ? fs::path() : dir / "clinical.json");
  if (!cli.empty() && fs::exists(cli))
    in.clinical = read_clinical_json(cli);
  else if (!files.clinical.empty())
    throw InputError(files.clinical.string() + ": clinical.json not found");
  return in;
}

}  // namespace cervirisk::study
