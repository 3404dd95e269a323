// End-to-end tests of the study runner on a tiny synthetic cohort, through the real binary:
// a complete run folder, determinism, the external cohort cannot influence training, predict
// reproduces the study's prediction, and kill -9 + --resume gives the uninterrupted result.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli_run.h"

namespace fs = std::filesystem;
using cervirisk::testing::run_cli;
using cervirisk::testing::start_cli;
using json = nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kTinyToml = R"(
[preprocess]
tumour_size_px = 32
context_size_px = 32
workers = 2

[text]
vocab_size = 300
max_length = 48
pretrain_epochs = 1

[train]
epochs = 2
batch_size = 16
warmup_epochs = 0.5
loader_workers = 1
)";

// One synthetic cohort shared by all tests (the binary is deterministic for a seed).
const fs::path& cohort_dir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("cerv_study_" + std::to_string(::getpid()));
    fs::remove_all(d);
    auto r = run_cli("synth --out " + (d / "data").string() + " --size small --patients 60 --recurrence-rate 0.3");
    EXPECT_EQ(r.code, 0) << r.err;
    // [study] already exists in study.toml: add the deterministic switch to it.
    std::string t = slurp(d / "data" / "study.toml");
    const std::string key = "synthetic = true\n";
    t.replace(t.find(key), key.size(), key + "deterministic = true\n");
    std::ofstream(d / "data" / "tiny.toml", std::ios::trunc) << t << kTinyToml;
    return d;
  }();
  return dir;
}

json metrics_of(const fs::path& run) { return json::parse(slurp(run / "metrics.json")); }

}  // namespace

