// The loader: identical batches for one (seed, epoch) with any worker count, different epochs
// differ, class-balanced sampling, collate errors, worker errors, and real overlap of batch
// assembly with the training step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "train/loader.h"
#include "train_toy.h"

using namespace cervirisk;
using namespace cervirisk::train;

namespace {
std::vector<Batch> epoch_batches(const Dataset& d, LoaderOptions o, std::int64_t epoch) {
  Loader loader(d, o);
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}
bool same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].ids != b[i].ids || a[i].indices != b[i].indices) return false;
    for (const auto& [k, v] : a[i].inputs)
      if (!torch::equal(v, b[i].inputs.at(k))) return false;
    if (!torch::equal(a[i].label, b[i].label) || !torch::equal(a[i].time, b[i].time)) return false;
  }
  return true;
}
}  // namespace

TEST(Loader, SameSeedAndEpochGiveIdenticalBatchesForAnyWorkerCount) {
  toy::ToyDataset d(101, 7);
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 123;
  o.workers = 0;
  auto ref = epoch_batches(d, o, 3);
  ASSERT_EQ(ref.size(), 13u);  // 12 full + 1 of 5
  EXPECT_EQ(ref.back().size(), 5);
  for (int w : {1, 2, 5}) {
    o.workers = w;
    o.prefetch_batches = w == 5 ? 2 : 4;
    EXPECT_TRUE(same(ref, epoch_batches(d, o, 3))) << w << " workers";
  }
  // Another epoch reshuffles and redraws the augmentation; sequential without augmentation is the identity.
  o.workers = 2;
  EXPECT_FALSE(same(ref, epoch_batches(d, o, 4)));
  o.sampling = Sampling::kSequential;
  o.augment = false;
  auto seq = epoch_batches(d, o, 0);
  EXPECT_EQ(seq[1].indices, (std::vector<std::int64_t>{8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_TRUE(torch::equal(seq[0].inputs["features"][2], d.get(2, nullptr).inputs["features"]));
}

TEST(Loader, ShuffleIsAPermutationAndAugmentationChangesInputs) {
  toy::ToyDataset d(50, 1);
  LoaderOptions o;
  o.batch_size = 50;
  o.seed = 9;
  auto order = epoch_order(d, o, 0);
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(order, sorted);
  auto b = epoch_batches(d, o, 0)[0];
  auto clean = d.get(b.indices[0], nullptr).inputs["features"];
  auto diff = (b.inputs["features"][0] - clean).abs().max().item<float>();
  EXPECT_GT(diff, 0.0f);
  EXPECT_LT(diff, 0.5f);
}

TEST(Loader, BalancedSamplingDrawsBothClassesEqually) {
  toy::ToyDataset d(400, 3, 0.3);
  // Make the classes unequal by taking a subset: a dataset view with ~20% positives.
  struct Skewed : Dataset {
    const toy::ToyDataset& base;
    std::vector<std::size_t> keep;
    explicit Skewed(const toy::ToyDataset& b) : base(b) {
      int pos = 0;
      for (std::size_t i = 0; i < b.size(); ++i)
        if (b.label(i) < 0.5f || pos++ < 40) keep.push_back(i);
    }
    std::size_t size() const override { return keep.size(); }
    float label(std::size_t i) const override { return base.label(keep[i]); }
    Sample get(std::size_t i, std::mt19937_64* g) const override { return base.get(keep[i], g); }
  } skewed(d);
  double prevalence = 0;
  for (std::size_t i = 0; i < skewed.size(); ++i) prevalence += skewed.label(i);
  prevalence /= skewed.size();
  ASSERT_LT(prevalence, 0.25);
  LoaderOptions o;
  o.sampling = Sampling::kBalanced;
  o.seed = 5;
  double drawn_pos = 0, total = 0;
  for (int e = 0; e < 20; ++e)
    for (auto i : epoch_order(skewed, o, e)) {
      drawn_pos += skewed.label(i);
      total += 1;
    }
  EXPECT_NEAR(drawn_pos / total, 0.5, 0.03);  // ~4800 draws: sd 0.007
}

TEST(Loader, CollateNamesTheMismatch) {
  Sample a, b;
  a.id = "P1";
  b.id = "P2";
  a.inputs["tumour"] = torch::zeros({3, 4, 4});
  b.inputs["tumour"] = torch::zeros({3, 5, 4});
  try {
    collate({a, b});
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("input 'tumour' of patient P2 is [3, 5, 4]"), std::string::npos) << e.what();
  }
  b.inputs.clear();
  b.inputs["context"] = torch::zeros({3, 4, 4});
  try {
    collate({a, b});
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("patient P2 lacks input 'tumour'"), std::string::npos) << e.what();
  }
}

TEST(Loader, WorkerErrorsReachTheCaller) {
  struct Failing : toy::ToyDataset {
    Failing() : toy::ToyDataset(40, 1) {}
    Sample get(std::size_t i, std::mt19937_64* g) const override {
      if (i == 17) throw InputError("P17/image.nii.gz: no such file");
      return toy::ToyDataset::get(i, g);
    }
  } d;
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 2;
  o.sampling = Sampling::kSequential;
  Loader loader(d, o);
  loader.start_epoch(0);
  try {
    while (loader.next()) {
    }
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("P17/image.nii.gz"), std::string::npos);
  }
}

TEST(Loader, BackgroundWorkersOverlapTheTrainingStep) {
  // Each sample takes 4 ms to "preprocess" (a sleep: the timing holds on a busy machine), a batch
  // of 8 is 32 ms, and the simulated step takes 32 ms. In series 10 batches need ~640 ms; with
  // two workers building ahead, ~10 x 32 + 32 ms.
  struct Slow : toy::ToyDataset {
    Slow() : toy::ToyDataset(80, 2) {}
    Sample get(std::size_t i, std::mt19937_64* g) const override {
      std::this_thread::sleep_for(std::chrono::milliseconds(4));
      {
        std::lock_guard<std::mutex> lock(m);
        gets_during_step += in_step.load();
      }
      return toy::ToyDataset::get(i, g);
    }
    mutable std::mutex m;
    mutable int gets_during_step = 0;
    std::atomic<int> in_step{0};
  } d;
  auto run = [&](int workers) {
    LoaderOptions o;
    o.batch_size = 8;
    o.workers = workers;
    o.prefetch_batches = 3;
    Loader loader(d, o);
    d.gets_during_step = 0;
    const auto t0 = std::chrono::steady_clock::now();
    loader.start_epoch(0);
    while (auto b = loader.next()) {
      d.in_step = 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(32));
      d.in_step = 0;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double serial = run(0);
  EXPECT_EQ(d.gets_during_step, 0);
  const double overlapped = run(2);
  EXPECT_GT(d.gets_during_step, 40);  // most samples were built while a step ran
  EXPECT_LT(overlapped, 0.75 * serial) << "serial " << serial << " s, overlapped " << overlapped << " s";
  RecordProperty("serial_s", std::to_string(serial));
  RecordProperty("overlapped_s", std::to_string(overlapped));
}
