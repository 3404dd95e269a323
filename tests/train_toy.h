// A small synthetic problem for the trainer tests (test_train_*.cpp, train_resume_helper.cpp):
// two named inputs per patient -- an 8-vector and a 1x8x8 "image" whose pattern amplitude carries
// part of the signal -- a binary label from a noisy linear score, and a survival time that falls
// with the score. The network has a conv "backbone" (with BatchNorm, so buffers are checkpointed
// too; optional, since a model with BatchNorm is never split over threads) and an MLP "head"
// with LayerNorm and dropout (models::Dropout: the per-step generators matter on resume).
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/rng.h"
#include "train/loader.h"

namespace cervirisk::train::toy {

inline double gauss(std::mt19937_64& g) {
  // Box-Muller written out: std::normal_distribution's algorithm is implementation-defined.
  const double u1 = (static_cast<double>(g() >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(g() >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

class ToyDataset : public Dataset {
 public:
  ToyDataset(std::size_t n, std::uint64_t seed, double label_noise = 0.3, std::string prefix = "P")
      : prefix_(std::move(prefix)) {
    std::mt19937_64 g(seed);
    const double w[8] = {1.0, -0.8, 0.6, 0.0, 0.5, -0.4, 0.0, 0.3};
    for (std::size_t i = 0; i < n; ++i) {
      Row r;
      double s = 0;
      for (int k = 0; k < 8; ++k) {
        r.x[k] = static_cast<float>(gauss(g));
        s += w[k] * r.x[k];
      }
      r.amp = static_cast<float>(0.5 * gauss(g));
      s += 1.5 * r.amp;
      r.label = (s + label_noise * gauss(g)) > 0 ? 1.f : 0.f;
      r.time = static_cast<float>(10.0 * std::exp(-0.7 * s) * (0.5 + (g() >> 11) * 0x1.0p-53));
      r.event = ((g() >> 11) * 0x1.0p-53) < 0.8 ? 1.f : 0.f;
      rows_.push_back(r);
    }
  }
  std::size_t size() const override { return rows_.size(); }
  float label(std::size_t i) const override { return rows_[i].label; }
  Sample get(std::size_t i, std::mt19937_64* aug) const override {
    const Row& r = rows_[i];
    Sample s;
    s.id = prefix_ + std::to_string(i);
    auto x = torch::from_blob(const_cast<float*>(r.x), {8}, torch::kFloat).clone();
    auto image = torch::empty({1, 8, 8});
    auto* p = image.data_ptr<float>();
    for (int a = 0; a < 8; ++a)
      for (int b = 0; b < 8; ++b) p[a * 8 + b] = r.amp * static_cast<float>(0.5 + std::sin(0.7 * a) * std::cos(0.5 * b));
    if (aug) {  // augmentation: small jitter drawn only from the sample's own stream
      auto* xp = x.data_ptr<float>();
      for (int k = 0; k < 8; ++k) xp[k] += static_cast<float>(0.05 * gauss(*aug));
      for (int k = 0; k < 64; ++k) p[k] += static_cast<float>(0.05 * gauss(*aug));
    }
    s.inputs["features"] = x;
    s.inputs["image"] = image;
    s.label = r.label;
    s.time = r.time;
    s.event = r.event;
    return s;
  }

 private:
  struct Row {
    float x[8];
    float amp, label, time, event;
  };
  std::string prefix_;
  std::vector<Row> rows_;
};

struct ToyNetImpl : torch::nn::Module {
  explicit ToyNetImpl(bool batch_norm = true)
      : backbone(register_module(
            "backbone", batch_norm ? torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).padding(1)),
                                                           torch::nn::BatchNorm2d(4), torch::nn::ReLU(),
                                                           torch::nn::AdaptiveAvgPool2d(1))
                                   : torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).padding(1)),
                                                           torch::nn::ReLU(), torch::nn::AdaptiveAvgPool2d(1)))),
        features(register_module("features", torch::nn::Sequential(torch::nn::Linear(8, 16),
                                                                     torch::nn::LayerNorm(torch::nn::LayerNormOptions({16})),
                                                                     torch::nn::ReLU(), models::Dropout(0.2)))),
        head(register_module("head", torch::nn::Linear(20, 1))) {}
  torch::Tensor forward(const Batch& b) {
    auto img = backbone->forward(b.inputs.at("image")).flatten(1);
    auto f = features->forward(b.inputs.at("features"));
    return head->forward(torch::cat({img, f}, 1)).squeeze(1);
  }
  torch::nn::Sequential backbone, features;
  torch::nn::Linear head;
};
TORCH_MODULE(ToyNet);

}  // namespace cervirisk::train::toy
