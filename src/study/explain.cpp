// The explain step: the explanations of one variant of a run folder (study.h explain_run).
//
// Inputs beyond the run folder: the cohort (manifest, images, masks) named by the run's
// config.toml, resolved against the folder of the config the run was made from (run.json
// "config.path"); the preprocessed crops come from the run's image cache.
#include <nlohmann/json.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "bundle/bundle.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "explain/clinical_shap.h"
#include "explain/export.h"
#include "explain/patient_maps.h"
#include "explain/shapley.h"
#include "imaging/cache.h"
#include "io/nifti.h"
#include "io/volume.h"
#include "runfolder/explanations.h"
#include "runfolder/layout.h"
#include "study/steps.h"
#include "core/torch/threads.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

namespace {

// Runs one step; any failure is rethrown naming the step, with the original exit code.
template <typename Fn>
auto step(const std::string& name, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(e.code(), "explain (" + name + "): " + e.what());
  } catch (const std::exception& e) {
    throw Error(ExitCode::kFailure, "explain (" + name + "): " + e.what());
  }
}

// The run's resolved config, its relative paths resolved against the folder of the config the
// run was made from (config.toml in the run folder is a copy; its paths are not relative to it).
config::Config run_config(const fs::path& run) {
  fs::path base = run;
  const fs::path rj = run / "run.json";
  if (fs::exists(rj)) {
    auto j = nlohmann::json::parse(read_file(rj), nullptr, false);
    if (!j.is_discarded() && j.contains("config") && j["config"].contains("path") && j["config"]["path"].is_string()) {
      fs::path p = j["config"]["path"].get<std::string>();
      if (fs::is_directory(p.parent_path())) base = p.parent_path();
    }
  }
  const fs::path toml = run / "config.toml";
  if (!fs::exists(toml)) throw InputError(toml.string() + ": missing (not a run folder?)");
  return config::Config::parse(read_file(toml), toml.string(), base);
}

std::string file_safe(const std::string& s) {
  std::string o;
  for (char ch : s) o += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.') ? ch : '_';
  return o;
}

Eigen::MatrixXd to_matrix(const torch::Tensor& t) {
  auto x = t.detach().to(torch::kFloat64).contiguous();
  Eigen::MatrixXd m(x.size(0), x.size(1));
  auto a = x.accessor<double, 2>();
  for (std::int64_t i = 0; i < x.size(0); ++i)
    for (std::int64_t j = 0; j < x.size(1); ++j) m(i, j) = a[i][j];
  return m;
}

// The rows of X whose patients are in the training cohort (the background of every explanation).
Eigen::MatrixXd training_rows(const Eigen::MatrixXd& X, const std::vector<runfolder::Prediction>& preds) {
  std::vector<Eigen::Index> rows;
  for (std::size_t i = 0; i < preds.size(); ++i)
    if (preds[i].cohort == "train") rows.push_back(static_cast<Eigen::Index>(i));
  Eigen::MatrixXd Xt(static_cast<Eigen::Index>(rows.size()), X.cols());
  for (std::size_t r = 0; r < rows.size(); ++r) Xt.row(static_cast<Eigen::Index>(r)) = X.row(rows[r]);
  return Xt;
}

// What every part of the explanation reads.
struct RunContext {
  fs::path run, ex_dir;
  std::string variant;
  bundle::Bundle bundle;
  config::Config cfg;
  data::Cohort cohort;
  std::vector<runfolder::Prediction> preds;  // predictions/<variant>.csv: the patients, in order
  std::vector<std::string> ids, cohorts;
  std::map<std::string, const data::Patient*> by_id;

  const data::Patient& patient(const std::string& id) const {
    auto it = by_id.find(id);
    if (it == by_id.end())
      throw InputError("patient '" + id + "' of predictions/" + variant + ".csv is not in the cohort manifest " +
                       cohort.manifest.string());
    return *it->second;
  }
};

