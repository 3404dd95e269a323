#include "explain/run_explain.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "data/cohort.h"
#include "explain/clinical_shap.h"
#include "explain/export.h"
#include "explain/patient_maps.h"
#include "explain/shapley.h"
#include "imaging/cache.h"
#include "io/volume.h"
#include "models/weights.h"
#include "report/report_data.h"
#include "report/run_files.h"
#include "train/sharded_step.h"
#include "train/study_features.h"

namespace cervirisk::explain {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs one step; any failure is rethrown naming the step, with the original exit code.
template <typename Fn>
auto step(const char* name, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(e.code(), std::string("explain (") + name + "): " + e.what());
  } catch (const std::exception& e) {
    throw Error(ExitCode::kFailure, std::string("explain (") + name + "): " + e.what());
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

// The study's raw clinical row of a patient (as src/train/study.cpp builds it).
models::ClinicalRow clinical_row(const data::Cohort& c, const data::Patient& p) {
  models::ClinicalRow r;
  for (std::size_t i = 0; i < c.schema.size() && i < p.clinical.size(); ++i)
    if (!p.clinical[i].missing) r[c.schema[i].name] = p.clinical[i].raw;
  return r;
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

std::string modality_label(const std::string& o) {
  return o == "text" ? "report" : o == "convnext" ? "image (ConvNeXt)" : o == "vit" ? "image (ViT)" : o;
}

}  // namespace

std::optional<ExplainSummary> explain_run(const fs::path& run, const std::string& variant) {
  if (!fs::exists(run / "models" / variant / "model.json")) return std::nullopt;
  ExplainSummary sum;
  sum.variant = variant;
  const fs::path ex_dir = run / "explain";
  ensure_writable_dir(ex_dir);

  // --- load: bundle, predictions, config, cohort -----------------------------------------
  train::Bundle bundle;
  report::CsvTable preds;
  config::Config cfg;
  data::Cohort cohort;
  std::vector<std::string> ids, cohorts;
  std::vector<report::PredictionRow> prow;
  step("load", [&] {
    bundle = train::load_bundle(run / "models" / variant);
    const fs::path pf = run / "predictions" / (variant + ".csv");
    preds = report::read_csv(pf);
    const int ci = preds.column("id"), cc = preds.column("cohort"), cp = preds.column("probability"),
              cl = preds.column("label");
    for (auto [c, name] : {std::pair{ci, "id"}, {cc, "cohort"}, {cp, "probability"}, {cl, "label"}})
      if (c < 0) throw FormatError(pf.string() + ": no column '" + name + "' in the header");
    for (std::size_t k = 0; k < preds.rows.size(); ++k) {
      const auto& row = preds.rows[k];
      const std::string where = pf.string() + ": data row " + std::to_string(k + 1);
      if (row.size() < preds.header.size())
        throw FormatError(where + " has " + std::to_string(row.size()) + " fields, the header " +
                          std::to_string(preds.header.size()));
      report::PredictionRow r;
      r.id = row[ci];
      r.cohort = row[cc];
      char* end = nullptr;
      r.probability = std::strtod(row[cp].c_str(), &end);
      if (end == row[cp].c_str() || *end != '\0' || !(r.probability >= 0 && r.probability <= 1))
        throw FormatError(where + ": probability '" + row[cp] + "', expected a number in [0, 1]");
      if (row[cl] != "0" && row[cl] != "1") throw FormatError(where + ": label '" + row[cl] + "', expected 0 or 1");
      r.label = row[cl] == "1";
      ids.push_back(r.id);
      cohorts.push_back(r.cohort);
      prow.push_back(r);
    }
    cfg = run_config(run);
    cohort = data::load_cohort(cfg);
  });
  sum.patients = static_cast<int>(ids.size());
  std::map<std::string, const data::Patient*> by_id;
  for (const auto& p : cohort.patients) by_id[p.id] = &p;
  auto patient = [&](const std::string& id) -> const data::Patient& {
    auto it = by_id.find(id);
    if (it == by_id.end())
      throw InputError("patient '" + id + "' of predictions/" + variant + ".csv is not in the cohort manifest " +
                       cohort.manifest.string());
    return *it->second;
  };
  auto& model = bundle.model;
  model->eval();
  const auto& order = model->modality_order();
  const std::uint64_t seed = static_cast<std::uint64_t>(cfg.get_int("study.seed"));
  const int n_background = static_cast<int>(cfg.get_int("explain.background"));

  // --- modality group Shapley on the fused vectors ------------------------------------------
  torch::Tensor fused;
  const fs::path fused_file = ex_dir / ("fused_" + variant + ".safetensors");
  CohortExplanation modality;
  std::vector<std::string> modality_names;
  if (order.size() > 1) {
    const auto t0 = std::chrono::steady_clock::now();
    step("modality Shapley", [&] {
      if (!fs::exists(fused_file))
        throw InputError(fused_file.string() + ": missing (written by the study for multi-modality variants)");
      fused = models::read_safetensors(fused_file).at("fused").to(torch::kFloat64).contiguous();
      if (fused.size(0) != static_cast<std::int64_t>(ids.size()))
        throw FormatError(fused_file.string() + ": " + std::to_string(fused.size(0)) + " fused vectors, predictions/" +
                          variant + ".csv has " + std::to_string(ids.size()) + " patients");
      const Eigen::MatrixXd X = to_matrix(fused);
      std::vector<Eigen::Index> train_rows;
      for (std::size_t i = 0; i < cohorts.size(); ++i)
        if (cohorts[i] == "train") train_rows.push_back(static_cast<Eigen::Index>(i));
      Eigen::MatrixXd Xt(static_cast<Eigen::Index>(train_rows.size()), X.cols());
      for (std::size_t r = 0; r < train_rows.size(); ++r) Xt.row(static_cast<Eigen::Index>(r)) = X.row(train_rows[r]);
      auto background = kmeans_background(Xt, 20, seed);
      BatchModel f = [&model](const Eigen::MatrixXd& rows) {
        torch::NoGradGuard ng;
        auto t = torch::empty({rows.rows(), rows.cols()}, torch::kFloat32);
        auto a = t.accessor<float, 2>();
        for (Eigen::Index i = 0; i < rows.rows(); ++i)
          for (Eigen::Index j = 0; j < rows.cols(); ++j) a[i][j] = static_cast<float>(rows(i, j));
        auto p = torch::sigmoid(model->classifier(model->head->forward(t)).squeeze(-1)).to(torch::kFloat64).contiguous();
        return Eigen::VectorXd(Eigen::Map<Eigen::VectorXd>(p.data_ptr<double>(), p.size(0)));
      };
      const auto F = bundle.arch.fusion_dim;
      ShapleyOptions so;
      for (std::size_t m = 0; m < order.size(); ++m) {
        std::vector<int> g;
        for (std::int64_t j = 0; j < F; ++j) g.push_back(static_cast<int>(static_cast<std::int64_t>(m) * F + j));
        so.groups.push_back(g);
        modality_names.push_back(modality_label(order[m]));
      }
      // Single-threaded torch: each call is one small head forward, where intra-op threads
      // mostly synchronise (several times slower on a loaded machine).
      train::IntraOpThreads one(1);
      modality = exact_shapley_cohort(f, X, background, so);
      report::write_modality_shapley_csv(ex_dir / "modality_shapley.csv",
                                         modality_shap_rows(modality, ids, cohorts, modality_names));
    });
    sum.modality_shapley = true;
    sum.modality_seconds = seconds_since(t0);
  }

  // --- KernelSHAP over the clinical features -----------------------------------------------
  const bool has_clinical = std::find(order.begin(), order.end(), "clinical") != order.end();
  ClinicalShap clinical_r;
  const CohortExplanation& clinical = clinical_r.shap;
  ClinicalPlayers players;
  std::vector<std::vector<double>> display;
  if (has_clinical) {
    const auto t0 = std::chrono::steady_clock::now();
    step("clinical KernelSHAP", [&] {
      const auto& enc = bundle.spec.clinical;
      players = clinical_players(enc);
      Eigen::MatrixXd X(static_cast<Eigen::Index>(ids.size()), static_cast<Eigen::Index>(enc.feature_count()));
      std::vector<Eigen::Index> train_rows;
      int without = 0;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto row = clinical_row(cohort, patient(ids[i]));
        const auto v = enc.encode(row);
        for (std::size_t j = 0; j < v.size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v[j];
        display.push_back(clinical_display_values(enc, row));
        without += row.empty();
        if (cohorts[i] == "train") train_rows.push_back(static_cast<Eigen::Index>(i));
      }
      // A patient without any clinical value was predicted with the learned "missing" token;
      // its explanation is that of its encoded all-missing row through the clinical MLP.
      if (without > 0)
        log::warn("explain: {} patient(s) without clinical values are explained through their all-missing row", without);
      Eigen::MatrixXd Xt(static_cast<Eigen::Index>(train_rows.size()), X.cols());
      for (std::size_t r = 0; r < train_rows.size(); ++r) Xt.row(static_cast<Eigen::Index>(r)) = X.row(train_rows[r]);
      if (Xt.rows() == 0) throw InputError("predictions/" + variant + ".csv: no training-cohort patient for the background");
      const Background background = kmeans_background(Xt, n_background, seed);
      KernelShapOptions ko;
      ko.seed = seed;
      // 32 coalitions x 32 background rows per call: the per-row work is small (the clinical
      // MLP and an F x H product), so smaller batches stay in cache.
      ko.batch_size = 1024;
      ko.nsamples = 2 * players.names.size() + static_cast<std::size_t>(cfg.get_int("explain.kernel_samples"));
      clinical_r = clinical_kernel_shap(model, enc, X, fused, background, ko);
      sum.max_efficiency_error = clinical_r.max_efficiency_error;
      sum.clinical_coalitions = clinical_r.coalitions;
      const std::size_t m = players.names.size();
      Eigen::MatrixXd values(X.rows(), static_cast<Eigen::Index>(m));
      for (Eigen::Index i = 0; i < X.rows(); ++i)
        for (std::size_t j = 0; j < m; ++j) values(i, static_cast<Eigen::Index>(j)) = display[i][j];
      report::write_shap_clinical_csv(ex_dir / "shap_clinical.csv",
                                      clinical_shap_rows(clinical, values, ids, cohorts, variant, players.names));
      // The model's own prediction must be what was explained (a stale run would differ).
      double worst = 0;
      for (std::size_t i = 0; i < prow.size(); ++i)
        worst = std::max(worst, std::abs(clinical.fx(static_cast<Eigen::Index>(i)) - prow[i].probability));
      if (worst > 1e-4)
        log::warn("explain: the explained probabilities differ from predictions/{}.csv by up to {:.2g}", variant, worst);
    });
    sum.clinical_shap = true;
    sum.clinical_seconds = seconds_since(t0);
  }

  // explain/ holds one variant's explanations: files this variant does not produce go.
  if (!sum.modality_shapley) fs::remove(ex_dir / "modality_shapley.csv");
  if (!sum.clinical_shap) fs::remove(ex_dir / "shap_clinical.csv");

  // --- example patients ----------------------------------------------------------------------
  std::vector<report::ExamplePatient> examples;
  for (const auto& c : report::choose_examples(prow, bundle.threshold, {"train", "internal", "external"})) {
    report::ExamplePatient e;
    e.id = c.id;
    e.cohort = c.cohort;
    e.kind = c.kind;
    e.variant = variant;
    e.probability = c.probability;
    e.label = c.label;
    const auto row = static_cast<Eigen::Index>(std::find(ids.begin(), ids.end(), c.id) - ids.begin());
    if (sum.modality_shapley)
      for (std::size_t m = 0; m < modality_names.size(); ++m)
        e.modalities.push_back({modality_names[m], modality.phi(row, static_cast<Eigen::Index>(m))});
    if (sum.clinical_shap) {
      const auto raw = clinical_row(cohort, patient(c.id));
      for (std::size_t j = 0; j < players.names.size(); ++j) {
        auto it = raw.find(players.names[j]);
        e.clinical.push_back({players.names[j], it == raw.end() ? "NA" : it->second,
                              clinical.phi(row, static_cast<Eigen::Index>(j))});
      }
    }
    examples.push_back(std::move(e));
  }
  sum.examples = static_cast<int>(examples.size());
  // Written now so that the Shapley results are complete even if an overlay fails below.
  step("examples", [&] { report::write_examples_json(ex_dir / "examples.json", examples, run); });

  // --- Grad-CAM and attention-rollout overlays of the example patients ---------------------
  if (model->convnext || model->vit) {
    const auto t0 = std::chrono::steady_clock::now();
    RolloutOptions ro;
    ro.fusion = parse_head_fusion(cfg.get_string("explain.head_fusion"));
    ro.discard_ratio = cfg.get_double("explain.discard_ratio");
    const std::string cache_key = cfg.get_string("preprocess.cache_dir");
    const fs::path cache_dir = cache_key.empty() ? run / "cache" : cfg.get_path("preprocess.cache_dir");
    const fs::path ov_dir = ex_dir / "overlays";
    // Overlays of an earlier explain run (other example patients) would linger unreferenced.
    if (fs::is_directory(ov_dir))
      for (const auto& f : fs::directory_iterator(ov_dir))
        if (f.is_regular_file() && f.path().extension() == ".png") fs::remove(f.path());
    for (auto& e : examples) {
      const std::string what = "overlays of patient " + e.id;
      step(what.c_str(), [&] {
        ensure_writable_dir(ov_dir);
        const auto& p = patient(e.id);
        auto samples = imaging::preprocess_cohort({{p.id, p.image, p.mask, {}}}, bundle.spec.imaging, 1, cache_dir);
        train::PatientFeatures f;
        f.id = p.id;
        f.image = std::move(samples.at(0));
        train::fill_text_clinical(bundle.spec, p.report, clinical_row(cohort, p), f);
        train::FeatureDataset ds({&f}, &bundle.spec);
        std::vector<train::Sample> one{ds.get(0, nullptr)};
        const auto in = train::model_inputs(train::collate(std::move(one)).inputs);
        const auto maps = patient_relevance_maps(model, in, ro);
        const double p_model = 1.0 / (1.0 + std::exp(-maps.logit));
        if (std::abs(p_model - e.probability) > 1e-4)
          log::warn("explain: patient {}: the model gives {:.6f} now, predictions/{}.csv {:.6f}", e.id, p_model, variant,
                    e.probability);
        const io::Volume image = io::read_image(p.image);
        const auto slice = volume_slice(image, f.image.tumour.box.centre_slice);
        for (const auto& [stem, fig] : patient_overlays(maps, f.image, slice, e.id, ro)) {
          const fs::path file = ov_dir / (file_safe(e.id) + "_" + stem + ".png");
          write_file_atomic(file, fig.png);
          e.images.push_back(file);
          ++sum.overlays;
        }
      });
    }
    step("examples", [&] { report::write_examples_json(ex_dir / "examples.json", examples, run); });
    sum.overlay_seconds = seconds_since(t0);
  }
  log::info("explain {}: {} patients, modality Shapley {:.1f} s, clinical KernelSHAP {:.1f} s, {} overlays {:.1f} s",
            variant, sum.patients, sum.modality_seconds, sum.clinical_seconds, sum.overlays, sum.overlay_seconds);
  return sum;
}

}  // namespace cervirisk::explain
