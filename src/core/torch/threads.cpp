#include "core/torch/threads.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"

// The OpenMP runtime torch and OpenBLAS run on (libgomp): its thread count is per calling thread,
// so limiting a worker does not change the caller's.
extern "C" void omp_set_num_threads(int);

namespace cervirisk {

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

}  // namespace cervirisk