void load_context(RunContext& c) {
  step("load", [&] {
    c.bundle = bundle::load_bundle(runfolder::model_dir(c.run, c.variant));
    c.preds = runfolder::read_predictions(runfolder::predictions_file(c.run, c.variant));
    // The explanations describe the study's cohorts; a held-out test set (written after them)
    // is predicted and evaluated, not explained.
    c.preds.erase(std::remove_if(c.preds.begin(), c.preds.end(),
                                 [](const runfolder::Prediction& p) { return data::is_test_cohort(p.cohort); }),
                  c.preds.end());
    for (const auto& p : c.preds) {
      c.ids.push_back(p.id);
      c.cohorts.push_back(p.cohort);
    }
    c.cfg = run_config(c.run);
    c.cohort = data::load_cohort(c.cfg);
  });
  for (const auto& p : c.cohort.patients) c.by_id[p.id] = &p;
  c.bundle.model->eval();
}

// Modality group Shapley values on the stored fused vectors: the players are the fusion
// head's per-modality slices of width fusion_dim.
struct ModalityResult {
  explain::CohortExplanation shap;
  std::vector<std::string> names;
  torch::Tensor fused;
};

ModalityResult modality_shapley(const RunContext& c, std::uint64_t seed) {
  ModalityResult r;
  const auto& order = c.bundle.model->modality_order();
  const fs::path fused_file = runfolder::fused_file(c.run, c.variant);
  if (!fs::exists(fused_file))
    throw InputError(fused_file.string() + ": missing (written by the study for multi-modality variants)");
  r.fused = models::read_safetensors(fused_file).at("fused").to(torch::kFloat64).contiguous();
  if (r.fused.size(0) != static_cast<std::int64_t>(c.ids.size()))
    throw FormatError(fused_file.string() + ": " + std::to_string(r.fused.size(0)) + " fused vectors, predictions/" +
                      c.variant + ".csv has " + std::to_string(c.ids.size()) + " patients");
  const Eigen::MatrixXd X = to_matrix(r.fused);
  auto background = explain::kmeans_background(training_rows(X, c.preds), 20, seed);
  const auto rc = c.bundle.info.recalibration;  // the reported (recalibrated) probability is explained
  const explain::BatchModel f = explain::fused_head_model(c.bundle.model, {rc.intercept, rc.slope});
  explain::ShapleyOptions so;
  so.groups = explain::contiguous_groups(order.size(), c.bundle.arch.fusion_dim);
  for (const auto& m : order) r.names.push_back(modality_label(m));
  // Single-threaded torch: each call is one small head forward, where intra-op threads
  // mostly synchronise (several times slower on a loaded machine).
  IntraOpThreads one(1);
  r.shap = explain::exact_shapley_cohort(f, X, background, so);
  runfolder::write_modality_shapley(c.ex_dir / "modality_shapley.csv",
                                    explain::modality_shap_rows(r.shap, c.ids, c.cohorts, r.names));
  return r;
}

// KernelSHAP over the clinical features of every patient.
struct ClinicalResult {
  explain::ClinicalShap shap;
  explain::ClinicalPlayers players;
};

