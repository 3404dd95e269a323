#include "train/loader.h"

#include <fmt/format.h>

#include <string>

#include "core/error.h"
#include "core/random.h"

namespace cervirisk::train {
namespace {
// Uniform integer in [0, n) and double in [0, 1) written out (not std::*_distribution, whose
// algorithms are implementation-defined) so orders do not change with the standard library.
std::uint64_t below(std::mt19937_64& g, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do x = g();
  while (x >= limit);
  return x % n;
}
double unit(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }
}  // namespace

Batch Batch::to(const torch::Device& device) const {
  Batch b;
  b.ids = ids;
  b.indices = indices;
  // To a GPU through page-locked memory, asynchronously (the copy overlaps the host's next work;
  // the kernels that read the batch are queued after it on the same stream).
  const bool gpu = !device.is_cpu();
  auto move = [&](const torch::Tensor& t) {
    if (!gpu || !t.defined()) return t.defined() ? t.to(device) : t;
    return t.pin_memory().to(device, /*non_blocking=*/true);
  };
  for (const auto& [k, v] : inputs) b.inputs[k] = move(v);
  b.label = move(label);
  b.time = move(time);
  b.event = move(event);
  return b;
}

Batch Batch::slice(std::int64_t begin, std::int64_t end) const {
  if (begin < 0 || end > size() || begin >= end)
    throw ConfigError(fmt::format("batch: rows [{}, {}) out of a batch of {}", begin, end, size()));
  Batch b;
  b.ids.assign(ids.begin() + begin, ids.begin() + end);
  b.indices.assign(indices.begin() + begin, indices.begin() + end);
  for (const auto& [k, v] : inputs) b.inputs[k] = v.narrow(0, begin, end - begin);
  b.label = label.narrow(0, begin, end - begin);
  b.time = time.narrow(0, begin, end - begin);
  b.event = event.narrow(0, begin, end - begin);
  return b;
}

Batch collate(std::vector<Sample> samples, const std::vector<std::int64_t>& indices) {
  if (samples.empty()) throw ValidationError("collate: empty batch");
  Batch b;
  const auto n = static_cast<std::int64_t>(samples.size());
  const Sample& first = samples.front();
  for (const auto& s : samples) {
    if (s.inputs.size() != first.inputs.size())
      throw ValidationError(fmt::format("collate: patient {} has {} inputs, patient {} has {}", s.id,
                                        s.inputs.size(), first.id, first.inputs.size()));
    for (const auto& [name, t] : first.inputs) {
      auto it = s.inputs.find(name);
      if (it == s.inputs.end())
        throw ValidationError(fmt::format("collate: patient {} lacks input '{}' (patient {} has it)", s.id, name,
                                          first.id));
      if (it->second.sizes() != t.sizes() || it->second.scalar_type() != t.scalar_type())
        throw ValidationError(fmt::format("collate: input '{}' of patient {} is {} {}, patient {} has {} {}", name,
                                          s.id, c10::str(it->second.sizes()), c10::toString(it->second.scalar_type()),
                                          first.id, c10::str(t.sizes()), c10::toString(t.scalar_type())));
    }
  }
  for (const auto& [name, t] : first.inputs) {
    std::vector<torch::Tensor> parts;
    parts.reserve(samples.size());
    for (auto& s : samples) parts.push_back(s.inputs[name]);
    b.inputs[name] = torch::stack(parts);
  }
  b.label = torch::empty({n}, torch::kFloat);
  b.time = torch::empty({n}, torch::kFloat);
  b.event = torch::empty({n}, torch::kFloat);
  auto* l = b.label.data_ptr<float>();
  auto* t = b.time.data_ptr<float>();
  auto* e = b.event.data_ptr<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    l[i] = samples[i].label;
    t[i] = samples[i].time;
    e[i] = samples[i].event;
    b.ids.push_back(std::move(samples[i].id));
  }
  b.indices = indices;
  return b;
}

