// Threads for torch work on the CPU: a per-thread intra-op (OpenMP) thread count, and a pool of
// workers with one intra-op thread each. On a few cores, several single-threaded workers keep
// every core busy where one caller with torch's intra-op parallelism would not (small kernels
// split poorly); a worker's count is its own, so the caller's and the process-wide setting
// (at::set_num_threads) are left alone. Used by the sharded training step (train/sharded_step.h)
// and the explanations.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cervirisk {

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
// tasks of one call at a time. Neither copyable nor movable (it owns its threads and mutex).
class ShardPool {
 public:
  explicit ShardPool(int threads);
  ~ShardPool();

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

}  // namespace cervirisk
