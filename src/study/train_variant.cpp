// The training step of one variant and seed: the epoch chosen on held-out training patients
// (train.selection), the recalibration fitted on their predictions, the threshold and cut-point
// on the training cohort, the bundle, the predictions of every cohort.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "bundle/bundle.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "core/torch/runtime.h"
#include "runfolder/layout.h"
#include "stats/common.h"
#include "stats/cutpoint.h"
#include "stats/risk_group.h"
#include "stats/roc.h"
#include "study/steps.h"
#include "train/options.h"
#include "train/trainer.h"

namespace cervirisk::study {

namespace fs = std::filesystem;
using Patients = std::vector<const bundle::PatientFeatures*>;

std::vector<std::string> ladder_sources(const std::string& variant) {
  if (variant == "msm") return {"convnext", "vit"};
  if (variant == "msm_t") return {"msm"};
  if (variant == "msm_tc") return {"msm_t", "clinical"};
  return {};
}

models::TensorMap ladder_weights(const fs::path& run, const std::string& variant, int seed_index, int seeds,
                                 const models::RecurrenceModel& target_model, int fold) {
  const auto sources = ladder_sources(variant);
  models::TensorMap take;
  const auto target = models::state_dict(*target_model);
  for (const auto& src : sources) {
    fs::path dir = runfolder::model_dir(run, src);
    if (seeds > 1 && seed_index > 0) dir /= fmt::format("seed-{}", seed_index);
    const fs::path file = fold < 0 ? dir / "model.json" : cv_fold_weights(dir, fold);
    if (!fs::exists(file))
      throw ConfigError(fmt::format("train.fusion_init = \"ladder\": {} starts from {}, but {} is missing (train {} "
                                    "before {} in train.variants, with the same train.selection)",
                                    variant, fmt::join(sources, " and "), file.string(), src, variant));
    // A bundle is complete once model.json is written (last); its weights are the model's state dict.
    const models::TensorMap weights = models::read_safetensors(fold < 0 ? dir / "weights.safetensors" : file);
    for (const auto& [name, t] : weights) {
      if (name.rfind("head.", 0) == 0 || name.rfind("classifier.", 0) == 0 || name.rfind("risk_head.", 0) == 0) continue;
      const auto it = target.find(name);
      if (it != target.end() && it->second.sizes() == t.sizes() && !take.count(name)) take[name] = t;
    }
  }
  return take;
}

fs::path cv_fold_weights(const fs::path& model_dir, int fold) {
  return model_dir / "cv" / fmt::format("fold-{}.safetensors", fold);
}

namespace {

// Held-out predictions of training patients: what the recalibration is fitted on.
struct HeldOut {
  std::vector<double> logit;
  std::vector<float> label;
  std::string fitted_on;
};

struct Fitted {
  std::vector<runfolder::EpochRow> internal_trace;  // split / cv: the final model's epochs on the internal cohort
  models::ArchConfig arch;
  models::RecurrenceModel model{nullptr};
  train::TrainState state;
  runfolder::Selection selection;
  HeldOut held;
  double class_offset = 0;  // the log-odds shift of class weighting (eval.recalibration = offset)
};

std::vector<float> labels_of(const Patients& p) {
  std::vector<float> l;
  for (const auto* f : p) l.push_back(f->label);
  return l;
}

std::int64_t events_of(const Patients& p) {
  std::int64_t e = 0;
  for (const auto* f : p) e += f->label > 0.5f;  // NaN compares false
  return e;
}

void ladder_start(const VariantJob& job, models::RecurrenceModel& model, int fold) {
  const auto sources = ladder_sources(job.variant);
  if (sources.empty()) return;
  const auto take = ladder_weights(job.run, job.variant, job.seed_index, job.seeds, model, fold);
  models::LoadOptions lo;
  lo.strict = false;
  models::load_weights(*model, take, lo);
  log::info("{}{}: started from {} ({} tensors; the fusion head fresh)", job.variant,
            fold < 0 ? std::string() : fmt::format(" fold-{}", fold), fmt::join(sources, " + "), take.size());
}

// A freshly initialised model (the init stream is named by `tag`), with the pretrained report
// encoder when the variant reads text, and the rungs below with train.fusion_init = "ladder".
models::RecurrenceModel fresh_model(const VariantJob& job, const models::ArchConfig& arch, std::uint64_t seed,
                                    const std::string& tag, int fold = -1) {
  seed_everything(derive_seed(seed, tag));
  auto model = models::build_model(arch);
  apply_init(*job.init, model);
  if (job.settings->ladder_init) ladder_start(job, model, fold);
  return model;
}

// What the loss reads: the logit ([B]); the Cox risk with loss = cox; both ([B, 2]) with loss = bce+cox.
torch::Tensor trained_output(const models::FusionOutput& out, train::LossKind kind) {
  if (kind == train::LossKind::kBceCox) return torch::stack({out.logit.reshape({-1}), out.risk.reshape({-1})}, 1);
  if (kind == train::LossKind::kCox && out.risk.defined()) return out.risk;
  return out.logit;
}

train::ForwardFn forward_fn(models::RecurrenceModel model, train::LossKind kind) {
  return [model, kind](const train::Batch& b) mutable {
    return trained_output(model->forward(bundle::model_inputs(b.inputs)), kind);
  };
}

// train.aux_targets: the model and a linear head on its image embeddings (ConvNeXt, ViT), trained
// together; the head predicts the auxiliary clinical targets and is dropped after training (the
// bundle holds the model alone).
struct AuxTrainingImpl : torch::nn::Module {
  AuxTrainingImpl(models::RecurrenceModel m, std::int64_t in, std::int64_t out) {
    model = register_module("model", std::move(m));
    head = register_module("aux", torch::nn::Linear(in, out));
  }
  models::RecurrenceModel model{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(AuxTraining);

std::vector<std::string> image_branches(const models::RecurrenceModel& model) {
  std::vector<std::string> out;
  for (const auto& m : model->modality_order())
    if (m == "convnext" || m == "vit") out.push_back(m);
  return out;
}

torch::Tensor image_embedding(const models::FusionOutput& out, const std::vector<std::string>& branches) {
  std::vector<torch::Tensor> parts;
  for (const auto& b : branches) parts.push_back(out.embeddings.at(b).flatten(1));
  return torch::cat(parts, 1);
}

// The auxiliary loss: BCE (binary / ordinal targets in [0, 1]) or MSE (z-scored numeric), each
// column averaged over the rows that have it, the columns averaged, times train.aux_weight.
torch::Tensor aux_loss(const torch::Tensor& pred, const train::Batch& batch, const StudyFeatures& f, double weight) {
  const auto m = static_cast<std::int64_t>(f.aux_names.size());
  auto t = torch::empty({batch.size(), m}, torch::kFloat32);
  auto a = t.accessor<float, 2>();
  for (std::int64_t i = 0; i < batch.size(); ++i) {
    const auto it = f.aux_of.find(batch.ids[static_cast<std::size_t>(i)]);
    for (std::int64_t j = 0; j < m; ++j) a[i][j] = it == f.aux_of.end() ? NAN : it->second[static_cast<std::size_t>(j)];
  }
  t = t.to(pred.device());
  torch::Tensor total = torch::zeros({}, pred.options());
  std::int64_t used = 0;
  for (std::int64_t j = 0; j < m; ++j) {
    const auto target = t.select(1, j);
    const auto present = ~torch::isnan(target);
    if (present.sum().item<std::int64_t>() == 0) continue;
    const auto p = pred.select(1, j).masked_select(present);
    const auto y = target.masked_select(present);
    total = total + (f.aux_binary[static_cast<std::size_t>(j)] ? torch::binary_cross_entropy_with_logits(p, y)
                                                               : torch::mse_loss(p, y));
    ++used;
  }
  return used > 0 ? total * (weight / static_cast<double>(used)) : total;
}

// One fit of `model` on `train_part`, selecting on `validation` (null: none, the last epoch).
// With `trace`, the internal cohort is evaluated after every epoch and recorded there -- never
// selected on (evaluation changes neither weights nor random streams; the leakage test checks it).
train::TrainState fit_on(const VariantJob& job, models::RecurrenceModel& model, std::uint64_t seed,
                         const Patients& train_part, const bundle::FeatureDataset* validation,
                         const fs::path& checkpoint, const std::string& what, std::int64_t run_epochs = 0,
                         std::vector<runfolder::EpochRow>* trace = nullptr) {
  auto setup = train::training_setup(*job.cfg, labels_of(train_part), job.variant, seed);
  setup.trainer.checkpoint = checkpoint;
  setup.trainer.resume = job.resume;
  setup.trainer.label = what.empty() ? job.variant : job.variant + " " + what;
  setup.trainer.fingerprint += "/selection-" + to_string(job.settings->selection) + (what.empty() ? "" : "/" + what);
  if (validation == nullptr) {
    setup.trainer.restore_best = false;
    setup.trainer.patience = 0;
    setup.trainer.run_epochs = run_epochs;
  }
  const bundle::FeatureDataset train_ds(train_part, &job.features->spec);
  // Multi-task training of the image branches (train.aux_targets): the trainer trains the model
  // and the auxiliary head together; its forward returns [logit (, risk), auxiliary predictions].
  const auto branches = image_branches(model);
  AuxTraining aux{nullptr};
  if (!job.features->aux_names.empty() && !branches.empty() && train_ds.size() > 0) {
    std::int64_t dim = 0;
    {
      torch::NoGradGuard ng;
      model->eval();
      const auto b = train::collate({train_ds.get(0, nullptr)});
      dim = image_embedding(model->forward(bundle::model_inputs(b.inputs)), branches).size(1);
    }
    aux = AuxTraining(model, dim, static_cast<std::int64_t>(job.features->aux_names.size()));
    setup.trainer.aux_columns = static_cast<std::int64_t>(job.features->aux_names.size());
    const double w = job.cfg->get_double("train.aux_weight");
    const StudyFeatures* f = job.features;
    setup.trainer.aux_loss = [f, w](const torch::Tensor& pred, const train::Batch& b) { return aux_loss(pred, b, *f, w); };
    for (auto& pre : setup.trainer.optim.backbone_prefixes) pre = "model." + pre;
    setup.trainer.fingerprint += fmt::format("/aux-{}-{}", fmt::join(job.features->aux_names, "+"), w);
  }
  const auto kind = setup.trainer.loss.kind;
  train::ForwardFn forward = aux ? train::ForwardFn([aux, kind, branches](const train::Batch& b) mutable {
    const auto out = aux->model->forward(bundle::model_inputs(b.inputs));
    const auto main = trained_output(out, kind);
    return torch::cat({main.dim() == 1 ? main.unsqueeze(1) : main, aux->head->forward(image_embedding(out, branches))}, 1);
  })
                                 : forward_fn(model, kind);
  torch::nn::Module& trained = aux ? static_cast<torch::nn::Module&>(*aux) : static_cast<torch::nn::Module&>(*model);
  train::Trainer trainer(trained, forward, setup.trainer);
  train::Loader loader(train_ds, train::effective_loader_options(setup.loader, job.settings->deterministic));
  const auto internal = job.features->dataset(data::CohortKind::kInternal);
  if (trace != nullptr && internal.size() > 0 && job.seed_index == 0) {
    // Written after every epoch, before its checkpoint, so that a resumed run continues the trace
    // of every epoch its checkpoint holds (a re-run epoch replaces its row).
    const fs::path file = runfolder::internal_trace_file(job.run, job.variant);
    ensure_writable_dir(file.parent_path());
    if (job.resume && fs::exists(file)) *trace = runfolder::read_history(file);
    trainer.set_before_checkpoint([&, file](const train::EpochRecord& r) {
      const auto ev = trainer.evaluate(internal);
      while (!trace->empty() && trace->back().epoch >= static_cast<double>(r.epoch)) trace->pop_back();
      trace->push_back({static_cast<double>(r.epoch), r.train_loss, ev.loss, ev.auc});
      runfolder::write_history(file, *trace);
    });
  }
  return trainer.fit(loader, validation).state;
}

void keep_held_out(models::RecurrenceModel& model, const bundle::FeatureDataset& ds, HeldOut& held) {
  const auto sc = bundle::score_dataset(model, ds);
  for (std::size_t i = 0; i < ds.size(); ++i) {
    held.logit.push_back(sc.logit[i]);
    held.label.push_back(ds.patient(i).label);
  }
}

// The median of the folds' epoch counts (best epoch + 1), the upper middle for an even count.
std::int64_t median_epochs(std::vector<std::int64_t> best) {
  for (auto& b : best) b = std::max<std::int64_t>(1, b + 1);
  std::sort(best.begin(), best.end());
  return best[best.size() / 2];
}

Fitted fit_model(const VariantJob& job, const fs::path& dir, std::uint64_t seed) {
  const auto& features = *job.features;
  const auto& settings = *job.settings;
  Fitted f;
  f.arch = models::arch_from_config(*job.cfg, models::parse_variant(job.variant), features.sizes());
  const Patients& train = features.by_cohort[0];
  const SelectionPlan plan = selection_plan(settings, train, seed);
  f.selection.mode = to_string(settings.selection);
  const std::string init = "init/" + job.variant;
  Patients fitted_on = train;
  switch (settings.selection) {
    case Selection::kInternal: {
      log::warn("{}: train.selection = internal: the internal cohort chooses the epoch, so its AUC is optimistic "
                "(stated in the report's limitations)",
                job.variant);
      f.model = fresh_model(job, f.arch, seed, init);
      const auto internal = features.dataset(data::CohortKind::kInternal);
      f.state = fit_on(job, f.model, seed, train, &internal, dir / "checkpoint.pt", "");
      keep_held_out(f.model, features.dataset(data::CohortKind::kTrain), f.held);
      f.held.fitted_on = "training cohort";
      break;
    }
    case Selection::kSplit: {
      fitted_on = plan.select(train, 1, false);
      const Patients val = plan.select(train, 1, true);
      f.selection.validation_n = static_cast<std::int64_t>(val.size());
      f.selection.validation_events = events_of(val);
      const bundle::FeatureDataset val_ds(val, &features.spec);
      f.model = fresh_model(job, f.arch, seed, init);
      f.state = fit_on(job, f.model, seed, fitted_on, &val_ds, dir / "checkpoint.pt", "", 0, &f.internal_trace);
      keep_held_out(f.model, val_ds, f.held);
      f.held.fitted_on = "validation split";
      break;
    }
    case Selection::kCv: {
      f.selection.folds = plan.parts;
      ensure_writable_dir(dir / "cv");
      for (int k = 0; k < plan.parts; ++k) {
        const Patients in = plan.select(train, k, false), out = plan.select(train, k, true);
        const bundle::FeatureDataset out_ds(out, &features.spec);
        auto fold_model = fresh_model(job, f.arch, seed, fmt::format("{}/fold-{}", init, k), k);
        const auto st = fit_on(job, fold_model, seed, in, &out_ds, dir / "cv" / fmt::format("checkpoint-fold-{}.pt", k),
                               fmt::format("fold-{}", k));
        // Kept for the rungs above (train.fusion_init = "ladder": their fold k starts from this).
        models::write_safetensors(cv_fold_weights(dir, k), models::state_dict(*fold_model));
        f.selection.fold_best_epochs.push_back(st.best_epoch);
        keep_held_out(fold_model, out_ds, f.held);
      }
      const std::int64_t epochs = median_epochs(f.selection.fold_best_epochs);
      log::info("{}: cv best epochs {} -> refit on the whole training cohort for {} epochs", job.variant,
                fmt::join(f.selection.fold_best_epochs, ","), epochs);
      f.model = fresh_model(job, f.arch, seed, init);
      f.state = fit_on(job, f.model, seed, train, nullptr, dir / "checkpoint.pt", "", epochs, &f.internal_trace);
      f.held.fitted_on = "out-of-fold";
      std::error_code ec;
      for (int k = 0; k < plan.parts; ++k)  // the fold checkpoints are not part of the bundle
        fs::remove(dir / "cv" / fmt::format("checkpoint-fold-{}.pt", k), ec);
      break;
    }
  }
  const std::int64_t pos = events_of(fitted_on), labelled = static_cast<std::int64_t>(std::count_if(
                                                     fitted_on.begin(), fitted_on.end(),
                                                     [](const auto* p) { return !std::isnan(p->label); }));
  const bool weighted = settings.class_balance != "none" && settings.loss != "cox";
  if (weighted && pos > 0 && pos < labelled)
    f.class_offset = std::log(static_cast<double>(pos) / static_cast<double>(labelled - pos));
  return f;
}

// The training cohort's logits, recalibrated probabilities, labels and survival, in dataset order.
struct TrainingScores {
  std::vector<double> logit, prob, time, risk;
  std::vector<float> label;
  std::vector<int> event;
};

TrainingScores training_scores(models::RecurrenceModel& model, const bundle::FeatureDataset& train_ds,
                               const runfolder::Recalibration& recal) {
  auto tr = bundle::score_dataset(model, train_ds);
  TrainingScores s;
  for (std::size_t i = 0; i < train_ds.size(); ++i) {
    s.logit.push_back(tr.logit[i]);
    s.prob.push_back(recal.apply(tr.logit[i]));
    s.label.push_back(train_ds.patient(i).label);
    s.time.push_back(train_ds.patient(i).time_months);
    s.event.push_back(train_ds.patient(i).event > 0.5f);
  }
  s.risk = std::move(tr.risk);
  return s;
}

// The patients with a binary label: probabilities and 0/1 labels.
void labelled(const TrainingScores& s, std::vector<double>& prob, std::vector<int>& y) {
  for (std::size_t i = 0; i < s.prob.size(); ++i)
    if (!std::isnan(s.label[i])) {
      prob.push_back(s.prob[i]);
      y.push_back(s.label[i] > 0.5f);
    }
}

double fit_threshold(const StudySettings& settings, const TrainingScores& s) {
  if (settings.threshold == ThresholdMethod::kFixed) return settings.fixed_threshold;
  std::vector<double> p;
  std::vector<int> y;
  labelled(s, p, y);
  return stats::roc_youden_threshold(p, y);
}

// The cut-point of eval.cutpoint on the training patients with a follow-up time; when it cannot
// be computed (e.g. no event) the median of the risk scores (R's median, stats::cutpoint_median's cut).
double fit_cutpoint(const StudySettings& settings, const TrainingScores& s, const std::string& variant) {
  std::vector<double> t, r;
  std::vector<int> e;
  for (std::size_t i = 0; i < s.time.size(); ++i)
    if (s.time[i] >= 0) {
      t.push_back(s.time[i]);
      e.push_back(s.event[i]);
      r.push_back(s.risk[i]);
    }
  try {
    return settings.cutpoint == CutpointMethod::kMedian ? stats::cutpoint_median(t, e, r).cut
                                                        : stats::cutpoint_maxstat(t, e, r).cut;
  } catch (const Error& err) {
    log::warn("{}: cut-point: {}; using the median risk score", variant, err.what());
    return stats::quantile_type7(s.risk, 0.5);
  }
}

runfolder::TrainingCohortSummary training_summary(const TrainingScores& s) {
  std::vector<double> p;
  std::vector<int> y;
  labelled(s, p, y);
  std::vector<double> q = s.prob;
  std::sort(q.begin(), q.end());
  const int events = std::accumulate(y.begin(), y.end(), 0);
  return {static_cast<std::int64_t>(s.prob.size()), events,
          events / std::max<double>(1, static_cast<double>(y.size())), stats::roc_auc(p, y),
          {q[q.size() / 10], q[q.size() / 4], q[q.size() / 2], q[3 * q.size() / 4], q[9 * q.size() / 10]}};
}

std::vector<runfolder::EpochRow> history_rows(const train::TrainState& state) {
  std::vector<runfolder::EpochRow> rows;
  for (const auto& r : state.history) rows.push_back({static_cast<double>(r.epoch), r.train_loss, r.val_loss, r.val_auc});
  return rows;
}

std::vector<runfolder::Prediction> predict_cohorts(models::RecurrenceModel& model, const StudyFeatures& features,
                                                   const runfolder::Recalibration& recal, double cut) {
  std::vector<runfolder::Prediction> rows;
  for (auto k : data::all_cohort_kinds()) {
    const auto ds = features.dataset(k);
    const auto sc = bundle::score_dataset(model, ds);
    for (std::size_t i = 0; i < ds.size(); ++i) {
      const auto& f = ds.patient(i);
      rows.push_back({f.id, f.cohort, f.center, std::isnan(f.label) ? -1 : f.label > 0.5f ? 1 : 0,
                      f.time_months, f.event > 0.5f, sc.logit[i],
                      recal.apply(sc.logit[i]), sc.risk[i], stats::risk_group(sc.risk[i], cut)});
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
  const auto recal = fit_recalibration(settings.recalibration, fit.held.logit, fit.held.label, fit.class_offset,
                                       fit.held.fitted_on);
  const auto train_ds = job.features->dataset(data::CohortKind::kTrain);
  const TrainingScores ts = training_scores(fit.model, train_ds, recal);
  TrainedVariant out;
  out.threshold = fit_threshold(settings, ts);
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
  info.recalibration = recal;
  info.selection = fit.selection;
  info.initialisation = init_records(*job.init, fit.model);  // the ladder's rungs started from the same sources
  bundle::write_bundle(dir, fit.model, fit.arch, job.features->spec, info, history_rows(fit.state),
                       explanation_background(fit.model, *job.features, settings.seed,
                                              static_cast<int>(job.cfg->get_int("explain.background"))));
  timer.add("train/" + job.variant, StepTimer::since(t0));

  out.selection.mode = fit.selection.mode;
  out.selection.chosen_epoch = fit.state.best_epoch;
  out.selection.internal = settings.selection == Selection::kInternal ? history_rows(fit.state) : fit.internal_trace;
  t0 = std::chrono::steady_clock::now();
  out.predictions = predict_cohorts(fit.model, *job.features, recal, out.cutpoint);
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