std::vector<std::int64_t> epoch_order(const Dataset& dataset, const LoaderOptions& options, std::int64_t epoch) {
  const auto n = static_cast<std::int64_t>(dataset.size());
  std::vector<std::int64_t> order(n);
  for (std::int64_t i = 0; i < n; ++i) order[i] = i;
  if (options.sampling == Sampling::kSequential || n == 0) return order;
  std::mt19937_64 g(derive_seed(options.seed, "loader/epoch/" + std::to_string(epoch)));
  if (options.sampling == Sampling::kShuffle) {
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[below(g, i + 1)]);
    return order;
  }
  // Balanced: weight 1 / n_class per sample, n draws with replacement by inverse CDF.
  std::int64_t n_pos = 0;
  std::vector<bool> pos(n);
  for (std::int64_t i = 0; i < n; ++i) n_pos += (pos[i] = dataset.label(i) > 0.5f);
  if (n_pos == 0 || n_pos == n)
    throw ValidationError(fmt::format("balanced sampling needs both classes, got {} positive of {}", n_pos, n));
  std::vector<double> cdf(n);
  double acc = 0;
  for (std::int64_t i = 0; i < n; ++i) cdf[i] = acc += 1.0 / static_cast<double>(pos[i] ? n_pos : n - n_pos);
  for (std::int64_t k = 0; k < n; ++k) {
    const double u = unit(g) * acc;
    auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
    order[k] = std::min<std::int64_t>(n - 1, it - cdf.begin());
  }
  return order;
}

std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t position) {
  return derive_seed(derive_seed(seed, "loader/augment/" + std::to_string(epoch)), std::to_string(position));
}

Loader::Loader(const Dataset& dataset, LoaderOptions options) : dataset_(dataset), options_(options) {
  if (options_.batch_size < 1)
    throw ConfigError(fmt::format("loader: batch_size must be >= 1, got {}", options_.batch_size));
  if (options_.workers < 0) throw ConfigError(fmt::format("loader: workers must be >= 0, got {}", options_.workers));
  if (options_.prefetch_batches < 1) options_.prefetch_batches = 1;
}

Loader::~Loader() { stop_workers(); }

std::int64_t Loader::batches_per_epoch() const {
  const auto n = static_cast<std::int64_t>(dataset_.size());
  return options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Loader::start_epoch(std::int64_t epoch) {
  stop_workers();
  epoch_ = epoch;
  order_ = epoch_order(dataset_, options_, epoch);
  num_batches_ = batches_per_epoch();
  consumed_ = 0;
  next_to_build_ = 0;
  ready_.clear();
  error_ = nullptr;
  stop_ = false;
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { worker_loop(); });
}

Batch Loader::build(std::int64_t batch_index) const {
  const std::int64_t begin = batch_index * options_.batch_size;
  const std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size, static_cast<std::int64_t>(order_.size()));
  std::vector<Sample> samples;
  std::vector<std::int64_t> indices;
  for (std::int64_t pos = begin; pos < end; ++pos) {
    const auto idx = order_[pos];
    if (options_.augment) {
      std::mt19937_64 g(sample_seed(options_.seed, epoch_, pos));
      samples.push_back(dataset_.get(idx, &g));
    } else {
      samples.push_back(dataset_.get(idx, nullptr));
    }
    indices.push_back(idx);
  }
  return collate(std::move(samples), indices);
}

void Loader::worker_loop() {
  // Loader threads do not record autograd graphs.
  torch::NoGradGuard no_grad;
  for (;;) {
    std::int64_t b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || next_to_build_ >= num_batches_ ||
                                  next_to_build_ < consumed_ + options_.prefetch_batches; });
      if (stop_ || next_to_build_ >= num_batches_) return;
      b = next_to_build_++;
    }
    try {
      Batch batch = build(b);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(b, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  if (epoch_ < 0) throw Error(ExitCode::kFailure, "loader: next() before start_epoch()");
  if (consumed_ >= num_batches_) return std::nullopt;
  if (threads_.empty()) {
    torch::NoGradGuard no_grad;
    return build(consumed_++);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return error_ || ready_.count(consumed_) > 0; });
  if (error_) {
    auto e = error_;
    lock.unlock();
    stop_workers();
    std::rethrow_exception(e);
  }
  auto node = ready_.extract(consumed_);
  ++consumed_;
  lock.unlock();
  cv_.notify_all();
  return std::move(node.mapped());
}

}  // namespace cervirisk::train
