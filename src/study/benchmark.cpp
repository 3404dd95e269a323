// `cervirisk benchmark` (study.h run_benchmark, docs/benchmark.md): how much of the signal the
// simulation put into each modality every variant extracts, over K seeds, on the study's external
// cohort and on the large held-out test set.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/log.h"
#include "core/progress.h"
#include "runfolder/layout.h"
#include "stats/delong.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

namespace {

// The oracle each variant is measured against: what an ideal reader of its modalities knows.
const std::vector<std::pair<std::string, std::string>> kOracleOf = {
    {"clinical", "clinical"}, {"convnext", "image"},      {"vit", "image"},
    {"msm", "image"},         {"msm_t", "image_report"}, {"msm_tc", "all"}};
// The paper's ladder: each step must add what its modality or scale brings.
const std::vector<std::pair<std::string, std::string>> kLadder = {
    {"convnext", "msm"}, {"vit", "msm"}, {"msm", "msm_t"}, {"msm_t", "msm_tc"}, {"clinical", "msm_tc"}};

std::string oracle_of(const std::string& variant) {
  for (const auto& [v, o] : kOracleOf)
    if (v == variant) return o;
  return "all";
}

double oracle_auc(const data::OracleRow& r, const std::string& which) {
  if (which == "image") return r.auc_image;
  if (which == "image_report") return r.auc_image_report;
  if (which == "clinical") return r.auc_clinical;
  if (which == "report") return r.auc_report;
  return r.auc_all;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  return n ? s / n : NAN;
}

double sd(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += (x - m) * (x - m), ++n;
  return n > 1 ? std::sqrt(s / (n - 1)) : NAN;
}

std::string load_text() {
  std::ifstream f("/proc/loadavg");
  std::string a;
  f >> a;
  return a.empty() ? "?" : a;
}

data::SynthOptions synth_options(const BenchmarkOptions& o, std::uint64_t seed) {
  data::SynthOptions so;
  so.patients = o.patients;
  so.seed = seed;
  so.threads = o.threads;
  so.report_language = o.report_language;
  so.test_external = o.test_patients;
  so.test_internal = o.test_internal_patients;
  return so;
}

// The study's config for one seed: the cohort's study.toml, the demo's settings, then the
// benchmark's settings file over both.
std::string study_config(const BenchmarkOptions& o, const fs::path& data_dir) {
  std::string text = read_file(data_dir / "study.toml") + kDemoToml;
  if (!o.settings.empty()) {
    if (!fs::exists(o.settings)) throw InputError("benchmark --settings: file not found: " + o.settings.string());
    text = config::merge_toml(text, (data_dir / "study.toml").string() + " + demo settings", read_file(o.settings),
                              o.settings.string());
  }
  return text;
}

// One seed: synth + study (or the finished run, with --resume).
BenchmarkSeedRun run_seed(const BenchmarkOptions& o, std::uint64_t seed, const std::vector<std::string>& variants) {
  BenchmarkSeedRun r;
  r.seed = seed;
  const fs::path dir = o.out / fmt::format("seed-{}", seed), data_dir = dir / "data", run = dir / "run";
  const auto so = synth_options(o, seed);
  // The oracle of a cohort already written, recomputed from the simulation (no files written).
  const auto simulated_oracle = [&] {
    const auto centers = data::center_profiles(so.centers, so.lang, so.report_language);
    return data::oracle_table(data::synth_biology(so, centers), centers, seed);
  };
  if (o.resume && fs::exists(run / "metrics.json") && fs::exists(data_dir / "truth.csv")) {
    r.oracle = simulated_oracle();
    log::info("benchmark seed {}: reusing {}", seed, run.string());
    return r;
  }
  // An interrupted seed whose cohort was written (study.toml is the synth's last file): the study
  // continues on it (--resume) instead of synthesising it again.
  if (o.resume && fs::exists(data_dir / "study.toml") && fs::exists(data_dir / "truth.csv")) {
    r.oracle = simulated_oracle();
    log::info("benchmark seed {}: reusing the cohort in {}", seed, data_dir.string());
  } else {
    Progress bar(fmt::format("synth seed {}", seed), so.patients + so.test_external + so.test_internal);
    const auto s = data::write_synthetic_cohort(so, data_dir, [&](int, int) { bar.tick(); });
    bar.finish();
    r.oracle = s.oracle;
    r.synth_seconds = s.seconds;
  }
  write_file_atomic(data_dir / "benchmark.toml", study_config(o, data_dir));
  StudyOptions st;
  st.config = data_dir / "benchmark.toml";
  st.out = run;
  st.variants = variants;
  st.report = false;
  st.command = "benchmark";
  st.resume = o.resume && fs::exists(run);
  const auto t0 = std::chrono::steady_clock::now();
  run_study(st);
  r.study_seconds = StepTimer::since(t0);
  return r;
}

// Logits and labels of one cohort, aligned by patient over two variants' predictions.
struct Paired {
  std::vector<double> lower, upper;
  std::vector<int> label;
};
Paired paired(const std::vector<runfolder::Prediction>& lo, const std::vector<runfolder::Prediction>& up,
              const std::string& cohort) {
  std::map<std::string, double> lo_of;
  for (const auto& p : lo)
    if (p.cohort == cohort && p.has_label()) lo_of[p.id] = p.logit;
  Paired out;
  for (const auto& p : up) {
    if (p.cohort != cohort || !p.has_label()) continue;
    const auto it = lo_of.find(p.id);
    if (it == lo_of.end()) continue;
    out.lower.push_back(it->second);
    out.upper.push_back(p.logit);
    out.label.push_back(p.label);
  }
  return out;
}

std::string pm(const std::vector<double>& v, int digits = 3) {
  if (!std::isfinite(mean(v))) return "-";
  const double s = sd(v);
  return fmt::format("{:.{}f} ± {}", mean(v), digits, std::isfinite(s) ? fmt::format("{:.{}f}", s, digits) : "-");
}

std::string pval(double p) {
  if (!std::isfinite(p)) return "-";
  return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.4f}", p);
}

