// The order of the study's steps (study.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_lock.h"
#include "core/torch/runtime.h"
#include "runfolder/layout.h"
#include "study/steps.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

void StepTimer::add(const std::string& step, double seconds) {
  manifest_.add_timing(step, seconds);
  timings_[step] += seconds;
}

double StepTimer::since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

std::vector<StudyResult::Row> auc_table(const runfolder::Metrics& m) {
  std::vector<StudyResult::Row> rows;
  for (const auto& e : m.metrics) {
    StudyResult::Row r;
    r.variant = e.variant;
    r.cohort = e.cohort;
    r.n = e.n;
    r.events = e.events;
    r.auc = e.auc;
    r.lo = e.auc_ci ? e.auc_ci->lo : NAN;
    r.hi = e.auc_ci ? e.auc_ci->hi : NAN;
    rows.push_back(r);
  }
  return rows;
}

// Every variant x seed; the first seed's predictions are the run's, the others feed "seeds".
std::map<std::string, VariantPredictions> train_all(const VariantJob& base, const std::vector<std::string>& variants,
                                                    int seeds, StepTimer& timer,
                                                    std::vector<runfolder::Metrics>* per_seed) {
  std::map<std::string, VariantPredictions> first;
  for (int k = 0; k < seeds; ++k) {
    std::map<std::string, VariantPredictions> preds;
    for (const auto& v : variants) {
      VariantJob job = base;
      job.variant = v;
      job.seed_index = k;
      job.seeds = seeds;
      auto t = train_variant(job, timer);
      preds[v] = {std::move(t.predictions), t.threshold, t.cutpoint, std::move(t.selection)};
    }
    if (seeds > 1) per_seed->push_back(compute_metrics(*base.settings, variants, preds, nullptr, false));
    if (k == 0) first = std::move(preds);
  }
  return first;
}

// Explanations of one variant, then the report: rendered once. A failure is logged naming the
// step and kept in the result, so the caller can finish its own output before exiting with its code.
void explain_and_report(const fs::path& run, const std::string& variant, StudyResult& result) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    result.explained = explain_run(run, variant);
    if (!result.explained) log::info("explain: no {} model in {}, explanations skipped", variant, run.string());
  } catch (const std::exception& e) {
    log::error("{} (the study's other outputs are written)", e.what());
    result.failure = std::current_exception();
  }
  try {
    write_report(run);
  } catch (const Error& e) {
    log::error("report.html not written: {}", e.what());
    if (!result.failure) result.failure = std::current_exception();
  }
  result.timings["explain+report"] = StepTimer::since(t0);
}

}  // namespace

StudyResult run_study(const StudyOptions& options) {
  const auto t_all = std::chrono::steady_clock::now();
  auto cfg = config::Config::load(options.config);
  if (!device_override().empty()) cfg.set("train.device", device_override());
  use_bf16(cfg.get_string("train.precision"), parse_device(cfg.get_string("train.device")));  // exit 2 before any work
  const StudySettings settings = StudySettings::from_config(cfg);
  const fs::path run = options.out.empty() ? cfg.get_path("study.out_dir") : options.out;
  ensure_writable_dir(run);
  const RunFolderLock lock(run, options.command);  // one writer per run folder, until the report is written
  for (const char* d : {"predictions", "models", "explain"}) ensure_writable_dir(run / d);
  RunManifest manifest(options.command, settings.seed);
  manifest.set_runtime(runtime_info());
  manifest.set_config(cfg.hash(), fs::absolute(options.config).string());
  if (cfg.get_bool("study.synthetic")) manifest.set_field("synthetic", "true");
  if (cfg.get_int("study.threads") > 0) set_threads(static_cast<int>(cfg.get_int("study.threads")));
  set_deterministic(settings.deterministic);
  write_file_atomic(run / "config.toml", cfg.to_toml());
  const std::vector<std::string> variants = options.variants.empty() ? cfg.get_strings("train.variants") : options.variants;
  for (const auto& v : variants) models::parse_variant(v);
  if (settings.ladder_init)
    for (auto v = variants.begin(); v != variants.end(); ++v)
      for (const auto& src : ladder_sources(*v))
        if (std::find(variants.begin(), v, src) == v)
          throw ConfigError(fmt::format("train.fusion_init = \"ladder\": {} starts from {}, which is not trained before it "
                                        "(variants: {}); list {} earlier or set fusion_init = \"none\"",
                                        *v, src, fmt::join(variants, ", "), src));
  StudyResult result;
  result.run_dir = run;
  StepTimer timer(manifest, result.timings);

  auto t0 = std::chrono::steady_clock::now();
  const data::Cohort cohort = data::load_cohort(cfg);
  manifest.add_input("manifest", cohort.manifest);
  std::vector<float> labels;
  for (const auto& p : cohort.patients) labels.push_back(endpoint_label(settings, p));
  write_file_atomic(run / "cohorts.csv", data::cohort_table(cohort).csv());
  write_file_atomic(run / "table1.csv", table1_csv(cohort, labels));
  StudyFeatures features;
  fit_features(cfg, cohort, labels, run, features);
  timer.add("preprocess", StepTimer::since(t0));
  const SelectionPlan plan = selection_plan(settings, features.by_cohort[0], settings.seed);
  const StudyInit init = study_init(cfg, settings, variants, features, plan, timer);

  VariantJob job;
  job.cfg = &cfg;
  job.settings = &settings;
  job.features = &features;
  job.init = &init;
  job.run = run;
  job.resume = options.resume;
  std::vector<runfolder::Metrics> per_seed;
  const auto preds = train_all(job, variants, options.seeds, timer, &per_seed);

  t0 = std::chrono::steady_clock::now();
  std::vector<runfolder::Comparison> comparisons;
  runfolder::Metrics metrics = compute_metrics(settings, variants, preds, &comparisons);
  if (metrics.design) metrics.design->seeds = options.seeds;
  if (options.seeds > 1) metrics.seeds = seed_summary(per_seed, options.seeds);
  runfolder::write_metrics(run / "metrics.json", metrics);
  runfolder::write_comparisons(run / "comparisons.csv", comparisons);
  result.table = auc_table(metrics);
  timer.add("evaluate", StepTimer::since(t0));
  timer.add("total", StepTimer::since(t_all));
  manifest.write(run);

  if (options.report)
    explain_and_report(run, options.explain_variant.empty() ? models::variant_name(models::kFinalVariant)
                                                            : options.explain_variant,
                       result);
  return result;
}

}  // namespace cervirisk::study
