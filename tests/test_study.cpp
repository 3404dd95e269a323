// End-to-end tests of the study runner on a tiny synthetic cohort, through the real binary:
// a complete run folder, determinism, the internal and external cohorts cannot influence training
// (on the tiny cohort and on the demo's), predict
// reproduces the study's prediction, and kill -9 + --resume gives the uninterrupted result.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "bundle/feature_spec.h"
#include "cli_run.h"
#include "core/config.h"
#include "core/hash.h"
#include "imaging/roi.h"
#include "io/mask.h"
#include "io/volume.h"
#include "models/registry.h"
#include "models/weights.h"
#include "study/study.h"

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
# Multi-task image training: the leakage tests then also show that the held-out cohorts'
# clinical values (the auxiliary targets) never reach a bundle.
aux_targets = ["deep_stromal_invasion", "figo_stage"]
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
  // The internal AUC recorded after the chosen epoch (selection on the training split) is the
  // internal AUC of the final model: the trace records the weights the bundle keeps.
  ASSERT_TRUE(m.contains("selection_check"));
  for (const auto& c : m["selection_check"]) {
    EXPECT_EQ(c["selection"], "split");
    for (const auto& e : m["metrics"])
      if (e["variant"] == c["variant"] && e["cohort"] == "internal" && !e["auc"].is_null() &&
          !c["internal_auc_chosen"].is_null())
        EXPECT_NEAR(c["internal_auc_chosen"].get<double>(), e["auc"].get<double>(), 1e-9) << c["variant"];
    EXPECT_GE(c["internal_auc_best"].get<double>(), c["internal_auc_chosen"].get<double>());
  }
  EXPECT_TRUE(fs::exists(run / "selection" / "msm_tc_internal.csv"));
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
    // The same maps as NIfTI on each example patient's own image grid; nibabel reads them with
    // the source image's affine, and their maximum lies inside the patient's tumour crop.
    std::string files;
    int maps = 0;
    for (const auto& e : ex) {
      const fs::path dir = run / "explain" / "msm_tc" / e["id"].get<std::string>();
      ASSERT_TRUE(fs::is_directory(dir)) << dir;
      for (const auto& f : fs::directory_iterator(dir)) {
        files += " " + f.path().string() + " " + (cohort_dir() / "data" / "images" / (e["id"].get<std::string>() + "_t2.nii.gz")).string();
        ++maps;
      }
    }
    EXPECT_EQ(maps, images);
    const auto py = cervirisk::testing::run_command("/usr/bin/python3 " + std::string(CERV_SOURCE_DIR) +
                                                    "/scripts/check_maps.py" + files);
    EXPECT_EQ(py.code, 0) << py.out << py.err;
    EXPECT_NE(py.out.find("maps ok: " + std::to_string(maps)), std::string::npos) << py.out << py.err;
    // nibabel's argmax voxel, through the image's geometry, falls inside the crop the map is of.
    const auto spec = cervirisk::bundle::read_feature_spec(run / "models" / "msm_tc");
    std::istringstream lines(py.out);
    int inside = 0;
    for (std::string line; std::getline(lines, line);) {
      std::istringstream w(line);
      std::string tag, path, a, b, c, d;
      double diff = 0, vmax = 0, ijk[3] = {0, 0, 0};
      if (!(w >> tag >> path >> a >> diff >> b >> vmax >> c >> ijk[0] >> ijk[1] >> ijk[2]) || tag != "map") continue;
      const std::string id = fs::path(path).parent_path().filename().string();
      const auto image = cervirisk::io::read_image(cohort_dir() / "data" / "images" / (id + "_t2.nii.gz"));
      const auto mask = cervirisk::io::read_mask(cohort_dir() / "data" / "masks" / (id + "_mask.nii.gz"), image.geometry);
      const auto sample = cervirisk::imaging::preprocess(image, mask, spec.imaging);
      const auto& crop = path.find("context") != std::string::npos ? sample.context : sample.tumour;
      const auto p = image.geometry.index_to_lps({ijk[0], ijk[1], ijk[2]});
      double x = 0, y = 0, n = 0;
      for (int r = 0; r < 3; ++r) {
        const double q = p[r] - crop.box.centre_lps_mm[r];
        x += q * crop.box.step_x_lps[r] / crop.box.pixel_mm, y += q * crop.box.step_y_lps[r] / crop.box.pixel_mm;
        n += q * crop.box.normal_lps[r];
      }
      EXPECT_LE(std::abs(x), crop.box.side_mm / 2 + 1e-6) << line;
      EXPECT_LE(std::abs(y), crop.box.side_mm / 2 + 1e-6) << line;
      EXPECT_LE(std::abs(n), crop.channels / 2.0 * crop.box.slice_step_mm + 1e-6) << line;
      EXPECT_GT(vmax, 0.5) << line;  // min-max scaled: the maximum is 1 up to interpolation
      ++inside;
    }
    EXPECT_EQ(inside, maps);
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
  const fs::path maps = pd / "maps";
  auto pr = run_cli("predict --model " + (run / "models" / "msm_tc").string() + " --patient " + pd.string() +
                    " --explain " + maps.string());
  ASSERT_EQ(pr.code, 0) << pr.err;
  const auto pj = json::parse(pr.out);
  // --explain: the image maps as NIfTI on the patient's grid (+ their overlay PNGs), listed.
  ASSERT_TRUE(pj.contains("maps")) << pr.out;
  int nifti = 0;
  for (const auto& m : pj["maps"]) {
    EXPECT_TRUE(fs::exists(m.get<std::string>())) << m;
    nifti += m.get<std::string>().find(".nii.gz") != std::string::npos;
  }
  EXPECT_GE(nifti, 2);
  std::vector<std::string> fields;
  std::istringstream rs(row);
  for (std::string v; std::getline(rs, v, ',');) fields.push_back(v);
  EXPECT_NEAR(pj["probability"].get<double>(), std::stod(fields[7]), 1e-4) << pr.out << "\n" << row;
  EXPECT_EQ(pj["risk_group"].get<std::string>(), fields[9]);
}

