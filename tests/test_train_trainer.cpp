// The trainer on the toy problem: it learns, it is reproducible, it stops early, and a run
// killed with SIGKILL mid-epoch then resumed ends bit-identical to an uninterrupted run.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "models/weights.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "train_toy.h"

extern char** environ;

using namespace cervirisk;
using namespace cervirisk::train;
namespace fs = std::filesystem;
using cervirisk::testing::TempDir;

namespace {
TrainerOptions toy_options() {
  TrainerOptions o;
  o.epochs = 20;
  o.patience = 0;
  o.warmup_epochs = 1;
  o.optim.head_lr = 1e-2;
  o.optim.backbone_lr = 5e-3;
  o.optim.backbone_prefixes = {"backbone."};
  o.seed = 5;
  o.progress = false;
  return o;
}

struct Run {
  FitResult result;
  models::TensorMap weights;
  models::TensorMap ema;  // the weight average (train.ema_decay; empty when off)
  Evaluation val;
};

Run train_toy(TrainerOptions o, LoaderOptions lo, std::uint64_t init_seed = 3, bool batch_norm = true) {
  // One intra-op thread: the ops are tiny, and spinning OpenMP threads on a shared 2-core
  // machine cost more than they bring.
  torch::set_num_threads(1);
  torch::manual_seed(init_seed);
  toy::ToyNet net(batch_norm);
  toy::ToyDataset train_set(256, 1, 0.1), val_set(200, 2, 0.1, "V");
  Loader loader(train_set, effective_loader_options(lo, o.deterministic));
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  Run r;
  r.result = trainer.fit(loader, val_set);
  r.weights = models::state_dict(*net);
  r.ema = trainer.ema_weights();
  r.val = trainer.evaluate(val_set);
  return r;
}

int spawn_and_wait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

bool same_weights(const models::TensorMap& a, const models::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a)
    if (!b.count(k) || !torch::equal(v, b.at(k))) return false;
  return true;
}
}  // namespace

TEST(Trainer, LearnsASeparableProblem) {
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 1;
  lo.seed = 1;
  auto r = train_toy(toy_options(), lo);
  ASSERT_EQ(r.result.state.history.size(), 20u);
  EXPECT_GT(r.result.state.best_metric, 0.95);
  EXPECT_GT(r.val.auc, 0.95);
  EXPECT_NEAR(r.val.auc, r.result.state.best_metric, 1e-12);  // the best epoch's weights were restored
  RecordProperty("best_val_auc", std::to_string(r.result.state.best_metric));
  EXPECT_LT(r.result.state.history.back().train_loss, r.result.state.history.front().train_loss);
  EXPECT_EQ(r.result.state.step, 20 * 8);
  EXPECT_EQ(r.val.ids.front(), "V0");
}

TEST(Trainer, FocalAndCoxLossesTrainToo) {
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  for (auto kind : {LossKind::kFocal, LossKind::kCox}) {
    auto o = toy_options();
    o.loss.kind = kind;
    o.epochs = 6;
    auto r = train_toy(o, lo);
    EXPECT_GT(r.result.state.best_metric, 0.9) << to_string(kind);
  }
}

TEST(Trainer, DeterministicRunsWithOneSeedAreIdentical) {
  auto o = toy_options();
  o.deterministic = true;
  o.epochs = 4;
  LoaderOptions lo;
  lo.batch_size = 16;
  lo.workers = 3;  // effective_loader_options() makes it single-threaded
  lo.seed = 8;
  auto a = train_toy(o, lo);
  auto b = train_toy(o, lo);
  EXPECT_TRUE(same_weights(a.weights, b.weights));
  ASSERT_EQ(a.result.state.history.size(), b.result.state.history.size());
  for (std::size_t i = 0; i < a.result.state.history.size(); ++i) {
    EXPECT_EQ(a.result.state.history[i].train_loss, b.result.state.history[i].train_loss);
    EXPECT_EQ(a.result.state.history[i].val_auc, b.result.state.history[i].val_auc);
  }
  EXPECT_TRUE(torch::equal(a.val.outputs, b.val.outputs));
  // ...and another seed gives another run.
  o.seed = 6;
  auto c = train_toy(o, lo);
  EXPECT_FALSE(same_weights(a.weights, c.weights));
}

