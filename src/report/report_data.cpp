#include "report/report_data.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace cervirisk::report {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- CSV ------------------------------------------------------------------------------------

int CsvTable::column(const std::string& name) const {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

CsvTable read_csv(const fs::path& file) {
  std::string text = read_file(file);
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // UTF-8 BOM
  CsvTable t;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  std::size_t line = 1;
  auto end_row = [&] {
    row.push_back(field);
    field.clear();
    if (t.header.empty()) {
      t.header = row;
    } else if (!(row.size() == 1 && row[0].empty())) {
      if (row.size() != t.header.size())
        throw FormatError(file.string() + ":" + std::to_string(line) + ": " + std::to_string(row.size()) +
                          " fields, expected " + std::to_string(t.header.size()) + " as in the header");
      t.rows.push_back(row);
    }
    row.clear();
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else
          quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\r') {
    } else if (c == '\n') {
      end_row();
      ++line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw FormatError(file.string() + ": unterminated quoted field");
  if (any || !field.empty()) end_row();
  if (t.header.empty()) throw FormatError(file.string() + ": empty CSV (no header)");
  return t;
}

namespace {

double to_double(const std::string& s, const fs::path& file, std::size_t row, const std::string& col) {
  if (s.empty() || s == "NA" || s == "NaN" || s == "nan") return kNaN;
  try {
    std::size_t pos = 0;
    double v = std::stod(s, &pos);
    if (pos != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw FormatError(file.string() + ": row " + std::to_string(row + 2) + ", column '" + col + "': '" + s +
                      "' is not a number");
  }
}

json read_json(const fs::path& file) {
  try {
    return json::parse(read_file(file));
  } catch (const json::parse_error& e) {
    throw FormatError(file.string() + ": not valid JSON: " + e.what());
  }
}

// Field access with messages that name the file and the field.
struct Reader {
  fs::path file;
  double num(const json& j, const std::string& key, const std::string& where) const {
    if (!j.contains(key) || j[key].is_null()) return kNaN;
    if (!j[key].is_number())
      throw FormatError(file.string() + ": " + where + "." + key + " must be a number, got " + j[key].dump());
    return j[key].get<double>();
  }
  std::string str(const json& j, const std::string& key, const std::string& where,
                  bool required = true) const {
    if (!j.contains(key)) {
      if (required) throw FormatError(file.string() + ": " + where + " lacks the field \"" + key + "\"");
      return {};
    }
    if (!j[key].is_string())
      throw FormatError(file.string() + ": " + where + "." + key + " must be a string");
    return j[key].get<std::string>();
  }
  std::vector<double> vec(const json& j, const std::string& key, const std::string& where) const {
    std::vector<double> v;
    if (!j.contains(key) || j[key].is_null()) return v;
    if (!j[key].is_array())
      throw FormatError(file.string() + ": " + where + "." + key + " must be an array of numbers");
    for (const auto& x : j[key]) v.push_back(x.is_number() ? x.get<double>() : kNaN);
    return v;
  }
  Estimate est(const json& j, const std::string& key, const std::string& where) const {
    Estimate e;
    e.value = num(j, key, where);
    auto ci = vec(j, key + "_ci", where);
    if (ci.size() == 2) {
      e.lo = ci[0];
      e.hi = ci[1];
    } else if (!ci.empty())
      throw FormatError(file.string() + ": " + where + "." + key + "_ci must be [lo, hi]");
    return e;
  }
};

void flatten(const json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (j.is_string()) {
    out.emplace_back(prefix, j.get<std::string>());
  } else {
    out.emplace_back(prefix, j.dump());
  }
}

void load_predictions(const fs::path& dir, ReportData& d) {
  if (!fs::is_directory(dir)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    CsvTable t = read_csv(f);
    int id = t.column("id"), cohort = t.column("cohort"), label = t.column("label"),
        prob = t.column("probability");
    for (auto [c, name] : {std::pair{id, "id"}, {cohort, "cohort"}, {label, "label"}, {prob, "probability"}})
      if (c < 0) throw FormatError(f.string() + ": no column '" + std::string(name) + "' in the header");
    int tm = t.column("time_months"), ev = t.column("event"), rg = t.column("risk_group");
    auto& rows = d.predictions[f.stem().string()];
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      const auto& row = t.rows[r];
      PredictionRow p;
      p.id = row[id];
      p.cohort = row[cohort];
      double l = to_double(row[label], f, r, "label");
      if (!(l == 0 || l == 1))
        throw FormatError(f.string() + ": row " + std::to_string(r + 2) +
                          ", column 'label': expected 0 or 1, got '" + row[label] + "'");
      p.label = static_cast<int>(l);
      p.probability = to_double(row[prob], f, r, "probability");
      if (tm >= 0) p.time_months = to_double(row[tm], f, r, "time_months");
      if (ev >= 0) {
        double e = to_double(row[ev], f, r, "event");
        p.event = std::isfinite(e) ? static_cast<int>(e) : -1;
      }
      if (rg >= 0) p.risk_group = row[rg];
      rows.push_back(std::move(p));
    }
  }
}

void load_explanations(const fs::path& dir, ReportData& d) {
  const fs::path ex = dir / "explain" / "examples.json";
  if (fs::exists(ex)) {
    Reader R{ex};
    json j = read_json(ex);
    if (!j.is_array()) throw FormatError(ex.string() + ": expected an array of example patients");
    for (std::size_t i = 0; i < j.size(); ++i) {
      const auto& e = j[i];
      std::string where = "[" + std::to_string(i) + "]";
      ExamplePatient p;
      p.id = R.str(e, "id", where);
      p.cohort = R.str(e, "cohort", where);
      p.kind = R.str(e, "kind", where, false);
      p.variant = R.str(e, "variant", where, false);
      p.probability = R.num(e, "probability", where);
      double l = R.num(e, "label", where);
      p.label = std::isfinite(l) ? static_cast<int>(l) : -1;
      for (const auto& m : e.value("modalities", json::array()))
        p.modalities.push_back(
            {R.str(m, "name", where + ".modalities"), R.num(m, "phi", where + ".modalities")});
      for (const auto& c : e.value("clinical", json::array())) {
        ExamplePatient::Feature f;
        f.name = R.str(c, "feature", where + ".clinical");
        f.value = c.contains("value")
                      ? (c["value"].is_string() ? c["value"].get<std::string>() : c["value"].dump())
                      : "";
        f.phi = R.num(c, "phi", where + ".clinical");
        p.clinical.push_back(f);
      }
      for (const auto& im : e.value("images", json::array())) {
        fs::path path = dir / im.get<std::string>();
        if (!fs::exists(path))
          throw InputError(ex.string() + ": " + where + ".images names " + path.string() +
                           ", which does not exist");
        p.images.push_back(path);
      }
      d.examples.push_back(std::move(p));
    }
  }
  const fs::path shap = dir / "explain" / "shap_clinical.csv";
  if (fs::exists(shap)) {
    CsvTable t = read_csv(shap);
    int id = t.column("id"), feat = t.column("feature"), val = t.column("value"), phi = t.column("phi"),
        var = t.column("variant");
    for (auto [c, name] : {std::pair{id, "id"}, {feat, "feature"}, {val, "value"}, {phi, "phi"}})
      if (c < 0) throw FormatError(shap.string() + ": no column '" + std::string(name) + "' in the header");
    ShapData s;
    s.title = "Clinical features";
    std::map<std::string, int> fidx, pidx;
    std::vector<std::vector<std::pair<double, double>>> cells;  // patient → feature → (phi, value)
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      const auto& row = t.rows[r];
      if (!fidx.count(row[feat])) {
        fidx[row[feat]] = static_cast<int>(s.features.size());
        s.features.push_back(row[feat]);
      }
      if (!pidx.count(row[id])) {
        pidx[row[id]] = static_cast<int>(cells.size());
        cells.emplace_back();
      }
      auto& c = cells[pidx[row[id]]];
      std::size_t fi = static_cast<std::size_t>(fidx[row[feat]]);
      if (c.size() <= fi) c.resize(fi + 1, {0.0, kNaN});
      c[fi] = {to_double(row[phi], shap, r, "phi"), to_double(row[val], shap, r, "value")};
      if (var >= 0) d.clinical_shap_variant = row[var];
    }
    for (auto& c : cells) {
      c.resize(s.features.size(), {0.0, kNaN});
      std::vector<double> ph, va;
      for (auto& [p, v] : c) {
        ph.push_back(p);
        va.push_back(v);
      }
      s.phi.push_back(ph);
      s.values.push_back(va);
    }
    d.clinical_shap = std::move(s);
  }
  const fs::path mod = dir / "explain" / "modality_shapley.csv";
  if (fs::exists(mod)) {
    CsvTable t = read_csv(mod);
    int m = t.column("modality"), phi = t.column("phi");
    if (m < 0 || phi < 0) throw FormatError(mod.string() + ": needs the columns 'modality' and 'phi'");
    std::map<std::string, std::pair<double, int>> acc;
    std::vector<std::string> order;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      const auto& name = t.rows[r][m];
      if (!acc.count(name)) order.push_back(name);
      auto& a = acc[name];
      a.first += std::abs(to_double(t.rows[r][phi], mod, r, "phi"));
      a.second += 1;
    }
    for (const auto& n : order) d.modality_importance.push_back({n, acc[n].first / acc[n].second});
  }
}

void load_training(const fs::path& dir, ReportData& d) {
  const fs::path models = dir / "models";
  if (!fs::is_directory(models)) return;
  std::vector<std::string> names = d.variants;
  if (names.empty())
    for (const auto& e : fs::directory_iterator(models)) names.push_back(e.path().filename().string());
  for (const auto& v : names) {
    const fs::path h = models / v / "history.csv";
    if (!fs::exists(h)) continue;
    CsvTable t = read_csv(h);
    int ep = t.column("epoch"), tl = t.column("train_loss"), vl = t.column("val_loss"),
        va = t.column("val_auc");
    if (ep < 0 || tl < 0) throw FormatError(h.string() + ": needs the columns 'epoch' and 'train_loss'");
    TrainingHistory th;
    th.label = v;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      th.epoch.push_back(to_double(t.rows[r][ep], h, r, "epoch"));
      th.train_loss.push_back(to_double(t.rows[r][tl], h, r, "train_loss"));
      if (vl >= 0) th.val_loss.push_back(to_double(t.rows[r][vl], h, r, "val_loss"));
      if (va >= 0) th.val_auc.push_back(to_double(t.rows[r][va], h, r, "val_auc"));
    }
    const fs::path mj = models / v / "model.json";
    if (fs::exists(mj)) {
      json j = read_json(mj);
      if (j.contains("best_epoch") && j["best_epoch"].is_number()) th.best_epoch = j["best_epoch"].get<int>();
    }
    d.training.push_back(std::move(th));
  }
}

}  // namespace

