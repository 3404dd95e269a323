#include "runfolder/explanations.h"

#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/json_format.h"

namespace cervirisk::runfolder {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kModalityShapColumns = {"id", "cohort", "modality", "phi"};
const std::vector<std::string> kClinicalShapColumns = {"id", "cohort", "variant", "feature", "value", "phi"};

void write_modality_shapley(const fs::path& file, const std::vector<ModalityShapRow>& rows) {
  std::string o = csv_header(kModalityShapColumns);
  for (const auto& r : rows)
    o += io::csv_field(r.id) + ',' + io::csv_field(r.cohort) + ',' + io::csv_field(r.modality) + ',' + shortest(r.phi) + '\n';
  write_file_atomic(file, o);
}

std::vector<ModalityShapRow> read_modality_shapley(const fs::path& file) {
  return read_csv_rows<ModalityShapRow>(file, kModalityShapColumns, [](ModalityShapRow& m, const io::Table& t, std::size_t r) {
    m = {t.cell(r, 0), t.cell(r, 1), t.cell(r, 2), cell_number(t, r, 3)};
  });
}

void write_clinical_shap(const fs::path& file, const std::vector<ClinicalShapRow>& rows) {
  std::string o = csv_header(kClinicalShapColumns);
  for (const auto& r : rows)
    o += io::csv_field(r.id) + ',' + io::csv_field(r.cohort) + ',' + io::csv_field(r.variant) + ',' +
         io::csv_field(r.feature) + ',' + shortest(r.value) + ',' + shortest(r.phi) + '\n';
  write_file_atomic(file, o);
}

std::vector<ClinicalShapRow> read_clinical_shap(const fs::path& file) {
  return read_csv_rows<ClinicalShapRow>(file, kClinicalShapColumns, [](ClinicalShapRow& c, const io::Table& t, std::size_t r) {
    c = {t.cell(r, 0), t.cell(r, 1), t.cell(r, 2), t.cell(r, 3), cell_number_or_nan(t, r, 4), cell_number(t, r, 5)};
  });
}

void write_examples(const fs::path& file, const Examples& ex, const fs::path& run_dir) {
  json a = json::array();
  const fs::path base = fs::weakly_canonical(run_dir);
  for (const auto& e : ex.examples) {
    json x = {{"id", e.id}, {"cohort", e.cohort}, {"kind", e.kind}, {"variant", e.variant}};
    if (std::isfinite(e.probability)) x["probability"] = e.probability;
    if (e.label >= 0) x["label"] = e.label;
    x["modalities"] = json::array();
    for (const auto& m : e.modalities) x["modalities"].push_back({{"name", m.name}, {"phi", m.phi}});
    x["clinical"] = json::array();
    for (const auto& c : e.clinical) x["clinical"].push_back({{"feature", c.name}, {"value", c.value}, {"phi", c.phi}});
    x["images"] = json::array();
    for (const auto& im : e.images) {
      const fs::path rel = fs::weakly_canonical(im).lexically_relative(base);
      if (rel.empty() || *rel.begin() == "..")
        throw OutputError(file.string() + ": image " + im.string() + " is not inside the run folder " + run_dir.string());
      x["images"].push_back(rel.generic_string());
    }
    a.push_back(x);
  }
  write_file_atomic(file, json{{"format", Examples::kFormat}, {"examples", a}}.dump(1) + "\n");
}

Examples read_examples(const fs::path& file, const fs::path& run_dir) {
  const JsonPath top{file.string(), ""};
  const json j = read_json_format(file, Examples::kFormat);
  Examples out;
  const json& a = array_field(j, "examples", top);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const json& e = a[i];
    const JsonPath w = top.at("examples").at(i);
    ExampleRecord r;
    r.id = string_field(e, "id", w);
    r.cohort = string_field(e, "cohort", w);
    r.kind = string_field(e, "kind", w);
    r.variant = string_field(e, "variant", w);
    r.probability = optional_number(e, "probability", w).value_or(kNaN);
    if (e.contains("label")) r.label = static_cast<int>(integer_field(e, "label", w));
    const json& mods = array_field(e, "modalities", w);
    for (std::size_t k = 0; k < mods.size(); ++k)
      r.modalities.push_back({string_field(mods[k], "name", w.at("modalities").at(k)),
                              number_field(mods[k], "phi", w.at("modalities").at(k))});
    const json& clin = array_field(e, "clinical", w);
    for (std::size_t k = 0; k < clin.size(); ++k) {
      const JsonPath cw = w.at("clinical").at(k);
      r.clinical.push_back({string_field(clin[k], "feature", cw), string_field(clin[k], "value", cw),
                            number_field(clin[k], "phi", cw)});
    }
    const json& images = array_field(e, "images", w);
    for (std::size_t k = 0; k < images.size(); ++k) {
      if (!images[k].is_string()) w.at("images").at(k).fail("must be a path");
      const fs::path p = run_dir / images[k].get<std::string>();
      if (!fs::exists(p))
        throw InputError(file.string() + ": " + w.at("images").at(k).path + " names " + p.string() + ", which does not exist");
      r.images.push_back(p);
    }
    out.examples.push_back(std::move(r));
  }
  return out;
}

}  // namespace cervirisk::runfolder