namespace {

std::vector<std::string> split_csv_line(const std::string& l) {
  std::vector<std::string> f;
  std::istringstream ls(l);
  for (std::string v; std::getline(ls, v, ',');) f.push_back(v);
  if (!l.empty() && l.back() == ',') f.push_back("");
  return f;
}

// id -> cohort, from a run's predictions.
std::map<std::string, std::string> cohorts_of(const fs::path& run, const std::string& variant) {
  std::map<std::string, std::string> c;
  std::ifstream p(run / "predictions" / (variant + ".csv"));
  std::string l;
  std::getline(p, l);
  while (std::getline(p, l)) {
    const auto f = split_csv_line(l);
    c[f[0]] = f[1];
  }
  return c;
}

// The manifest with its cohorts written out (so the split cannot move), and every internal and
// external patient given another held-out patient's image, mask, report, follow-up time and
// clinical values (a rotation) and the opposite event. Returns how many rows were changed.
int write_perturbed_manifest(const fs::path& manifest, const std::map<std::string, std::string>& cohort,
                             const fs::path& out) {
  std::ifstream mf(manifest);
  std::string h;
  std::getline(mf, h);
  const auto cols = split_csv_line(h);
  std::vector<std::vector<std::string>> rows;
  for (std::string l; std::getline(mf, l);)
    if (!l.empty()) rows.push_back(split_csv_line(l));
  auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
  };
  std::vector<std::size_t> held;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (cohort.at(rows[i][col("patient_id")]) != "train") held.push_back(i);
  const auto original = rows;
  const std::size_t keep[] = {col("patient_id"), col("center"), col("event")};
  for (std::size_t k = 0; k < held.size(); ++k) {
    auto& r = rows[held[k]];
    const auto& donor = original[held[(k + 1) % held.size()]];
    for (std::size_t j = 0; j < cols.size(); ++j)
      if (std::find(std::begin(keep), std::end(keep), j) == std::end(keep)) r[j] = donor[j];
    r[col("event")] = r[col("event")] == "1" ? "0" : "1";
  }
  std::ostringstream o;
  o << h << ",cohort\n";
  for (const auto& r : rows) {
    for (std::size_t j = 0; j < r.size(); ++j) o << (j ? "," : "") << r[j];
    o << "," << cohort.at(r[col("patient_id")]) << "\n";
  }
  std::ofstream(out, std::ios::trunc) << o.str();
  return static_cast<int>(held.size());
}

// The lines of the training cohort in a predictions file.
std::string training_rows(const fs::path& file) {
  std::ifstream p(file);
  std::string out;
  for (std::string l; std::getline(p, l);)
    if (l.find(",train,") != std::string::npos) out += l + "\n";
  return out;
}