TEST(Trainer, BatchSplitOverThreadsLearnsAndIsReproducible) {
  // Each batch in two parts on two worker threads (train/sharded_step.h), Cox and BCE.
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  lo.seed = 4;
  for (auto kind : {LossKind::kBce, LossKind::kCox}) {
    auto o = toy_options();
    o.loss.kind = kind;
    o.epochs = 6;
    o.batch_shards = 2;
    auto a = train_toy(o, lo, 3, /*batch_norm=*/false);
    auto b = train_toy(o, lo, 3, false);
    EXPECT_GT(a.result.state.best_metric, 0.9) << to_string(kind);
    EXPECT_TRUE(same_weights(a.weights, b.weights)) << to_string(kind);
    EXPECT_TRUE(torch::equal(a.val.outputs, b.val.outputs)) << to_string(kind);
    // Split in two differs from one part (other dropout draws, other rounding)...
    o.batch_shards = 1;
    auto c = train_toy(o, lo, 3, false);
    EXPECT_FALSE(same_weights(a.weights, c.weights)) << to_string(kind);
  }
  // ...and a model with BatchNorm (statistics of the whole batch, running buffers updated in
  // place) is never split: two parts requested give the one-part run.
  auto o = toy_options();
  o.epochs = 2;
  o.batch_shards = 2;
  auto split = train_toy(o, lo);
  o.batch_shards = 1;
  auto whole = train_toy(o, lo);
  EXPECT_TRUE(same_weights(split.weights, whole.weights));
}

TEST(Trainer, EarlyStoppingKeepsTheBestEpoch) {
  auto o = toy_options();
  o.epochs = 40;
  o.patience = 2;
  o.select_on = SelectOn::kLoss;
  o.optim.head_lr = 3e-2;  // converges fast, then the validation loss stops improving
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  auto r = train_toy(o, lo);
  const auto& s = r.result.state;
  EXPECT_TRUE(s.stopped_early);
  EXPECT_LT(s.epochs_done, 40);
  EXPECT_EQ(s.epochs_done, s.best_epoch + 1 + 2);  // exactly `patience` epochs after the best
  double best = 1e300;
  for (const auto& h : s.history) best = std::min(best, h.val_loss);
  EXPECT_EQ(s.best_metric, best);
  EXPECT_NEAR(r.val.loss, best, 1e-9);
}

TEST(Trainer, GradientHookRunsBetweenBackwardAndClip) {
  // The data-parallel slot: a hook that zeroes gradients must freeze the model (decay off).
  torch::manual_seed(3);
  toy::ToyNet net;
  toy::ToyDataset d(64, 1);
  auto o = toy_options();
  o.optim.weight_decay = 0;
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  int calls = 0;
  trainer.set_gradient_hook([&](const std::vector<torch::Tensor>& params) {
    ++calls;
    for (auto p : params)
      if (p.grad().defined()) {
        EXPECT_GT(p.grad().abs().sum().item<double>() + 1, 0);
        p.mutable_grad().zero_();
      }
  });
  auto before = models::state_dict(*net);
  auto batch = collate({d.get(0, nullptr), d.get(1, nullptr), d.get(2, nullptr), d.get(3, nullptr)});
  trainer.train_step(batch);
  EXPECT_EQ(calls, 1);
  auto after = models::state_dict(*net);
  for (const auto& [k, v] : before)
    if (k.find("running") == std::string::npos && k.find("num_batches") == std::string::npos) {
      EXPECT_TRUE(torch::equal(v, after.at(k))) << k;
    }
}

