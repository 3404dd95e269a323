#include "train/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/torch_compat.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/random.h"
#include "core/torch/runtime.h"
#include "models/weights.h"
#include "stats/roc.h"

namespace cervirisk::train {
namespace {
NamedTensors cpu_copy(const NamedTensors& t) {
  NamedTensors out;
  for (const auto& [name, x] : t) out[name] = x.detach().to(torch::kCPU).contiguous().clone();
  return out;
}

// The validation AUC (stats::roc_auc, Mann-Whitney); NaN when a class is absent, so selection
// falls back to "no improvement" instead of failing the run.
// Patients without a binary label (NaN) are left out. With two outputs (logit, risk) the logit is scored.
double validation_auc(const torch::Tensor& outputs, const torch::Tensor& labels) {
  const torch::Tensor scores = (outputs.dim() == 2 ? outputs.select(1, 0) : outputs).contiguous();
  std::vector<double> s;
  std::vector<int> y;
  const float* l = labels.data_ptr<float>();
  const float* sc = scores.data_ptr<float>();
  bool pos = false, neg = false;
  for (std::int64_t i = 0; i < labels.numel(); ++i) {
    if (std::isnan(l[i])) continue;
    s.push_back(sc[i]);
    y.push_back(l[i] > 0.5f ? 1 : 0);
    (y.back() ? pos : neg) = true;
  }
  if (!pos || !neg) return std::numeric_limits<double>::quiet_NaN();
  return stats::roc_auc(s, y);
}
}  // namespace

SelectOn parse_select_on(const std::string& name) {
  if (name == "auc") return SelectOn::kAuc;
  if (name == "loss") return SelectOn::kLoss;
  throw ConfigError(fmt::format("train.select_on: expected auc or loss, got '{}'", name));
}

LoaderOptions effective_loader_options(LoaderOptions options, bool deterministic) {
  if (deterministic) options.workers = 0;
  return options;
}

Trainer::Trainer(torch::nn::Module& model, ForwardFn forward, TrainerOptions options)
    : model_(model), forward_(std::move(forward)), options_(std::move(options)) {
  if (options_.epochs < 1) throw ConfigError(fmt::format("train.epochs: expected >= 1, got {}", options_.epochs));
  model_.to(options_.device);
  optimizer_ = std::make_unique<Optimizer>(model_, options_.optim);
  state_.fingerprint = options_.fingerprint;
  // BatchNorm normalises with the statistics of the batch it sees and updates its running buffers
  // in place: split over threads it would see parts (and race on the buffers). Such a model runs
  // each step as one part.
  for (const auto& m : model_.modules(/*include_self=*/true))
    if (m->name().find("BatchNorm") != std::string::npos) {
      if (options_.batch_shards != 1)
        log::debug("{}: the model has {}; training steps are not split over threads", options_.label, m->name());
      options_.batch_shards = 1;
      break;
    }
}

Trainer::~Trainer() = default;

double Trainer::train_step(const Batch& batch) {
  model_.train();
  optimizer_->set_lr_factor(schedule_.factor(state_.step));
  std::vector<torch::Tensor> params;
  for (const auto& p : optimizer_->parameters())
    if (p.requires_grad()) params.push_back(p);
  // Parts of the batch on their own threads (train/sharded_step.h); on a GPU one part.
  const int parts = options_.device.is_cpu() ? shard_count(batch.size(), options_.batch_shards) : 1;
  if (parts > 1 && (!pool_ || pool_->size() < parts)) pool_ = std::make_unique<ShardPool>(parts);
  std::vector<Batch> slices;
  for (int k = 0; parts > 1 && k < parts; ++k) {
    const auto [begin, end] = shard_range(batch.size(), parts, k);
    slices.push_back(batch.slice(begin, end));
  }
  ShardedFns fns;
  fns.forward = [&](int k, std::int64_t begin, std::int64_t end) {
    torch::Tensor out;
    {
      compat::CudaAutocast autocast(options_.bf16);
      out = forward_(parts > 1 ? slices[static_cast<std::size_t>(k)] : batch);
    }
    if (options_.bf16) out = out.to(torch::kFloat32);  // the loss in fp32
    if (out.dim() == 2 && out.size(1) == 1) out = out.squeeze(1);
    if (!output_shape_ok(out, end - begin))
      throw ModelError(fmt::format("trainer: the model returned shape {}, expected [{}{}]", c10::str(out.sizes()),
                                   end - begin,
                                   options_.aux_columns > 0 ? fmt::format(", {}", (two_outputs() ? 2 : 1) + options_.aux_columns)
                                                            : std::string(two_outputs() ? ", 2" : "")));
    return out;
  };
  fns.loss = [&](const torch::Tensor& out) {
    torch::Tensor loss = compute_loss(options_.loss, main_output(out), batch.label, batch.time, batch.event);
    if (options_.aux_columns > 0 && options_.aux_loss)
      loss = loss + options_.aux_loss(out.narrow(1, out.size(1) - options_.aux_columns, options_.aux_columns), batch);
    const double value = loss.item<double>();
    if (!std::isfinite(value))
      throw Error(ExitCode::kFailure, fmt::format("trainer: {} loss is {} at optimiser step {} (epoch {}); lower the "
                                                  "learning rate or check the inputs",
                                                  to_string(options_.loss.kind), value, state_.step,
                                                  state_.epochs_done + 1));
    return loss;
  };
  const double value = sharded_forward_backward(
      pool_.get(), parts, batch.size(), derive_seed(options_.seed, fmt::format("train/step/{}", state_.step)), fns,
      params);
  if (gradient_hook_) gradient_hook_(optimizer_->parameters());
  clip_grad_norm(optimizer_->parameters(), options_.grad_clip);
  optimizer_->adamw().step();
  ++state_.step;
  update_ema();
  return value;
}

void Trainer::update_ema() {
  if (ema_.empty()) return;
  torch::NoGradGuard no_grad;
  const double t = static_cast<double>(state_.step);
  const double d = std::min(options_.ema_decay, (1 + t) / (10 + t));
  for (const auto& p : model_.named_parameters(true)) {
    torch::Tensor& e = ema_.at(p.key());
    e.mul_(d).add_(p.value().detach(), 1 - d);
  }
  for (const auto& b : model_.named_buffers(true)) ema_.at(b.key()).copy_(b.value());
}

template <class F>
auto Trainer::with_ema(F&& f) {
  if (ema_.empty()) return f();
  const NamedTensors trained = models::state_dict(model_);
  models::load_weights(model_, ema_);
  struct Restore {
    torch::nn::Module& m;
    const NamedTensors& w;
    ~Restore() { models::load_weights(m, w); }
  } restore{model_, trained};
  return f();
}

Evaluation Trainer::evaluate(const Dataset& data) {
  LoaderOptions lo;
  lo.batch_size = options_.eval_batch_size;
  lo.workers = 0;
  lo.sampling = Sampling::kSequential;
  lo.augment = false;
  Loader loader(data, lo);
  loader.start_epoch(0);
  model_.eval();
  torch::NoGradGuard no_grad;
  Evaluation ev;
  std::vector<torch::Tensor> outs, labels, times, events;
  while (auto b = loader.next()) {
    torch::Tensor raw;
    {
      compat::CudaAutocast autocast(options_.bf16);
      raw = forward_(b->to(options_.device));
    }
    auto out = main_output(raw.to(torch::kFloat32));
    out = (two_outputs() ? out.reshape({-1, 2}) : out.reshape({-1})).to(torch::kCPU, torch::kFloat);
    outs.push_back(out);
    labels.push_back(b->label);
    times.push_back(b->time);
    events.push_back(b->event);
    ev.ids.insert(ev.ids.end(), b->ids.begin(), b->ids.end());
    ev.indices.insert(ev.indices.end(), b->indices.begin(), b->indices.end());
  }
  if (outs.empty()) throw ValidationError("evaluate: empty dataset");
  ev.outputs = torch::cat(outs);
  ev.labels = torch::cat(labels);
  ev.time = torch::cat(times);
  ev.event = torch::cat(events);
  ev.loss = compute_loss(options_.loss, ev.outputs, ev.labels, ev.time, ev.event).item<double>();
  ev.auc = validation_auc(ev.outputs, ev.labels);
  return ev;
}

bool Trainer::improved(const EpochRecord& r) const {
  const double m = options_.select_on == SelectOn::kAuc ? r.val_auc : r.val_loss;
  if (!std::isfinite(m)) return false;
  if (state_.best_epoch < 0) return true;
  return options_.select_on == SelectOn::kAuc ? m > state_.best_metric : m < state_.best_metric;
}

bool Trainer::two_outputs() const { return options_.loss.kind == LossKind::kBceCox; }

bool Trainer::output_shape_ok(const torch::Tensor& out, std::int64_t rows) const {
  if (options_.aux_columns > 0)
    return out.dim() == 2 && out.size(0) == rows && out.size(1) == (two_outputs() ? 2 : 1) + options_.aux_columns;
  if (two_outputs()) return out.dim() == 2 && out.size(0) == rows && out.size(1) == 2;
  return out.dim() == 1 && out.size(0) == rows;
}

torch::Tensor Trainer::main_output(const torch::Tensor& out) const {
  if (options_.aux_columns <= 0) return out;
  return two_outputs() ? out.narrow(1, 0, 2) : out.select(1, 0);
}

FitResult Trainer::fit(Loader& train, const Dataset& validation) { return fit(train, &validation); }

FitResult Trainer::fit(Loader& train, const Dataset* validation) {
  if (validation == nullptr && options_.restore_best)
    throw ConfigError("trainer: restore_best needs a validation set to choose the best epoch");
  FitResult result;
  set_deterministic(options_.deterministic);
  const std::int64_t per_epoch = train.batches_per_epoch();
  if (per_epoch < 1) throw ValidationError("train: the training set yields no batch (smaller than one batch with drop_last)");
  schedule_.total_steps = options_.epochs * per_epoch;
  schedule_.warmup_steps = std::min<std::int64_t>(
      schedule_.total_steps, static_cast<std::int64_t>(std::llround(options_.warmup_epochs * per_epoch)));
  schedule_.min_factor = options_.min_lr_factor;

  if (options_.resume && !options_.checkpoint.empty() && std::filesystem::exists(options_.checkpoint)) {
    auto c = load_checkpoint(options_.checkpoint, model_, optimizer_->adamw(), options_.fingerprint);
    state_ = std::move(c.state);
    best_weights_ = std::move(c.best_weights);
    ema_ = std::move(c.ema);
    for (auto& [name, t] : ema_) t = t.to(options_.device);
    if (options_.ema_decay > 0 && ema_.empty())
      throw ModelError(fmt::format("checkpoint {}: has no weight average, but train.ema_decay is {}",
                                   options_.checkpoint.string(), options_.ema_decay));
    restore_rng_state(c.rng);
    result.resumed = true;
    log::info("{}: resumed from {} after epoch {} (step {})", options_.label, options_.checkpoint.string(),
              state_.epochs_done, state_.step);
  } else {
    if (options_.resume)
      log::warn("{}: --resume given but no checkpoint at '{}'; starting from scratch", options_.label,
                options_.checkpoint.string());
    // The dropout stream of a fresh run is fixed by the seed, whatever ran before in the process.
    torch::manual_seed(derive_seed(options_.seed, "train/torch"));
    optimizer_ = std::make_unique<Optimizer>(model_, options_.optim);  // no moments from a previous fit
    state_ = TrainState{};
    state_.fingerprint = options_.fingerprint;
    best_weights_.clear();
    ema_.clear();
    if (options_.ema_decay > 0)
      for (auto& [name, t] : models::state_dict(model_)) ema_[name] = t.to(options_.device);
  }

  std::unique_ptr<Progress> bar;
  const std::int64_t planned = options_.run_epochs > 0 ? std::min(options_.run_epochs, options_.epochs) : options_.epochs;
  const std::int64_t remaining = std::max<std::int64_t>(0, planned - state_.epochs_done) * per_epoch;
  if (options_.progress && !state_.stopped_early && remaining > 0)
    bar = std::make_unique<Progress>(options_.label, remaining);
  std::string last_val = state_.history.empty() ? "" : fmt::format(" val_auc {:.3f}", state_.history.back().val_auc);

  const std::int64_t last_epoch =
      options_.run_epochs > 0 ? std::min(options_.run_epochs, options_.epochs) : options_.epochs;
  for (std::int64_t epoch = state_.epochs_done; epoch < last_epoch && !state_.stopped_early; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (options_.freeze_epochs > 0) {
      const bool frozen = epoch < options_.freeze_epochs;
      for (auto& p : model_.named_parameters(/*recurse=*/true))
        for (const auto& pre : options_.freeze_prefixes)
          if (p.key().rfind(pre, 0) == 0) p.value().set_requires_grad(!frozen);
    }
    train.start_epoch(epoch);
    double loss_sum = 0;
    std::int64_t n = 0;
    while (auto batch = train.next()) {
      loss_sum += train_step(options_.device.is_cpu() ? *batch : batch->to(options_.device));
      ++n;
      if (bar) bar->tick(1, fmt::format("ep {}/{} loss {:.4f}{}", epoch + 1, options_.epochs, loss_sum / n, last_val));
      if (step_callback_) step_callback_(epoch, n - 1);
    }
    EpochRecord r;
    r.epoch = epoch;
    r.train_loss = loss_sum / static_cast<double>(std::max<std::int64_t>(1, n));
    r.val_loss = r.val_auc = std::numeric_limits<double>::quiet_NaN();
    if (validation != nullptr) {
      const Evaluation ev = with_ema([&] { return evaluate(*validation); });
      r.val_loss = ev.loss;
      r.val_auc = ev.auc;
    }
    r.lr = optimizer_->lr(ParamGroup::kHeadDecay);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (validation == nullptr) {
      state_.best_epoch = epoch;  // nothing to select on: the last epoch is the model
    } else if (improved(r)) {
      state_.best_epoch = epoch;
      state_.best_metric = options_.select_on == SelectOn::kAuc ? r.val_auc : r.val_loss;
      state_.epochs_without_improvement = 0;
      best_weights_ = ema_.empty() ? models::state_dict(model_) : cpu_copy(ema_);
    } else {
      ++state_.epochs_without_improvement;
    }
    state_.history.push_back(r);
    state_.epochs_done = epoch + 1;
    if (validation != nullptr && options_.patience > 0 && state_.epochs_without_improvement >= options_.patience)
      state_.stopped_early = true;
    last_val = fmt::format(" val_auc {:.3f}", r.val_auc);
    log::debug("{}: epoch {} train_loss {:.5f} val_loss {:.5f} val_auc {:.4f} lr {:.3g} ({:.1f}s)", options_.label,
               epoch + 1, r.train_loss, r.val_loss, r.val_auc, r.lr, r.seconds);
    if (before_checkpoint_) before_checkpoint_(r);
    if (!options_.checkpoint.empty())
      save_checkpoint(options_.checkpoint, model_, optimizer_->adamw(), {state_, capture_rng_state(), best_weights_, ema_});
    ++result.epochs_run;
    if (epoch_callback_) epoch_callback_(r);
  }
  if (bar) bar->finish();
  if (state_.stopped_early)
    log::info("{}: early stop after epoch {} (best epoch {}, {} {:.4f})", options_.label, state_.epochs_done,
              state_.best_epoch + 1, options_.select_on == SelectOn::kAuc ? "val_auc" : "val_loss", state_.best_metric);
  if (options_.restore_best && !best_weights_.empty())
    models::load_weights(model_, best_weights_);
  else if (!ema_.empty())
    models::load_weights(model_, ema_);  // no selection: the last epoch's average is the model
  result.state = state_;
  return result;
}

}  // namespace cervirisk::train
