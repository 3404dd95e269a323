// report.html and the run-folder loader, on the fixture run folder tests/data/report/run
// (scripts/report_fixture.py; AUCs there computed by scikit-learn).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "cli_run.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "figure_check.h"
#include "report/checklist.h"
#include "report/html.h"
#include "report/report_data.h"
#include "runfolder/explanations.h"
#include "runfolder/history.h"
#include "test_util.h"

using namespace cervirisk;
using namespace cervirisk::report;
namespace fs = std::filesystem;
using cervirisk::testing::expect_error_containing;
using cervirisk::testing::run_cli;
using cervirisk::testing::Stderr;
using cervirisk::testing::TempDir;

namespace {
const fs::path kRun = fs::path(CERV_TEST_DATA) / "report" / "run";

// Replaces the first occurrence of `from` in the run's metrics.json (a copy of the fixture's).
void damage_metrics(const fs::path& run, const std::string& from, const std::string& to) {
  std::string text = read_file(run / "metrics.json");
  text.replace(text.find(from), from.size(), to);
  write_file_atomic(run / "metrics.json", text);
}

// Copies the fixture run folder into `tmp` so a test can damage it.
fs::path copy_run(const TempDir& tmp) {
  fs::copy(kRun, tmp / "run", fs::copy_options::recursive);
  return tmp / "run";
}

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(read_file(file)); }
void write_json(const fs::path& file, const nlohmann::json& j) { write_file_atomic(file, j.dump(1)); }

// The fixture's metrics.json entry of a variant on a cohort (of "metrics", "centers", ...).
const nlohmann::json& entry(const nlohmann::json& list, const std::string& variant, const std::string& cohort) {
  for (const auto& e : list)
    if (e["variant"] == variant && e["cohort"] == cohort) return e;
  throw std::runtime_error("no entry " + variant + " " + cohort);
}

// The report's number formats (src/report/html_parts.h), written out with printf.
std::string f3(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}
std::string f3(const nlohmann::json& v) { return v.is_null() ? "\u2013" : f3(v.get<double>()); }
std::string ci3(const nlohmann::json& ci) { return "[" + f3(ci[0]) + "\u2013" + f3(ci[1]) + "]"; }
std::string est3(const nlohmann::json& v, const nlohmann::json& ci) { return f3(v) + " " + ci3(ci); }
std::string p3(double p) { return p < 0.001 ? "&lt;0.001" : f3(p); }
std::string cell(const std::string& s) { return "<td class=\"num\">" + s + "</td>"; }

// The text from `begin` (the first occurrence of it) to the next `end`; fails the test when absent.
std::string part(const std::string& h, const std::string& begin, const std::string& end = "</table>") {
  const auto b = h.find(begin);
  if (b == std::string::npos) {
    ADD_FAILURE() << "no " << begin;
    return {};
  }
  return h.substr(b, h.find(end, b) - b);
}
// The table row of `table` that contains `key`.
std::string row_with(const std::string& table, const std::string& key) {
  const auto k = table.find(key);
  if (k == std::string::npos) {
    ADD_FAILURE() << "no row with " << key;
    return {};
  }
  const auto b = table.rfind("<tr", k);
  return table.substr(b, table.find("</tr>", k) - b);
}
}  // namespace

TEST(RunFolder, LoadsEveryFile) {
  ReportData d = load_run_folder(kRun);
  EXPECT_TRUE(d.synthetic);
  EXPECT_EQ(d.reference_variant, "msm_tc");
  EXPECT_EQ(d.variants, (std::vector<std::string>{"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"}));
  EXPECT_EQ(d.cohorts, (std::vector<std::string>{"train", "internal", "external"}));
  EXPECT_EQ(d.metrics.size(), 18u);
  EXPECT_EQ(d.predictions.size(), 6u);
  EXPECT_EQ(d.predictions.at("msm_tc").size(), 140u);
  EXPECT_EQ(d.survival.size(), 3u);
  EXPECT_EQ(d.survival[0].groups.size(), 2u);
  EXPECT_EQ(d.calibration.size(), 3u);
  EXPECT_FALSE(d.calibration[0].curve.predictions.empty());  // filled from predictions
  EXPECT_EQ(d.decision.size(), 3u);
  EXPECT_EQ(d.table1_rows.size(), 4u);
  EXPECT_EQ(d.table1_rows[0][0], "Age, years, median [IQR]");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].images.size(), 1u);
  EXPECT_EQ(d.examples[0].clinical[1].value, "51");
  ASSERT_TRUE(d.clinical_shap.has_value());
  EXPECT_EQ(d.clinical_shap->features.size(), 8u);
  EXPECT_EQ(d.clinical_shap->phi.size(), 50u);
  EXPECT_EQ(d.modality_importance.size(), 3u);
  ASSERT_EQ(d.training.size(), 2u);
  EXPECT_EQ(d.training[1].best_epoch, 11);
  EXPECT_EQ(d.data_hashes.size(), 3u);
  bool seed = false;
  for (const auto& [k, v] : d.manifest) seed |= (k == "seed" && v == "42");
  EXPECT_TRUE(seed);
  // cervirisk-metrics/2 and cervirisk-model/2
  ASSERT_TRUE(d.design.has_value());
  EXPECT_EQ(d.design->endpoint, "horizon");
  EXPECT_EQ(d.design->selection, "internal");
  ASSERT_EQ(d.flow.size(), 3u);
  EXPECT_EQ(d.flow[1].cohort, "internal");
  EXPECT_EQ(d.flow[1].excluded, 1);
  EXPECT_EQ(d.flow[2].missing_time, 1);
  EXPECT_EQ(d.centers.size(), 30u);    // 6 variants x (1 + 2 + 2 centres)
  EXPECT_EQ(d.follow_up.size(), 8u);   // 3 cohorts + 5 centres
  EXPECT_EQ(d.warnings.size(), 2u);
  ASSERT_EQ(d.models.size(), 2u);
  EXPECT_EQ(d.models.at("msm_tc").recalibration.method, "logistic");
  EXPECT_EQ(d.models.at("msm_tc").selection.mode, "internal");
  EXPECT_TRUE(d.files.count("metrics.json"));
  EXPECT_TRUE(d.files.count("models/msm_tc/model.json"));
  EXPECT_FALSE(d.files.count("models/msm_tc/weights.safetensors"));
  int no_label = 0, no_time = 0;
  for (const auto& p : d.predictions.at("msm_tc")) {
    no_label += !p.has_label();
    no_time += !p.has_time();
  }
  EXPECT_EQ(no_label, 1);
  EXPECT_EQ(no_time, 1);
  ASSERT_FALSE(d.calibration[2].curve_raw.predicted.empty());
  EXPECT_EQ(d.calibration[2].curve_raw.predictions.size(), 40u);  // the labelled patients, sigmoid(logit)
  EXPECT_FALSE(d.decision[2].model_raw.net_benefit.empty());
}