ClinicalResult clinical_shap(const RunContext& c, const torch::Tensor& fused, std::uint64_t seed, ExplainSummary& sum) {
  ClinicalResult r;
  const auto& enc = c.bundle.spec.clinical;
  r.players = explain::clinical_players(enc);
  Eigen::MatrixXd X(static_cast<Eigen::Index>(c.ids.size()), static_cast<Eigen::Index>(enc.feature_count()));
  std::vector<std::vector<double>> display;
  int without = 0;
  for (std::size_t i = 0; i < c.ids.size(); ++i) {
    const auto row = c.cohort.clinical_row(c.patient(c.ids[i]));
    const auto v = enc.encode(row);
    for (std::size_t j = 0; j < v.size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v[j];
    display.push_back(explain::clinical_display_values(enc, row));
    without += row.empty();
  }
  // A patient without any clinical value was predicted with the learned "missing" token;
  // its explanation is that of its encoded all-missing row through the clinical MLP.
  if (without > 0)
    log::warn("explain: {} patient(s) without clinical values are explained through their all-missing row", without);
  const Eigen::MatrixXd Xt = training_rows(X, c.preds);
  if (Xt.rows() == 0) throw InputError("predictions/" + c.variant + ".csv: no training-cohort patient for the background");
  const explain::Background background =
      explain::kmeans_background(Xt, static_cast<int>(c.cfg.get_int("explain.background")), seed);
  explain::KernelShapOptions ko;
  ko.seed = seed;
  // 32 coalitions x 32 background rows per call: the per-row work is small (the clinical
  // MLP and an F x H product), so smaller batches stay in cache.
  ko.batch_size = 1024;
  ko.nsamples = 2 * r.players.names.size() + static_cast<std::size_t>(c.cfg.get_int("explain.kernel_samples"));
  const auto& rc = c.bundle.info.recalibration;
  r.shap = explain::clinical_kernel_shap(c.bundle.model, enc, X, fused, background, ko, {rc.intercept, rc.slope});
  sum.max_efficiency_error = r.shap.max_efficiency_error;
  sum.clinical_coalitions = r.shap.coalitions;
  const std::size_t m = r.players.names.size();
  Eigen::MatrixXd values(X.rows(), static_cast<Eigen::Index>(m));
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (std::size_t j = 0; j < m; ++j) values(i, static_cast<Eigen::Index>(j)) = display[i][j];
  runfolder::write_clinical_shap(c.ex_dir / "shap_clinical.csv",
                                 explain::clinical_shap_rows(r.shap.shap, values, c.ids, c.cohorts, c.variant, r.players.names));
  // The model's own prediction must be what was explained (a stale run would differ).
  double worst = 0;
  for (std::size_t i = 0; i < c.preds.size(); ++i)
    worst = std::max(worst, std::abs(r.shap.shap.fx(static_cast<Eigen::Index>(i)) - c.preds[i].probability));
  if (worst > 1e-4)
    log::warn("explain: the explained probabilities differ from predictions/{}.csv by up to {:.2g}", c.variant, worst);
  return r;
}

// Each example's modality and clinical Shapley values.
void attach_shapley(const RunContext& c, const ModalityResult* modality, const ClinicalResult* clinical,
                    std::vector<runfolder::ExampleRecord>& examples) {
  for (auto& e : examples) {
    const auto row = static_cast<Eigen::Index>(std::find(c.ids.begin(), c.ids.end(), e.id) - c.ids.begin());
    if (modality)
      for (std::size_t m = 0; m < modality->names.size(); ++m)
        e.modalities.push_back({modality->names[m], modality->shap.phi(row, static_cast<Eigen::Index>(m))});
    if (clinical) {
      const auto raw = c.cohort.clinical_row(c.patient(e.id));
      const auto& names = clinical->players.names;
      for (std::size_t j = 0; j < names.size(); ++j) {
        auto it = raw.find(names[j]);
        e.clinical.push_back({names[j], it == raw.end() ? "NA" : it->second,
                              clinical->shap.shap.phi(row, static_cast<Eigen::Index>(j))});
      }
    }
  }
}

// Grad-CAM and attention-rollout maps of one example patient: each as NIfTI on the patient's
// own image grid (explain/<variant>/<patient>/<map>.nii.gz, opens aligned over the MRI) and as
// an overlay PNG drawn from that map (explain/overlays/<patient>_<map>.png).
int patient_overlays(const RunContext& c, const explain::RolloutOptions& ro, const fs::path& cache_dir,
                     runfolder::ExampleRecord& e) {
  const fs::path ov_dir = c.ex_dir / "overlays";
  ensure_writable_dir(ov_dir);
  const auto& p = c.patient(e.id);
  imaging::PatientInput pi;
  pi.id = p.id, pi.image = p.image, pi.mask = p.mask, pi.mask_segment = p.mask_segment;
  pi.read_options.series_pattern = c.cfg.get_string("data.dicom_series");  // the study's cache key
  auto samples = imaging::preprocess_cohort({pi}, c.bundle.spec.imaging, 1, cache_dir);
  bundle::PatientFeatures f;
  f.id = p.id;
  f.image = std::move(samples.at(0));
  bundle::fill_text_clinical(c.bundle.spec, p.report, c.cohort.clinical_row(p), f);
  const bundle::FeatureDataset ds({&f}, &c.bundle.spec);
  std::vector<train::Sample> one{ds.get(0, nullptr)};
  const auto in = bundle::model_inputs(train::collate(std::move(one)).inputs);
  auto model = c.bundle.model;
  const auto maps = explain::patient_relevance_maps(model, in, ro);
  const double p_model = c.bundle.info.recalibration.apply(maps.logit);
  if (std::abs(p_model - e.probability) > 1e-4)
    log::warn("explain: patient {}: the model gives {:.6f} now, predictions/{}.csv {:.6f}", e.id, p_model, c.variant,
              e.probability);
  const io::Volume image = io::read_image(p.image, pi.read_options);
  const fs::path map_dir = c.ex_dir / c.variant / file_safe(e.id);
  ensure_writable_dir(map_dir);
  int n = 0;
  for (const auto& m : explain::patient_map_outputs(maps, f.image, image, e.id, ro)) {
    io::write_nifti(m.map, map_dir / (m.stem + ".nii.gz"));
    const fs::path file = ov_dir / (file_safe(e.id) + "_" + m.stem + ".png");
    write_file_atomic(file, m.figure.png);
    e.images.push_back(file);
    ++n;
  }
  return n;
}

void example_overlays(const RunContext& c, std::vector<runfolder::ExampleRecord>& examples, ExplainSummary& sum) {
  explain::RolloutOptions ro;
  ro.fusion = explain::parse_head_fusion(c.cfg.get_string("explain.head_fusion"));
  ro.discard_ratio = c.cfg.get_double("explain.discard_ratio");
  const fs::path cache_dir =
      c.cfg.get_string("preprocess.cache_dir").empty() ? c.run / "cache" : c.cfg.get_path("preprocess.cache_dir");
  // Overlays of an earlier explain run (other example patients) would linger unreferenced.
  const fs::path ov_dir = c.ex_dir / "overlays";
  if (fs::is_directory(ov_dir))
    for (const auto& f : fs::directory_iterator(ov_dir))
      if (f.is_regular_file() && f.path().extension() == ".png") fs::remove(f.path());
  // ... and so would the NIfTI maps of earlier example patients (one folder per patient).
  if (fs::is_directory(c.ex_dir / c.variant))
    for (const auto& d : fs::directory_iterator(c.ex_dir / c.variant)) {
      if (!d.is_directory()) continue;
      bool maps_only = true;
      for (const auto& f : fs::directory_iterator(d.path()))
        maps_only = maps_only && f.is_regular_file() && f.path().string().size() > 7 &&
                    f.path().string().compare(f.path().string().size() - 7, 7, ".nii.gz") == 0;
      if (maps_only) fs::remove_all(d.path());
    }
  for (auto& e : examples)
    sum.overlays += step("overlays of patient " + e.id, [&] { return patient_overlays(c, ro, cache_dir, e); });
}

}  // namespace