TEST(Checkpoint, KillDashNineThenResumeIsBitIdentical) {
  const TempDir dir("resume");
  const std::string helper = CERV_TRAIN_HELPER;
  // Uninterrupted reference run.
  ASSERT_EQ(spawn_and_wait({helper, (dir / "ref.ckpt").string(), (dir / "ref").string()}), 0);
  // Killed during epoch 4 (0-based 3), after its 5th step: epochs 0-2 are checkpointed.
  ASSERT_EQ(spawn_and_wait({helper, (dir / "run.ckpt").string(), (dir / "run").string(), "3", "4"}), 1000 + SIGKILL);
  ASSERT_TRUE(fs::exists(dir / "run.ckpt"));
  ASSERT_FALSE(fs::exists(dir / "run.history"));
  // Resumed to the end.
  ASSERT_EQ(spawn_and_wait({helper, (dir / "run.ckpt").string(), (dir / "run").string()}), 0);

  auto ref_hist = read_file(dir / "ref.history");
  auto run_hist = read_file(dir / "run.history");
  EXPECT_EQ(ref_hist.substr(0, ref_hist.find('\n')), "resumed 0 epochs_run 6");
  EXPECT_EQ(run_hist.substr(0, run_hist.find('\n')), "resumed 1 epochs_run 3");
  EXPECT_EQ(ref_hist.substr(ref_hist.find('\n')), run_hist.substr(run_hist.find('\n')));  // every metric, %.17g
  std::vector<torch::Tensor> a, b;
  torch::load(a, (dir / "ref.weights").string());
  torch::load(b, (dir / "run.weights").string());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
  // Resuming a finished run trains nothing and gives the same result again.
  ASSERT_EQ(spawn_and_wait({helper, (dir / "run.ckpt").string(), (dir / "again").string()}), 0);
  auto again_hist = read_file(dir / "again.history");
  EXPECT_EQ(again_hist.substr(0, again_hist.find('\n')), "resumed 1 epochs_run 0");
  EXPECT_EQ(again_hist.substr(again_hist.find('\n')), ref_hist.substr(ref_hist.find('\n')));
}

