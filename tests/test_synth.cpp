// The synthetic cohort generator: marginals against the model in docs/data-format.md over a large sample
// (biology only, fast), the oracle AUCs' shape, house styles of the reports, image geometry as
// nibabel reads the written files (goldens: scripts/make-synth-goldens.py), byte-identical
// output whatever the thread count, and `synth` + `validate` through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "data/cohort.h"
#include "data/synth.h"
#include "data/utf8.h"
#include "io/nifti.h"
#include "synth_seeds.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace cervirisk;
using namespace cervirisk::data;
using cervirisk::testing::TempDir;

namespace {

const std::vector<SynthPatient>& big_sample() {
  static const std::vector<SynthPatient> ps = [] {
    SynthOptions o;
    o.patients = 20000;
    o.seed = 99;
    return synth_biology(o, center_profiles(3, "auto"));
  }();
  return ps;
}

template <typename F>
double frac(const std::vector<SynthPatient>& ps, F f) {
  double n = 0;
  for (const auto& p : ps) n += f(p) ? 1 : 0;
  return n / static_cast<double>(ps.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

TEST(SynthBiology, MarginalsWithinSynthMdTolerances) {
  const auto& ps = big_sample();
  // Centre sizes 200 / 130 / 115 of 445.
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.center == 0; }), 200.0 / 445, 1e-3);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.center == 2; }), 115.0 / 445, 1e-3);
  // Age ~ N(48, 9) clipped 25-75.
  double age = 0;
  for (const auto& p : ps) {
    age += p.age;
    ASSERT_GE(p.age, 25);
    ASSERT_LE(p.age, 75);
  }
  EXPECT_NEAR(age / ps.size(), 48, 0.4);
  // Histology.
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.histology == 0; }), 0.865, 0.02);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.histology == 1; }), 0.11, 0.02);
  std::vector<SynthPatient> c_only;
  for (const auto& p : ps)
    if (p.center == 2) c_only.push_back(p);
  EXPECT_NEAR(frac(c_only, [](const auto& p) { return p.histology == 1; }), 0.15, 0.025);
  // Tumour size: median 2.8 cm, 10-90 % ~1.5-4.8 cm.
  std::vector<double> size;
  for (const auto& p : ps) size.push_back(p.size_cm);
  std::sort(size.begin(), size.end());
  EXPECT_NEAR(size[size.size() / 2], 2.8, 0.1);
  EXPECT_NEAR(size[size.size() / 10], 1.5, 0.15);
  EXPECT_NEAR(size[size.size() * 9 / 10], 4.8, 0.3);
  // Pathology prevalences.
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.dsi; }), 0.60, 0.03);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.lvsi; }), 0.375, 0.03);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.nodes; }), 0.20, 0.025);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.parametrium; }), 0.065, 0.015);
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.margin; }), 0.03, 0.012);
  // Pre-operative stage mix: mostly IB1-IIA (SYNTH.md: IB1 28, IB2 33, IB3 10, IIA1 10, IIA2 4 %).
  std::array<double, 7> stage{};
  for (const auto& p : ps) stage[static_cast<std::size_t>(p.preop_stage)] += 1.0 / ps.size();
  EXPECT_NEAR(stage[0], 0.22, 0.07);
  EXPECT_NEAR(stage[1], 0.38, 0.07);
  EXPECT_NEAR(stage[2], 0.10, 0.05);
  EXPECT_NEAR(stage[3] + stage[4], 0.12, 0.05);
  EXPECT_GT(stage[0] + stage[1] + stage[2] + stage[3] + stage[4], 0.78);
  // SCC-Ag: median ~1.8 ng/mL, missing 10-25 %, more at centre B.
  std::vector<double> scc;
  for (const auto& p : ps) scc.push_back(p.scc_ag);
  EXPECT_NEAR(median(scc), 1.8, 0.25);
  const double miss = frac(ps, [](const auto& p) { return p.scc_missing; });
  EXPECT_GT(miss, 0.10);
  EXPECT_LT(miss, 0.25);
  std::array<double, 3> miss_c{}, n_c{};
  for (const auto& p : ps) miss_c[static_cast<std::size_t>(p.center)] += p.scc_missing, n_c[static_cast<std::size_t>(p.center)] += 1;
  EXPECT_GT(miss_c[1] / n_c[1], miss_c[0] / n_c[0] + 0.05);
  // Outcome: recurrence 15 %, median time to recurrence 12-16 months, ~75 % within 24 months.
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.event; }), 0.15, 0.012);
  std::vector<double> t;
  double by24 = 0;
  for (const auto& p : ps)
    if (p.event) t.push_back(p.time_months), by24 += p.time_months <= 24;
  EXPECT_GE(median(t), 12);
  EXPECT_LE(median(t), 16);
  EXPECT_NEAR(by24 / t.size(), 0.75, 0.07);
  // Events at follow-up visits: every 3 months for 2 years, then 6-monthly (+-0.5 month).
  for (const auto& p : ps) {
    if (!p.event) continue;
    const double base = p.time_months <= 24.5 ? 3.0 : 6.0;
    const double off = p.time_months <= 24.5 ? 0.0 : 24.0;
    const double r = std::fmod(p.time_months - off + 0.5 + 1e-9, base);
    ASSERT_LE(r, 1.0 + 1e-6) << p.id << " " << p.time_months;
  }
  // 7 % lost to follow-up, uniformly over each patient's 36-120 months: about half of them
  // before the 36 months of administrative follow-up that centres A and B give everyone.
  std::vector<SynthPatient> ab;
  for (const auto& p : ps)
    if (p.center != 2) ab.push_back(p);
  EXPECT_NEAR(frac(ab, [](const auto& p) { return !p.event && p.time_months < 36; }), 0.035, 0.012);
}