// The cohorts the tables show: the external cohort, then the test sets.
std::vector<std::string> shown_cohorts(const BenchmarkResult& b) {
  std::vector<std::string> out;
  for (const char* c : {"external", "test_external", "test_internal"})
    if (std::any_of(b.cells.begin(), b.cells.end(), [&](const BenchmarkCell& x) { return x.cohort == c && !x.auc.empty(); }))
      out.push_back(c);
  return out;
}

const BenchmarkCell* cell(const BenchmarkResult& b, const std::string& v, const std::string& c) {
  for (const auto& x : b.cells)
    if (x.variant == v && x.cohort == c) return &x;
  return nullptr;
}

std::vector<std::string> variants_of(const BenchmarkResult& b) {
  std::vector<std::string> vs;
  for (const auto& x : b.cells)
    if (std::find(vs.begin(), vs.end(), x.variant) == vs.end()) vs.push_back(x.variant);
  return vs;
}

// One oracle's AUC on one cohort, per seed.
std::vector<double> oracle_values(const BenchmarkResult& b, const std::string& cohort, const char* which) {
  std::vector<double> v;
  for (const auto& r : b.runs)
    for (const auto& row : r.oracle)
      if (row.cohort == cohort) v.push_back(oracle_auc(row, which));
  return v;
}

// The seeds on which the step goes up with p < 0.05, as "k/K".
std::string seeds_up(const BenchmarkStep& s) {
  int up = 0;
  for (std::size_t i = 0; i < s.diff.size(); ++i) up += s.diff[i] > 0 && s.p[i] < 0.05;
  return fmt::format("{}/{}", up, s.diff.size());
}