TEST(Checkpoint, ExternalKillAtAnyMomentThenResumeIsBitIdentical) {
  // kill -9 from outside at moments that fall before the first checkpoint, between epochs,
  // possibly inside a checkpoint write, or after the end: whatever survives on disk, the resumed
  // run must end exactly like the uninterrupted one.
  const TempDir dir("extkill");
  const std::string helper = CERV_TRAIN_HELPER;
  ASSERT_EQ(spawn_and_wait({helper, (dir / "ref.ckpt").string(), (dir / "ref").string()}), 0);
  const auto ref_hist = read_file(dir / "ref.history");
  std::vector<torch::Tensor> ref;
  torch::load(ref, (dir / "ref.weights").string());
  for (int delay_ms : {700, 1300, 1900}) {
    SCOPED_TRACE("kill after " + std::to_string(delay_ms) + " ms");
    const auto ckpt = dir / ("k" + std::to_string(delay_ms) + ".ckpt");
    const auto out = dir / ("k" + std::to_string(delay_ms));
    pid_t pid = spawn({helper, ckpt.string(), out.string()});
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_EQ(spawn_and_wait({helper, ckpt.string(), out.string()}), 0);
    auto hist = read_file(out.string() + ".history");
    EXPECT_EQ(hist.substr(hist.find('\n')), ref_hist.substr(ref_hist.find('\n')));
    std::vector<torch::Tensor> w;
    torch::load(w, out.string() + ".weights");
    ASSERT_EQ(w.size(), ref.size());
    for (std::size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(torch::equal(w[i], ref[i])) << "tensor " << i;
  }
}

TEST(Checkpoint, RoundTripRestoresEverything) {
  const TempDir dir("roundtrip");
  torch::manual_seed(4);
  toy::ToyNet net;
  toy::ToyDataset d(64, 1);
  auto o = toy_options();
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  auto batch = collate({d.get(0, nullptr), d.get(1, nullptr), d.get(2, nullptr), d.get(5, nullptr)});
  trainer.train_step(batch);
  trainer.train_step(batch);
  CheckpointContents c;
  c.state.epochs_done = 2;
  c.state.step = 2;
  c.state.best_epoch = 1;
  c.state.best_metric = 0.75;
  c.state.fingerprint = "msm_tc/abc";
  c.state.history.push_back({0, 0.5, 0.6, std::nan(""), 1e-3, 1.0});
  c.best_weights = models::state_dict(*net);
  torch::manual_seed(1234);
  c.rng = capture_rng_state();
  const auto draw = torch::rand({4});
  save_checkpoint(dir / "c.ckpt", *net, trainer.optimizer().adamw(), c);

  torch::manual_seed(77);
  toy::ToyNet other;
  Trainer t2(*other, [&](const Batch& b) { return other->forward(b); }, o);
  auto loaded = load_checkpoint(dir / "c.ckpt", *other, t2.optimizer().adamw(), "msm_tc/abc");
  EXPECT_TRUE(same_weights(models::state_dict(*net), models::state_dict(*other)));
  EXPECT_TRUE(same_weights(c.best_weights, loaded.best_weights));
  EXPECT_EQ(loaded.state.step, 2);
  EXPECT_EQ(loaded.state.best_metric, 0.75);
  EXPECT_TRUE(std::isnan(loaded.state.history.at(0).val_auc));
  restore_rng_state(loaded.rng);
  EXPECT_TRUE(torch::equal(torch::rand({4}), draw));
  // The AdamW moments and step counts came back: the same gradient stepped from both optimisers
  // gives the same weights (the first-step update of a fresh AdamW would differ).
  for (auto* t : {&trainer, &t2}) {
    t->optimizer().set_lr_factor(0.5);
    for (auto& p : t->optimizer().parameters()) p.mutable_grad() = torch::full_like(p, 0.1);
    t->optimizer().adamw().step();
  }
  EXPECT_TRUE(same_weights(models::state_dict(*net), models::state_dict(*other)));

  try {
    load_checkpoint(dir / "c.ckpt", *other, t2.optimizer().adamw(), "msm/abc");
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to run 'msm_tc/abc', expected 'msm/abc'"), std::string::npos)
        << e.what();
  }
  auto lin = torch::nn::Linear(3, 1);
  OptimConfig oc;
  Optimizer lo(*lin, oc);
  try {
    load_checkpoint(dir / "c.ckpt", *lin, lo.adamw());
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit this architecture"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "bad.ckpt", "not a checkpoint");
  try {
    load_checkpoint(dir / "bad.ckpt", *other, t2.optimizer().adamw());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not a readable checkpoint"), std::string::npos) << e.what();
  }
  try {
    load_checkpoint(dir / "missing.ckpt", *other, t2.optimizer().adamw());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.ckpt: no such file"), std::string::npos) << e.what();
  }
}

TEST(Trainer, NonFiniteLossIsAnError) {
  torch::manual_seed(3);
  toy::ToyNet net;
  toy::ToyDataset d(8, 1);
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b) * std::numeric_limits<float>::infinity(); },
                  toy_options());
  try {
    trainer.train_step(collate({d.get(0, nullptr), d.get(1, nullptr)}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bce loss is"), std::string::npos) << e.what();
  }
}

// Auxiliary columns (train.aux_targets): the forward's extra columns add aux_loss to the training
// loss -- the step's loss is the plain step's plus the auxiliary term, its gradient moves the
// weights differently -- while evaluation and selection read the main output only.
TEST(Trainer, AuxiliaryColumnsAddTheirLossAndStayOutOfEvaluation) {
  torch::set_num_threads(1);
  toy::ToyDataset train_set(64, 1, 0.1), val_set(50, 2, 0.1, "V");
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  lo.seed = 1;
  auto make = [](std::uint64_t seed) {
    torch::manual_seed(seed);
    return toy::ToyNet(false);
  };
  toy::ToyNet plain_net = make(3), aux_net = make(3);
  TrainerOptions o = toy_options();
  Trainer plain(*plain_net, [&](const Batch& b) { return plain_net->forward(b); }, o);
  TrainerOptions oa = o;
  oa.aux_columns = 2;
  std::vector<std::int64_t> seen_rows;
  // Column 0: the logit itself (its square pulls the logits to 0); column 1: a constant.
  oa.aux_loss = [&](const torch::Tensor& aux, const Batch& b) {
    seen_rows.push_back(aux.size(0));
    EXPECT_EQ(aux.size(1), 2);
    EXPECT_EQ(aux.size(0), b.size());
    return 0.5 * aux.select(1, 0).pow(2).mean() + aux.select(1, 1).mean();
  };
  Trainer with_aux(*aux_net, [&](const Batch& b) {
    auto logit = aux_net->forward(b);
    return torch::stack({logit, logit, torch::full_like(logit, 0.25)}, 1);
  }, oa);
  // Evaluation: the main output only, the same numbers as the plain trainer's.
  const auto ep = plain.evaluate(val_set), ea = with_aux.evaluate(val_set);
  EXPECT_EQ(ea.outputs.dim(), 1);
  EXPECT_TRUE(torch::equal(ep.outputs, ea.outputs));
  EXPECT_DOUBLE_EQ(ep.loss, ea.loss);
  EXPECT_DOUBLE_EQ(ep.auc, ea.auc);
  // One step: loss = plain loss + 0.5 mean(logit^2) + 0.25, on the same batch and weights.
  Loader loader(train_set, lo);
  loader.start_epoch(0);
  const auto batch = loader.next();
  ASSERT_TRUE(batch.has_value());
  torch::Tensor logits;
  {
    torch::NoGradGuard ng;
    aux_net->train();
    models::ScopedGenerator gen(models::make_generator(derive_seed(derive_seed(o.seed, "train/step/0"), "part/0")));
    logits = aux_net->forward(*batch);
  }
  const double expected_aux = 0.5 * logits.pow(2).mean().item<double>() + 0.25;
  const double lp = plain.train_step(*batch), la = with_aux.train_step(*batch);
  EXPECT_NEAR(la, lp + expected_aux, 1e-5);
  EXPECT_EQ(seen_rows, std::vector<std::int64_t>{32});
  EXPECT_FALSE(same_weights(models::state_dict(*plain_net), models::state_dict(*aux_net)));
  // A forward without the auxiliary columns is a shape error naming the expected width.
  TrainerOptions bad = oa;
  Trainer wrong(*plain_net, [&](const Batch& b) { return plain_net->forward(b); }, bad);
  try {
    wrong.train_step(*batch);
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("expected [32, 3]"), std::string::npos) << e.what();
  }
}

