#include "report/run_files.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cervirisk::report {

namespace fs = std::filesystem;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

namespace {
// Shortest text that reads back to the same double; empty for NaN.
std::string num(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }
}  // namespace

void write_shap_clinical_csv(const fs::path& file, const std::vector<ClinicalShapRow>& rows) {
  std::ostringstream o;
  o << "id,cohort,variant,feature,value,phi\n";
  for (const auto& r : rows)
    o << csv_field(r.id) << ',' << csv_field(r.cohort) << ',' << csv_field(r.variant) << ','
      << csv_field(r.feature) << ',' << num(r.value) << ',' << num(r.phi) << '\n';
  write_file_atomic(file, o.str());
}

void write_modality_shapley_csv(const fs::path& file, const std::vector<ModalityShapRow>& rows) {
  std::ostringstream o;
  o << "id,cohort,modality,phi\n";
  for (const auto& r : rows)
    o << csv_field(r.id) << ',' << csv_field(r.cohort) << ',' << csv_field(r.modality) << ',' << num(r.phi)
      << '\n';
  write_file_atomic(file, o.str());
}

void write_examples_json(const fs::path& file, const std::vector<ExamplePatient>& examples,
                         const fs::path& run_dir) {
  nlohmann::json j = nlohmann::json::array();
  const fs::path base = fs::weakly_canonical(run_dir);
  for (const auto& e : examples) {
    nlohmann::json x;
    x["id"] = e.id;
    x["cohort"] = e.cohort;
    x["kind"] = e.kind;
    x["variant"] = e.variant;
    if (std::isfinite(e.probability)) x["probability"] = e.probability;
    if (e.label >= 0) x["label"] = e.label;
    x["modalities"] = nlohmann::json::array();
    for (const auto& m : e.modalities) x["modalities"].push_back({{"name", m.label}, {"phi", m.value}});
    x["clinical"] = nlohmann::json::array();
    for (const auto& c : e.clinical)
      x["clinical"].push_back({{"feature", c.name}, {"value", c.value}, {"phi", c.phi}});
    x["images"] = nlohmann::json::array();
    for (const auto& im : e.images) {
      fs::path rel = fs::weakly_canonical(im).lexically_relative(base);
      if (rel.empty() || *rel.begin() == "..")
        throw OutputError("examples.json: image " + im.string() + " is not inside the run folder " +
                          run_dir.string());
      x["images"].push_back(rel.generic_string());
    }
    j.push_back(x);
  }
  write_file_atomic(file, j.dump(1) + "\n");
}

void write_history_csv(const fs::path& file, const TrainingHistory& h) {
  std::ostringstream o;
  o << "epoch,train_loss,val_loss,val_auc\n";
  for (std::size_t i = 0; i < h.epoch.size(); ++i)
    o << num(h.epoch[i]) << ',' << num(i < h.train_loss.size() ? h.train_loss[i] : kNaN) << ','
      << num(i < h.val_loss.size() ? h.val_loss[i] : kNaN) << ','
      << num(i < h.val_auc.size() ? h.val_auc[i] : kNaN) << '\n';
  write_file_atomic(file, o.str());
}

std::vector<ExampleChoice> choose_examples(const std::vector<PredictionRow>& predictions, double threshold,
                                           const std::vector<std::string>& cohorts) {
  std::vector<ExampleChoice> out;
  for (const auto& c : cohorts) {
    const PredictionRow* tp = nullptr;
    const PredictionRow* fn = nullptr;
    for (const auto& p : predictions) {
      if (p.cohort != c || p.label != 1 || !std::isfinite(p.probability)) continue;
      if (p.probability >= threshold) {
        if (!tp || p.probability > tp->probability) tp = &p;
      } else if (!fn || p.probability < fn->probability) {
        fn = &p;
      }
    }
    if (tp) out.push_back({tp->id, c, "true positive", tp->probability, 1});
    if (fn) out.push_back({fn->id, c, "false negative", fn->probability, 1});
  }
  return out;
}

}  // namespace cervirisk::report
