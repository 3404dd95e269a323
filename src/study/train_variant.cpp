// The training step of one variant and seed: fit on the training cohort, the threshold and
// cut-point on the training cohort's predictions, the bundle, the predictions of every cohort.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "bundle/bundle.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "core/torch/runtime.h"
#include "runfolder/layout.h"
#include "stats/cutpoint.h"
#include "stats/roc.h"
#include "study/steps.h"
#include "train/options.h"
#include "train/trainer.h"

namespace cervirisk::study {

namespace fs = std::filesystem;

namespace {

struct Fitted {
  models::ArchConfig arch;
  models::RecurrenceModel model{nullptr};
  train::TrainState state;
};

Fitted fit_model(const VariantJob& job, const fs::path& dir, std::uint64_t seed) {
  const auto& cfg = *job.cfg;
  const auto& features = *job.features;
  seed_everything(derive_seed(seed, "init/" + job.variant));
  Fitted f;
  f.arch = models::arch_from_config(cfg, models::parse_variant(job.variant), features.sizes());
  f.model = models::build_model(f.arch);
  if (f.arch.modalities().text && !job.bert_weights->empty())
    if (auto b = models::text_bert(f.model)) models::load_weights(*b, *job.bert_weights);
  auto setup = train::training_setup(cfg, features.train_labels(), job.variant, seed);
  setup.trainer.checkpoint = dir / "checkpoint.pt";
  setup.trainer.resume = job.resume;
  setup.trainer.label = job.variant;
  const bool cox = setup.trainer.loss.kind == train::LossKind::kCox;
  auto& model = f.model;
  train::ForwardFn fwd = [&model, cox](const train::Batch& b) {
    auto out = model->forward(bundle::model_inputs(b.inputs));
    return cox && out.risk.defined() ? out.risk : out.logit;
  };
  train::Trainer trainer(*model, fwd, setup.trainer);
  const auto train_ds = features.dataset(data::CohortKind::kTrain);
  const auto internal_ds = features.dataset(data::CohortKind::kInternal);
  train::Loader loader(train_ds, train::effective_loader_options(setup.loader, job.settings->deterministic));
  f.state = trainer.fit(loader, internal_ds).state;
  return f;
}

// The training cohort's probabilities, labels and survival, in dataset order.
struct TrainingScores {
  std::vector<double> prob, time, risk;
  std::vector<int> label, event;
};

TrainingScores training_scores(models::RecurrenceModel& model, const bundle::FeatureDataset& train_ds) {
  auto tr = bundle::score_dataset(model, train_ds);
  TrainingScores s;
  for (std::size_t i = 0; i < train_ds.size(); ++i) {
    s.prob.push_back(sigmoid(tr.logit[i]));
    s.label.push_back(train_ds.patient(i).label > 0.5f);
    s.time.push_back(train_ds.patient(i).time);
    s.event.push_back(train_ds.patient(i).event > 0.5f);
  }
  s.risk = std::move(tr.risk);
  return s;
}

double fit_cutpoint(const StudySettings& settings, const TrainingScores& s, const std::string& variant) {
  try {
    return settings.cutpoint == CutpointMethod::kMedian ? stats::cutpoint_median(s.time, s.event, s.risk).cut
                                                        : stats::cutpoint_maxstat(s.time, s.event, s.risk).cut;
  } catch (const Error& e) {
    log::warn("{}: cut-point: {}; using the median", variant, e.what());
    std::vector<double> r = s.risk;
    std::sort(r.begin(), r.end());
    return r[r.size() / 2];
  }
}

runfolder::TrainingCohortSummary training_summary(const TrainingScores& s) {
  std::vector<double> q = s.prob;
  std::sort(q.begin(), q.end());
  const int events = std::accumulate(s.label.begin(), s.label.end(), 0);
  return {static_cast<std::int64_t>(s.prob.size()), events,
          events / std::max<double>(1, static_cast<double>(s.label.size())), stats::roc_auc(s.prob, s.label),
          {q[q.size() / 10], q[q.size() / 4], q[q.size() / 2], q[3 * q.size() / 4], q[9 * q.size() / 10]}};
}

std::vector<runfolder::EpochRow> history_rows(const train::TrainState& state) {
  std::vector<runfolder::EpochRow> rows;
  for (const auto& r : state.history) rows.push_back({static_cast<double>(r.epoch), r.train_loss, r.val_loss, r.val_auc});
  return rows;
}

std::vector<runfolder::Prediction> predict_cohorts(models::RecurrenceModel& model, const StudyFeatures& features,
                                                   double cut) {
  std::vector<runfolder::Prediction> rows;
  for (auto k : {data::CohortKind::kTrain, data::CohortKind::kInternal, data::CohortKind::kExternal}) {
    const auto ds = features.dataset(k);
    const auto sc = bundle::score_dataset(model, ds);
    for (std::size_t i = 0; i < ds.size(); ++i) {
      const auto& f = ds.patient(i);
      rows.push_back({f.id, f.cohort, f.center, f.label > 0.5f, f.time, f.event > 0.5f, sc.logit[i], sigmoid(sc.logit[i]),
                      sc.risk[i], sc.risk[i] >= cut ? "high" : "low"});
    }
  }
  return rows;
}

}  // namespace

TrainedVariant train_variant(const VariantJob& job, StepTimer& timer) {
  auto t0 = std::chrono::steady_clock::now();
  const auto& settings = *job.settings;
  const std::uint64_t seed = settings.seed + static_cast<std::uint64_t>(job.seed_index);
  const fs::path variant_dir = runfolder::model_dir(job.run, job.variant);
  const fs::path dir = job.seeds > 1 && job.seed_index > 0 ? variant_dir / fmt::format("seed-{}", job.seed_index) : variant_dir;
  ensure_writable_dir(dir);
  Fitted fit = fit_model(job, dir, seed);
  const auto train_ds = job.features->dataset(data::CohortKind::kTrain);
  const TrainingScores ts = training_scores(fit.model, train_ds);
  TrainedVariant out;
  out.threshold = settings.threshold == ThresholdMethod::kFixed ? settings.fixed_threshold
                                                                 : stats::roc_youden_threshold(ts.prob, ts.label);
  out.cutpoint = fit_cutpoint(settings, ts, job.variant);
  runfolder::ModelInfo info;
  info.variant = job.variant;
  info.preset = fit.arch.preset;
  info.threshold = out.threshold;
  info.cutpoint = out.cutpoint;
  info.seed = seed;
  info.best_epoch = fit.state.best_epoch;
  info.epochs_done = fit.state.epochs_done;
  info.stopped_early = fit.state.stopped_early;
  info.fingerprint = fit.state.fingerprint;
  info.config_sha256 = job.cfg->hash();
  info.training_cohort = training_summary(ts);
  bundle::write_bundle(dir, fit.model, fit.arch, job.features->spec, info, history_rows(fit.state));
  timer.add("train/" + job.variant, StepTimer::since(t0));

  t0 = std::chrono::steady_clock::now();
  out.predictions = predict_cohorts(fit.model, *job.features, out.cutpoint);
  if (job.seed_index == 0) {
    if (fit.model->modality_order().size() > 1) {
      const auto a = job.features->dataset(data::CohortKind::kTrain), b = job.features->dataset(data::CohortKind::kInternal),
                 c = job.features->dataset(data::CohortKind::kExternal);
      models::write_safetensors(runfolder::fused_file(job.run, job.variant),
                                {{"fused", bundle::fused_vectors(fit.model, {&a, &b, &c})}});
    }
    runfolder::write_predictions(runfolder::predictions_file(job.run, job.variant), out.predictions);
  }
  timer.add("predict", StepTimer::since(t0));
  return out;
}

}  // namespace cervirisk::study
