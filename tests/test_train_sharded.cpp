// A training step split into parts on threads (train/sharded_step.h) gives the full-batch
// gradient (reference: one plain autograd backward over the whole batch), for a loss that does
// not decompose over rows (Cox) as well as for BCE; it is deterministic; errors in a part reach
// the caller; worker threads run one intra-op thread without changing the caller's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "models/registry.h"
#include "models/rng.h"
#include "train/losses.h"
#include "core/torch/threads.h"
#include "train/sharded_step.h"

using namespace cervirisk;
using namespace cervirisk::train;

namespace {

struct Fixture {
  models::ArchConfig arch;
  models::RecurrenceModel model{nullptr};
  models::ModelInputs in;
  torch::Tensor label, time, event;
  std::int64_t rows = 9;  // 2 parts: 5 + 4 rows

  Fixture() {
    torch::manual_seed(11);
    models::DataSizes sizes;
    sizes.clinical_features = 5;
    sizes.vocab_size = 50;
    arch = models::make_arch("cpu-small", models::Variant::kMsmTC, sizes);
    model = models::build_model(arch);
    in.tumour = torch::randn({rows, 3, arch.tumour_size, arch.tumour_size});
    in.context = torch::randn({rows, 3, arch.context_size, arch.context_size});
    in.text_ids = torch::randint(1, sizes.vocab_size, {rows, 12}, torch::kInt64);
    in.text_mask = torch::ones({rows, 12}, torch::kInt64);
    in.text_mask.narrow(1, 8, 4).narrow(0, 0, 5).zero_();
    in.clinical = torch::randn({rows, sizes.clinical_features});
    in.has_text = torch::ones({rows}, torch::kBool);
    in.has_text[3] = false;
    in.has_clinical = torch::ones({rows}, torch::kBool);
    label = (torch::rand({rows}) > 0.6).to(torch::kFloat32);
    label[0] = 1;
    label[1] = 0;
    time = torch::rand({rows}) * 60;
    time[4] = time[5];  // a tie
    event = label.clone();
  }

  ShardedFns fns(LossKind kind) {
    ShardedFns f;
    f.forward = [this](int, std::int64_t b, std::int64_t e) { return model->forward(in.narrow(b, e)).logit; };
    f.loss = [this, kind](const torch::Tensor& out) {
      LossConfig c;
      c.kind = kind;
      return compute_loss(c, out, label, time, event);
    };
    return f;
  }

  std::vector<torch::Tensor> grads() const {
    std::vector<torch::Tensor> g;
    for (const auto& p : model->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    return g;
  }
};

// The independent reference: the whole batch through the model once, one backward.
std::vector<torch::Tensor> reference_grads(Fixture& f, LossKind kind) {
  f.model->zero_grad();
  auto fn = f.fns(kind);
  fn.loss(fn.forward(0, 0, f.rows)).backward();
  return f.grads();
}

double max_rel_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  EXPECT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = a[i].defined() ? a[i] : torch::zeros_like(b[i]);
    auto y = b[i].defined() ? b[i] : torch::zeros_like(a[i]);
    const double scale = std::max(1e-3, y.abs().max().item<double>());
    worst = std::max(worst, (x - y).abs().max().item<double>() / scale);
  }
  return worst;
}

}  // namespace