// "+d [+lo, +hi]": the pooled difference and its 95 % Wald interval.
std::string pooled_text(const BenchmarkStep& s) {
  constexpr double z = 1.959963984540054;
  return fmt::format("{:+.3f} [{:+.3f}, {:+.3f}]", s.pooled_diff, s.pooled_diff - z * s.pooled_se,
                     s.pooled_diff + z * s.pooled_se);
}

std::string seeds_text(const BenchmarkResult& b) {
  std::string s;
  for (const auto& r : b.runs) s += (s.empty() ? "" : ", ") + std::to_string(r.seed);
  return s;
}

}  // namespace

BenchmarkResult run_benchmark(const BenchmarkOptions& o) {
  if (o.seeds < 1) throw ConfigError("benchmark: --seeds must be >= 1");
  BenchmarkResult b;
  b.options = o;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string load_before = load_text();
  ensure_writable_dir(o.out);
  std::vector<std::string> variants = o.variants;
  if (variants.empty())
    for (const auto& [v, _] : kOracleOf) variants.push_back(v);
  for (const auto& v : variants) models::parse_variant(v);

  std::map<std::pair<std::string, std::string>, BenchmarkCell> cells;
  std::map<std::tuple<std::string, std::string, std::string>, BenchmarkStep> steps;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, double>> pooled;  // sum w d, sum w
  for (int k = 0; k < o.seeds; ++k) {
    const std::uint64_t seed = o.first_seed + static_cast<std::uint64_t>(k);
    BenchmarkSeedRun r = run_seed(o, seed, variants);
    const fs::path run = o.out / fmt::format("seed-{}", seed) / "run";
    const auto m = runfolder::read_metrics(run / "metrics.json");
    std::map<std::string, const data::OracleRow*> oracle;
    for (const auto& row : r.oracle) oracle[row.cohort] = &row;
    for (const auto& e : m.metrics) {
      if (!oracle.count(e.cohort) || std::find(variants.begin(), variants.end(), e.variant) == variants.end()) continue;
      auto& c = cells[{e.variant, e.cohort}];
      c.variant = e.variant, c.cohort = e.cohort, c.oracle = oracle_of(e.variant);
      const double oa = oracle_auc(*oracle.at(e.cohort), c.oracle);
      c.auc.push_back(e.auc);
      c.oracle_auc.push_back(oa);
      c.ratio.push_back(e.auc / oa);
    }
    std::map<std::string, std::vector<runfolder::Prediction>> preds;
    for (const auto& v : variants) preds[v] = runfolder::read_predictions(runfolder::predictions_file(run, v));
    for (const auto& [lo, up] : kLadder) {
      if (!preds.count(lo) || !preds.count(up)) continue;
      for (const char* cohort : {"external", "test_external", "test_internal"}) {
        const Paired pr = paired(preds.at(lo), preds.at(up), cohort);
        const auto cases = std::count(pr.label.begin(), pr.label.end(), 1);
        if (cases < 2 || static_cast<std::size_t>(cases) + 2 > pr.label.size()) continue;
        const auto d = stats::auc_delong_paired({pr.upper, pr.lower}, pr.label);
        const double var = d.cov(0, 0) + d.cov(1, 1) - 2 * d.cov(0, 1);
        auto& s = steps[{lo, up, cohort}];
        s.lower = lo, s.upper = up, s.cohort = cohort;
        s.diff.push_back(d.aucs[0].auc - d.aucs[1].auc);
        s.p.push_back(d.pairs[0].p);
        if (var > 0) {
          auto& acc = pooled[{lo, up, cohort}];
          acc.first += s.diff.back() / var;
          acc.second += 1 / var;
        }
      }
    }
    b.runs.push_back(std::move(r));
    // Written after every seed: an interrupted benchmark keeps what it measured.
    BenchmarkResult partial = b;
    for (const auto& [_, c] : cells) partial.cells.push_back(c);
    write_file_atomic(o.out / "benchmark.json", partial.json());
  }
  for (auto& [key, c] : cells) b.cells.push_back(c);
  // The variants' order (kOracleOf), the cohorts' order.
  const auto rank = [&](const std::string& v) {
    return std::find(variants.begin(), variants.end(), v) - variants.begin();
  };
  std::stable_sort(b.cells.begin(), b.cells.end(),
                   [&](const BenchmarkCell& a, const BenchmarkCell& c) { return rank(a.variant) < rank(c.variant); });
  for (const auto& [lo, up] : kLadder)
    for (const char* cohort : {"external", "test_external", "test_internal"}) {
      auto it = steps.find({lo, up, cohort});
      if (it == steps.end()) continue;
      BenchmarkStep s = it->second;
      const auto acc = pooled[{lo, up, cohort}];
      if (acc.second > 0) {
        s.pooled_diff = acc.first / acc.second;
        s.pooled_se = std::sqrt(1 / acc.second);
        s.pooled_p = std::erfc(std::fabs(s.pooled_diff / s.pooled_se) / std::sqrt(2.0));
      } else {
        s.pooled_diff = NAN, s.pooled_se = NAN, s.pooled_p = NAN;
      }
      b.ladder.push_back(s);
    }
  b.seconds = StepTimer::since(t0);
  b.machine = fmt::format("{} cores; load average (1 min) {} before, {} after", std::thread::hardware_concurrency(),
                          load_before, load_text());
  write_file_atomic(o.out / "benchmark.json", b.json());
  write_file_atomic(o.out / "benchmark.md", b.markdown());
  return b;
}

