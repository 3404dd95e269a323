// One optimiser step's forward and backward split over threads by rows of the batch.
//
// On a few CPU cores, small models keep two OpenMP threads poorly busy: most of their kernels are
// too small to split well (torch's own intra-op parallelism gave 1.2-1.35x on 2 cores for the
// cpu-small branches). Splitting the batch into one part per thread, each part running forward
// and backward on its own thread with one intra-op thread, keeps every core busy. The loss is
// still computed on the whole batch (a Cox partial likelihood needs every risk set), so the
// result is the full-batch gradient:
//   1. part k: o_k = forward(rows of part k), on worker thread k;
//   2. caller: loss(cat(o_k)) with each o_k detached as a leaf, backward -> dL/do_k;
//   3. part k: g_k = d o_k / d params . dL/do_k (autograd::grad, no accumulation), on thread k;
//   4. caller: grad = g_0 + g_1 + ... added in part order, so the sum does not depend on which
//      thread finished first: the step is deterministic for a given number of parts.
// Each part's dropout / stochastic-depth draws come from its own generator seeded by
// (seed, part) (models/rng.h), never from the shared global generator.
// Autograd supports concurrent backward passes on disjoint graphs from several CPU threads (the
// CPU work runs on the calling thread); forward passes must not mutate module state.
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cervirisk::train {

// Sets the calling thread's intra-op (OpenMP) thread count for its lifetime and restores it. The
// count is per thread, so other threads -- and torch's process-wide setting for new threads -- are
// unchanged (unlike at::set_num_threads).
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads);
  ~IntraOpThreads();
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int saved_;
};

// A fixed set of worker threads, each limited to one OpenMP (intra-op) thread, running the
// tasks of one call at a time.
class ShardPool {
 public:
  explicit ShardPool(int threads);
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }
  // Runs task(0) ... task(n - 1), task k on worker k (n <= size()), and waits for all; rethrows
  // the exception of the lowest-numbered failing task. Torch's thread-local grad mode of the
  // caller is applied in the workers.
  void run(int n, const std::function<void(int)>& task);

 private:
  void loop(int index);
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int tasks_ = 0;
  int pending_ = 0;
  std::uint64_t generation_ = 0;
  bool grad_enabled_ = true;
  bool stop_ = false;
  std::vector<std::exception_ptr> errors_;
};

// The number of parts a batch of `rows` is split into: `requested` (0 = one per intra-op thread
// of the caller), at most rows / min_rows (each part keeps at least min_rows rows), at least 1.
int shard_count(std::int64_t rows, int requested, std::int64_t min_rows = 4);

// The contiguous row range [begin, end) of part k of n over `rows` rows (sizes differ by <= 1).
std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t rows, int n, int k);

struct ShardedFns {
  // Forward of part k over rows [begin, end): the outputs, first dimension end - begin.
  std::function<torch::Tensor(int k, std::int64_t begin, std::int64_t end)> forward;
  // The scalar loss of the whole batch's outputs (concatenated along dimension 0 in part order).
  std::function<torch::Tensor(const torch::Tensor& outputs)> loss;
};

// Runs the four stages above over `parts` parts (1 = everything on the calling thread, no pool
// needed) and leaves the summed gradients in params[i].grad() (zeros where no part reaches a
// parameter, as after zero_grad(): the optimiser still applies weight decay there). Part k draws its randomness from models::make_generator(derive(seed, k)).
// Returns the loss value.
double sharded_forward_backward(ShardPool* pool, int parts, std::int64_t rows, std::uint64_t seed,
                                const ShardedFns& fns, const std::vector<torch::Tensor>& params);

}  // namespace cervirisk::train