TEST(SynthBiology, ConfoundingByIndication) {
  // Crude: adjuvant therapy goes with more recurrences (it is given to high-risk patients) ...
  const auto& ps = big_sample();
  double ev_t = 0, n_t = 0, ev_u = 0, n_u = 0;
  for (const auto& p : ps) (p.adjuvant ? ev_t : ev_u) += p.event, (p.adjuvant ? n_t : n_u) += 1;
  EXPECT_GT(ev_t / n_t, 1.5 * ev_u / n_u);
  // ... while within the same indication (Peters-positive) it protects.
  double e1 = 0, n1 = 0, e0 = 0, n0 = 0;
  for (const auto& p : ps) {
    if (!(p.nodes || p.parametrium || p.margin)) continue;
    (p.adjuvant ? e1 : e0) += p.susceptible, (p.adjuvant ? n1 : n0) += 1;
  }
  ASSERT_GT(n0, 50);
  EXPECT_LT(e1 / n1, e0 / n0);
  // Peters-positive -> chemoradiation 85-95 %.
  double crt = 0, peters = 0;
  for (const auto& p : ps)
    if (p.nodes || p.parametrium || p.margin) peters += 1, crt += p.adjuvant == 2;
  EXPECT_NEAR(crt / peters, 0.90, 0.03);
}

TEST(SynthBiology, RecurrenceRateOptionAndSeedMatter) {
  SynthOptions o;
  o.patients = 8000;
  o.recurrence_rate = 0.25;
  const auto ps = synth_biology(o, center_profiles(3, "auto"));
  EXPECT_NEAR(frac(ps, [](const auto& p) { return p.event; }), 0.25, 0.02);
  o.patients = 50;
  const auto a = synth_biology(o, center_profiles(3, "auto"));
  o.seed += 1;
  const auto b = synth_biology(o, center_profiles(3, "auto"));
  EXPECT_NE(a[0].z, b[0].z);
  EXPECT_EQ(a[0].id, "A001");
  EXPECT_THROW(synth_biology(o, center_profiles(9, "auto")), ConfigError);
}