// train.ema_decay: the average is the hand recursion over the weights after every step, it is
// what evaluation and selection see, and a run resumed from a checkpoint ends with the same one.
TEST(Trainer, WeightAverageFollowsTheRecursionAndIsTheSelectedModel) {
  torch::set_num_threads(1);
  auto o = toy_options();
  o.epochs = 4;
  o.ema_decay = 0.9;
  o.select_on = SelectOn::kLoss;
  LoaderOptions lo;
  lo.batch_size = 32;
  lo.workers = 0;
  lo.seed = 1;
  torch::manual_seed(3);
  toy::ToyNet net;
  toy::ToyDataset train_set(256, 1, 0.1), val_set(200, 2, 0.1, "V");
  Loader loader(train_set, lo);
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  std::map<std::string, torch::Tensor> avg;  // by hand, parameters only (buffers are copied)
  for (const auto& p : net->named_parameters(true)) avg[p.key()] = p.value().detach().clone().to(torch::kFloat64);
  std::int64_t steps = 0;
  std::vector<std::map<std::string, torch::Tensor>> per_epoch;
  models::TensorMap trained;
  trainer.set_step_callback([&](std::int64_t, std::int64_t) {
    ++steps;
    trained = models::state_dict(*net);
    const double d = std::min(0.9, (1.0 + steps) / (10.0 + steps));
    for (const auto& p : net->named_parameters(true))
      avg[p.key()] = d * avg[p.key()] + (1 - d) * p.value().detach().to(torch::kFloat64);
  });
  std::vector<double> hand_val_loss;
  trainer.set_epoch_callback([&](const EpochRecord& r) {
    per_epoch.push_back(avg);
    hand_val_loss.push_back(r.val_loss);
  });
  const FitResult res = trainer.fit(loader, val_set);
  ASSERT_EQ(steps, 4 * 8);
  ASSERT_EQ(per_epoch.size(), 4u);
  for (const auto& [name, t] : avg)
    EXPECT_LT((trainer.ema_weights().at(name).to(torch::kFloat64) - t).abs().max().item<double>(), 1e-5) << name;
  // The model now holds the best epoch's average, and its validation loss is that epoch's.
  const auto best = static_cast<std::size_t>(res.state.best_epoch);
  for (const auto& p : net->named_parameters(true))
    EXPECT_LT((p.value().detach().to(torch::kFloat64) - per_epoch[best].at(p.key())).abs().max().item<double>(), 1e-5)
        << p.key();
  EXPECT_NEAR(trainer.evaluate(val_set).loss, hand_val_loss[best], 1e-9);
  // The average differs from the last step's trained weights (it lags them).
  bool differs = false;
  for (const auto& p : net->named_parameters(true))
    differs |= !torch::allclose(trainer.ema_weights().at(p.key()), trained.at(p.key()));
  EXPECT_TRUE(differs);
}