// Runs `study` on `config` twice -- on the manifest as it is and on a perturbed copy of it -- and
// expects every bundle file (not the resumable checkpoint), threshold, cut-point, recalibration
// and the training cohort's predictions to be bit-identical.
void expect_held_out_cohorts_cannot_leak(const fs::path& data, const std::string& config, const fs::path& work,
                                         const std::string& variants) {
  const fs::path a = work / "leak_a", c = work / "leak_c";
  auto ra = run_cli("study --no-report --variants " + variants + " --config " + config + " --out " + a.string());
  ASSERT_EQ(ra.code, 0) << ra.err;
  const fs::path manifest = data / "manifest.csv", saved = data / "manifest.original.csv";
  fs::copy_file(manifest, saved, fs::copy_options::overwrite_existing);
  const int changed = write_perturbed_manifest(saved, cohorts_of(a, "clinical"), manifest);
  ASSERT_GT(changed, 10);
  auto rc = run_cli("study --no-report --variants " + variants + " --config " + config + " --out " + c.string());
  fs::copy_file(saved, manifest, fs::copy_options::overwrite_existing);
  ASSERT_EQ(rc.code, 0) << rc.err;
  // The perturbation reached the held-out cohorts: their predictions differ.
  EXPECT_NE(slurp(a / "predictions" / "msm_tc.csv"), slurp(c / "predictions" / "msm_tc.csv"));
  std::istringstream vs(variants);
  for (std::string v; vs >> v;) {
    int files = 0;
    for (const auto& e : fs::directory_iterator(a / "models" / v)) {
      if (!e.is_regular_file() || e.path().filename() == "checkpoint.pt") continue;
      EXPECT_EQ(slurp(e.path()), slurp(c / "models" / v / e.path().filename())) << v << "/" << e.path().filename();
      ++files;
    }
    EXPECT_GE(files, 4) << v;
    EXPECT_EQ(training_rows(a / "predictions" / (v + ".csv")), training_rows(c / "predictions" / (v + ".csv"))) << v;
  }
}

}  // namespace

TEST(Study, DeterministicRunsAreIdenticalAndHeldOutCohortsCannotInfluenceTraining) {
  const fs::path data = cohort_dir() / "data";
  const std::string cfg = (data / "tiny.toml").string();
  auto a = run_cli("study --no-report --variants msm_tc clinical --config " + cfg + " --out " + (cohort_dir() / "det_a").string());
  ASSERT_EQ(a.code, 0) << a.err;
  auto b = run_cli("study --no-report --variants msm_tc clinical --config " + cfg + " --out " + (cohort_dir() / "det_b").string());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(slurp(cohort_dir() / "det_a" / "metrics.json"), slurp(cohort_dir() / "det_b" / "metrics.json"));
  // Labels, images, masks, reports, follow-up and clinical values of every internal and external
  // patient changed: the bundles and the training cohort's predictions do not move.
  expect_held_out_cohorts_cannot_leak(data, cfg, cohort_dir(), "msm_tc clinical");
}