ReportData load_run_folder(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError("report: run folder " + dir.string() + " does not exist");
  ReportData d;
  // run.json
  const fs::path run = dir / "run.json";
  if (!fs::exists(run))
    throw InputError("report: " + run.string() + " is missing (written by cervirisk study)");
  json rj = read_json(run);
  if (rj.contains("synthetic"))
    d.synthetic = rj["synthetic"].is_boolean() ? rj["synthetic"].get<bool>() : rj["synthetic"] == "true";
  if (rj.contains("title") && rj["title"].is_string()) d.title = rj["title"].get<std::string>();
  if (rj.contains("model_card") && rj["model_card"].is_object())
    for (auto it = rj["model_card"].begin(); it != rj["model_card"].end(); ++it)
      if (it.value().is_string()) d.model_card[it.key()] = it.value().get<std::string>();
  for (auto it = rj.begin(); it != rj.end(); ++it) {
    if (it.key() == "inputs" || it.key() == "model_card") continue;
    flatten(it.value(), it.key(), d.manifest);
  }
  if (rj.contains("inputs") && rj["inputs"].is_object())
    for (auto it = rj["inputs"].begin(); it != rj["inputs"].end(); ++it)
      d.data_hashes.emplace_back(it.key(),
                                 it.value().is_string() ? it.value().get<std::string>() : it.value().dump());

  // metrics.json
  const fs::path mfile = dir / "metrics.json";
  if (!fs::exists(mfile))
    throw InputError("report: " + mfile.string() + " is missing (written by cervirisk study)");
  Reader R{mfile};
  json mj = read_json(mfile);
  if (!mj.is_object()) throw FormatError(mfile.string() + ": expected a JSON object");
  if (mj.contains("reference_variant")) d.reference_variant = R.str(mj, "reference_variant", "metrics.json");
  for (const char* key : {"variants", "cohorts"}) {
    if (!mj.contains(key) || !mj[key].is_array())
      throw FormatError(mfile.string() + ": needs the array \"" + std::string(key) + "\"");
    auto& dst = std::string(key) == "variants" ? d.variants : d.cohorts;
    for (const auto& v : mj[key]) dst.push_back(v.get<std::string>());
  }
  if (!mj.contains("metrics") || !mj["metrics"].is_array())
    throw FormatError(mfile.string() + ": needs the array \"metrics\"");
  for (std::size_t i = 0; i < mj["metrics"].size(); ++i) {
    const auto& m = mj["metrics"][i];
    std::string where = "metrics[" + std::to_string(i) + "]";
    VariantMetrics vm;
    vm.variant = R.str(m, "variant", where);
    vm.cohort = R.str(m, "cohort", where);
    vm.n = static_cast<int>(R.num(m, "n", where));
    double ev = R.num(m, "events", where);
    vm.events = std::isfinite(ev) ? static_cast<int>(ev) : 0;
    vm.auc = R.est(m, "auc", where);
    if (!std::isfinite(vm.auc.value))
      throw FormatError(mfile.string() + ": " + where + " lacks the number \"auc\"");
    vm.sensitivity = R.est(m, "sensitivity", where);
    vm.specificity = R.est(m, "specificity", where);
    vm.ppv = R.est(m, "ppv", where);
    vm.npv = R.est(m, "npv", where);
    vm.threshold = R.num(m, "threshold", where);
    vm.delong_p = R.num(m, "delong_p", where);
    vm.c_index = R.est(m, "c_index", where);
    vm.brier = R.est(m, "brier", where);
    vm.calibration_slope = R.est(m, "calibration_slope", where);
    vm.calibration_intercept = R.est(m, "calibration_intercept", where);
    d.metrics.push_back(vm);
  }
  for (std::size_t i = 0; mj.contains("survival") && i < mj["survival"].size(); ++i) {
    const auto& s = mj["survival"][i];
    std::string where = "survival[" + std::to_string(i) + "]";
    SurvivalSummary ss;
    ss.variant = R.str(s, "variant", where);
    ss.cohort = R.str(s, "cohort", where);
    ss.logrank_p = R.num(s, "logrank_p", where);
    ss.hazard_ratio = R.est(s, "hr", where);
    ss.cutpoint = R.num(s, "cutpoint", where);
    for (std::size_t g = 0; s.contains("groups") && g < s["groups"].size(); ++g) {
      const auto& gj = s["groups"][g];
      std::string gw = where + ".groups[" + std::to_string(g) + "]";
      KmGroup kg{R.str(gj, "label", gw),    R.vec(gj, "time", gw),  R.vec(gj, "surv", gw),
                 R.vec(gj, "lower", gw),    R.vec(gj, "upper", gw), R.vec(gj, "censor_times", gw),
                 R.vec(gj, "follow_up", gw)};
      if (kg.time.size() != kg.surv.size())
        throw FormatError(mfile.string() + ": " + gw + ": time and surv have different lengths");
      ss.groups.push_back(std::move(kg));
    }
    d.survival.push_back(std::move(ss));
  }
  for (std::size_t i = 0; mj.contains("calibration") && i < mj["calibration"].size(); ++i) {
    const auto& c = mj["calibration"][i];
    std::string where = "calibration[" + std::to_string(i) + "]";
    CalibrationSummary cs;
    cs.variant = R.str(c, "variant", where);
    cs.cohort = R.str(c, "cohort", where);
    cs.curve.label = cs.variant;
    cs.curve.predicted = R.vec(c, "predicted", where);
    cs.curve.observed = R.vec(c, "observed", where);
    cs.curve.observed_lo = R.vec(c, "observed_lo", where);
    cs.curve.observed_hi = R.vec(c, "observed_hi", where);
    cs.slope = R.num(c, "slope", where);
    cs.intercept = R.num(c, "intercept", where);
    cs.brier = R.num(c, "brier", where);
    cs.hl_p = R.num(c, "hl_p", where);
    d.calibration.push_back(std::move(cs));
  }
  for (std::size_t i = 0; mj.contains("decision_curve") && i < mj["decision_curve"].size(); ++i) {
    const auto& c = mj["decision_curve"][i];
    std::string where = "decision_curve[" + std::to_string(i) + "]";
    DecisionSummary ds;
    ds.variant = R.str(c, "variant", where);
    ds.cohort = R.str(c, "cohort", where);
    auto t = R.vec(c, "threshold", where);
    ds.model = {ds.variant, t, R.vec(c, "net_benefit", where)};
    ds.treat_all = {"Treat all", t, R.vec(c, "treat_all", where)};
    d.decision.push_back(std::move(ds));
  }

  load_predictions(dir / "predictions", d);
  // calibration histograms from the predictions
  for (auto& c : d.calibration)
    if (c.curve.predictions.empty() && d.predictions.count(c.variant))
      for (const auto& p : d.predictions.at(c.variant))
        if (p.cohort == c.cohort) c.curve.predictions.push_back(p.probability);
  // Seeds (--seeds N): mean / sd per metric; older runs carry only auc_mean / auc_sd.
  if (mj.contains("seeds") && mj["seeds"].is_array()) {
    for (std::size_t i = 0; i < mj["seeds"].size(); ++i) {
      const auto& e = mj["seeds"][i];
      const std::string where = "seeds[" + std::to_string(i) + "]";
      SeedSummary ss;
      ss.variant = R.str(e, "variant", where);
      ss.cohort = R.str(e, "cohort", where);
      ss.seeds = static_cast<int>(R.num(e, "seeds", where));
      if (e.contains("metrics") && e["metrics"].is_object()) {
        for (const auto& [name, v] : e["metrics"].items())
          ss.mean_sd[name] = {R.num(v, "mean", where + ".metrics." + name), R.num(v, "sd", where + ".metrics." + name)};
      } else if (e.contains("auc_mean")) {
        ss.mean_sd["auc"] = {R.num(e, "auc_mean", where), R.num(e, "auc_sd", where)};
      }
      d.seed_summary.push_back(std::move(ss));
    }
  }
  // DeLong p from comparisons.csv when metrics.json does not carry it
  const fs::path comp = dir / "comparisons.csv";
  if (fs::exists(comp)) {
    CsvTable t = read_csv(comp);
    int v = t.column("variant"), c = t.column("cohort"), p = t.column("p"), ref = t.column("reference");
    if (v < 0 || c < 0 || p < 0)
      throw FormatError(comp.string() + ": needs the columns 'variant', 'cohort' and 'p'");
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      if (ref >= 0 && t.rows[r][ref] != d.reference_variant) continue;
      for (auto& m : d.metrics)
        if (m.variant == t.rows[r][v] && m.cohort == t.rows[r][c] && !std::isfinite(m.delong_p))
          m.delong_p = to_double(t.rows[r][p], comp, r, "p");
    }
  }
  const fs::path t1 = dir / "table1.csv";
  if (fs::exists(t1)) {
    CsvTable t = read_csv(t1);
    d.table1_header = t.header;
    d.table1_rows = t.rows;
  }
  load_explanations(dir, d);
  load_training(dir, d);
  log::debug("report: loaded {} metrics rows, {} prediction files, {} examples from {}", d.metrics.size(),
             d.predictions.size(), d.examples.size(), dir.string());
  return d;
}

}  // namespace cervirisk::report