TEST(Study, TinyCohortWritesCompleteRunFolder) {
  const fs::path run = cohort_dir() / "run_a";
  auto r = run_cli("study --config " + (cohort_dir() / "data" / "tiny.toml").string() + " --out " + run.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"run.json", "metrics.json", "comparisons.csv", "cohorts.csv", "table1.csv", "config.toml",
                        "report.html"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  const auto m = metrics_of(run);
  EXPECT_EQ(m["variants"].size(), 6u);
  for (const char* v : {"clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"}) {
    EXPECT_TRUE(fs::exists(run / "predictions" / (std::string(v) + ".csv"))) << v;
    for (const char* f : {"model.json", "weights.safetensors", "preprocessing.json", "history.csv"})
      EXPECT_TRUE(fs::exists(run / "models" / v / f)) << v << "/" << f;
  }
  // 60 patients -> 60 prediction rows (+ header) per variant.
  std::ifstream p(run / "predictions" / "msm_tc.csv");
  int lines = 0;
  for (std::string l; std::getline(p, l);) ++lines;
  EXPECT_EQ(lines, 61);
  const auto rj = json::parse(slurp(run / "run.json"));
  EXPECT_TRUE(rj["timings_s"].contains("train/msm_tc"));
  EXPECT_EQ(rj["synthetic"], "true");

  // Explanations of msm_tc: clinical KernelSHAP for every patient, overlays of the example
  // patients referenced from examples.json and embedded in report.html.
  {
    std::ifstream sc(run / "explain" / "shap_clinical.csv");
    std::string h;
    std::getline(sc, h);
    EXPECT_EQ(h, "id,cohort,variant,feature,value,phi");
    std::set<std::string> ids;
    for (std::string l; std::getline(sc, l);) ids.insert(l.substr(0, l.find(',')));
    EXPECT_EQ(ids.size(), 60u);
    const auto doc = json::parse(slurp(run / "explain" / "examples.json"));
    EXPECT_EQ(doc["format"], "cervirisk-examples/1");
    const auto& ex = doc["examples"];
    ASSERT_FALSE(ex.empty());
    const std::string html = slurp(run / "report.html");
    int images = 0;
    for (const auto& e : ex) {
      EXPECT_FALSE(e["clinical"].empty());
      for (const auto& im : e["images"]) {
        EXPECT_TRUE(fs::exists(run / im.get<std::string>())) << im;
        ++images;
      }
    }
    EXPECT_GT(images, 0);
    EXPECT_NE(html.find("Attention rollout, ViT tumour path"), std::string::npos);
    EXPECT_NE(html.find("Grad-CAM, ViT context path"), std::string::npos);
    EXPECT_NE(html.find("SHAP values of the clinical features"), std::string::npos);
    EXPECT_NE(r.out.find("clinical KernelSHAP"), std::string::npos) << r.out;
  }

  // evaluate recomputes the same metrics from the predictions.
  const std::string before = slurp(run / "metrics.json");
  auto e = run_cli("evaluate --run " + run.string());
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(slurp(run / "metrics.json"), before);

  // predict reproduces the study's prediction of a patient (image, mask, report, clinical).
  const auto pred = slurp(run / "predictions" / "msm_tc.csv");
  std::istringstream ps(pred);
  std::string header, row;
  std::getline(ps, header);
  std::getline(ps, row);
  const std::string id = row.substr(0, row.find(','));
  // Find the patient's files in the manifest.
  std::ifstream man(cohort_dir() / "data" / "manifest.csv");
  std::string mh;
  std::getline(man, mh);
  EXPECT_NE(mh.find("image"), std::string::npos);
  fs::path pd = cohort_dir() / ("patient_" + id);
  fs::create_directories(pd);
  for (const auto& ent : fs::directory_iterator(cohort_dir() / "data" / "images"))
    if (ent.path().filename().string().rfind(id + ".", 0) == 0 || ent.path().filename().string().rfind(id + "_", 0) == 0)
      fs::copy_file(ent.path(), pd / "image.nii.gz");
  for (const auto& ent : fs::directory_iterator(cohort_dir() / "data" / "masks"))
    if (ent.path().filename().string().rfind(id + ".", 0) == 0 || ent.path().filename().string().rfind(id + "_", 0) == 0)
      fs::copy_file(ent.path(), pd / "mask.nii.gz");
  ASSERT_TRUE(fs::exists(pd / "image.nii.gz"));
  ASSERT_TRUE(fs::exists(pd / "mask.nii.gz"));
  for (const auto& ent : fs::directory_iterator(cohort_dir() / "data" / "reports"))
    if (ent.path().stem().string() == id) fs::copy_file(ent.path(), pd / "report.txt");
  // Clinical values from the manifest row.
  {
    std::ifstream mf(cohort_dir() / "data" / "manifest.csv");
    std::string h, l;
    std::getline(mf, h);
    std::vector<std::string> cols;
    std::istringstream hs(h);
    for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
    json cj = json::object();
    while (std::getline(mf, l)) {
      if (l.rfind(id + ",", 0) != 0) continue;
      std::istringstream ls(l);
      std::size_t i = 0;
      for (std::string v; std::getline(ls, v, ','); ++i)
        if (i < cols.size()) cj[cols[i]] = v;
    }
    std::ofstream(pd / "clinical.json") << cj.dump();
  }
  auto pr = run_cli("predict --model " + (run / "models" / "msm_tc").string() + " --patient " + pd.string());
  ASSERT_EQ(pr.code, 0) << pr.err;
  const auto pj = json::parse(pr.out);
  std::vector<std::string> fields;
  std::istringstream rs(row);
  for (std::string v; std::getline(rs, v, ',');) fields.push_back(v);
  EXPECT_NEAR(pj["probability"].get<double>(), std::stod(fields[7]), 1e-4) << pr.out << "\n" << row;
  EXPECT_EQ(pj["risk_group"].get<std::string>(), fields[9]);
}

TEST(Study, DeterministicRunsAreIdenticalAndExternalLabelsCannotInfluenceTraining) {
  const fs::path data = cohort_dir() / "data";
  const std::string cfg = (data / "tiny.toml").string();
  auto a = run_cli("study --no-report --variants msm_tc clinical --config " + cfg + " --out " + (cohort_dir() / "det_a").string());
  ASSERT_EQ(a.code, 0) << a.err;
  auto b = run_cli("study --no-report --variants msm_tc clinical --config " + cfg + " --out " + (cohort_dir() / "det_b").string());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(slurp(cohort_dir() / "det_a" / "metrics.json"), slurp(cohort_dir() / "det_b" / "metrics.json"));

  // Flip every external patient's event in a copy of the manifest: weights, threshold and
  // cut-point of every variant stay the same.
  fs::path pert = cohort_dir() / "pert";
  fs::create_directories(pert);
  std::ifstream mf(data / "manifest.csv");
  std::string h;
  std::getline(mf, h);
  std::vector<std::string> cols;
  {
    std::istringstream hs(h);
    for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  }
  std::size_t ev = 0, co = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == "event") ev = i;
    if (cols[i] == "center") co = i;
  }
  const auto tj = slurp(data / "study.toml");
  std::ostringstream out;
  out << h << "\n";
  int flipped = 0;
  for (std::string l; std::getline(mf, l);) {
    std::vector<std::string> f;
    std::istringstream ls(l);
    for (std::string v; std::getline(ls, v, ',');) f.push_back(v);
    if (tj.find("external_centers = [\"" + f[co] + "\"]") != std::string::npos) {
      f[ev] = f[ev] == "1" ? "0" : "1";
      ++flipped;
    }
    for (std::size_t i = 0; i < f.size(); ++i) out << (i ? "," : "") << f[i];
    if (!l.empty() && l.back() == ',') out << ',';
    out << "\n";
  }
  ASSERT_GT(flipped, 0);
  std::ofstream(data / "manifest_pert.csv") << out.str();
  std::string t = slurp(data / "tiny.toml");
  t.replace(t.find("manifest.csv"), 12, "manifest_pert.csv");
  std::ofstream(data / "tiny_pert.toml") << t;
  auto c = run_cli("study --no-report --variants msm_tc clinical --config " + (data / "tiny_pert.toml").string() + " --out " +
                   (cohort_dir() / "det_c").string());
  ASSERT_EQ(c.code, 0) << c.err;
  for (const char* v : {"msm_tc", "clinical"}) {
    EXPECT_EQ(slurp(cohort_dir() / "det_a" / "models" / v / "weights.safetensors"),
              slurp(cohort_dir() / "det_c" / "models" / v / "weights.safetensors"))
        << v;
    const auto ma = json::parse(slurp(cohort_dir() / "det_a" / "models" / v / "model.json"));
    const auto mc = json::parse(slurp(cohort_dir() / "det_c" / "models" / v / "model.json"));
    EXPECT_EQ(ma["threshold"], mc["threshold"]) << v;
    EXPECT_EQ(ma["cutpoint"], mc["cutpoint"]) << v;
  }
}