TEST(SynthOracle, HasThePapersShape) {
  // In distribution (centres A+B) vs the external centre C, on the large sample.
  const auto& ps = big_sample();
  const auto rows = oracle_table(ps, center_profiles(3, "auto"), 99);
  ASSERT_EQ(rows.size(), 3u);
  const auto& in = rows[0];
  const auto& ext = rows[2];
  EXPECT_EQ(ext.cohort, "external");
  EXPECT_NEAR(in.auc_image, 0.80, 0.04);
  EXPECT_GE(in.auc_image_report - in.auc_image, 0.02);
  EXPECT_LE(in.auc_image_report - in.auc_image, 0.10);
  EXPECT_GE(in.auc_all - in.auc_image_report, 0.02);
  EXPECT_LE(in.auc_all - in.auc_image_report, 0.10);
  EXPECT_LT(in.auc_report, in.auc_image);
  EXPECT_LT(in.auc_clinical, in.auc_all);
  EXPECT_LT(ext.auc_image, in.auc_image - 0.03);
  EXPECT_LT(ext.auc_all, in.auc_all);
  // A tiny hand-checkable AUC: pairs (pos, neg) = (3,1) (3,2) (2,1) (2,2 tie) -> (1 + 1 + 1 + 0.5) / 4.
  EXPECT_DOUBLE_EQ(mann_whitney_auc({1, 2, 2, 3}, {0, 0, 1, 1}), 0.875);
}

