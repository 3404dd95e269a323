// The random stream of the model's own randomness: dropout, stochastic depth and modality
// dropout. A training step that runs parts of a batch on several threads (train/sharded_step.h)
// gives each part its own generator through ScopedGenerator, so the draws depend on the seed,
// the step and the part -- not on which thread reached the global generator first. Without a
// scoped generator the global torch generator (torch::manual_seed) is used, as torch does.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace cervirisk::models {

// The calling thread's generator: the innermost ScopedGenerator's, or nullopt (torch's default).
c10::optional<at::Generator> current_generator();

// A CPU generator seeded with `seed`.
at::Generator make_generator(std::uint64_t seed);

// Makes `generator` the calling thread's model generator for its lifetime (nestable).
class ScopedGenerator {
 public:
  explicit ScopedGenerator(at::Generator generator);
  ~ScopedGenerator();
  ScopedGenerator(const ScopedGenerator&) = delete;
  ScopedGenerator& operator=(const ScopedGenerator&) = delete;

 private:
  c10::optional<at::Generator> previous_;
};

// Inverted dropout (Srivastava et al. 2014, JMLR 15:1929): x * Bernoulli(1 - p) / (1 - p) in
// training, x otherwise -- torch::dropout's definition, drawn from current_generator().
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// Uniform [0, 1) draws of the given shape from current_generator().
torch::Tensor uniform(at::IntArrayRef shape, const torch::TensorOptions& options);

// Bernoulli(keep) draws of the given shape (values 0 / 1 in options' dtype).
torch::Tensor bernoulli(at::IntArrayRef shape, double keep, const torch::TensorOptions& options);

// torch::nn::Dropout with the draws from current_generator(); no parameters, so checkpoints
// and parameter names are the same as with torch::nn::Dropout.
struct DropoutImpl : torch::nn::Module {
  explicit DropoutImpl(double p = 0.5);
  torch::Tensor forward(const torch::Tensor& x);
  double p;
};
TORCH_MODULE(Dropout);

}  // namespace cervirisk::models