// kill -9 while a variant trains (after its first checkpoint), then --resume: the same
// metrics.json as an uninterrupted run (deterministic mode).
TEST(Study, KillThenResumeGivesTheUninterruptedMetrics) {
  const fs::path data = cohort_dir() / "data";
  std::string t = slurp(data / "tiny.toml");
  t.replace(t.find("epochs = 2\n"), 11, "epochs = 5\n");
  std::ofstream(data / "tiny_resume.toml") << t;
  const std::string cfg = (data / "tiny_resume.toml").string();
  auto full = run_cli("study --no-report --variants vit --config " + cfg + " --out " + (cohort_dir() / "res_full").string());
  ASSERT_EQ(full.code, 0) << full.err;

  const fs::path run = cohort_dir() / "res_kill";
  const pid_t pid =
      start_cli({"study", "--no-report", "--variants", "vit", "--config", cfg, "--out", run.string()});
  ASSERT_GE(pid, 0);
  const fs::path ckpt = run / "models" / "vit" / "checkpoint.pt";
  bool killed = false;
  for (int i = 0; i < 6000; ++i) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) break;  // finished before we saw a checkpoint
    if (fs::exists(ckpt)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(killed) << "the run finished before its first checkpoint";
  EXPECT_FALSE(fs::exists(run / "metrics.json"));
  auto res = run_cli("study --no-report --resume --variants vit --config " + cfg + " --out " + run.string());
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(slurp(cohort_dir() / "res_full" / "metrics.json"), slurp(run / "metrics.json"));
  EXPECT_EQ(slurp(cohort_dir() / "res_full" / "models" / "vit" / "weights.safetensors"),
            slurp(run / "models" / "vit" / "weights.safetensors"));
}