std::string BenchmarkResult::text() const {
  std::ostringstream t;
  const auto cohorts = shown_cohorts(*this);
  t << fmt::format("benchmark: {} seed(s) ({}), {} patients + {} test_external + {} test_internal; {}; {:.0f} s\n",
                   runs.size(), seeds_text(*this), options.patients, options.test_patients,
                   options.test_internal_patients, machine, seconds);
  t << "\nAUC mean ± sd over seeds, and its ratio to the matching oracle AUC\n";
  t << fmt::format("{:<9} {:<13}", "variant", "oracle");
  for (const auto& c : cohorts) t << fmt::format(" | {:<29}", c);
  t << "\n";
  for (const auto& v : variants_of(*this)) {
    t << fmt::format("{:<9} {:<13}", v, oracle_of(v));
    for (const auto& c : cohorts) {
      const auto* x = cell(*this, v, c);
      t << fmt::format(" | {:<29}", x ? pm(x->auc) + "  (" + fmt::format("{:.2f}x", mean(x->ratio)) + ")" : "-");
    }
    t << "\n";
  }
  for (const char* o : {"image", "image_report", "clinical", "all"}) {
    t << fmt::format("{:<9} {:<13}", "oracle", o);
    for (const auto& c : cohorts) t << fmt::format(" | {:<29}", pm(oracle_values(*this, c, o)));
    t << "\n";
  }
  t << "\nladder: paired DeLong per seed; pooled = inverse-variance (fixed-effect) over the seeds\n";
  t << fmt::format("{:<20} {:<13} {:>16} {:>10} {:>24} {:>9}\n", "step", "cohort", "dAUC mean ± sd", "up, p<.05",
                   "pooled dAUC [95% CI]", "pooled p");
  for (const auto& s : ladder)
    t << fmt::format("{:<20} {:<13} {:>16} {:>10} {:>24} {:>9}\n", s.lower + " -> " + s.upper, s.cohort, pm(s.diff),
                     seeds_up(s), pooled_text(s), pval(s.pooled_p));
  t << "\ntime per seed (s):";
  for (const auto& r : runs) t << fmt::format(" seed {}: synth {:.0f} + study {:.0f};", r.seed, r.synth_seconds, r.study_seconds);
  t << "\n";
  return t.str();
}