TEST(ShardedStep, RangesCoverTheBatchInNearlyEqualParts) {
  for (std::int64_t rows : {1, 2, 7, 13, 32}) {
    for (int n = 1; n <= std::min<std::int64_t>(rows, 5); ++n) {
      std::int64_t next = 0, smallest = rows, largest = 0;
      for (int k = 0; k < n; ++k) {
        auto [b, e] = shard_range(rows, n, k);
        EXPECT_EQ(b, next);
        smallest = std::min(smallest, e - b);
        largest = std::max(largest, e - b);
        next = e;
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(largest - smallest, 1);
    }
  }
  EXPECT_EQ(shard_count(32, 2), 2);
  EXPECT_EQ(shard_count(7, 2), 1);  // fewer than 4 rows per part
  EXPECT_EQ(shard_count(8, 3), 2);
  EXPECT_EQ(shard_count(3, 0), 1);
  EXPECT_EQ(shard_count(100, 1), 1);
}

TEST(ShardedStep, GradientEqualsTheFullBatchGradientForBceAndCox) {
  // The model's own constants (masks, position tables) follow the default dtype.
  struct DefaultDouble {
    DefaultDouble() { torch::set_default_dtype(caffe2::TypeMeta::Make<double>()); }
    ~DefaultDouble() { torch::set_default_dtype(caffe2::TypeMeta::Make<float>()); }
  } default_double;
  Fixture f;
  // float64 and no dropout: the parts must reproduce the reference up to double rounding (in
  // float32 the Cox gradient, a difference of near-equal terms, differs by ~1e-4 relative).
  f.model->eval();
  f.model->to(torch::kFloat64);
  for (auto* t : {&f.in.tumour, &f.in.context, &f.in.clinical, &f.label, &f.time, &f.event}) *t = t->to(torch::kFloat64);
  ShardPool pool(3);
  const auto params = f.model->parameters();
  for (LossKind kind : {LossKind::kBce, LossKind::kCox}) {
    const auto ref = reference_grads(f, kind);
    for (int parts : {2, 3}) {  // one part is the plain backward every trainer test runs
      const double loss = sharded_forward_backward(&pool, parts, f.rows, 1, f.fns(kind), params);
      EXPECT_TRUE(std::isfinite(loss));
      const double d = max_rel_diff(f.grads(), ref);
      EXPECT_LT(d, 1e-10) << "loss " << static_cast<int>(kind) << ", " << parts << " parts";
    }
  }
}

TEST(ShardedStep, DropoutDrawsFollowTheSeedNotTheThreads) {
  Fixture f;
  f.model->train();
  ShardPool pool(2);
  const auto params = f.model->parameters();
  sharded_forward_backward(&pool, 2, f.rows, 99, f.fns(LossKind::kBce), params);
  const auto a = f.grads();
  for (int repeat = 0; repeat < 3; ++repeat) {
    // Other draws from the global generator in between must not matter.
    (void)torch::rand({17});
    sharded_forward_backward(&pool, 2, f.rows, 99, f.fns(LossKind::kBce), params);
    const auto b = f.grads();
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  sharded_forward_backward(&pool, 2, f.rows, 100, f.fns(LossKind::kBce), params);
  EXPECT_GT(max_rel_diff(f.grads(), a), 1e-4) << "another seed must give other dropout masks";
}

TEST(ShardedStep, ScopedGeneratorDrivesModelDropout) {
  auto x = torch::ones({1000});
  torch::Tensor a, b;
  {
    models::ScopedGenerator g(models::make_generator(5));
    a = models::dropout(x, 0.3, true);
  }
  {
    models::ScopedGenerator g(models::make_generator(5));
    (void)torch::rand({3});
    b = models::dropout(x, 0.3, true);
  }
  EXPECT_TRUE(torch::equal(a, b));
  const double kept = (a > 0).sum().item<double>() / 1000.0;
  EXPECT_NEAR(kept, 0.7, 0.06);
  EXPECT_NEAR(a.max().item<double>(), 1.0 / 0.7, 1e-6);  // inverted dropout scale
  EXPECT_TRUE(torch::equal(models::dropout(x, 0.3, false), x));
  EXPECT_THROW(models::dropout(x, 1.5, true), ConfigError);
}

TEST(ShardedStep, WorkersRunOneIntraOpThreadAndTheCallerKeepsItsOwn) {
  torch::set_num_threads(2);
  ShardPool pool(2);
  std::vector<int> seen(2, -1);
  std::set<std::thread::id> ids;
  std::mutex m;
  pool.run(2, [&](int k) {
    seen[static_cast<std::size_t>(k)] = at::get_num_threads();
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(seen, (std::vector<int>{1, 1}));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(at::get_num_threads(), 2);
}

TEST(ShardedStep, AnErrorInAPartReachesTheCaller) {
  ShardPool pool(2);
  EXPECT_THROW(pool.run(2, [](int k) {
    if (k == 1) throw ModelError("part 1 failed");
  }),
               ModelError);
  // The pool still works afterwards.
  int sum = 0;
  std::mutex m;
  pool.run(2, [&](int k) {
    std::lock_guard<std::mutex> lock(m);
    sum += k + 1;
  });
  EXPECT_EQ(sum, 3);
  EXPECT_THROW(pool.run(3, [](int) {}), ConfigError);
  Fixture f;
  EXPECT_THROW(sharded_forward_backward(&pool, 10, f.rows, 1, f.fns(LossKind::kBce), f.model->parameters()),
               ConfigError);
}
