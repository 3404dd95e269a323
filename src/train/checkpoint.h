// Training checkpoints: everything needed to continue a killed run bit for bit -- model
// parameters and buffers, optimiser state (AdamW moments and step counts), the schedule's step,
// the epoch, the best metric and best weights so far, early-stopping counters, the per-epoch
// history, and every random state (torch's CPU and CUDA generators, the process-wide std engine
// of core/random.h). The loader needs no state of its own: its order and augmentation streams
// are functions of (seed, epoch) (loader.h).
//
// Written atomically (temporary file + fsync + rename, core/atomic_file.h): a kill during the write
// leaves the previous checkpoint intact.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cervirisk::train {

struct EpochRecord {
  std::int64_t epoch = 0;
  double train_loss = 0;
  double val_loss = 0;
  double val_auc = 0;  // NaN when the validation set has one class
  double lr = 0;       // head learning rate at the end of the epoch
  double seconds = 0;  // wall time (not part of the reproducible result)
};

struct TrainState {
  std::int64_t epochs_done = 0;  // completed epochs; the next epoch to run
  std::int64_t step = 0;         // optimiser updates so far (the schedule's position)
  std::int64_t best_epoch = -1;  // -1: none yet
  double best_metric = 0;
  std::int64_t epochs_without_improvement = 0;
  bool stopped_early = false;
  std::vector<EpochRecord> history;
  // Identifies the run (variant, config hash, seed): resume refuses another run's checkpoint.
  std::string fingerprint;
};

struct RngState {
  torch::Tensor torch_cpu;                // at::Generator::get_state()
  std::vector<torch::Tensor> torch_cuda;  // one per visible device
  std::string std_engine;                 // core/random.h rng(), as operator<< writes it
};
RngState capture_rng_state();
void restore_rng_state(const RngState& state);

using NamedTensors = std::map<std::string, torch::Tensor>;

struct CheckpointContents {
  TrainState state;
  RngState rng;
  NamedTensors best_weights;  // state dict of the best epoch so far (empty when none)
  NamedTensors ema;           // the weights' exponential moving average (train.ema_decay; empty when off)
};

// Writes the checkpoint atomically. Throws OutputError.
void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer& optimizer, const CheckpointContents& contents);
// Loads into model and optimiser (which must have the checkpoint's architecture and parameter
// groups) and returns the rest. Throws InputError (missing), FormatError (unreadable) or
// ModelError (another architecture, or a fingerprint other than `expected_fingerprint` when that
// is not empty).
CheckpointContents load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                   torch::optim::Optimizer& optimizer, const std::string& expected_fingerprint = "");

}  // namespace cervirisk::train