std::vector<runfolder::ExampleRecord> choose_examples(const std::vector<runfolder::Prediction>& predictions,
                                                      double threshold, const std::string& variant,
                                                      const std::vector<std::string>& cohorts) {
  std::vector<runfolder::ExampleRecord> out;
  for (const auto& c : cohorts) {
    const runfolder::Prediction* tp = nullptr;
    const runfolder::Prediction* fn = nullptr;
    for (const auto& p : predictions) {
      if (p.cohort != c || p.label != 1 || !std::isfinite(p.probability)) continue;
      if (p.probability >= threshold) {
        if (!tp || p.probability > tp->probability) tp = &p;
      } else if (!fn || p.probability < fn->probability) {
        fn = &p;
      }
    }
    for (auto [p, kind] : {std::pair{tp, "true positive"}, {fn, "false negative"}})
      if (p) {
        runfolder::ExampleRecord e;
        e.id = p->id;
        e.cohort = c;
        e.kind = kind;
        e.variant = variant;
        e.probability = p->probability;
        e.label = 1;
        out.push_back(std::move(e));
      }
  }
  return out;
}

std::string modality_label(const std::string& o) {
  return o == "text" ? "report" : o == "convnext" ? "image (ConvNeXt)" : o == "vit" ? "image (ViT)" : o;
}