TEST(RunFolder, RocAreaMatchesSklearnAuc) {
  // The trapezoidal area of our ROC points equals scikit-learn's roc_auc_score (metrics.json).
  ReportData d = load_run_folder(kRun);
  for (const auto& m : d.metrics) {
    std::vector<double> s;
    std::vector<int> l;
    for (const auto& p : d.predictions.at(m.variant))
      if (p.cohort == m.cohort && p.has_label()) {  // the patient with label NA has no binary outcome
        s.push_back(p.probability);
        l.push_back(p.label);
      }
    ASSERT_EQ(static_cast<int>(s.size()), m.n) << m.variant << " " << m.cohort;
    auto r = roc_points(s, l);
    double area = 0;
    for (std::size_t i = 1; i < r.fpr.size(); ++i)
      area += (r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1]) / 2;
    EXPECT_NEAR(area, m.auc.value, 1e-9) << m.variant << " " << m.cohort;
  }
}

TEST(RunFolder, ErrorsNameFileAndField) {
  expect_error_containing([] { load_run_folder("/nonexistent/run"); },
                          "run folder /nonexistent/run does not exist");
  TempDir tmp_missing("missing");
  auto run = copy_run(tmp_missing);
  fs::remove(run / "metrics.json");
  expect_error_containing([&] { load_run_folder(run); }, "metrics.json is missing");
  TempDir tmp_badlabel("badlabel");
  run = copy_run(tmp_badlabel);
  {
    auto text = read_file(run / "predictions" / "vit.csv");
    auto pos = text.find("\n") + 1;
    pos = text.find(",0,", pos) != std::string::npos && text.find(",0,", pos) < text.find("\n", pos)
              ? text.find(",0,", pos)
              : text.find(",1,", pos);
    text.replace(pos, 3, ",7,");
    write_file_atomic(run / "predictions" / "vit.csv", text);
  }
  expect_error_containing([&] { load_run_folder(run); }, "vit.csv:2: column 'label': '7', expected 0, 1 or NA");
  damage_metrics(run, "\"auc\": 0.", "\"auc\": \"high\", \"x\": 0.");
  expect_error_containing([&] { load_run_folder(run); }, "metrics[0].auc must be a number");
  write_file_atomic(run / "metrics.json", "{\"variants\": [");
  expect_error_containing([&] { load_run_folder(run); }, "not valid JSON");
}

