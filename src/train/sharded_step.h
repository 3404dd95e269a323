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

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/torch/threads.h"

namespace cervirisk::train {

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