// A failing explanation step leaves the study's other outputs written and exits with the
// step's documented code (here: explain/overlays is a file, so the overlays are not writable).
TEST(Study, FailedExplanationsExitWithTheirCodeAndKeepTheRun) {
  const fs::path run = cohort_dir() / "run_explain_fails";
  fs::remove_all(run);
  fs::create_directories(run / "explain");
  std::ofstream(run / "explain" / "overlays") << "not a folder";
  auto r = run_cli("study --config " + (cohort_dir() / "data" / "tiny.toml").string() + " --out " + run.string() +
                   " --variants msm_tc");
  EXPECT_EQ(r.code, 7) << r.out << r.err;
  EXPECT_NE(r.err.find("explain (overlays of patient"), std::string::npos) << r.err;
  for (const char* f : {"metrics.json", "predictions/msm_tc.csv", "report.html", "explain/shap_clinical.csv",
                        "explain/examples.json"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  EXPECT_NE(r.out.find("msm_tc"), std::string::npos) << "the study table is still printed";
}

// --seeds 2: every scalar metric gets mean / sd over the seeds; seed 0's values are the main
// metrics (same predictions), mean and sd are those of the values (hand formula), p-values are
// not averaged, and the second seed trains other models.
TEST(Study, SeedsSummariseEveryMetricPerVariantAndCohort) {
  const fs::path data = cohort_dir() / "data";
  const fs::path out = cohort_dir() / "seeds";
  auto r = run_cli("study --no-report --seeds 2 --variants clinical convnext --config " + (data / "tiny.toml").string() +
                   " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path& run = out;
  ASSERT_TRUE(fs::exists(run / "models" / "convnext" / "seed-1" / "weights.safetensors"));
  const json m = metrics_of(run);
  ASSERT_TRUE(m.contains("seeds"));
  int checked = 0, differing = 0;
  for (const auto& e : m["metrics"]) {
    const json* s = nullptr;
    for (const auto& x : m["seeds"])
      if (x["variant"] == e["variant"] && x["cohort"] == e["cohort"]) s = &x;
    ASSERT_NE(s, nullptr) << e["variant"] << " " << e["cohort"];
    EXPECT_EQ((*s)["seeds"], 2);
    for (const auto& [name, summary] : (*s)["metrics"].items()) {
      EXPECT_FALSE(name.size() > 2 && name.substr(name.size() - 2) == "_p") << name << " averaged";
      const auto v = summary["values"].get<std::vector<double>>();
      ASSERT_EQ(static_cast<std::size_t>(summary["n"].get<int>()), v.size());
      if (v.size() == 2) {
        EXPECT_NEAR(summary["mean"].get<double>(), (v[0] + v[1]) / 2, 1e-12) << name;
        EXPECT_NEAR(summary["sd"].get<double>(), std::abs(v[0] - v[1]) / std::sqrt(2.0), 1e-12) << name;
        if (v[0] != v[1]) ++differing;
      }
    }
    for (const char* name : {"auc", "sensitivity", "specificity", "brier", "c_index"}) {
      if (!e.contains(name) || !e[name].is_number()) continue;
      ASSERT_TRUE((*s)["metrics"].contains(name)) << name;
      EXPECT_EQ((*s)["metrics"][name]["values"][0].get<double>(), e[name].get<double>())
          << name << " of seed 0 is the main metric, " << e["variant"] << " " << e["cohort"];
      ++checked;
    }
    if (e.contains("auc") && e["auc"].is_number()) EXPECT_EQ((*s)["auc"][0].get<double>(), e["auc"].get<double>());
  }
  EXPECT_GE(checked, 12);
  EXPECT_GT(differing, 0) << "the second seed must train other models";
}
