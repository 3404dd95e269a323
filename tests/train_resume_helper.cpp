// A training run of the toy problem in its own process, for the kill -9 / resume test
// (test_train_trainer.cpp). Usage:
//   train_resume_helper CHECKPOINT OUT_PREFIX [KILL_EPOCH KILL_STEP]
// Trains with resume = true (so a second call continues a killed first one); with KILL_* it
// sends itself SIGKILL after that optimisation step -- no destructors, no flushing, exactly what
// `kill -9` does. At the end it writes OUT_PREFIX.weights (torch::save of the final state dict,
// in name order) and OUT_PREFIX.history (the epoch records printed with %.17g).
#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/log.h"
#include "core/random.h"
#include "models/weights.h"
#include "train/trainer.h"
#include "train_toy.h"

using namespace cervirisk;
using namespace cervirisk::train;

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: %s CHECKPOINT OUT_PREFIX [KILL_EPOCH KILL_STEP]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[2];
  const long kill_epoch = argc == 5 ? std::atol(argv[3]) : -1;
  const long kill_step = argc == 5 ? std::atol(argv[4]) : -1;
  log::set_level(log::Level::kWarn);
  torch::set_num_threads(1);

  torch::manual_seed(11);  // initial weights (replaced by the checkpoint on resume)
  toy::ToyNet net;
  toy::ToyDataset train_set(192, 1), val_set(96, 2, 0.3, "V");
  LoaderOptions lo;
  lo.batch_size = 16;
  lo.workers = 2;  // background threads on purpose: the loader's order must not depend on them
  lo.seed = 77;
  Loader loader(train_set, lo);

  TrainerOptions o;
  o.epochs = 6;
  o.patience = 0;
  o.warmup_epochs = 1;
  o.optim.head_lr = 3e-3;
  o.optim.backbone_lr = 1e-3;
  o.optim.backbone_prefixes = {"backbone."};
  o.loss.kind = LossKind::kBce;
  o.loss.positive_weight = 1.3;
  o.seed = 99;
  o.checkpoint = argv[1];
  o.resume = true;
  o.fingerprint = "toy/helper";
  o.progress = false;
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  if (kill_epoch >= 0)
    trainer.set_step_callback([&](std::int64_t epoch, std::int64_t step) {
      if (epoch == kill_epoch && step == kill_step) std::raise(SIGKILL);
    });
  auto result = trainer.fit(loader, val_set);

  std::vector<torch::Tensor> tensors;
  for (const auto& [name, t] : models::state_dict(*net)) tensors.push_back(t);
  torch::save(tensors, out + ".weights");
  std::ofstream h(out + ".history");
  h << "resumed " << result.resumed << " epochs_run " << result.epochs_run << "\n";
  for (const auto& r : result.state.history) {
    char line[256];
    std::snprintf(line, sizeof line, "%ld %.17g %.17g %.17g %.17g\n", static_cast<long>(r.epoch), r.train_loss,
                  r.val_loss, r.val_auc, r.lr);
    h << line;
  }
  h << "best_epoch " << result.state.best_epoch << " step " << result.state.step << "\n";
  return 0;
}
