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
}

TEST(RunFolder, RocAreaMatchesSklearnAuc) {
  // The trapezoidal area of our ROC points equals scikit-learn's roc_auc_score (metrics.json).
  ReportData d = load_run_folder(kRun);
  for (const auto& m : d.metrics) {
    std::vector<double> s;
    std::vector<int> l;
    for (const auto& p : d.predictions.at(m.variant))
      if (p.cohort == m.cohort) {
        s.push_back(p.probability);
        l.push_back(p.label);
      }
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
  expect_error_containing([&] { load_run_folder(run); }, "vit.csv:2: column 'label': '7', expected 0 or 1");
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
                         "manifest", "model-card", "synthetic"})
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