TEST(Checkpoint, ResumedRunKeepsTheWeightAverage) {
  torch::set_num_threads(1);
  const TempDir dir("resume-ema");
  auto run = [&](std::int64_t run_epochs, bool resume, const fs::path& ckpt) {
    auto o = toy_options();
    o.epochs = 4;
    o.run_epochs = run_epochs;
    o.ema_decay = 0.8;
    o.checkpoint = ckpt;
    o.resume = resume;
    o.fingerprint = "ema-test";
    LoaderOptions lo;
    lo.batch_size = 32;
    lo.workers = 0;
    lo.seed = 1;
    return train_toy(o, lo);
  };
  const auto ref = run(0, false, dir / "ref.ckpt");
  run(2, false, dir / "run.ckpt");  // stops after epoch 2 as if killed there
  const auto resumed = run(0, true, dir / "run.ckpt");
  EXPECT_TRUE(same_weights(ref.weights, resumed.weights));
  ASSERT_FALSE(ref.ema.empty());
  ASSERT_EQ(ref.ema.size(), resumed.ema.size());
  for (const auto& [name, t] : ref.ema) EXPECT_TRUE(torch::equal(t, resumed.ema.at(name))) << name;
  // A checkpoint without an average cannot continue a run that keeps one.
  auto o = toy_options();
  o.epochs = 4;
  o.run_epochs = 1;
  o.checkpoint = dir / "plain.ckpt";
  o.fingerprint = "ema-test";
  {
    torch::manual_seed(3);
    toy::ToyNet net;
    toy::ToyDataset train_set(64, 1, 0.1), val_set(64, 2, 0.1, "V");
    Loader loader(train_set, LoaderOptions{});
    Trainer(*net, [&](const Batch& b) { return net->forward(b); }, o).fit(loader, val_set);
    o.resume = true;
    o.ema_decay = 0.8;
    o.run_epochs = 0;
    Trainer t(*net, [&](const Batch& b) { return net->forward(b); }, o);
    try {
      t.fit(loader, val_set);
      FAIL() << "resumed without an average";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("has no weight average"), std::string::npos) << e.what();
    }
  }
}

TEST(Trainer, FrozenBackboneLearnsOnlyAfterItsEpochs) {
  // train.freeze_backbone_epochs: epochs 1-2 leave every backbone tensor as initialised (no
  // update, no weight decay) while the head moves; epoch 3 moves the backbone too.
  torch::set_num_threads(1);
  torch::manual_seed(3);
  toy::ToyNet net(/*batch_norm=*/false);
  toy::ToyDataset train_set(64, 1, 0.1), val_set(40, 2, 0.1, "V");
  auto o = toy_options();
  o.epochs = 3;
  o.freeze_epochs = 2;
  o.freeze_prefixes = {"backbone."};
  LoaderOptions lo;
  lo.batch_size = 16;
  lo.workers = 0;
  Loader loader(train_set, lo);
  Trainer trainer(*net, [&](const Batch& b) { return net->forward(b); }, o);
  std::vector<models::TensorMap> after;
  trainer.set_epoch_callback([&](const EpochRecord&) { after.push_back(models::state_dict(*net)); });
  const auto before = models::state_dict(*net);
  trainer.fit(loader, val_set);
  ASSERT_EQ(after.size(), 3u);
  auto changed = [](const models::TensorMap& a, const models::TensorMap& b, const std::string& prefix) {
    int n = 0;
    for (const auto& [k, v] : a)
      if (k.rfind(prefix, 0) == 0 && !torch::equal(v, b.at(k))) ++n;
    return n;
  };
  EXPECT_EQ(changed(before, after[1], "backbone."), 0);  // frozen through epoch 2
  EXPECT_GT(changed(before, after[1], "head."), 0);
  EXPECT_GT(changed(after[1], after[2], "backbone."), 0);  // learning from epoch 3
  for (const auto& p : net->named_parameters()) EXPECT_TRUE(p.value().requires_grad()) << p.key();
}