TEST(SynthReports, HouseStylesAndFacts) {
  SynthOptions o;
  o.patients = 60;
  const auto centers = center_profiles(3, "auto");
  const auto ps = synth_biology(o, centers);
  int seen[3] = {0, 0, 0};
  for (const auto& p : ps) {
    const std::string r = synth_report(p, centers[static_cast<std::size_t>(p.center)]);
    if (!p.has_report) {
      EXPECT_TRUE(r.empty());
      continue;
    }
    ASSERT_EQ(utf8_invalid_offset(r), std::string_view::npos) << p.id;
    ++seen[p.center];
    if (p.center == 0) {
      EXPECT_NE(r.find("影像所见"), std::string::npos) << r;
    }
    if (p.center == 1) {
      EXPECT_NE(r.find("诊断意见"), std::string::npos) << r;
    }
    if (p.center == 2) {
      // The third centre's own Chinese style: bracketed headings, numbered impressions.
      EXPECT_NE(r.find("【检查所见】"), std::string::npos) << r;
      EXPECT_NE(r.find("【影像学诊断】\n1. 宫颈"), std::string::npos) << r;
      EXPECT_EQ(r.find("影像所见"), std::string::npos) << r;
      EXPECT_NE(r.find(p.read_depth >= 0.5 ? "间质环" : "侵犯深度<1/2"), std::string::npos) << r;
    }
    // The impression carries the stage read from the images, "r" for nodes on imaging.
    const std::string stage = std::string(kStages[static_cast<std::size_t>(p.read_stage)]) + (p.read_stage == 6 ? "r" : "");
    EXPECT_NE(r.find(stage), std::string::npos) << r;
    // Nodes called on imaging are mentioned with their side.
    if (p.read_nodes) {
      EXPECT_NE(r.find(p.node_side > 0 ? "左侧" : "右侧"), std::string::npos) << r;
    }
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  const auto en = center_profiles(3, "en");
  EXPECT_NE(synth_report(ps[0], en[0]).find("IMPRESSION:"), std::string::npos);
  // One centre in English (the stress test of the tokenizer and the domain shift).
  const auto c_en = center_profiles(3, "auto", parse_report_languages("C=en"));
  EXPECT_EQ(c_en[0].lang, "zh");
  EXPECT_EQ(c_en[1].lang, "zh");
  EXPECT_EQ(c_en[2].lang, "en");
  for (const auto& p : ps)
    if (p.center == 2 && p.has_report) {
      const std::string r = synth_report(p, c_en[2]);
      EXPECT_NE(r.find("FINDINGS:"), std::string::npos) << r;
      EXPECT_NE(r.find("FIGO 2018 stage"), std::string::npos) << r;
    }
  // The reports of A and B do not depend on what C writes.
  EXPECT_EQ(synth_report(ps[0], c_en[0]), synth_report(ps[0], centers[0]));
  EXPECT_EQ(parse_report_languages("A=zh,C=en"), (std::map<std::string, std::string>{{"A", "zh"}, {"C", "en"}}));
  for (const char* bad : {"C", "C=", "=en", "C=en,"}) EXPECT_THROW(parse_report_languages(bad), ConfigError) << bad;
  try {
    center_profiles(3, "auto", {{"D", "en"}});
    ADD_FAILURE() << "no error for an unknown centre";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'D', which is not one of A, B, C"), std::string::npos) << e.what();
  }
  EXPECT_THROW(center_profiles(3, "auto", {{"C", "fr"}}), ConfigError);
}

// The large test set: the same generative process, other patients. It leaves the study's
// patients, their files and their split as they are, is marked in the manifest's cohort column,
// and draws the external set from the external centre and the internal set from the training
// centres in their shares.
TEST(SynthTestSet, SameStudyCohortPlusMarkedTestPatients) {
  SynthOptions o;
  o.patients = 60;
  o.images = false;
  o.seed = 21;
  const TempDir tmp("synth_test_set");
  const auto plain = write_synthetic_cohort(o, tmp / "plain");
  o.test_external = 150;
  o.test_internal = 66;
  const auto with = write_synthetic_cohort(o, tmp / "with");
  ASSERT_EQ(with.patients.size(), 60u + 150 + 66);
  for (std::size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(with.patients[i].id, plain.patients[i].id);
    EXPECT_EQ(with.patients[i].z, plain.patients[i].z);
    EXPECT_EQ(with.patients[i].event, plain.patients[i].event);
    EXPECT_TRUE(with.patients[i].test_cohort.empty());
  }
  int ext = 0, in_a = 0, in_b = 0;
  for (std::size_t i = 60; i < with.patients.size(); ++i) {
    const auto& p = with.patients[i];
    EXPECT_EQ(p.id[0], 'T') << p.id;
    EXPECT_EQ(p.id.size(), 7u) << p.id;
    if (p.test_cohort == "test_external") {
      ++ext;
      EXPECT_EQ(p.center, 2) << p.id;
    } else {
      EXPECT_EQ(p.test_cohort, "test_internal") << p.id;
      EXPECT_NE(p.center, 2) << p.id;
      (p.center == 0 ? in_a : in_b)++;
    }
  }
  EXPECT_EQ(ext, 150);
  EXPECT_EQ(in_a, 40);  // shares 200 : 130 of 66 patients: 40 and 26
  EXPECT_EQ(in_b, 26);
  // Every file of the plain cohort but the tables is unchanged; reports of the study's patients too.
  for (const auto& e : fs::directory_iterator(tmp / "plain" / "reports"))
    EXPECT_EQ(read_file(e.path()), read_file(tmp / "with" / "reports" / e.path().filename())) << e.path();
  const Cohort a = load_cohort(config::Config::load(tmp / "plain" / "study.toml"), false);
  const Cohort b = load_cohort(config::Config::load(tmp / "with" / "study.toml"), false);
  EXPECT_FALSE(b.has_errors());
  for (std::size_t i = 0; i < a.patients.size(); ++i) EXPECT_EQ(a.patients[i].cohort, b.patients[i].cohort) << a.patients[i].id;
  EXPECT_EQ(b.in(CohortKind::kTestExternal).size(), 150u);
  EXPECT_EQ(b.in(CohortKind::kTestInternal).size(), 66u);
  // The oracle table gets the test cohorts' rows, computed on those patients.
  ASSERT_EQ(with.oracle.size(), 5u);
  EXPECT_EQ(with.oracle[4].cohort, "test_external");
  EXPECT_EQ(with.oracle[4].n, 150);
  std::vector<double> score;
  std::vector<int> y;
  for (const auto& p : with.patients)
    if (p.test_cohort == "test_external") score.push_back(p.oracle_image), y.push_back(p.event);
  EXPECT_DOUBLE_EQ(with.oracle[4].auc_image, mann_whitney_auc(score, y));
  for (std::size_t k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(with.oracle[k].auc_all, plain.oracle[k].auc_all);
}

namespace {
std::map<std::string, std::string> hashes(const fs::path& root) {
  std::map<std::string, std::string> h;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) h[fs::relative(e.path(), root).string()] = sha256_file(e.path());
  return h;
}
}  // namespace

TEST(SynthWriter, ByteIdenticalWhateverTheThreads) {
  SynthOptions o;
  o.patients = 9;
  o.size = SynthSize::kSmall;
  o.threads = 1;
  const TempDir tmp("synth_det");
  const fs::path a = tmp / "a", b = tmp / "b";  // the writer creates them
  write_synthetic_cohort(o, a);
  o.threads = 3;
  write_synthetic_cohort(o, b);
  const auto ha = hashes(a), hb = hashes(b);
  EXPECT_EQ(ha.size(), 9u * 2 + 4 + static_cast<std::size_t>(std::count_if(ha.begin(), ha.end(), [](const auto& kv) {
                         return kv.first.rfind("reports/", 0) == 0;
                       })));
  EXPECT_EQ(ha, hb);
  o.seed = 5;
  const fs::path c = tmp / "c";
  write_synthetic_cohort(o, c);
  EXPECT_NE(ha.at("manifest.csv"), hashes(c).at("manifest.csv"));
}

TEST(SynthWriter, CohortPassesEveryGuard) {
  SynthOptions o;
  o.patients = 30;
  o.size = SynthSize::kSmall;
  const TempDir tmp("synth_guards");
  const fs::path d = tmp / "cohort";
  const auto s = write_synthetic_cohort(o, d);
  Cohort c = load_cohort(config::Config::load(d / "study.toml"), false);
  const auto geo = check_images(c, 2);
  for (const auto& f : c.findings) EXPECT_NE(f.severity, Severity::kError) << f.guard << ": " << f.message;
  EXPECT_EQ(c.patients.size(), 30u);
  EXPECT_EQ(c.schema.size(), 10u);
  EXPECT_EQ(c.in(CohortKind::kExternal).size(), static_cast<std::size_t>(std::count_if(
                                                    s.patients.begin(), s.patients.end(), [](const auto& p) { return p.center == 2; })));
  const auto table = cohort_table(c, &geo);
  ASSERT_EQ(table.geometry.size(), 3u);
  EXPECT_FALSE(table.geometry[0].oblique);
  EXPECT_TRUE(table.geometry[1].oblique);
  // The mask covers the tumour (annotator jitter keeps it within ~15 % of the true volume).
  for (const auto& p : c.patients) {
    const io::Volume m = io::read_nifti(p.mask);
    double n = 0;
    for (float v : m.voxels) n += v > 0.5f;
    EXPECT_GT(n, 0) << p.id;
  }
}

// Seed 11 once wrote an empty mask for C003: a tumour smaller than the coarse voxels of --size
// small fell between their centres (synth_images.cpp: mask_at_least_the_centre_voxel). The 200
// seeds and the default size are in test_synth_seeds.cpp (label slow).
TEST(SynthValid, SmallSizeSeeds0To29) { cervirisk::testing::expect_seeds_validate(0, 30, SynthSize::kSmall); }

// Goldens: nibabel's view of a small cohort (shape, affine, dtype, voxel sums).
TEST(SynthImages, GeometryAsNibabelReadsIt) {
  const auto golden = nlohmann::json::parse(read_file(fs::path(CERV_TEST_DATA) / "data" / "synth_nibabel.json"));
  SynthOptions o;
  o.patients = golden["patients"].get<int>();
  o.seed = golden["seed"].get<std::uint64_t>();
  o.size = SynthSize::kSmall;
  const auto centers = center_profiles(3, "auto");
  const auto ps = synth_biology(o, centers);
  const TempDir tmp("synth_nibabel");
  const fs::path d = tmp / "cohort";
  fs::create_directories(d);
  std::size_t checked = 0;
  for (const auto& p : ps) {
    if (!golden["images"].contains(p.id)) continue;
    const auto& g = golden["images"][p.id];
    const auto im = synth_images(p, centers[static_cast<std::size_t>(p.center)], o.size);
    // The geometry the generator claims ...
    const auto aff = im.image.geometry.affine_ras();
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) EXPECT_NEAR(aff[r][c], g["affine"][r][c].get<double>(), 1e-4) << p.id;
    for (int k = 0; k < 3; ++k) EXPECT_EQ(im.image.geometry.shape[k], g["shape"][k].get<std::int64_t>());
    // ... is what nibabel reads from the file written for it, voxel for voxel.
    double sum = 0, msum = 0;
    for (float v : im.image.voxels) sum += v;
    for (float v : im.mask.voxels) msum += v;
    EXPECT_EQ(sum, g["sum"].get<double>()) << p.id;
    EXPECT_EQ(msum, g["mask_sum"].get<double>()) << p.id;
    EXPECT_EQ(g["dtype"].get<std::string>(), "int16");
    EXPECT_EQ(g["mask_dtype"].get<std::string>(), "uint8");
    io::write_nifti(im.image, d / "x.nii.gz", io::NiftiDtype::kInt16);
    const io::Volume back = io::read_nifti(d / "x.nii.gz");
    const auto aff2 = back.geometry.affine_ras();
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) EXPECT_NEAR(aff2[r][c], g["affine"][r][c].get<double>(), 1e-4) << p.id;
    EXPECT_EQ(sha256_file(d / "x.nii.gz").empty(), false);
    ++checked;
  }
  EXPECT_EQ(checked, golden["images"].size());
  EXPECT_GE(checked, 3u);
}

