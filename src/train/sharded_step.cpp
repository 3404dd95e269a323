#include "train/sharded_step.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/random.h"
#include "models/rng.h"

// The OpenMP runtime torch and OpenBLAS run on (libgomp): its thread count is per calling thread,
// so limiting a worker does not change the caller's.
extern "C" void omp_set_num_threads(int);

namespace cervirisk::train {

IntraOpThreads::IntraOpThreads(int threads) {
  // torch initialises a thread's OpenMP thread count lazily (to the process-wide setting) on its
  // first parallel call: trigger that first, so it cannot override the count set here later.
  saved_ = at::get_num_threads();
  omp_set_num_threads(std::max(1, threads));
}

IntraOpThreads::~IntraOpThreads() { omp_set_num_threads(saved_); }

ShardPool::ShardPool(int threads) {
  if (threads < 1) throw ConfigError(fmt::format("shard pool: expected >= 1 thread, got {}", threads));
  errors_.resize(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this, i] { loop(i); });
}

ShardPool::~ShardPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ShardPool::loop(int index) {
  IntraOpThreads one(1);
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* task = nullptr;
    bool grad = true;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= tasks_) continue;
      task = task_;
      grad = grad_enabled_;
    }
    std::exception_ptr error;
    try {
      torch::AutoGradMode mode(grad);
      (*task)(index);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_[static_cast<std::size_t>(index)] = error;
      if (--pending_ == 0) done_.notify_all();
    }
  }
}

void ShardPool::run(int n, const std::function<void(int)>& task) {
  if (n < 1 || n > size())
    throw ConfigError(fmt::format("shard pool: {} tasks for {} threads", n, size()));
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  tasks_ = n;
  pending_ = n;
  grad_enabled_ = torch::GradMode::is_enabled();
  std::fill(errors_.begin(), errors_.end(), nullptr);
  ++generation_;
  wake_.notify_all();
  done_.wait(lock, [&] { return pending_ == 0; });
  task_ = nullptr;
  for (int k = 0; k < n; ++k)
    if (errors_[static_cast<std::size_t>(k)]) std::rethrow_exception(errors_[static_cast<std::size_t>(k)]);
}

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