TEST(Html, SelfContainedWithEverySection) {
  ReportData d = load_run_folder(kRun);
  d.title = "Study <script>alert(1)</script>";
  std::string h = render_report_html(d);
  for (const char* id : {"performance", "table1", "roc", "km", "explanations", "calibration", "training",
                         "manifest", "model-card", "synthetic", "warnings", "design", "participants", "td-auc",
                         "centers", "incremental", "tripod", "limitations"})
    EXPECT_NE(h.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(h.find("<script>"), std::string::npos);
  EXPECT_NE(h.find("Study &lt;script&gt;"), std::string::npos);
  // nothing is fetched from elsewhere
  EXPECT_FALSE(std::regex_search(h, std::regex("(src|href)=\"(https?:)?//")));
  EXPECT_EQ(h.find("<link"), std::string::npos);
  // figures: 3 ROC + 3 KM + 3 calibration + 3 DCA + beeswarm + bar + modalities + example bars (2)
  // + 1 overlay + training = 19 embedded PNGs
  std::size_t n = 0;
  for (std::size_t p = 0; (p = h.find("src=\"data:image/png;base64,", p)) != std::string::npos; ++p) ++n;
  EXPECT_EQ(n, 19u);
  // the paper-style table: msm_tc external AUC with its CI, formatted from metrics.json
  const VariantMetrics* ext = nullptr;
  for (const auto& m : d.metrics)
    if (m.variant == "msm_tc" && m.cohort == "external") ext = &m;
  ASSERT_NE(ext, nullptr);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f [%.3f\u2013%.3f]", ext->auc.value, ext->auc.lo, ext->auc.hi);
  EXPECT_NE(h.find(buf), std::string::npos) << buf;
  EXPECT_NE(h.find("paired DeLong test against msm_tc"), std::string::npos);
  EXPECT_NE(h.find("These results come from synthetic data"), std::string::npos);
  EXPECT_NE(h.find("Intended use"), std::string::npos);
  // the performance table comes before Table 1 and the figures
  EXPECT_LT(h.find("id=\"performance\""), h.find("id=\"table1\""));
  EXPECT_LT(h.find("id=\"table1\""), h.find("id=\"roc\""));
  // the embedded PNGs decode
  auto p0 = h.find("src=\"data:image/png;base64,") + 27;
  EXPECT_EQ(h.substr(p0, 8), "iVBORw0K");  // base64 of the PNG signature
}

TEST(Html, HonestValidationTablesShowTheFixture) {
  const nlohmann::json m = read_json(kRun / "metrics.json");
  const std::string h = render_report_html(load_run_folder(kRun));
  const auto& ext = entry(m["metrics"], "msm_tc", "external");

  // Design warnings, prominently: a banner before the navigation.
  const std::string warn = part(h, "id=\"warnings\"", "</div>");
  EXPECT_LT(h.find("id=\"warnings\""), h.find("<nav>"));
  for (const auto& w : m["warnings"]) EXPECT_NE(warn.find(html_escape(w.get<std::string>())), std::string::npos) << w;

  // Holm-adjusted DeLong p next to the raw p.
  const std::string perf = part(h, "id=\"performance-table\"");
  const auto& msm = entry(m["metrics"], "msm", "external");
  EXPECT_NE(perf.find("p Holm"), std::string::npos);
  EXPECT_NE(row_with(perf, "<td>msm</td>").find(cell(p3(msm["delong_p"])) + cell(p3(msm["delong_p_holm"]))),
            std::string::npos)
      << row_with(perf, "<td>msm</td>");

  // Bootstrap CIs next to the exact ones: Se/Sp/PPV/NPV, C-index, calibration slope.
  const std::string thr = row_with(part(h, "id=\"threshold-table\""), "<td>msm_tc</td><td>external</td>");
  const auto& b = ext["bootstrap"];
  for (const char* k : {"sensitivity", "specificity", "ppv", "npv"})
    EXPECT_NE(thr.find(est3(ext[k], ext[std::string(k) + "_ci"]) + "<br><span class=\"boot\">" + ci3(b[k])), std::string::npos)
        << k << ": " << thr;
  EXPECT_NE(thr.find(est3(ext["c_index"], ext["c_index_ci"]) + "<br><span class=\"boot\">" + ci3(b["c_index"])),
            std::string::npos)
      << thr;
  EXPECT_NE(thr.find(f3(ext["calibration_slope"]) + "<br><span class=\"boot\">" + ci3(b["calibration_slope"])),
            std::string::npos)
      << thr;
  EXPECT_NE(h.find("Percentile bootstrap 95% CI (200 replicates"), std::string::npos);

  // Time-dependent AUC at each horizon and the IPCW AUC at the horizon (endpoint "horizon").
  const std::string tdt = part(h, "id=\"td-auc-table\"");
  EXPECT_NE(tdt.find("<th>12 months</th><th>24 months</th><th>36 months</th><th>IPCW AUC at the 36-month horizon</th>"),
            std::string::npos)
      << tdt;
  const std::string tdr = row_with(tdt, "<td>msm_tc</td><td>external</td>");
  for (const auto& t : ext["td_auc"])
    EXPECT_NE(tdr.find(est3(t["auc"], t["ci"]) + "<br><span class=\"boot\">" + std::to_string(t["cases"].get<int>()) +
                       " cases / " + std::to_string(t["controls"].get<int>()) + " controls"),
              std::string::npos)
        << tdr;
  EXPECT_NE(tdr.find(est3(ext["auc_ipcw"]["auc"], ext["auc_ipcw"]["ci"])), std::string::npos) << tdr;

  // Kaplan-Meier at eval.km_times with CIs, per risk group.
  const std::string km = row_with(part(h, "id=\"km-table\""), "<td>msm_tc</td><td>external</td><td>High risk</td>");
  const auto& surv = m["survival"][2];
  ASSERT_EQ(surv["cohort"], "external");
  for (const auto& a : surv["at_times"]) {
    if (a["group"] != "High risk") continue;
    EXPECT_NE(km.find(est3(a["surv"], a["ci"]) + "<br><span class=\"boot\">" + std::to_string(a["n_risk"].get<int>()) +
                      " at risk"),
              std::string::npos)
        << km;
  }
  // The cut-point's maxstat-corrected p next to the uncorrected log-rank p (training cohort only).
  const std::string cut = part(h, "id=\"cutpoint-table\"");
  EXPECT_NE(cut.find("Maximally selected log-rank p (corrected)"), std::string::npos);
  EXPECT_NE(row_with(cut, "<td>train</td>").find(cell(p3(m["survival"][0]["logrank_p"])) + cell(p3(m["survival"][0]["maxstat_p"]))),
            std::string::npos)
      << cut;
  EXPECT_NE(row_with(cut, "<td>external</td>").find(cell(p3(surv["logrank_p"])) + cell("\u2013")), std::string::npos);

  // Calibration before and after recalibration: intercept, slope, Brier, H-L p.
  const std::string cal = row_with(part(h, "id=\"calibration-table\""), "<td>msm_tc</td><td>external</td>");
  const auto& raw = ext["calibration_raw"];
  const auto& crow = m["calibration"][2];
  EXPECT_NE(cal.find(cell(f3(raw["intercept"])) + cell(f3(raw["slope"])) + cell(f3(raw["brier"])) +
                     cell(p3(crow["hl_p_raw"])) + cell(f3(ext["calibration_intercept"])) +
                     cell(f3(ext["calibration_slope"])) + cell(f3(ext["brier"])) + cell(p3(crow["hl_p"]))),
            std::string::npos)
      << cal;
  // ... the recalibration map from model.json, and both curves in the figures' legends (data).
  const std::string rec = row_with(part(h, "id=\"recalibration-table\""), "<td>msm_tc</td>");
  EXPECT_NE(rec.find("<td>logistic</td>" + cell("-0.250") + cell("0.800") + "<td>training cohort</td>"), std::string::npos)
      << rec;

  // Per-centre subgroups: n, events, AUC with CI, calibration-in-the-large.
  const auto& c4 = m["centers"][29];
  ASSERT_EQ(c4["center"], "C4");
  const std::string ctr = row_with(part(h, "id=\"centers-table\""), "<td>msm_tc</td><td>external</td><td>C4</td>");
  EXPECT_NE(ctr.find(cell("14") + cell("3") + cell(est3(c4["auc"], c4["auc_ci"])) + cell(f3(c4["citl"]))),
            std::string::npos)
      << ctr;

  // Incremental value over the clinical model.
  const auto& inc = ext["incremental"];
  const std::string incr = row_with(part(h, "id=\"incremental-table\""), "<td>msm_tc</td><td>external</td>");
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.2f", inc["lr_chisq"].get<double>());
  EXPECT_NE(incr.find("<td>clinical</td>" + cell(est3(inc["nri"], inc["nri_ci"])) + cell(f3(inc["nri_events"])) +
                      cell(f3(inc["nri_nonevents"])) + cell(est3(inc["idi"], inc["idi_ci"])) + cell(lr) + cell("1") +
                      cell(p3(inc["lr_p"]))),
            std::string::npos)
      << incr;
  EXPECT_EQ(part(h, "id=\"incremental-table\"").find("<td>clinical</td><td>train</td>"), std::string::npos);  // not over itself

  // Participants: excluded by the horizon endpoint, no follow-up time; follow-up per cohort and centre.
  const std::string flow = part(h, "id=\"flow-table\"");
  EXPECT_NE(flow.find("Excluded: censored before 36 months without an event"), std::string::npos);
  EXPECT_NE(row_with(flow, "<td>internal</td>").find(cell("39") + cell("10") + cell("1") + cell("0")), std::string::npos)
      << flow;
  EXPECT_NE(row_with(flow, "<td>external</td>").find(cell("40") + cell("12") + cell("0") + cell("1")), std::string::npos)
      << flow;
  const std::string fu = part(h, "id=\"follow-up-table\"");
  for (const auto& f : m["follow_up"]) {
    char med[64], at[16];
    std::snprintf(med, sizeof med, "%.1f [%.1f, %.1f]", f["median"].get<double>(), f["ci"][0].get<double>(),
                  f["ci"][1].get<double>());
    std::snprintf(at, sizeof at, "%.1f", 100 * f["followed_at_horizon"].get<double>());
    const std::string key = "<td>" + f["cohort"].get<std::string>() + "</td><td>" +
                            (f["center"] == "" ? std::string("all") : f["center"].get<std::string>()) + "</td>";
    EXPECT_NE(row_with(fu, key).find(cell(med) + cell(at)), std::string::npos) << key << " " << med << " " << at;
  }
  EXPECT_NE(h.find("Still followed at 36 months"), std::string::npos);
}

TEST(Html, TripodChecklistFollowsTheRun) {
  TempDir tmp("tripod");
  auto run = copy_run(tmp);
  auto item = [](const std::vector<TripodItem>& items, const std::string& topic) {
    for (const auto& i : items)
      if (i.topic.find(topic) != std::string::npos) return i;
    ADD_FAILURE() << "no item " << topic;
    return TripodItem{};
  };
  ReportData d = load_run_folder(run);
  auto items = tripod_ai_items(d);
  EXPECT_GE(items.size(), 40u);
  EXPECT_EQ(item(items, "decision curve").coverage, Coverage::kAddressed);
  EXPECT_EQ(item(items, "decision curve").item, "12e, 23a");
  EXPECT_EQ(item(items, "Heterogeneity across centres").coverage, Coverage::kAddressed);
  EXPECT_EQ(item(items, "Model updating (recalibration)").coverage, Coverage::kAddressed);
  EXPECT_EQ(item(items, "Outcome definition").item, "8a");
  EXPECT_NE(item(items, "Outcome definition").where.find("recurrence within 36 months"), std::string::npos);
  EXPECT_EQ(item(items, "Dates of accrual").coverage, Coverage::kNotAddressed);
  EXPECT_EQ(item(items, "How predictions are calculated").coverage, Coverage::kNotAddressed);  // no weights in the fixture
  EXPECT_NE(item(items, "Class imbalance").where.find("train.class_balance = weighted"), std::string::npos);
  std::string h = render_report_html(d);
  std::string table = part(h, "id=\"tripod-table\"");
  EXPECT_NE(row_with(table, "Clinical utility: decision curve analysis").find("<td>addressed</td>"), std::string::npos);
  EXPECT_NE(row_with(table, "Clinical utility").find("href=\"#calibration\""), std::string::npos);
  EXPECT_NE(h.find("Collins et al., BMJ 2024;385:e078378"), std::string::npos);

  // Without decision curves, centres or recalibration, those items say "not addressed".
  auto m = read_json(run / "metrics.json");
  m["decision_curve"] = nlohmann::json::array();
  m["centers"] = nlohmann::json::array();
  m["design"]["recalibration"] = "none";
  write_json(run / "metrics.json", m);
  d = load_run_folder(run);
  items = tripod_ai_items(d);
  EXPECT_EQ(item(items, "decision curve").coverage, Coverage::kNotAddressed);
  EXPECT_NE(item(items, "decision curve").where.find("decision_curve is empty"), std::string::npos);
  EXPECT_EQ(item(items, "Heterogeneity across centres").coverage, Coverage::kNotAddressed);
  EXPECT_EQ(item(items, "Model updating (recalibration)").coverage, Coverage::kNotAddressed);
  h = render_report_html(d);
  table = part(h, "id=\"tripod-table\"");
  const std::string dca = row_with(table, "Clinical utility: decision curve analysis");
  EXPECT_NE(dca.find("<td>not addressed</td>"), std::string::npos) << dca;
  EXPECT_EQ(dca.find("href="), std::string::npos);
  EXPECT_EQ(h.find("id=\"centers\""), std::string::npos);
  EXPECT_NE(row_with(table, "Model updating (recalibration)").find("eval.recalibration = none"), std::string::npos);
  // A weights file in a bundle answers 12g.
  write_file_atomic(run / "models" / "msm_tc" / "weights.safetensors", "x");
  EXPECT_EQ(item(tripod_ai_items(load_run_folder(run)), "How predictions are calculated").coverage, Coverage::kAddressed);
}

TEST(Html, LimitationsFollowTheDesign) {
  TempDir tmp("limits");
  auto run = copy_run(tmp);
  auto limits = [&] {
    const std::string h = render_report_html(load_run_folder(run));
    return part(h, "id=\"limitations\"", "</section>");
  };
  std::string l = limits();
  // The fixture: selection on the internal cohort, synthetic data, one seed, < 100 events, logistic recalibration.
  EXPECT_NE(l.find("train.selection = internal"), std::string::npos) << l;
  EXPECT_NE(l.find("the internal cohort chose the training epoch, so its AUC and every other internal statistic are "
                   "optimistic"),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("All data are synthetic"), std::string::npos);
  EXPECT_NE(l.find("A single training seed; the seed-to-seed spread is not reported."), std::string::npos);
  EXPECT_NE(l.find("The external cohort has 12 events among 40 patients, fewer than the at least 100 events"),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("Collins, Ogundimu &amp; Altman, Stat Med 2016"), std::string::npos);
  EXPECT_NE(l.find("eval.recalibration = logistic"), std::string::npos);
  EXPECT_NE(l.find("a = -0.250, b = 0.800 for msm_tc, fitted on the training cohort (60 patients, 18 events)"),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("(internal 1)"), std::string::npos) << l;  // the horizon endpoint's exclusions
  const nlohmann::json w = read_json(run / "metrics.json")["warnings"];
  EXPECT_NE(l.find("Design warning: " + html_escape(w[1].get<std::string>())), std::string::npos) << l;

  // Another selection, several seeds.
  auto m = read_json(run / "metrics.json");
  m["design"]["selection"] = "split";
  m["design"]["validation_fraction"] = 0.2;
  m["seeds"] = nlohmann::json::array(
      {{{"variant", "msm_tc"}, {"cohort", "external"}, {"seeds", 3},
        {"metrics", {{"auc", {{"mean", 0.8}, {"sd", 0.0234}, {"n", 3}, {"values", {0.78, 0.8, 0.82}}}}}}}});
  write_json(run / "metrics.json", m);
  l = limits();
  EXPECT_NE(l.find("held-out part of the training cohort (train.selection = split, 20%"), std::string::npos) << l;
  EXPECT_EQ(l.find("Model selection used the internal cohort"), std::string::npos);
  EXPECT_NE(l.find("over 3 training seeds the standard deviation of msm_tc&#39;s AUC was external 0.023"),
            std::string::npos)
      << l;
  EXPECT_EQ(l.find("A single training seed"), std::string::npos);
  m["design"]["selection"] = "cv";
  m["design"]["folds"] = 5;
  write_json(run / "metrics.json", m);
  EXPECT_NE(limits().find("5-fold cross-validation within the training cohort (train.selection = cv)"), std::string::npos);
}

TEST(Html, WithoutHonestValidationFieldsTheirSectionsAreLeftOut) {
  // A metrics.json with only what every run has: the new sections are absent, the checklist says so.
  TempDir tmp("bare");
  auto run = copy_run(tmp);
  auto m = read_json(run / "metrics.json");
  m.erase("design");
  m["centers"] = m["follow_up"] = m["warnings"] = nlohmann::json::array();
  for (auto& e : m["metrics"]) {
    for (const char* k : {"bootstrap", "auc_ipcw", "incremental", "calibration_raw", "delong_p_holm"}) e.erase(k);
    e["td_auc"] = nlohmann::json::array();
  }
  for (auto& s : m["survival"]) {
    s["at_times"] = nlohmann::json::array();
    s.erase("maxstat_p");
  }
  for (auto& c : m["calibration"])
    for (const char* k : {"fit_raw", "predicted_raw", "observed_raw", "hl_p_raw"}) c.erase(k);
  for (auto& c : m["decision_curve"]) c.erase("net_benefit_raw");
  write_json(run / "metrics.json", m);
  const std::string h = render_report_html(load_run_folder(run));
  for (const char* id : {"id=\"warnings\"", "id=\"design\"", "id=\"follow-up-table\"", "id=\"td-auc\"", "id=\"km-table\"",
                         "id=\"centers\"", "id=\"incremental\"", "p Holm", "<span class=\"boot\">"})
    EXPECT_EQ(h.find(id), std::string::npos) << id;
  for (const char* id : {"id=\"flow-table\"", "id=\"cutpoint-table\"", "id=\"calibration-table\"", "id=\"tripod\"",
                         "id=\"limitations\""})
    EXPECT_NE(h.find(id), std::string::npos) << id;
  const std::string table = part(h, "id=\"tripod-table\"");
  EXPECT_NE(row_with(table, "Outcome definition").find("not addressed: metrics.json has no design"), std::string::npos);
  // The selection is then model.json's; without model.json it is unknown, and said so.
  EXPECT_NE(part(h, "id=\"limitations\"", "</section>").find("Model selection used the internal cohort"), std::string::npos);
  fs::remove(run / "models" / "msm" / "model.json");
  fs::remove(run / "models" / "msm_tc" / "model.json");
  const std::string l = part(render_report_html(load_run_folder(run)), "id=\"limitations\"", "</section>");
  EXPECT_NE(l.find("How the training epoch was chosen is not recorded"), std::string::npos) << l;
  EXPECT_NE(l.find("Whether the probabilities were recalibrated is not recorded"), std::string::npos) << l;
}

TEST(Html, Table1PValuesWithFootnote) {
  // table1.csv as src/report/table1.cpp writes it: p (paper format) and the test behind it
  TempDir tmp("table1");
  auto run = copy_run(tmp);
  write_file_atomic(run / "table1.csv",
                    "characteristic,train (n = 22),internal (n = 14),external (n = 12),p,test\n"
                    "recurrence,9 (40.9%),8 (57.1%),2 (16.7%),0.108,\"chi-squared, expected < 5\"\n"
                    "\"age (years), median [IQR]\",\"51.0 [45.0, 59.0]\",\"51.0 [40.0, 54.0]\",\"51.5 [44.8, "
                    "55.5]\",< 0.001,Kruskal-Wallis\n"
                    "stage = IB,6,8,3,0.163,chi-squared\n"
                    "stage = II,3,3,4,,\n"
                    "\"marker, median [IQR]\",\"1.6 [0.7, 4.7]\",\"2.0 [1.1, 3.7]\",NA,NA,Kruskal-Wallis\n");
  ReportData d = load_run_folder(run);
  std::string h = render_report_html(d);
  const auto b = h.find("<section id=\"table1\">"), e = h.find("</section>", b);
  ASSERT_NE(b, std::string::npos);
  const std::string t = h.substr(b, e - b);
  EXPECT_NE(t.find("<th>external (n = 12)</th><th>p</th></tr>"), std::string::npos) << t;
  EXPECT_EQ(t.find("<th>test</th>"), std::string::npos);
  EXPECT_EQ(t.find("Kruskal-Wallis</td>"), std::string::npos);  // the test column is not shown
  EXPECT_NE(t.find("<td class=\"num\">0.108<sup>a,*</sup></td>"), std::string::npos) << t;
  EXPECT_NE(t.find("<td class=\"num\">&lt; 0.001<sup>b</sup></td>"), std::string::npos) << t;
  EXPECT_NE(t.find("<td class=\"num\">0.163<sup>a</sup></td>"), std::string::npos) << t;
  EXPECT_NE(t.find("<td class=\"num\">4</td><td class=\"num\"></td></tr>"), std::string::npos) << t;
  EXPECT_NE(t.find("<td class=\"num\">\u2014</td><td class=\"num\">\u2014<sup>b</sup></td>"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("chisq.test"), std::string::npos);
  EXPECT_NE(t.find("kruskal.test"), std::string::npos);
  EXPECT_EQ(t.find("oneway.test"), std::string::npos);  // only the tests used are named
  EXPECT_NE(t.find("expected count is below 5"), std::string::npos);
  EXPECT_NE(t.find("the test is undefined"), std::string::npos);  // the NA p of marker
}

TEST(Html, SeedsTableShowsMeanAndSd) {
  TempDir tmp("seeds");
  auto run = copy_run(tmp);
  // Without "seeds" in metrics.json there is no seeds table.
  EXPECT_EQ(render_report_html(load_run_folder(run)).find("seeds-table"), std::string::npos);
  std::ifstream in(run / "metrics.json");
  auto m = nlohmann::json::parse(in);
  in.close();
  // Two seeds of msm_tc on the external cohort: AUC 0.70 and 0.72 -> 0.710 ± 0.014 (sd with n - 1
  // = |a - b| / sqrt 2 = 0.01414); Se 0.60 / 0.70 -> 65.0 ± 7.1 %; Sp 0.80 / 0.80 -> 80.0 ± 0.0 %.
  m["seeds"] = nlohmann::json::array(
      {{{"variant", "msm_tc"}, {"cohort", "external"}, {"seeds", 2},
        {"metrics",
         {{"auc", {{"mean", 0.71}, {"sd", 0.0141421356}, {"n", 2}, {"values", {0.70, 0.72}}}},
          {"sensitivity", {{"mean", 0.65}, {"sd", 0.0707106781}, {"n", 2}, {"values", {0.6, 0.7}}}},
          {"specificity", {{"mean", 0.80}, {"sd", 0.0}, {"n", 2}, {"values", {0.8, 0.8}}}}}}},
       // only the AUC: |a - b| / sqrt 2 = 0.05
       {{"variant", "clinical"},
        {"cohort", "train"},
        {"seeds", 2},
        {"metrics", {{"auc", {{"mean", 0.6}, {"sd", 0.05}, {"n", 2}, {"values", {0.5646446609, 0.6353553391}}}}}}}});
  write_file_atomic(run / "metrics.json", m.dump());
  ReportData d = load_run_folder(run);
  ASSERT_EQ(d.seed_summary.size(), 2u);
  const std::string h = render_report_html(d);
  const auto b = h.find("id=\"seeds-table\""), e = h.find("</table>", b);
  ASSERT_NE(b, std::string::npos);
  const std::string t = h.substr(b, e - b);
  EXPECT_NE(h.find("Variation over 2 training seeds"), std::string::npos);
  EXPECT_NE(t.find("<td class=\"num\">0.710 \u00b1 0.014</td><td class=\"num\">65.0 \u00b1 7.1 / 80.0 \u00b1 0.0</td>"
                   "<td class=\"num\">\u2013</td></tr>"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("<tr><td>clinical</td><td class=\"num\">0.600 \u00b1 0.050</td>"), std::string::npos) << t;
  // A malformed entry names the field.
  m["seeds"][0]["metrics"]["auc"]["mean"] = "high";
  write_file_atomic(run / "metrics.json", m.dump());
  expect_error_containing([&] { load_run_folder(run); }, "seeds[0].metrics.auc");
}

TEST(Html, WritesAtomicallyAndFigures) {
  ReportData d = load_run_folder(kRun);
  TempDir dir("write");
  write_report_html(d, dir / "report.html");
  EXPECT_GT(fs::file_size(dir / "report.html"), 100000u);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    (void)e;
  }
  EXPECT_EQ(files, 1u);  // no temporary left behind
  auto stems = write_report_figures(d, dir / "figures");
  EXPECT_EQ(stems.size(), 16u);
  for (const auto& s : stems) {
    auto png = figtest::decode_png(read_file(dir / "figures" / (s + ".png")));
    EXPECT_GT(figtest::distinct_colours(png), 8u) << s;
    EXPECT_TRUE(figtest::svg_well_formed(read_file(dir / "figures" / (s + ".svg")))) << s;
  }
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  if (::geteuid() != 0) {
    EXPECT_THROW(write_report_html(d, dir / "x" / "report.html"), OutputError);
  }
  fs::permissions(dir, fs::perms::owner_all);
}

TEST(Html, Base64AndEscape) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");  // RFC 4648 §10 test vectors
  EXPECT_EQ(html_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST(RunFolder, ExplanationFilesBecomeFigureData) {
  TempDir dir("runfiles");
  fs::copy_file(kRun / "run.json", dir / "run.json");
  fs::copy_file(kRun / "metrics.json", dir / "metrics.json");
  fs::create_directories(dir / "explain");
  runfolder::write_clinical_shap(dir / "explain" / "shap_clinical.csv",
                                 {{"P1", "train", "msm_tc", "FIGO, stage", 2, 0.25},
                                  {"P1", "train", "msm_tc", "age", kNaN, -0.125},
                                  {"P2", "train", "msm_tc", "FIGO, stage", 1, -0.5},
                                  {"P2", "train", "msm_tc", "age", 61, 0.0625}});
  runfolder::write_modality_shapley(
      dir / "explain" / "modality_shapley.csv",
      {{"P1", "train", "image", 0.5}, {"P2", "train", "image", -0.25}, {"P1", "train", "clinical", 0.1}});
  write_file_atomic(dir / "explain" / "P1.png", "not really a png");
  runfolder::ExampleRecord e;
  e.id = "P1";
  e.cohort = "train";
  e.kind = "true positive";
  e.variant = "msm_tc";
  e.probability = 0.9;
  e.label = 1;
  e.modalities = {{"image", 0.5}};
  e.clinical = {{"LVSI", "yes", 0.2}};
  e.images = {dir / "explain" / "P1.png"};
  runfolder::write_examples(dir / "explain" / "examples.json", {{e}}, dir.path());
  fs::create_directories(dir / "models" / "msm_tc");
  runfolder::write_history(dir / "models" / "msm_tc" / "history.csv", {{1, 0.7, 0.75, 0.6}, {2, 0.6, 0.7, 0.65}});

  ReportData d = load_run_folder(dir);
  ASSERT_TRUE(d.clinical_shap.has_value());
  EXPECT_EQ(d.clinical_shap->features, (std::vector<std::string>{"FIGO, stage", "age"}));
  EXPECT_EQ(d.clinical_shap->phi, (std::vector<std::vector<double>>{{0.25, -0.125}, {-0.5, 0.0625}}));
  EXPECT_TRUE(std::isnan(d.clinical_shap->values[0][1]));
  EXPECT_EQ(d.clinical_shap->values[1][1], 61);
  ASSERT_EQ(d.modality_importance.size(), 2u);
  EXPECT_DOUBLE_EQ(d.modality_importance[0].value, 0.375);  // mean |φ| of image
  ASSERT_EQ(d.examples.size(), 1u);
  EXPECT_EQ(d.examples[0].images.at(0), dir / "explain" / "P1.png");
  EXPECT_EQ(d.examples[0].clinical.at(0).value, "yes");
  ASSERT_EQ(d.training.size(), 1u);
  EXPECT_EQ(d.training[0].val_auc, (std::vector<double>{0.6, 0.65}));
}

TEST(Cli, ReportOnARunFolder) {
  TempDir tmp("cli");
  auto run = copy_run(tmp);
  auto r = run_cli("report --run " + run.string(), Stderr::kMerged);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(run / "report.html"));
  EXPECT_TRUE(fs::exists(run / "figures" / "km_external.png"));
  EXPECT_TRUE(fs::exists(run / "figures" / "roc_external.svg"));
  fs::remove(run / "metrics.json");
  r = run_cli("report --run " + run.string(), Stderr::kMerged);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("metrics.json is missing"), std::string::npos);
}

TEST(Html, SelectionCheckShowsTheOptimismOfInternalSelection) {
  TempDir tmp("selcheck");
  auto run = copy_run(tmp);
  auto m = read_json(run / "metrics.json");
  m["selection_check"] = nlohmann::json::array({{{"variant", "msm_tc"},
                                                 {"selection", "split"},
                                                 {"chosen_epoch", 3},
                                                 {"internal_auc_chosen", 0.712},
                                                 {"internal_best_epoch", 6},
                                                 {"internal_auc_best", 0.781},
                                                 {"epochs", 9}}});
  write_json(run / "metrics.json", m);
  const std::string h = render_report_html(load_run_folder(run));
  const std::string s = part(h, "What selection on the internal cohort would have reported", "</table>");
  // epochs shown from 1; optimism = 0.781 - 0.712
  for (const char* cell : {">msm_tc<", ">split<", ">4<", ">0.712<", ">7<", ">0.781<", ">0.069<"})
    EXPECT_NE(s.find(cell), std::string::npos) << cell << "\n" << s;
  // A run without the check has no such table.
  m.erase("selection_check");
  write_json(run / "metrics.json", m);
  EXPECT_EQ(render_report_html(load_run_folder(run)).find("What selection on the internal cohort"), std::string::npos);
}

TEST(Html, ModelCardSaysWhereEachEncoderStarted) {
  ReportData d = load_run_folder(kRun);
  ASSERT_TRUE(d.models.count(d.reference_variant));
  auto& info = d.models.at(d.reference_variant);
  EXPECT_NE(part(render_report_html(d), "id=\"model-card\"", "</section>").find("Every encoder from random weights"),
            std::string::npos);
  info.initialisation = {{"convnext", "model.convnext_weights", "convnext_tiny.safetensors", std::string(64, 'a'), 182,
                          "input convolution adapted from 3 to 6 planes (timm's adapt_input_conv)"},
                         {"text", "text.pretrained", "bert-base-chinese/model.safetensors", std::string(64, 'b'), 199,
                          "as published (no continued pretraining)"}};
  const std::string card = part(render_report_html(d), "id=\"model-card\"", "</section>");
  EXPECT_NE(card.find("<b>convnext</b>: <code>convnext_tiny.safetensors</code> (<code>model.convnext_weights</code>, "
                      "sha256 <code>aaaaaaaaaaaaaaaa&hellip;</code>, 182 tensors); input convolution adapted from 3 to 6 "
                      "planes (timm&#39;s adapt_input_conv)"),
            std::string::npos)
      << card;
  EXPECT_NE(card.find("bert-base-chinese/model.safetensors"), std::string::npos) << card;
  EXPECT_EQ(card.find("Every encoder from random weights"), std::string::npos);
}
