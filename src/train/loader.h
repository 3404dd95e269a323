// Datasets and the batch loader. A Dataset hands out one patient's Sample (named tensors + label
// + survival time/event); the Loader assembles batches in background worker threads (a bounded
// queue, so preprocessing of the next batches overlaps the training step) and returns them in a
// fixed order.
//
// Reproducibility: the epoch's order (shuffle or class-balanced draw) comes from
// derive_seed(seed, "loader/epoch/<e>") and each sample's augmentation stream from that epoch seed
// and the sample's position in the epoch -- never from which worker built it or when. So the
// batches of (seed, epoch) are identical for any worker count, and a resumed run needs no loader
// state besides (seed, epoch).
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cervirisk::train {

using TensorDict = std::map<std::string, torch::Tensor>;

struct Sample {
  std::string id;       // patient id
  TensorDict inputs;    // e.g. "tumour", "context" (3xHxW), "input_ids", "clinical"
  float label = 0;      // binary endpoint
  float time = 0;       // follow-up (months)
  float event = 0;      // 1 = recurrence observed
};

struct Batch {
  std::vector<std::string> ids;
  std::vector<std::int64_t> indices;  // dataset indices
  TensorDict inputs;                  // each [B, ...] (stacked)
  torch::Tensor label, time, event;   // float [B]
  std::int64_t size() const { return static_cast<std::int64_t>(ids.size()); }
  Batch to(const torch::Device& device) const;
  // Rows [begin, end) (views of the tensors, no copy).
  Batch slice(std::int64_t begin, std::int64_t end) const;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  // Called concurrently from worker threads: must not mutate shared state. `augment_rng` is the
  // sample's own augmentation stream, nullptr = no augmentation (evaluation).
  virtual Sample get(std::size_t index, std::mt19937_64* augment_rng) const = 0;
  // The label alone (for class-balanced sampling and class weights); the default loads the sample.
  virtual float label(std::size_t index) const { return get(index, nullptr).label; }
};

// Stacks samples into a batch. Every sample must carry the same input names and shapes; a
// mismatch throws ValidationError naming the input and the two patients.
Batch collate(std::vector<Sample> samples, const std::vector<std::int64_t>& indices = {});

enum class Sampling {
  kSequential,  // 0..n-1 (evaluation)
  kShuffle,     // a permutation per epoch
  kBalanced,    // n draws with replacement, each class drawn with equal probability
};

struct LoaderOptions {
  std::int64_t batch_size = 32;
  int workers = 1;                 // 0 = build batches in the caller's thread
  int prefetch_batches = 4;        // bound of the queue (batches ready or being built)
  Sampling sampling = Sampling::kShuffle;
  bool drop_last = false;
  bool augment = true;
  std::uint64_t seed = 0;
};

// The dataset indices of an epoch, in order (pure function of dataset labels, options, epoch).
std::vector<std::int64_t> epoch_order(const Dataset& dataset, const LoaderOptions& options, std::int64_t epoch);
// The augmentation seed of the sample at `position` of epoch `epoch`.
std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t position);

class Loader {
 public:
  Loader(const Dataset& dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::int64_t batches_per_epoch() const;
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return dataset_; }
  // Starts (background) assembly of epoch `epoch`, abandoning any unfinished one.
  void start_epoch(std::int64_t epoch);
  // The next batch of the current epoch in order; nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  Batch build(std::int64_t batch_index) const;
  void worker_loop();
  void stop_workers();

  const Dataset& dataset_;  // must outlive the loader
  LoaderOptions options_;
  std::int64_t epoch_ = -1;
  std::vector<std::int64_t> order_;
  std::int64_t num_batches_ = 0;
  std::int64_t consumed_ = 0;
  std::int64_t next_to_build_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::map<std::int64_t, Batch> ready_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

}  // namespace cervirisk::train