models::TensorMap explanation_background(models::RecurrenceModel& model, const StudyFeatures& features,
                                         std::uint64_t seed, int clinical_rows) {
  models::TensorMap out;
  const auto train = features.dataset(data::CohortKind::kTrain);
  if (train.size() == 0) return out;
  auto as_tensors = [&](const explain::Background& b, const std::string& name) {
    auto d = torch::empty({b.data.rows(), b.data.cols()}, torch::kFloat64);
    auto w = torch::empty({b.weights.size()}, torch::kFloat64);
    for (Eigen::Index i = 0; i < b.data.rows(); ++i) {
      for (Eigen::Index j = 0; j < b.data.cols(); ++j) d[i][j] = b.data(i, j);
      w[i] = b.weights(i);
    }
    out[name] = d.to(torch::kFloat32);
    out[name + "_weights"] = w.to(torch::kFloat32);
  };
  if (model->modality_order().size() > 1) {
    const auto fused = bundle::fused_vectors(model, {&train}).to(torch::kFloat64).contiguous();
    as_tensors(explain::kmeans_background(to_matrix(fused), 20, seed), "fused");
  }
  if (model->arch().modalities().clinical) {
    const auto width = static_cast<std::size_t>(features.spec.clinical.feature_count());
    std::vector<const std::vector<float>*> rows;
    for (const auto* p : features.by_cohort[0])
      if (p->clinical.size() == width) rows.push_back(&p->clinical);
    Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(width));
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t j = 0; j < width; ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = (*rows[i])[j];
    if (X.rows() > 0) as_tensors(explain::kmeans_background(X, clinical_rows, seed), "clinical");
  }
  return out;
}

std::optional<ExplainSummary> explain_run(const fs::path& run, const std::string& variant) {
  if (!fs::exists(runfolder::model_dir(run, variant) / "model.json")) return std::nullopt;
  RunContext c;
  c.run = run;
  c.variant = variant;
  c.ex_dir = runfolder::explain_dir(run);
  ensure_writable_dir(c.ex_dir);
  load_context(c);
  ExplainSummary sum;
  sum.variant = variant;
  sum.patients = static_cast<int>(c.ids.size());
  const auto seed = static_cast<std::uint64_t>(c.cfg.get_int("study.seed"));
  const auto& order = c.bundle.model->modality_order();

  std::optional<ModalityResult> modality;
  if (order.size() > 1) {
    const auto t0 = std::chrono::steady_clock::now();
    modality = step("modality Shapley", [&] { return modality_shapley(c, seed); });
    sum.modality_shapley = true;
    sum.modality_seconds = StepTimer::since(t0);
  }
  std::optional<ClinicalResult> clinical;
  if (std::find(order.begin(), order.end(), "clinical") != order.end()) {
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor fused = modality ? modality->fused : torch::Tensor();
    clinical = step("clinical KernelSHAP", [&] { return clinical_shap(c, fused, seed, sum); });
    sum.clinical_shap = true;
    sum.clinical_seconds = StepTimer::since(t0);
  }
  // explain/ holds one variant's explanations: files this variant does not produce go.
  if (!sum.modality_shapley) fs::remove(c.ex_dir / "modality_shapley.csv");
  if (!sum.clinical_shap) fs::remove(c.ex_dir / "shap_clinical.csv");

  runfolder::Examples ex{choose_examples(c.preds, c.bundle.info.threshold, variant, {"train", "internal", "external"})};
  attach_shapley(c, modality ? &*modality : nullptr, clinical ? &*clinical : nullptr, ex.examples);
  sum.examples = static_cast<int>(ex.examples.size());
  // Written now so that the Shapley results are complete even if an overlay fails below.
  const fs::path ex_file = c.ex_dir / "examples.json";
  step("examples", [&] { runfolder::write_examples(ex_file, ex, run); });
  if (c.bundle.model->convnext || c.bundle.model->vit) {
    const auto t0 = std::chrono::steady_clock::now();
    example_overlays(c, ex.examples, sum);
    step("examples", [&] { runfolder::write_examples(ex_file, ex, run); });
    sum.overlay_seconds = StepTimer::since(t0);
  }
  log::info("explain {}: {} patients, modality Shapley {:.1f} s, clinical KernelSHAP {:.1f} s, {} overlays {:.1f} s",
            variant, sum.patients, sum.modality_seconds, sum.clinical_seconds, sum.overlays, sum.overlay_seconds);
  return sum;
}

}  // namespace cervirisk::study