std::string BenchmarkResult::markdown() const {
  std::ostringstream t;
  const auto cohorts = shown_cohorts(*this);
  t << fmt::format("Seeds {} (K = {}), {} study patients + {} test_external + {} test_internal per seed; {}; "
                   "{:.0f} s in all.\n\n",
                   seeds_text(*this), runs.size(), options.patients, options.test_patients,
                   options.test_internal_patients, machine, seconds);
  t << "| variant | oracle |";
  for (const auto& c : cohorts) t << " " << c << " AUC | ratio |";
  t << "\n|---|---|";
  for (std::size_t i = 0; i < cohorts.size(); ++i) t << "---|---|";
  t << "\n";
  for (const auto& v : variants_of(*this)) {
    t << "| " << v << " | " << oracle_of(v) << " |";
    for (const auto& c : cohorts) {
      const auto* x = cell(*this, v, c);
      t << " " << (x ? pm(x->auc) : "-") << " | " << (x ? pm(x->ratio, 2) : "-") << " |";
    }
    t << "\n";
  }
  for (const char* o : {"image", "image_report", "clinical", "all"}) {
    t << "| *oracle* | " << o << " |";
    for (const auto& c : cohorts) t << " " << pm(oracle_values(*this, c, o)) << " | |";
    t << "\n";
  }
  t << "\n| step | cohort | ΔAUC mean ± sd | seeds up with p < 0.05 | pooled ΔAUC [95% CI] | pooled p |\n"
       "|---|---|---|---|---|---|\n";
  for (const auto& s : ladder)
    t << fmt::format("| {} → {} | {} | {} | {} | {} | {} |\n", s.lower, s.upper, s.cohort, pm(s.diff), seeds_up(s),
                     pooled_text(s), pval(s.pooled_p));
  t << "\n| seed | synth (s) | study (s) |\n|---|---|---|\n";
  for (const auto& r : runs) t << fmt::format("| {} | {:.0f} | {:.0f} |\n", r.seed, r.synth_seconds, r.study_seconds);
  return t.str();
}

std::string BenchmarkResult::json() const {
  nlohmann::json j;
  j["seeds"] = nlohmann::json::array();
  for (const auto& r : runs) {
    nlohmann::json s{{"seed", r.seed}, {"synth_seconds", r.synth_seconds}, {"study_seconds", r.study_seconds}};
    for (const auto& o : r.oracle)
      s["oracle"][o.cohort] = {{"n", o.n},
                               {"events", o.events},
                               {"all", o.auc_all},
                               {"image", o.auc_image},
                               {"report", o.auc_report},
                               {"clinical", o.auc_clinical},
                               {"image_report", o.auc_image_report}};
    j["seeds"].push_back(s);
  }
  const auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  const auto nums = [&](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(num(x));
    return a;
  };
  for (const auto& c : cells)
    j["cells"].push_back({{"variant", c.variant},
                          {"cohort", c.cohort},
                          {"oracle", c.oracle},
                          {"auc", nums(c.auc)},
                          {"oracle_auc", nums(c.oracle_auc)},
                          {"ratio", nums(c.ratio)},
                          {"auc_mean", num(mean(c.auc))},
                          {"auc_sd", num(sd(c.auc))},
                          {"ratio_mean", num(mean(c.ratio))}});
  for (const auto& s : ladder)
    j["ladder"].push_back({{"lower", s.lower},
                           {"upper", s.upper},
                           {"cohort", s.cohort},
                           {"diff", nums(s.diff)},
                           {"p", nums(s.p)},
                           {"pooled_diff", num(s.pooled_diff)},
                           {"pooled_se", num(s.pooled_se)},
                           {"pooled_p", num(s.pooled_p)}});
  j["options"] = {{"seeds", options.seeds},
                  {"first_seed", options.first_seed},
                  {"patients", options.patients},
                  {"test_patients", options.test_patients},
                  {"test_internal_patients", options.test_internal_patients},
                  {"report_language", options.report_language},
                  {"settings", options.settings.string()}};
  j["machine"] = machine;
  j["seconds"] = seconds;
  return j.dump(2) + "\n";
}

}  // namespace cervirisk::study
