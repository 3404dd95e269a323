#include "models/rng.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "core/error.h"

namespace cervirisk::models {
namespace {
thread_local c10::optional<at::Generator> t_generator;
}

c10::optional<at::Generator> current_generator() { return t_generator; }

at::Generator make_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

ScopedGenerator::ScopedGenerator(at::Generator generator) : previous_(t_generator) {
  t_generator = std::move(generator);
}

ScopedGenerator::~ScopedGenerator() { t_generator = previous_; }

torch::Tensor bernoulli(at::IntArrayRef shape, double keep, const torch::TensorOptions& options) {
  return torch::empty(shape, options).bernoulli_(keep, t_generator);
}

torch::Tensor uniform(at::IntArrayRef shape, const torch::TensorOptions& options) {
  return torch::empty(shape, options).uniform_(0.0, 1.0, t_generator);
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (p < 0.0 || p > 1.0) throw ConfigError(fmt::format("dropout: probability must be in [0, 1], got {}", p));
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  auto noise = bernoulli(x.sizes(), 1.0 - p, x.options());
  noise.div_(1.0 - p);
  return x * noise;
}

DropoutImpl::DropoutImpl(double p_) : p(p_) {
  if (p < 0.0 || p > 1.0) throw ConfigError(fmt::format("dropout: probability must be in [0, 1], got {}", p));
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& x) { return models::dropout(x, p, is_training()); }

}  // namespace cervirisk::models
