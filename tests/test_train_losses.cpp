// Losses against goldens from torch / torchvision / R survival (tests/data/train/loss_goldens.json,
// made by scripts/train_loss_goldens.py) and against hand calculations.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "train/losses.h"

using namespace cervirisk;
using namespace cervirisk::train;

namespace {
nlohmann::json goldens() {
  std::ifstream f(std::string(CERV_TEST_DATA) + "/train/loss_goldens.json");
  return nlohmann::json::parse(f);
}
torch::Tensor vec(const nlohmann::json& j) {
  return torch::tensor(j.get<std::vector<double>>(), torch::kDouble);
}
void expect_close(const torch::Tensor& a, const nlohmann::json& expected, double tol) {
  auto e = vec(expected);
  ASSERT_EQ(a.numel(), e.numel());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a[i].item<double>(), e[i].item<double>(), tol) << "index " << i;
}
}  // namespace

TEST(Losses, WeightedBceMatchesTorchFunctional) {
  auto g = goldens()["bce"];
  auto x = vec(g["logits"]).requires_grad_(true);
  auto loss = weighted_bce_with_logits(x, vec(g["targets"]), g["w_neg"], g["w_pos"]);
  EXPECT_NEAR(loss.item<double>(), g["loss"].get<double>(), 1e-12);
  loss.backward();
  expect_close(x.grad(), g["grad"], 1e-12);
}

TEST(Losses, WeightedBceHandCalculation) {
  // One positive with logit 0 (-log 0.5 = ln 2) weighted 3, one negative with logit 0 weighted 1.
  auto loss = weighted_bce_with_logits(torch::zeros({2}, torch::kDouble), torch::tensor({1.0, 0.0}, torch::kDouble),
                                       1.0, 3.0);
  EXPECT_NEAR(loss.item<double>(), (3.0 + 1.0) * std::log(2.0) / 2.0, 1e-15);
}

TEST(Losses, FocalMatchesTorchvision) {
  auto g = goldens()["focal"];
  for (const auto& c : g["cases"]) {
    SCOPED_TRACE("alpha " + c["alpha"].dump() + " gamma " + c["gamma"].dump());
    auto x = vec(g["logits"]).requires_grad_(true);
    auto loss = focal_loss_with_logits(x, vec(g["targets"]), c["alpha"], c["gamma"]);
    EXPECT_NEAR(loss.item<double>(), c["loss"].get<double>(), 1e-12);
    loss.backward();
    expect_close(x.grad(), c["grad"], 1e-12);
  }
}

TEST(Losses, FocalWithGammaZeroAndNoAlphaIsPlainBce) {
  torch::manual_seed(3);
  auto x = torch::randn({50}, torch::kDouble) * 3;
  auto y = (torch::rand({50}, torch::kDouble) > 0.5).to(torch::kDouble);
  EXPECT_NEAR(focal_loss_with_logits(x, y, -1, 0).item<double>(),
              torch::binary_cross_entropy_with_logits(x, y).item<double>(), 1e-13);
}

TEST(Losses, CoxMatchesPythonLoopAndRSurvival) {
  auto g = goldens()["cox"];
  ASSERT_FALSE(g["loss_R_survival"].is_null());
  EXPECT_NEAR(g["loss"].get<double>(), g["loss_R_survival"].get<double>(), 1e-12);
  auto r = vec(g["risk"]).requires_grad_(true);
  auto loss = cox_partial_likelihood_loss(r, vec(g["time"]), vec(g["event"]));
  EXPECT_NEAR(loss.item<double>(), g["loss"].get<double>(), 1e-12);
  loss.backward();
  expect_close(r.grad(), g["grad"], 1e-12);
}

TEST(Losses, CoxBreslowHandCalculation) {
  // times 1, 2, 2 (event, event, censored), risks a, b, c:
  //   event at 1: risk set {all}: a - log(e^a + e^b + e^c)
  //   event at 2: risk set {b, c} (the censoring tied with it stays in): b - log(e^b + e^c)
  const double a = 0.5, b = -1.0, c = 2.0;
  auto loss = cox_partial_likelihood_loss(torch::tensor({c, a, b}, torch::kDouble),  // shuffled order
                                          torch::tensor({2.0, 1.0, 2.0}, torch::kDouble),
                                          torch::tensor({0.0, 1.0, 1.0}, torch::kDouble));
  const double ll = (a - std::log(std::exp(a) + std::exp(b) + std::exp(c))) + (b - std::log(std::exp(b) + std::exp(c)));
  EXPECT_NEAR(loss.item<double>(), -ll / 2.0, 1e-14);
}

TEST(Losses, CoxIsShiftInvariantAndZeroWithoutEvents) {
  auto r = torch::tensor({0.1, 0.7, -0.3, 1.1}, torch::kDouble);
  auto t = torch::tensor({3.0, 1.0, 4.0, 2.0}, torch::kDouble);
  auto e = torch::tensor({1.0, 0.0, 1.0, 1.0}, torch::kDouble);
  EXPECT_NEAR(cox_partial_likelihood_loss(r, t, e).item<double>(),
              cox_partial_likelihood_loss(r + 5.0, t, e).item<double>(), 1e-12);
  auto rg = r.clone().requires_grad_(true);
  auto loss = cox_partial_likelihood_loss(rg, t, torch::zeros({4}, torch::kDouble));
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_TRUE(torch::equal(rg.grad(), torch::zeros({4}, torch::kDouble)));
}

