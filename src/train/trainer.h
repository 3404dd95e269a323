// The trainer: one place for the optimisation step (forward, loss, backward, [gradient hook],
// clip, AdamW, schedule), epochs over a Loader, evaluation on the internal validation set after
// every epoch, model selection (AUC or loss) with early stopping, an atomic checkpoint every epoch
// and exact resume, a progress bar, and a deterministic mode.
//
// Data-parallel training (DESIGN.md "Scale") plugs in through set_gradient_hook(): it runs between
// backward and clipping, where an all-reduce of the gradients belongs; nothing else in the step
// needs to change.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/losses.h"
#include "train/schedule.h"
#include "train/sharded_step.h"

namespace cervirisk::train {

enum class SelectOn { kAuc, kLoss };
SelectOn parse_select_on(const std::string& name);  // "auc" | "loss"

struct TrainerOptions {
  std::int64_t epochs = 30;             // train.epochs: the length of the learning-rate schedule
  std::int64_t run_epochs = 0;          // > 0: stop after this many epochs (the schedule still spans `epochs`):
                                        // the refit of train.selection = cv
  std::int64_t patience = 8;            // train.early_stop_patience (0 = never stop early)
  SelectOn select_on = SelectOn::kAuc;  // train.select_on
  double grad_clip = 1.0;               // train.grad_clip (0 = none)
  double warmup_epochs = 2.0;           // train.warmup_epochs
  double min_lr_factor = 0.0;           // cosine floor, as a fraction of the base rates
  OptimConfig optim;
  LossConfig loss;
  std::uint64_t seed = 42;              // study.seed: the dropout stream of a fresh run derives from it
  int batch_shards = 0;                 // train.batch_shards: parts of a batch run on their own threads (0 = one per
                                        // thread); a model with BatchNorm always runs one part
  bool deterministic = false;           // study.deterministic
  std::int64_t eval_batch_size = 64;
  torch::Device device = torch::kCPU;   // train.device
  bool bf16 = false;                    // bfloat16 autocast of forward passes (CUDA; train.precision)
  std::filesystem::path checkpoint;     // "" = no checkpoints
  bool resume = false;                  // continue from `checkpoint` when it exists
  std::string fingerprint;              // identifies the run in its checkpoint
  bool restore_best = true;             // load the best epoch's weights at the end of fit()
  // train.ema_decay: > 0 keeps an exponential moving average of the weights (Polyak averaging;
  // ConvNeXt, Liu et al. 2022, trains with one), updated after every optimiser step with the
  // decay min(ema_decay, (1 + step) / (10 + step)); evaluation, selection and the weights fit()
  // leaves in the model are then the average's. 0 = off.
  double ema_decay = 0.0;
  // train.freeze_backbone_epochs: in the first `freeze_epochs` epochs the parameters whose names
  // start with one of `freeze_prefixes` do not require gradients (no update, no weight decay, no
  // optimiser state); from then on they train. 0 = never frozen.
  std::int64_t freeze_epochs = 0;
  std::vector<std::string> freeze_prefixes;
  bool progress = true;
  std::string label = "train";
  // Auxiliary targets (multi-task training, Caruana 1997, doi:10.1023/A:1007379606734): the
  // forward returns `aux_columns` more columns after the logit (and risk), and aux_loss(those
  // columns, batch) is added to the loss of every training step. Evaluation and selection read
  // the main output only. 0 = none.
  std::int64_t aux_columns = 0;
  std::function<torch::Tensor(const torch::Tensor& aux, const Batch& batch)> aux_loss;
};

// Called with a batch already on the device; returns the logit (or Cox risk) per patient, [B].
using ForwardFn = std::function<torch::Tensor(const Batch&)>;
// Runs after backward, before clipping, with the optimiser's parameters (gradient all-reduce).
using GradientHook = std::function<void(const std::vector<torch::Tensor>& parameters)>;

struct Evaluation {
  double loss = 0;
  double auc = 0;  // NaN with one class
  std::vector<std::string> ids;
  std::vector<std::int64_t> indices;
  torch::Tensor outputs;  // float [N] ([N, 2] = logit, risk with loss bce+cox), CPU, dataset order
  torch::Tensor labels, time, event;
};

struct FitResult {
  TrainState state;
  bool resumed = false;
  std::int64_t epochs_run = 0;  // in this call
};

// In deterministic mode batches are assembled in the training thread (single-threaded loading).
LoaderOptions effective_loader_options(LoaderOptions options, bool deterministic);

class Trainer {
 public:
  Trainer(torch::nn::Module& model, ForwardFn forward, TrainerOptions options);
  ~Trainer();

  // Trains on `train` (its options decide sampling/augmentation), selects on `validation`.
  // Without a checkpoint to resume it starts a fresh optimiser and schedule (the model's current
  // weights are the starting point). With `validation` null nothing is evaluated or selected:
  // the weights are those of the last epoch (needs restore_best = false; set patience 0).
  FitResult fit(Loader& train, const Dataset& validation);
  FitResult fit(Loader& train, const Dataset* validation);
  // THE optimisation step; returns the batch loss. Throws Error on a non-finite loss.
  double train_step(const Batch& batch);
  // Eval mode, no gradients, no augmentation, dataset order.
  Evaluation evaluate(const Dataset& data);

  Optimizer& optimizer() { return *optimizer_; }
  const TrainState& state() const { return state_; }
  const NamedTensors& best_weights() const { return best_weights_; }
  const NamedTensors& ema_weights() const { return ema_; }  // empty when ema_decay is 0
  const WarmupCosine& schedule() const { return schedule_; }

  void set_gradient_hook(GradientHook hook) { gradient_hook_ = std::move(hook); }
  // After each epoch, once its checkpoint is on disk.
  void set_epoch_callback(std::function<void(const EpochRecord&)> cb) { epoch_callback_ = std::move(cb); }
  // After each epoch's evaluation, before its checkpoint is written: what a resumed run needs
  // besides the checkpoint is recorded here, so a kill between the two loses nothing.
  void set_before_checkpoint(std::function<void(const EpochRecord&)> cb) { before_checkpoint_ = std::move(cb); }
  // After each optimisation step (epoch, step within the epoch).
  void set_step_callback(std::function<void(std::int64_t, std::int64_t)> cb) { step_callback_ = std::move(cb); }

 private:
  bool improved(const EpochRecord& r) const;
  bool two_outputs() const;  // loss bce+cox: the model returns [B, 2] (logit, risk)
  bool output_shape_ok(const torch::Tensor& out, std::int64_t rows) const;
  // The main output (logit, or logit and risk) of a forward's result, without auxiliary columns.
  torch::Tensor main_output(const torch::Tensor& out) const;
  void update_ema();
  // Runs f with the moving average's weights in the model (the model's own weights otherwise),
  // then puts the trained weights back.
  template <class F>
  auto with_ema(F&& f);

  torch::nn::Module& model_;
  ForwardFn forward_;
  TrainerOptions options_;
  std::unique_ptr<Optimizer> optimizer_;
  WarmupCosine schedule_;
  TrainState state_;
  NamedTensors best_weights_;
  NamedTensors ema_;  // on the model's device
  GradientHook gradient_hook_;
  std::unique_ptr<ShardPool> pool_;  // created on the first step that splits its batch
  std::function<void(const EpochRecord&)> epoch_callback_, before_checkpoint_;
  std::function<void(std::int64_t, std::int64_t)> step_callback_;
};

}  // namespace cervirisk::train