namespace {
struct CliRun {
  int rc;
  std::string out;
};
CliRun run(const std::string& args) {
  const std::string cmd = std::string(CERV_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
}  // namespace

TEST(SynthCli, SynthThenValidate) {
  const TempDir tmp("synth_cli");
  const fs::path d = tmp / "cohort";
  const CliRun s = run("synth --size small --patients 24 --seed 3 --out " + d.string());
  ASSERT_EQ(s.rc, 0) << s.out;
  EXPECT_NE(s.out.find("oracle AUC"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("external"), std::string::npos) << s.out;
  const CliRun v = run("validate --config " + (d / "study.toml").string());
  ASSERT_EQ(v.rc, 0) << v.out;
  EXPECT_NE(v.out.find("image geometry per centre"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("(oblique)"), std::string::npos) << v.out;
  EXPECT_TRUE(fs::exists(d / "out" / "validate" / "cohort_table.json"));
  // A leaking manifest: the first patient's row duplicated -> exit 5 naming the patient.
  std::string m = read_file(d / "manifest.csv");
  const auto first = m.find('\n') + 1;
  m += m.substr(first, m.find('\n', first) - first + 1);
  write_file_atomic(d / "manifest.csv", m);
  const CliRun bad = run("validate --no-images --config " + (d / "study.toml").string());
  EXPECT_EQ(bad.rc, 5) << bad.out;
  EXPECT_NE(bad.out.find("[duplicate_id]"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("A001"), std::string::npos) << bad.out;
}