TEST(Losses, CoxFloatMatchesDouble) {
  auto g = goldens()["cox"];
  auto loss = cox_partial_likelihood_loss(vec(g["risk"]).to(torch::kFloat), vec(g["time"]).to(torch::kFloat),
                                          vec(g["event"]).to(torch::kFloat));
  EXPECT_NEAR(loss.item<double>(), g["loss"].get<double>(), 1e-6);
}

TEST(Losses, BalancedClassWeights) {
  auto w = balanced_class_weights(torch::tensor({1.f, 0.f, 0.f, 0.f}));
  EXPECT_DOUBLE_EQ(w.positive, 4.0 / 2.0);
  EXPECT_DOUBLE_EQ(w.negative, 4.0 / 6.0);
  try {
    balanced_class_weights(torch::zeros({3}));
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("0 positive and 3 negative"), std::string::npos) << e.what();
  }
}

TEST(Losses, ShapeMismatchAndUnknownKindAreReported) {
  try {
    weighted_bce_with_logits(torch::zeros({3}), torch::zeros({4}), 1, 1);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("[3] and [4]"), std::string::npos) << e.what();
  }
  try {
    parse_loss_kind("hinge");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("got 'hinge'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_loss_kind("cox"), LossKind::kCox);
}

TEST(Losses, BceCoxIsTheWeightedSumOfItsParts) {
  // Hand-made batch: column 0 the logit, column 1 the Cox risk.
  auto out = torch::tensor({{0.3, -1.2}, {-0.7, 0.4}, {1.1, 0.9}, {0.0, -0.3}}, torch::kDouble);
  auto y = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble);
  auto t = torch::tensor({5.0, 8.0, 3.0, 12.0}, torch::kDouble);
  auto e = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble);
  LossConfig c;
  c.kind = LossKind::kBceCox;
  c.cox_weight = 0.5;
  c.negative_weight = 0.8;
  c.positive_weight = 1.4;
  const double got = compute_loss(c, out, y, t, e).item<double>();
  const double bce = weighted_bce_with_logits(out.select(1, 0), y, 0.8, 1.4).item<double>();
  const double cox = cox_partial_likelihood_loss(out.select(1, 1), t, e).item<double>();
  EXPECT_NEAR(got, bce + 0.5 * cox, 1e-15);
  // Both heads get a gradient.
  auto o = out.clone().requires_grad_(true);
  compute_loss(c, o, y, t, e).backward();
  EXPECT_GT(o.grad().select(1, 0).abs().sum().item<double>(), 0);
  EXPECT_GT(o.grad().select(1, 1).abs().sum().item<double>(), 0);
  // A [B] output for bce+cox (or [B, 2] for bce) is refused with the shapes named.
  try {
    compute_loss(c, out.select(1, 0), y, t, e);
    FAIL();
  } catch (const ValidationError& err) {
    EXPECT_NE(std::string(err.what()).find("[B, 2]"), std::string::npos) << err.what();
  }
  c.kind = LossKind::kBce;
  EXPECT_THROW(compute_loss(c, out, y, t, e), ValidationError);
  EXPECT_EQ(parse_loss_kind("bce+cox"), LossKind::kBceCox);
}

TEST(Losses, PatientsWithoutABinaryLabelAreLeftOutOfBceButNotCox) {
  // NaN label = no binary label (horizon endpoint): BCE is the mean over the labelled rows.
  auto logit = torch::tensor({0.3, -0.7, 1.1, 0.0}, torch::kDouble);
  auto y = torch::tensor({1.0, std::nan(""), 1.0, 0.0}, torch::kDouble);
  auto t = torch::tensor({5.0, 8.0, 3.0, 12.0}, torch::kDouble);
  auto e = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble);
  LossConfig c;
  c.negative_weight = 0.8;
  c.positive_weight = 1.4;
  auto keep = torch::tensor({0, 2, 3}, torch::kLong);
  const double expected = weighted_bce_with_logits(logit.index_select(0, keep), y.index_select(0, keep), 0.8, 1.4).item<double>();
  EXPECT_NEAR(compute_loss(c, logit, y, t, e).item<double>(), expected, 1e-15);
  // none labelled: 0 with a zero gradient
  auto l = logit.clone().requires_grad_(true);
  auto none = torch::full({4}, NAN, torch::kDouble);
  auto z = compute_loss(c, l, none, t, e);
  EXPECT_EQ(z.item<double>(), 0.0);
  z.backward();
  EXPECT_EQ(l.grad().abs().sum().item<double>(), 0.0);
  // bce+cox: the Cox part still sees every patient
  c.kind = LossKind::kBceCox;
  c.cox_weight = 1.0;
  auto two = torch::stack({logit, logit * 2}, 1);
  EXPECT_NEAR(compute_loss(c, two, y, t, e).item<double>(),
              expected + cox_partial_likelihood_loss(logit * 2, t, e).item<double>(), 1e-15);
  // class weights ignore the unlabelled rows
  const auto w = balanced_class_weights(torch::tensor({1.f, NAN, 0.f, 0.f, 0.f}));
  EXPECT_DOUBLE_EQ(w.positive, 4.0 / 2.0);
  EXPECT_DOUBLE_EQ(w.negative, 4.0 / 6.0);
}
