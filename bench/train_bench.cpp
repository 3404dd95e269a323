// Training-step throughput of the C++ trainer (loader + Trainer::train_step: forward, weighted
// BCE, backward, clip, AdamW, schedule) on a small 2.5D conv net over 3x64x64 crops, to compare
// with the same loop in Python PyTorch (bench/train_reference.py). Prints one JSON line.
//   bench_train [STEPS] [BATCH] [THREADS]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/log.h"
#include "train/trainer.h"

using namespace cervirisk;
using namespace cervirisk::train;

namespace {
struct Crops : Dataset {
  explicit Crops(std::size_t n) {
    torch::manual_seed(0);
    images = torch::randn({static_cast<std::int64_t>(n), 3, 64, 64});
    labels = (torch::rand({static_cast<std::int64_t>(n)}) > 0.7).to(torch::kFloat);
  }
  std::size_t size() const override { return static_cast<std::size_t>(images.size(0)); }
  float label(std::size_t i) const override { return labels[i].item<float>(); }
  Sample get(std::size_t i, std::mt19937_64* g) const override {
    Sample s;
    s.id = std::to_string(i);
    auto x = images[i];
    if (g && ((*g)() & 1)) x = x.flip({2});  // horizontal flip as augmentation
    s.inputs["tumour"] = x.contiguous();
    s.label = labels[i].item<float>();
    return s;
  }
  torch::Tensor images, labels;
};

struct NetImpl : torch::nn::Module {
  NetImpl()
      : backbone(register_module("backbone",
                                 torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 32, 3).stride(2).padding(1)),
                                                       torch::nn::BatchNorm2d(32), torch::nn::ReLU(),
                                                       torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).stride(2).padding(1)),
                                                       torch::nn::BatchNorm2d(64), torch::nn::ReLU(),
                                                       torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 128, 3).stride(2).padding(1)),
                                                       torch::nn::BatchNorm2d(128), torch::nn::ReLU(),
                                                       torch::nn::AdaptiveAvgPool2d(1)))),
        head(register_module("head", torch::nn::Sequential(torch::nn::Linear(128, 64), torch::nn::ReLU(),
                                                          torch::nn::Dropout(0.2), torch::nn::Linear(64, 1)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return head->forward(backbone->forward(x).flatten(1)).squeeze(1); }
  torch::nn::Sequential backbone, head;
};
TORCH_MODULE(Net);
}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 60;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 32;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  log::set_level(log::Level::kWarn);
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  Net net;
  Crops data(256);
  LoaderOptions lo;
  lo.batch_size = batch;
  lo.workers = 1;
  lo.drop_last = true;
  Loader loader(data, lo);
  TrainerOptions o;
  o.epochs = 1000;
  o.warmup_epochs = 1;
  o.optim.backbone_prefixes = {"backbone."};
  o.progress = false;
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b.inputs.at("tumour")); }, o);
  auto run = [&](int n) {
    int done = 0;
    for (std::int64_t epoch = 0; done < n; ++epoch) {
      loader.start_epoch(epoch);
      while (done < n) {
        auto b = loader.next();
        if (!b) break;
        trainer.train_step(*b);
        ++done;
      }
    }
  };
  run(5);  // warm-up (allocator, first-call costs)
  const auto t0 = std::chrono::steady_clock::now();
  run(steps);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"impl\":\"cpp\",\"steps\":%d,\"batch\":%d,\"threads\":%d,\"seconds\":%.4f,\"steps_per_s\":%.3f}\n", steps,
              batch, threads, s, steps / s);
  return 0;
}
