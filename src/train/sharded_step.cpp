#include "train/sharded_step.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/random.h"
#include "models/rng.h"

namespace cervirisk::train {

int shard_count(std::int64_t rows, int requested, std::int64_t min_rows) {
  const int want = requested > 0 ? requested : at::get_num_threads();
  const std::int64_t cap = std::max<std::int64_t>(1, rows / std::max<std::int64_t>(1, min_rows));
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(want, cap)));
}

std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t rows, int n, int k) {
  const std::int64_t base = rows / n, extra = rows % n;
  const std::int64_t begin = k * base + std::min<std::int64_t>(k, extra);
  return {begin, begin + base + (k < extra ? 1 : 0)};
}

double sharded_forward_backward(ShardPool* pool, int parts, std::int64_t rows, std::uint64_t seed,
                                const ShardedFns& fns, const std::vector<torch::Tensor>& params) {
  if (parts < 1 || parts > rows)
    throw ConfigError(fmt::format("sharded step: {} parts for a batch of {} rows", parts, rows));
  auto part_seed = [seed](int k) { return derive_seed(seed, "part/" + std::to_string(k)); };
  if (parts == 1) {
    // Everything on the calling thread: plain backward, accumulating into .grad.
    models::ScopedGenerator gen(models::make_generator(part_seed(0)));
    for (const auto& p : params) p.mutable_grad() = torch::Tensor();
    auto loss = fns.loss(fns.forward(0, 0, rows));
    const double value = loss.item<double>();
    loss.backward();
    torch::NoGradGuard no_grad;
    for (const auto& p : params)
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    return value;
  }
  if (pool == nullptr || pool->size() < parts)
    throw ConfigError(fmt::format("sharded step: {} parts need a pool of as many threads", parts));
  std::vector<torch::Tensor> outs(static_cast<std::size_t>(parts));
  pool->run(parts, [&](int k) {
    models::ScopedGenerator gen(models::make_generator(part_seed(k)));
    const auto [begin, end] = shard_range(rows, parts, k);
    outs[static_cast<std::size_t>(k)] = fns.forward(k, begin, end);
  });
  std::vector<torch::Tensor> leaves;
  for (const auto& o : outs) leaves.push_back(o.detach().requires_grad_(o.requires_grad()));
  auto loss = fns.loss(torch::cat(leaves, 0));
  const double value = loss.item<double>();
  loss.backward();
  std::vector<std::vector<torch::Tensor>> grads(static_cast<std::size_t>(parts));
  pool->run(parts, [&](int k) {
    const auto i = static_cast<std::size_t>(k);
    if (!outs[i].requires_grad() || !leaves[i].grad().defined()) return;
    grads[i] = torch::autograd::grad({outs[i]}, params, {leaves[i].grad()}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  });
  torch::NoGradGuard no_grad;
  for (std::size_t j = 0; j < params.size(); ++j) {
    torch::Tensor sum;
    for (const auto& g : grads) {
      if (g.empty() || !g[j].defined()) continue;
      sum = sum.defined() ? sum.add_(g[j]) : g[j].clone();
    }
    params[j].mutable_grad() = sum.defined() ? sum : torch::zeros_like(params[j]);
  }
  return value;
}

}  // namespace cervirisk::train
