// cervirisk explain: modality group Shapley values of a run's fusion model (players = the
// per-modality blocks of the fused vector, the head's input; background = a k-means summary of
// the training cohort's fused vectors, Lundberg & Lee 2017, arXiv:1705.07874) and the example
// patients of the report (explain/modality_shapley.csv, explain/examples.json).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/error.h"
#include "explain/export.h"
#include "explain/shapley.h"
#include "models/weights.h"
#include "report/html.h"
#include "report/report_data.h"
#include "report/run_files.h"
#include "train/study_features.h"

namespace cervirisk::cli {

namespace fs = std::filesystem;

// Writes the explain/ files of `run` for `variant`; returns false when the variant has no
// fused vectors (single-modality variant or not trained).
bool explain_run(const fs::path& run, const std::string& variant);

bool explain_run(const fs::path& run, const std::string& variant) {
  const fs::path fused_file = run / "explain" / ("fused_" + variant + ".safetensors");
  if (!fs::exists(fused_file)) return false;
  auto bundle = train::load_bundle(run / "models" / variant);
  auto fused = models::read_safetensors(fused_file).at("fused").to(torch::kFloat64).contiguous();
  auto preds = report::read_csv(run / "predictions" / (variant + ".csv"));
  const int ci = preds.column("id"), cc = preds.column("cohort"), cp = preds.column("probability"),
            cl = preds.column("label");
  if (ci < 0 || cc < 0 || cp < 0 || cl < 0 || static_cast<std::int64_t>(preds.rows.size()) != fused.size(0))
    throw FormatError(fused_file.string() + ": does not match predictions/" + variant + ".csv");
  const auto n = fused.size(0), d = fused.size(1);
  Eigen::MatrixXd X(n, d);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) X(i, j) = fused[i][j].item<double>();
  std::vector<std::string> ids, cohorts;
  std::vector<int> train_rows;
  for (std::size_t i = 0; i < preds.rows.size(); ++i) {
    ids.push_back(preds.rows[i][ci]);
    cohorts.push_back(preds.rows[i][cc]);
    if (cohorts.back() == "train") train_rows.push_back(static_cast<int>(i));
  }
  Eigen::MatrixXd Xt(static_cast<Eigen::Index>(train_rows.size()), d);
  for (std::size_t r = 0; r < train_rows.size(); ++r) Xt.row(static_cast<Eigen::Index>(r)) = X.row(train_rows[r]);
  auto background = explain::kmeans_background(Xt, 20, 42);
  auto& model = bundle.model;
  explain::BatchModel f = [&model](const Eigen::MatrixXd& rows) {
    torch::NoGradGuard ng;
    auto t = torch::empty({rows.rows(), rows.cols()}, torch::kFloat32);
    auto a = t.accessor<float, 2>();
    for (Eigen::Index i = 0; i < rows.rows(); ++i)
      for (Eigen::Index j = 0; j < rows.cols(); ++j) a[i][j] = static_cast<float>(rows(i, j));
    auto p = torch::sigmoid(model->classifier(model->head->forward(t)).squeeze(-1)).to(torch::kFloat64).contiguous();
    return Eigen::VectorXd(Eigen::Map<Eigen::VectorXd>(p.data_ptr<double>(), p.size(0)));
  };
  const auto& order = model->modality_order();
  const auto F = bundle.arch.fusion_dim;
  explain::ShapleyOptions so;
  std::vector<std::string> names;
  for (std::size_t m = 0; m < order.size(); ++m) {
    std::vector<int> g;
    for (std::int64_t j = 0; j < F; ++j) g.push_back(static_cast<int>(m * F + j));
    so.groups.push_back(g);
    const std::string& o = order[m];
    names.push_back(o == "text" ? "report" : o == "convnext" ? "image (ConvNeXt)" : o == "vit" ? "image (ViT)" : o);
  }
  auto shap = explain::exact_shapley_cohort(f, X, background, so);
  report::write_modality_shapley_csv(run / "explain" / "modality_shapley.csv",
                                     explain::modality_shap_rows(shap, ids, cohorts, names));
  // Example patients (true positive with the highest, false negative with the lowest probability).
  std::vector<report::PredictionRow> prow;
  for (std::size_t i = 0; i < preds.rows.size(); ++i) {
    report::PredictionRow r;
    r.id = ids[i];
    r.cohort = cohorts[i];
    r.probability = std::stod(preds.rows[i][cp]);
    r.label = std::stoi(preds.rows[i][cl]);
    prow.push_back(r);
  }
  std::vector<report::ExamplePatient> examples;
  for (const auto& c : report::choose_examples(prow, bundle.threshold, {"train", "internal", "external"})) {
    report::ExamplePatient e;
    e.id = c.id;
    e.cohort = c.cohort;
    e.kind = c.kind;
    e.variant = variant;
    e.probability = c.probability;
    e.label = c.label;
    const auto it = std::find(ids.begin(), ids.end(), c.id);
    const auto row = static_cast<Eigen::Index>(it - ids.begin());
    for (std::size_t m = 0; m < names.size(); ++m) e.modalities.push_back({names[m], shap.phi(row, static_cast<Eigen::Index>(m))});
    examples.push_back(e);
  }
  report::write_examples_json(run / "explain" / "examples.json", examples, run);
  return true;
}

// Re-renders report.html after the explanations were added.
void rerender_report(const fs::path& run);
void rerender_report(const fs::path& run) {
  auto data = report::load_run_folder(run);
  report::write_report_figures(data, run / "figures");
  report::write_report_html(data, run / "report.html");
}

void add_explain(CLI::App& app, GlobalOptions& g) {
  auto* sub = app.add_subcommand("explain", "Modality Shapley values and example patients of a run (explain/)");
  auto run = std::make_shared<std::string>();
  auto variant = std::make_shared<std::string>("msm_tc");
  sub->add_option("--run", *run, "Run folder")->required();
  sub->add_option("--variant", *variant, "Fusion variant to explain (default msm_tc)");
  sub->callback([&g, run, variant] {
    apply_globals(g);
    if (!explain_run(*run, *variant))
      throw InputError(*run + "/explain/fused_" + *variant + ".safetensors missing (train a multi-modality variant first)");
    rerender_report(*run);
    std::printf("wrote %s/explain/modality_shapley.csv, examples.json and report.html\n", run->c_str());
  });
}

}  // namespace cervirisk::cli