// One cut-point rule: the study's risk groups on the training cohort are those of
// `cervirisk stats cutpoint` (maxstat) on the same scores, with low = risk <= cut.
TEST(Study, RiskGroupsAreThoseOfTheStatsCutpointCommand) {
  const fs::path run = cohort_dir() / "cut_run";
  auto s = run_cli("study --no-report --variants msm_tc --config " + (cohort_dir() / "data" / "tiny.toml").string() +
                   " --out " + run.string());
  ASSERT_EQ(s.code, 0) << s.err;
  std::ifstream p(run / "predictions" / "msm_tc.csv");
  std::string l;
  std::getline(p, l);
  const auto cols = split_csv_line(l);
  auto col = [&](const char* n) { return static_cast<std::size_t>(std::find(cols.begin(), cols.end(), n) - cols.begin()); };
  std::ostringstream csv;
  csv << "time,event,risk\n";
  int high = 0, low = 0;
  std::vector<std::pair<double, std::string>> groups;
  while (std::getline(p, l)) {
    const auto f = split_csv_line(l);
    if (f[col("cohort")] != "train") continue;
    csv << f[col("time_months")] << "," << f[col("event")] << "," << f[col("risk")] << "\n";
    (f[col("risk_group")] == "high" ? high : low) += 1;
    groups.emplace_back(std::stod(f[col("risk")]), f[col("risk_group")]);
  }
  const fs::path file = cohort_dir() / "train_scores.csv";
  std::ofstream(file) << csv.str();
  auto r = run_cli("stats cutpoint --csv " + file.string() + " --time time --event event --score risk --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json::parse(r.out);
  const auto info = json::parse(slurp(run / "models" / "msm_tc" / "model.json"));
  EXPECT_EQ(j["cut"].get<double>(), info["cutpoint"].get<double>());
  EXPECT_EQ(j["n_low"].get<int>(), low);
  EXPECT_EQ(j["n_high"].get<int>(), high);
  for (const auto& [risk, g] : groups) EXPECT_EQ(g, risk > j["cut"].get<double>() ? "high" : "low") << risk;
}

// The same on the demo's cohort and settings (`cervirisk demo`: 445 patients, kDemoToml, every
// default including train.selection = split).
TEST(Study, DemoCohortHeldOutCohortsCannotInfluenceTheBundles) {
  const fs::path work = cohort_dir() / "demo_leak", data = work / "data";
  auto s = run_cli("synth --out " + data.string() + " --patients 445");
  ASSERT_EQ(s.code, 0) << s.err;
  // Two variants only (the whole demo twice would take a quarter of an hour), so msm_tc starts
  // from its own initialisation instead of the ladder's rungs (the ladder start runs in the cv test).
  std::ofstream(data / "demo.toml") << cervirisk::config::merge_toml(
      slurp(data / "study.toml") + cervirisk::study::kDemoToml, "demo.toml", "[train]\nfusion_init = \"none\"\n",
      "this test");
  expect_held_out_cohorts_cannot_leak(data, (data / "demo.toml").string(), work, "clinical msm_tc");
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

// train.selection = cv with the horizon endpoint and both heads trained (bce+cox): the fold
// models choose the epoch count, the refit is the bundle, patients censored before the horizon
// have no binary label (NA) and are counted per cohort, and the risk score is the trained Cox head.
TEST(Study, CrossValidatedSelectionHorizonEndpointAndBothHeads) {
  const fs::path data = cohort_dir() / "data";
  std::string t = slurp(data / "tiny.toml");
  t.replace(t.find("[train]\n"), 8, "[train]\nselection = \"cv\"\ncv_folds = 3\nloss = \"bce+cox\"\n");
  t.replace(t.find("[data]\n"), 7, "[data]\nendpoint = \"horizon\"\nhorizon_months = 36\n");
  t += "\n[model]\ncox_head = true\n";
  std::ofstream(data / "tiny_cv.toml") << t;
  const fs::path run = cohort_dir() / "cv_run";
  auto r = run_cli("study --no-report --variants msm_tc --config " + (data / "tiny_cv.toml").string() + " --out " +
                   run.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto info = json::parse(slurp(run / "models" / "msm_tc" / "model.json"));
  EXPECT_EQ(info["selection"]["mode"], "cv");
  EXPECT_EQ(info["selection"]["folds"], 3);
  ASSERT_EQ(info["selection"]["fold_best_epochs"].size(), 3u);
  // the refit runs the median of the folds' epoch counts, without selection (the last epoch)
  std::vector<int> counts;
  for (const auto& e : info["selection"]["fold_best_epochs"]) counts.push_back(e.get<int>() + 1);
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(info["epochs_done"].get<int>(), counts[1]);
  EXPECT_EQ(info["best_epoch"].get<int>(), counts[1] - 1);
  EXPECT_EQ(info["recalibration"]["fitted_on"], "out-of-fold");
  // The fold checkpoints are gone; the fold models' weights stay (the ladder start of the rungs above).
  for (int k = 0; k < 3; ++k) {
    EXPECT_FALSE(fs::exists(run / "models" / "msm_tc" / "cv" / ("checkpoint-fold-" + std::to_string(k) + ".pt")));
    EXPECT_TRUE(fs::exists(run / "models" / "msm_tc" / "cv" / ("fold-" + std::to_string(k) + ".safetensors"))) << k;
  }

  // NA labels per cohort = metrics' "excluded"; the risk column is the Cox head, not the logit.
  std::ifstream p(run / "predictions" / "msm_tc.csv");
  std::string l;
  std::getline(p, l);
  std::map<std::string, int> na;
  int risk_differs = 0;
  while (std::getline(p, l)) {
    const auto f = split_csv_line(l);
    if (f[3] == "NA") na[f[1]] += 1;
    risk_differs += f[6] != f[8];
  }
  EXPECT_GT(na["external"], 0);  // centre C is followed 18-48 months
  EXPECT_GT(risk_differs, 50);
  const auto m = metrics_of(run);
  for (const auto& e : m["metrics"]) EXPECT_EQ(e["excluded"].get<int>(), na[e["cohort"].get<std::string>()]) << e["cohort"];
  EXPECT_EQ(m["design"]["endpoint"], "horizon");
  EXPECT_EQ(m["design"]["selection"], "cv");
  bool ipcw = false;
  for (const auto& e : m["metrics"]) ipcw |= e.contains("auc_ipcw");
  EXPECT_TRUE(ipcw);
}

// One writer per run folder: a second `study` into a folder a running one holds exits 7 naming
// the holder; the first completes; once it has, the folder is free again.
TEST(Study, ASecondStudyIntoAHeldRunFolderIsRefused) {
  const std::string cfg = (cohort_dir() / "data" / "tiny.toml").string();
  const fs::path run = cohort_dir() / "locked_run";
  const pid_t first = start_cli({"study", "--no-report", "--variants", "clinical", "--config", cfg, "--out", run.string()});
  ASSERT_GE(first, 0);
  const std::string mine = "pid " + std::to_string(first);
  bool held = false;
  for (int i = 0; i < 3000 && !held; ++i) {
    held = fs::exists(run / ".lock") && slurp(run / ".lock").find(mine) != std::string::npos;
    if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(held) << "the first study never took the lock";
  auto second = run_cli("study --no-report --variants clinical --config " + cfg + " --out " + run.string());
  int st = 0;
  ::waitpid(first, &st, 0);
  if (second.code == 0) GTEST_SKIP() << "the first study finished before the second started";
  EXPECT_EQ(second.code, 7) << second.err;
  EXPECT_NE(second.err.find("in use by another cervirisk run (" + mine), std::string::npos) << second.err;
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  auto third = run_cli("evaluate --run " + run.string());
  EXPECT_EQ(third.code, 0) << third.err;
}

// The large held-out test set (synth --test-patients): evaluated like the other cohorts, never
// fitted. The same cohort with and without 40 test patients gives bit-identical bundles and
// predictions for every study patient; the test patients get predictions and metrics of their own.
TEST(Study, TestSetIsEvaluatedAndNeverFitted) {
  const fs::path work = cohort_dir() / "test_set";
  auto s = run_cli("synth --out " + (work / "data").string() +
                   " --size small --patients 60 --recurrence-rate 0.3 --test-patients 40 --test-internal-patients 12");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("test_external"), std::string::npos) << s.out;
  std::ofstream(work / "data" / "tiny.toml", std::ios::trunc) << slurp(cohort_dir() / "data" / "tiny.toml");
  const std::string variants = "msm_tc clinical";
  auto a = run_cli("study --no-report --variants " + variants + " --config " + (cohort_dir() / "data" / "tiny.toml").string() +
                   " --out " + (work / "without").string());
  ASSERT_EQ(a.code, 0) << a.err;
  auto b = run_cli("study --no-report --variants " + variants + " --config " + (work / "data" / "tiny.toml").string() +
                   " --out " + (work / "with").string());
  ASSERT_EQ(b.code, 0) << b.err;
  for (const std::string v : {"msm_tc", "clinical"}) {
    for (const auto& e : fs::directory_iterator(work / "without" / "models" / v)) {
      if (!e.is_regular_file() || e.path().filename() == "checkpoint.pt") continue;
      EXPECT_EQ(slurp(e.path()), slurp(work / "with" / "models" / v / e.path().filename())) << v << "/" << e.path().filename();
    }
    // The study's rows are the same lines; the test rows come after them.
    const std::string pa = slurp(work / "without" / "predictions" / (v + ".csv"));
    const std::string pb = slurp(work / "with" / "predictions" / (v + ".csv"));
    ASSERT_GT(pb.size(), pa.size());
    EXPECT_EQ(pb.substr(0, pa.size()), pa) << v;
    std::istringstream rest(pb.substr(pa.size()));
    int ext = 0, in = 0;
    for (std::string l; std::getline(rest, l);) {
      ext += l.find(",test_external,C,") != std::string::npos;
      in += l.find(",test_internal,") != std::string::npos;
    }
    EXPECT_EQ(ext, 40) << v;
    EXPECT_EQ(in, 12) << v;
  }
  const json ma = metrics_of(work / "without"), mb = metrics_of(work / "with");
  EXPECT_EQ(ma["cohorts"], json({"train", "internal", "external"}));
  EXPECT_EQ(mb["cohorts"], json({"train", "internal", "external", "test_internal", "test_external"}));
  int test_rows = 0;
  for (const auto& e : mb["metrics"]) {
    if (e["cohort"] != "test_external") continue;
    ++test_rows;
    EXPECT_EQ(e["n"].get<int>(), 40);
    // The same numbers as the study's own cohorts would get: the metrics of the other cohorts
    // are unchanged by the test set.
  }
  EXPECT_EQ(test_rows, 2);
  for (const auto& e : ma["metrics"])
    for (const auto& f : mb["metrics"])
      if (e["variant"] == f["variant"] && e["cohort"] == f["cohort"]) EXPECT_EQ(e["auc"], f["auc"]) << e["variant"] << e["cohort"];
  // The report lists the test cohorts; the explanations describe the study's cohorts only.
  auto r = run_cli("explain --run " + (work / "with").string() + " --variant msm_tc");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string shap = slurp(work / "with" / "explain" / "shap_clinical.csv");
  EXPECT_EQ(shap.find("test_"), std::string::npos);
  EXPECT_NE(shap.find(",external,"), std::string::npos);
}

// `cervirisk benchmark` end to end on small cohorts (2 seeds, 50 study + 60 test patients, tiny
// training): every AUC it reports is the seed's metrics.json AUC, every oracle AUC the
// Mann-Whitney AUC of truth.csv's oracle score on that cohort (computed here), and the ladder's
// step clinical -> msm_tc is the paired DeLong test the study wrote to comparisons.csv.
TEST(Study, BenchmarkReportsTheRunsAUCsTheOracleAndTheLadder) {
  const fs::path work = cohort_dir() / "benchmark";
  fs::create_directories(work);
  std::ofstream(work / "tiny.toml") << "[preprocess]\ntumour_size_px = 32\ncontext_size_px = 32\n"
                                       "[text]\nvocab_size = 300\nmax_length = 48\npretrain_epochs = 1\n"
                                       "[train]\nepochs = 2\nbatch_size = 16\n"
                                       // two variants only: no ladder (the demo's start needs the rungs)
                                       "fusion_init = \"none\"\n";
  auto r = run_cli("benchmark --seeds 2 --first-seed 3 --patients 50 --test-patients 60 --variants clinical msm_tc "
                   "--settings " + (work / "tiny.toml").string() + " --out " + (work / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("clinical -> msm_tc"), std::string::npos) << r.out;
  const json b = json::parse(slurp(work / "out" / "benchmark.json"));
  ASSERT_EQ(b["seeds"].size(), 2u);
  EXPECT_TRUE(fs::exists(work / "out" / "benchmark.md"));
  // The tiny settings were laid over the demo's: the seed's config has them.
  const std::string cfg = slurp(work / "out" / "seed-3" / "run" / "config.toml");
  EXPECT_NE(cfg.find("tumour_size_px = 32"), std::string::npos);
  for (int k = 0; k < 2; ++k) {
    const int seed = 3 + k;
    const fs::path run = work / "out" / ("seed-" + std::to_string(seed)) / "run";
    const json m = metrics_of(run);
    for (const auto& cell : b["cells"]) {
      for (const auto& e : m["metrics"])
        if (e["variant"] == cell["variant"] && e["cohort"] == cell["cohort"])
          EXPECT_DOUBLE_EQ(cell["auc"][k].get<double>(), e["auc"].get<double>()) << cell["variant"] << cell["cohort"];
    }
    // The test set's clinical oracle AUC, by hand from truth.csv (ties count 1/2).
    std::ifstream truth(work / "out" / ("seed-" + std::to_string(seed)) / "data" / "truth.csv");
    std::string line;
    std::getline(truth, line);
    std::vector<std::string> head;
    {
      std::stringstream hs(line);
      for (std::string c; std::getline(hs, c, ',');) head.push_back(c);
    }
    const auto col = [&](const std::string& n) { return std::find(head.begin(), head.end(), n) - head.begin(); };
    std::vector<double> pos, neg;
    while (std::getline(truth, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
      if (f[static_cast<std::size_t>(col("cohort"))] != "test_external") continue;
      (f[static_cast<std::size_t>(col("event"))] == "1" ? pos : neg).push_back(std::stod(f[static_cast<std::size_t>(col("oracle_clinical"))]));
    }
    ASSERT_EQ(pos.size() + neg.size(), 60u);
    double wins = 0;
    for (double a : pos)
      for (double c : neg) wins += a > c ? 1 : a == c ? 0.5 : 0;
    const double oracle = wins / static_cast<double>(pos.size() * neg.size());
    bool found = false;
    for (const auto& cell : b["cells"])
      if (cell["variant"] == "clinical" && cell["cohort"] == "test_external") {
        // truth.csv rounds the scores to 4 decimals (a rounded pair may tie).
        EXPECT_NEAR(cell["oracle_auc"][k].get<double>(), oracle, 0.005);
        EXPECT_NEAR(cell["ratio"][k].get<double>(), cell["auc"][k].get<double>() / cell["oracle_auc"][k].get<double>(), 1e-12);
        found = true;
      }
    EXPECT_TRUE(found);
    // The ladder's step = the study's own paired DeLong test of clinical against msm_tc.
    std::ifstream cmp(run / "comparisons.csv");
    std::getline(cmp, line);
    double p = -1, diff = 0;
    while (std::getline(cmp, line))
      if (line.rfind("clinical,msm_tc,test_external,", 0) == 0) {
        std::vector<std::string> f;
        std::stringstream ls(line);
        for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
        diff = std::stod(f[5]);
        p = std::stod(f[8]);
      }
    ASSERT_GE(p, 0);
    found = false;
    for (const auto& s : b["ladder"])
      if (s["lower"] == "clinical" && s["upper"] == "msm_tc" && s["cohort"] == "test_external") {
        EXPECT_NEAR(s["diff"][k].get<double>(), -diff, 1e-5);  // comparisons.csv: clinical - msm_tc
        EXPECT_NEAR(s["p"][k].get<double>(), p, 1e-5 * std::max(1.0, p));
        found = true;
      }
    EXPECT_TRUE(found);
  }
}

namespace {

// The sizes of tests/data/pretrained's checkpoints (scripts/make_pretrained_fixtures.py): a small
// torchvision ConvNeXt and the CrossViT reference, as an architecture file of the study.
fs::path write_fixture_arch(const fs::path& dir) {
  cervirisk::models::DataSizes s;
  s.clinical_features = 4;
  s.vocab_size = 64;
  auto a = cervirisk::models::make_arch("cpu-small", cervirisk::models::Variant::kMsmT, s);
  a.convnext.depths = {1, 1, 2, 1};
  a.convnext.dims = {8, 16, 32, 48};
  a.convnext.layer_scale_init = 0.5;
  a.convnext_context = false;
  a.vit.patch_size = {4, 8};
  a.vit.embed_dim = {16, 24};
  a.vit.num_heads = {2, 3};
  a.vit.mlp_ratio = {2.0, 2.0};
  a.vit.depth = {{1, 2, 0}, {1, 1, 0}};
  fs::create_directories(dir);
  std::ofstream(dir / "arch.json") << a.to_json().dump(2);
  return dir / "arch.json";
}

cervirisk::models::TensorMap bundle_weights(const fs::path& run, const std::string& v) {
  return cervirisk::models::read_safetensors(run / "models" / v / "weights.safetensors");
}

}  // namespace

// model.convnext_weights (torchvision .pth through `weights convert`), model.vit_weights (timm
// layout, other crop sizes) and text.pretrained (HF folder, 4 x 32 BERT with a 21128-token
// Chinese vocabulary) start every variant that has the branch: with learning rate 0 the bundles
// hold the checkpoints' tensors -- adapted to one MRI plane (summed RGB filters) and the crop
// sizes (interpolated positions) as documented -- and model.json says where they came from.
TEST(Study, PretrainedCheckpointsAreTheBundlesInitialWeights) {
  namespace m = cervirisk::models;
  const fs::path work = cohort_dir() / "pretrained";
  const std::string fx = std::string(CERV_TEST_DATA) + "/pretrained/";
  const fs::path tv = work / "convnext_timm.safetensors";
  fs::create_directories(work);
  auto c = run_cli("weights convert --from torchvision --weights " + fx + "convnext_tv.pth --out " + tv.string());
  ASSERT_EQ(c.code, 0) << c.err;
  const fs::path arch = write_fixture_arch(work);
  auto config = [&](const std::string& convnext_weights) {
    return slurp(cohort_dir() / "data" / "study.toml") + "\n[preprocess]\nneighbours = 0\ntumour_size_px = 32\n" +
           "context_size_px = 48\nworkers = 2\n[text]\npretrained = \"" + fx + "chinese_bert\"\npretrain_epochs = 0\n" +
           "max_length = 64\n[model]\narch_file = \"" + arch.string() + "\"\nconvnext_weights = \"" + convnext_weights +
           "\"\nvit_weights = \"" + fx + "crossvit_timm.safetensors\"\n[train]\nvariants = [\"convnext\", \"vit\", " +
           "\"msm\", \"msm_t\", \"msm_tc\"]\nepochs = 1\nlr = 0.0\nbackbone_lr = 0.0\nbatch_size = 16\naux_targets = []\n";
  };
  const fs::path pre = cohort_dir() / "data" / "pretrained.toml";  // the manifest is relative to it
  std::ofstream(pre) << config(tv.string());
  const fs::path run = work / "run";
  auto r = run_cli("study --no-report --config " + pre.string() + " --out " + run.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  const auto convnext = m::read_safetensors(tv);
  const auto vit = m::read_safetensors(fx + "crossvit_timm.safetensors");
  const auto vit_io = m::read_safetensors(fx + "crossvit_io.safetensors");
  const auto bert = m::read_safetensors(fx + "chinese_bert/model.safetensors");
  auto expect_branch = [&](const m::TensorMap& w, const std::string& v, const char* prefix, const m::TensorMap& ck) {
    int compared = 0;
    for (const auto& [k, t] : ck) {
      std::string name = k;
      if (std::string(prefix) == "text.") {
        if (k.rfind("bert.", 0) != 0) continue;  // the MLM head is not part of the encoder
        name = k.substr(5);
      }
      if (name.rfind("head.", 0) == 0 || name == "stem.0.weight" || name.rfind("patch_embed.", 0) == 0 ||
          name.rfind("pos_embed", 0) == 0)
        continue;  // the classifier (dropped) and the adapted tensors (below)
      const auto it = w.find(prefix + name);
      ASSERT_NE(it, w.end()) << v << ": " << prefix << name;
      EXPECT_TRUE(torch::equal(it->second, t)) << v << ": " << prefix << name;
      ++compared;
    }
    EXPECT_GT(compared, 10) << v;
  };
  for (const char* v : {"convnext", "msm", "msm_t", "msm_tc"}) {
    const auto w = bundle_weights(run, v);
    expect_branch(w, v, "convnext.", convnext);
    EXPECT_TRUE(torch::allclose(w.at("convnext.stem.0.weight"), convnext.at("stem.0.weight").sum(1, true), 1e-6, 1e-7)) << v;
  }
  for (const char* v : {"vit", "msm", "msm_t", "msm_tc"}) {
    const auto w = bundle_weights(run, v);
    expect_branch(w, v, "vit.", vit);
    for (int d = 0; d < 2; ++d) {
      const std::string pe = "pos_embed_" + std::to_string(d), proj = "patch_embed." + std::to_string(d) + ".proj.";
      EXPECT_TRUE(torch::allclose(w.at("vit." + pe), vit_io.at(pe), 1e-5, 1e-6)) << v << " " << pe;
      EXPECT_TRUE(torch::allclose(w.at("vit." + proj + "weight"), vit.at(proj + "weight").sum(1, true), 1e-6, 1e-7));
      EXPECT_TRUE(torch::equal(w.at("vit." + proj + "bias"), vit.at(proj + "bias")));
    }
  }
  for (const char* v : {"msm_t", "msm_tc"}) {
    expect_branch(bundle_weights(run, v), v, "text.", bert);
    EXPECT_EQ(bundle_weights(run, v).at("text.embeddings.word_embeddings.weight").size(0), 21128);
  }

  const auto mj = json::parse(slurp(run / "models" / "msm_t" / "model.json"));
  ASSERT_EQ(mj["initialisation"].size(), 3u) << mj["initialisation"].dump(2);
  std::map<std::string, json> by_part;
  for (const auto& i : mj["initialisation"]) by_part[i["part"].get<std::string>()] = i;
  EXPECT_EQ(by_part["convnext"]["file"], "convnext_timm.safetensors");
  EXPECT_EQ(by_part["convnext"]["sha256"], cervirisk::sha256_file(tv));
  EXPECT_NE(by_part["convnext"]["note"].get<std::string>().find("from 3 to 1 planes"), std::string::npos);
  EXPECT_EQ(by_part["vit"]["sha256"], cervirisk::sha256_file(fx + "crossvit_timm.safetensors"));
  EXPECT_NE(by_part["vit"]["note"].get<std::string>().find("pos_embed_0 interpolated from 16 to 64 tokens"),
            std::string::npos) << by_part["vit"]["note"];
  EXPECT_EQ(by_part["text"]["file"], "chinese_bert/model.safetensors");
  EXPECT_EQ(by_part["text"]["sha256"], cervirisk::sha256_file(fx + "chinese_bert/model.safetensors"));
  EXPECT_EQ(json::parse(slurp(run / "models" / "convnext" / "model.json"))["initialisation"].size(), 1u);

  // A checkpoint that does not fit (the CrossViT file as ConvNeXt weights): exit 4, the tensors named.
  const fs::path bad_cfg = cohort_dir() / "data" / "pretrained_bad.toml";
  std::ofstream(bad_cfg) << config(fx + "crossvit_timm.safetensors");
  auto bad = run_cli("study --no-report --variants convnext --config " + bad_cfg.string() + " --out " +
                     (work / "bad_run").string());
  EXPECT_EQ(bad.code, 4) << bad.err;
  EXPECT_NE(bad.err.find("model.convnext_weights"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("missing: head.norm.bias head.norm.weight stages.0.blocks.0.conv_dw.bias"), std::string::npos) << bad.err;
}

// model.preset = "paper" (ConvNeXt-T, CrossViT-tiny, BERT-base sizes at 240 / 224 px) runs the
// whole study -- every variant, explanations and report -- on a small cohort.
TEST(Study, PaperPresetCompletesOnASmallCohort) {
  const fs::path work = cohort_dir() / "paper";
  fs::create_directories(work);
  const fs::path cfg = cohort_dir() / "data" / "paper.toml";
  std::ofstream(cfg) << slurp(cohort_dir() / "data" / "study.toml")
                                     << "\n[model]\npreset = \"paper\"\n[text]\nvocab_size = 300\nmax_length = 48\n"
                                        "pretrain_epochs = 1\n[train]\nepochs = 1\nwarmup_epochs = 0.5\n"
                                        "[explain]\nbackground = 8\nkernel_samples = 64\n";
  const fs::path run = work / "run";
  auto r = run_cli("study --config " + cfg.string() + " --out " + run.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"run.json", "metrics.json", "report.html", "config.toml"}) EXPECT_TRUE(fs::exists(run / f)) << f;
  const auto mj = json::parse(slurp(run / "models" / "msm_tc" / "model.json"));
  EXPECT_EQ(mj["preset"], "paper");
  EXPECT_EQ(mj["arch"]["tumour_size"], 240);
  EXPECT_EQ(mj["arch"]["context_size"], 224);
  EXPECT_EQ(mj["arch"]["fusion_dim"], 256);
  EXPECT_EQ(metrics_of(run)["variants"].size(), 6u);
}
