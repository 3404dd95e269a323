// Explanations: Shapley (exact / KernelSHAP), attention rollout, Grad-CAM, overlay mapping.
// References: fixtures computed with shap / by hand (tests/data/explain/PROVENANCE) and
// tests/data/explain/shap12.json (an independent numpy implementation,
// scripts/explain_shap_golden.py; provenance inside the file).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "explain/export.h"
#include "explain/gradcam.h"
#include "explain/overlay.h"
#include "explain/rollout.h"
#include "explain/shapley.h"

using namespace cervirisk;
using namespace cervirisk::explain;

namespace {

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// STATS.md fixture model: f(x) = σ(0.5x1 − x2 + 0.25·x3·x4 + 0.3)
BatchModel stats_model() {
  return [](const Eigen::MatrixXd& X) {
    Eigen::VectorXd y(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      y(i) = sigmoid(0.5 * X(i, 0) - X(i, 1) + 0.25 * X(i, 2) * X(i, 3) + 0.3);
    return y;
  };
}

// The 12-feature model of scripts/explain_shap_golden.py (model12).
const double kW12[12] = {0.8, -0.5, 0.3, 0.0, 0.6, -0.2, 0.1, 0.45, -0.35, 0.25, 0.05, -0.15};
BatchModel model12() {
  return [](const Eigen::MatrixXd& X) {
    Eigen::VectorXd y(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      double z = -0.2;
      for (int j = 0; j < 12; ++j) z += kW12[j] * X(i, j);
      z += 0.4 * X(i, 0) * X(i, 1) - 0.3 * X(i, 2) * X(i, 5) + 0.25 * std::tanh(X(i, 7) * X(i, 8));
      y(i) = 1.0 / (1.0 + std::exp(-z));
    }
    return y;
  };
}

Eigen::MatrixXd to_matrix(const nlohmann::json& j) {
  Eigen::MatrixXd m(j.size(), j[0].size());
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t k = 0; k < j[i].size(); ++k) m(i, k) = j[i][k].get<double>();
  return m;
}

nlohmann::json load_golden() {
  std::ifstream in(std::string(CERV_TEST_DATA) + "/explain/shap12.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

template <typename F>
void expect_throw_message(F&& f, const std::string& needle) {
  try {
    f();
    FAIL() << "expected an exception containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

// ---- Shapley ---------------------------------------------------------------------------------

TEST(Shapley, StatsFixtureKernelShap) {
  Eigen::MatrixXd bg(3, 4);
  bg << 0, 0, 0, 0, 1, 2, 1, 0, 2, 1, 0, 1;
  Eigen::Vector4d x(1.5, -0.5, 2, 3);
  const double phi_ref[4] = {0.03988808916211184, 0.2578794315781022, 0.09206986317382779,
                             0.10482505922790379};
  auto e = kernel_shap(stats_model(), x, make_background(bg));
  EXPECT_NEAR(e.fx, 0.9547825265167125, 1e-15);
  EXPECT_NEAR(e.expected, 0.46012008337476684, 1e-15);
  EXPECT_TRUE(e.exact);
  EXPECT_EQ(e.coalitions, 14u);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(e.phi(i), phi_ref[i], 1e-12) << i;
  auto ex = exact_shapley(stats_model(), x, make_background(bg));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(ex.phi(i), phi_ref[i], 1e-12) << i;
  EXPECT_NEAR(e.phi.sum(), e.fx - e.expected, 1e-12);
}

TEST(Shapley, KernelEqualsExactUnderFullEnumerationBothLinks) {
  // 7 players: 2^7 − 2 = 126 < 2·7 + 2048, so KernelSHAP enumerates everything.
  std::mt19937_64 gen(3);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd bg(9, 7);
  for (Eigen::Index i = 0; i < bg.size(); ++i) bg(i) = nd(gen);
  Eigen::VectorXd x(7);
  for (int i = 0; i < 7; ++i) x(i) = nd(gen);
  BatchModel f = [](const Eigen::MatrixXd& X) {
    Eigen::VectorXd y(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      y(i) =
          sigmoid(X(i, 0) * X(i, 1) - 0.7 * X(i, 2) + std::sin(X(i, 3)) + 0.2 * X(i, 4) * X(i, 5) * X(i, 6));
    return y;
  };
  for (Link link : {Link::kIdentity, Link::kLogit}) {
    ShapleyOptions so;
    so.link = link;
    KernelShapOptions ko;
    ko.link = link;
    auto a = exact_shapley(f, x, make_background(bg), so);
    auto b = kernel_shap(f, x, make_background(bg), ko);
    EXPECT_TRUE(b.exact);
    for (int i = 0; i < 7; ++i) EXPECT_NEAR(a.phi(i), b.phi(i), 1e-10) << link_name(link) << " " << i;
    EXPECT_NEAR(a.phi.sum(), a.fx - a.expected, 1e-12);
  }
}

TEST(Shapley, GoldenTwelveFeaturesNumpy) {
  auto g = load_golden();
  Eigen::MatrixXd bg = to_matrix(g["background"]);
  Eigen::MatrixXd X = to_matrix(g["X"]);
  for (const auto& c : g["cases"]) {
    Link link = c["link"] == "identity" ? Link::kIdentity : Link::kLogit;
    int p = c["patient"];
    Eigen::VectorXd x = X.row(p).transpose();
    ShapleyOptions so;
    so.link = link;
    auto ex = exact_shapley(model12(), x, make_background(bg), so);
    KernelShapOptions ko;
    ko.link = link;
    ko.seed = c["seed"].get<std::uint64_t>();
    auto ks = kernel_shap(model12(), x, make_background(bg), ko);
    EXPECT_NEAR(ex.fx, c["fx"].get<double>(), 1e-13);
    EXPECT_NEAR(ex.expected, c["expected"].get<double>(), 1e-13);
    for (int j = 0; j < 12; ++j) {
      EXPECT_NEAR(ex.phi(j), c["exact"][j].get<double>(), 1e-12)
          << c["link"] << " patient " << p << " feature " << j;
      EXPECT_NEAR(ks.phi(j), c["kernel"][j].get<double>(), 1e-10)
          << c["link"] << " patient " << p << " feature " << j;
    }
    // efficiency holds exactly for the sampled estimate too; the dummy feature 3 gets 0
    EXPECT_NEAR(ks.phi.sum(), ks.fx - ks.expected, 1e-10);
    EXPECT_NEAR(ex.phi(3), 0.0, 1e-14);
    if (p == 2) {
      EXPECT_EQ(ks.phi(10), 0.0);  // equal to every background row: not varying
      EXPECT_TRUE(ks.exact);       // 11 varying players: 2^11 − 2 < 2072, all enumerated
    } else {
      EXPECT_FALSE(ks.exact);
      EXPECT_EQ(ks.coalitions, 2u * 12 + 2048);
    }
  }
  auto cs = kernel_shap_coalitions(12, 0, 7);
  const auto& ref = g["coalitions_m12_seed7"];
  EXPECT_EQ(cs.masks.rows(), ref["count"].get<int>());
  EXPECT_EQ(static_cast<int>(cs.fixed), ref["fixed"].get<int>());
  EXPECT_NEAR(cs.weights.sum(), ref["weight_sum"].get<double>(), 1e-12);
  Eigen::VectorXd pos = Eigen::VectorXd::LinSpaced(12, 1, 12),
                  rowid = Eigen::VectorXd::LinSpaced(cs.masks.rows(), 1, cs.masks.rows());
  EXPECT_DOUBLE_EQ((cs.masks * pos).dot(rowid), ref["mask_checksum"].get<double>());
}

TEST(Shapley, GroupsOfALinearModelHaveTheClosedForm) {
  // identity link, linear model: φ_g = Σ_{j∈g} w_j (x_j − Σ_b w_b bg_bj)
  Eigen::VectorXd w(6);
  w << 0.5, -1.0, 2.0, 0.25, -0.3, 1.5;
  BatchModel f = [w](const Eigen::MatrixXd& X) { return Eigen::VectorXd((X * w).array() + 0.7); };
  Eigen::MatrixXd bg(4, 6);
  bg << 1, 2, 3, 4, 5, 6, 0, 0, 1, 0, 1, 0, -1, 3, 0, 2, 2, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5;
  Background b = make_background(bg);
  b.weights << 0.1, 0.2, 0.3, 0.4;
  Eigen::VectorXd x(6);
  x << 2, -1, 0.5, 3, 0, 1;
  ShapleyOptions o;
  o.groups = {{0, 3}, {1}, {2, 4, 5}};  // e.g. image, report, clinical columns
  auto e = exact_shapley(f, x, b, o);
  Eigen::VectorXd mean = bg.transpose() * b.weights;
  for (std::size_t g = 0; g < o.groups.size(); ++g) {
    double ref = 0;
    for (int j : o.groups[g]) ref += w(j) * (x(j) - mean(j));
    EXPECT_NEAR(e.phi(g), ref, 1e-12) << g;
  }
  KernelShapOptions ko;
  ko.groups = o.groups;
  auto k = kernel_shap(f, x, b, ko);
  for (int g = 0; g < 3; ++g) EXPECT_NEAR(k.phi(g), e.phi(g), 1e-12);
}

TEST(Shapley, BatchesAreRespectedAndDoNotChangeTheResult) {
  auto g = load_golden();
  Eigen::MatrixXd bg = to_matrix(g["background"]);
  Eigen::VectorXd x = to_matrix(g["X"]).row(0).transpose();
  std::size_t max_rows = 0, calls = 0;
  BatchModel inner = model12();
  BatchModel counting = [&](const Eigen::MatrixXd& X) {
    max_rows = std::max<std::size_t>(max_rows, X.rows());
    ++calls;
    return inner(X);
  };
  KernelShapOptions small;
  small.batch_size = 100;  // < 16 background rows × 7 coalitions
  small.seed = 7;
  auto a = kernel_shap(counting, x, make_background(bg), small);
  EXPECT_LE(max_rows, 100u);
  EXPECT_EQ(a.model_rows, 1 + 16 + 2072u * 16);
  KernelShapOptions big;
  big.seed = 7;
  auto b = kernel_shap(model12(), x, make_background(bg), big);
  EXPECT_LT((a.phi - b.phi).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(Shapley, EfficiencyOnATorchModelCalledInBatches) {
  torch::manual_seed(11);
  torch::nn::Sequential net(torch::nn::Linear(12, 16), torch::nn::GELU(), torch::nn::Linear(16, 1));
  net->to(torch::kFloat64);
  net->eval();
  BatchModel f = [&](const Eigen::MatrixXd& X) {
    torch::NoGradGuard ng;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = X;
    auto t = torch::from_blob(rm.data(), {X.rows(), X.cols()}, torch::kFloat64);
    auto y = torch::sigmoid(net->forward(t)).squeeze(1).contiguous();
    return Eigen::VectorXd(Eigen::Map<Eigen::VectorXd>(y.data_ptr<double>(), y.size(0)));
  };
  Eigen::MatrixXd data = Eigen::MatrixXd::Random(200, 12);
  Background bg = kmeans_background(data, 10, 5);
  EXPECT_NEAR(bg.weights.sum(), 1.0, 1e-12);
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(4, 12);
  KernelShapOptions ko;
  ko.link = Link::kLogit;
  ko.batch_size = 1000;
  auto c = kernel_shap_cohort(f, X, bg, ko);
  for (Eigen::Index i = 0; i < X.rows(); ++i) EXPECT_NEAR(c.phi.row(i).sum(), c.fx(i) - c.expected, 1e-6);
  EXPECT_EQ(c.mean_abs.size(), 12);
  EXPECT_NEAR(c.mean_abs(0), c.phi.col(0).cwiseAbs().mean(), 1e-15);
  ShapleyOptions so;
  so.link = Link::kLogit;
  so.groups = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}};
  auto m = exact_shapley_cohort(f, X, bg, so);
  for (Eigen::Index i = 0; i < X.rows(); ++i) EXPECT_NEAR(m.phi.row(i).sum(), m.fx(i) - m.expected, 1e-6);
}

TEST(Shapley, KmeansRecoversSeparatedClusters) {
  Eigen::MatrixXd d(60, 2);
  for (int i = 0; i < 60; ++i) {
    double cx = i < 20 ? 0 : i < 50 ? 10 : -10;
    d(i, 0) = cx + 0.01 * (i % 5);
    d(i, 1) = cx - 0.01 * (i % 3);
  }
  auto b = kmeans_background(d, 3, 1);
  ASSERT_EQ(b.data.rows(), 3);
  std::vector<std::pair<double, double>> got;
  for (int c = 0; c < 3; ++c) got.push_back({b.data(c, 0), b.weights(c)});
  std::sort(got.begin(), got.end());
  EXPECT_NEAR(got[0].first, -9.98, 1e-9);  // mean of −10 + 0.01·(i mod 5), i = 50..59
  EXPECT_NEAR(got[0].second, 10.0 / 60, 1e-12);
  EXPECT_NEAR(got[1].second, 20.0 / 60, 1e-12);
  EXPECT_NEAR(got[2].second, 30.0 / 60, 1e-12);
}

TEST(Shapley, ErrorsNameTheProblem) {
  Eigen::MatrixXd bg = Eigen::MatrixXd::Zero(2, 3);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(3);
  BatchModel f = [](const Eigen::MatrixXd& X) { return Eigen::VectorXd(X.rowwise().sum()); };
  ShapleyOptions o;
  o.groups = {{0, 1}, {1, 2}};
  expect_throw_message([&] { exact_shapley(f, x, make_background(bg), o); },
                       "feature 1 belongs to more than one group");
  o.groups = {{0}, {2}};
  expect_throw_message([&] { exact_shapley(f, x, make_background(bg), o); }, "feature 1 belongs to no group");
  expect_throw_message([&] { exact_shapley(f, Eigen::VectorXd::Ones(4), make_background(bg)); },
                       "background has 3 features, x has 4");
  BatchModel bad = [](const Eigen::MatrixXd&) { return Eigen::VectorXd::Zero(1); };
  expect_throw_message([&] { kernel_shap(bad, x, make_background(bg)); },
                       "the model returned 1 outputs for 2 rows");
  ShapleyOptions lo;
  lo.link = Link::kLogit;
  expect_throw_message([&] { exact_shapley(f, x, make_background(bg), lo); },
                       "logit link needs outputs in (0,1)");
}

// ---- Attention rollout ---------------------------------------------------------------------

namespace {
std::vector<torch::Tensor> rollout_fixture() {
  auto A1 = torch::tensor(
                {0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.4, 0.4, 0.2, 0.3, 0.3, 0.4, 0.3, 0.1, 0.6},
                torch::kFloat64)
                .reshape({2, 3, 3});
  auto A2 = torch::tensor({0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6, 0.7, 0.2, 0.1, 0.25, 0.25, 0.5, 0.0,
                           0.5, 0.5},
                          torch::kFloat64)
                .reshape({2, 3, 3});
  return {A1, A2};
}
}  // namespace

TEST(Rollout, StatsFixtureMeanMaxMin) {
  const std::vector<std::pair<HeadFusion, std::array<double, 3>>> ref = {
      {HeadFusion::kMean, {0.6228125, 0.2253125, 0.151875}},
      {HeadFusion::kMax, {0.5929752066115701, 0.2283057851239669, 0.1787190082644628}},
      {HeadFusion::kMin, {0.6635802469135802, 0.2222222222222222, 0.11419753086419754}}};
  for (const auto& [fusion, r0] : ref) {
    RolloutOptions o;
    o.fusion = fusion;
    auto R = attention_rollout(rollout_fixture(), o);
    ASSERT_EQ(R.sizes(), (std::vector<int64_t>{3, 3}));
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(R[0][j].item<double>(), r0[j], 1e-14) << head_fusion_name(fusion) << j;
    // every row of a product of row-stochastic matrices sums to 1
    EXPECT_TRUE(torch::allclose(R.sum(-1), torch::ones({3}, torch::kFloat64), 0, 1e-14));
  }
}

TEST(Rollout, BatchedEqualsSingleAndDiscardKeepsRowsStochastic) {
  torch::manual_seed(0);
  std::vector<torch::Tensor> layers, first;
  for (int l = 0; l < 4; ++l) {
    auto a = torch::softmax(torch::randn({2, 3, 5, 5}, torch::kFloat64), -1);
    layers.push_back(a);
    first.push_back(a[1]);
  }
  RolloutOptions o;
  o.fusion = HeadFusion::kMax;
  o.discard_ratio = 0.4;
  auto Rb = attention_rollout(layers, o);
  auto R1 = attention_rollout(first, o);
  EXPECT_TRUE(torch::allclose(Rb[1], R1, 0, 1e-14));
  EXPECT_TRUE(torch::allclose(Rb.sum(-1), torch::ones({2, 5}, torch::kFloat64), 0, 1e-12));
  // discarding changes the result relative to no discard
  o.discard_ratio = 0;
  EXPECT_FALSE(torch::allclose(attention_rollout(first, o), R1, 0, 1e-6));
  auto rel = rollout_patch_relevance(R1, 2, 2);
  EXPECT_EQ(rel.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_DOUBLE_EQ(rel[1][0].item<double>(), R1[0][3].item<double>());
  expect_throw_message([&] { rollout_patch_relevance(R1, 3, 3); }, "is not a 3x3 patch grid");
  o.discard_ratio = 1.0;
  expect_throw_message([&] { attention_rollout(first, o); }, "discard_ratio");
  expect_throw_message([] { parse_head_fusion("median"); }, "expected mean, max or min");
}

// ---- Grad-CAM ------------------------------------------------------------------------------

TEST(GradCam, StatsFixture) {
  auto A = torch::tensor({1.0, 2.0, 0.0, 1.0, 0.5, 0.0, 3.0, 1.0}, torch::kFloat64).reshape({2, 2, 2});
  auto G = torch::tensor({0.1, 0.3, 0.2, 0.2, -0.4, 0.0, 0.0, -0.2}, torch::kFloat64).reshape({2, 2, 2});
  auto r = grad_cam(A, G);
  EXPECT_NEAR(r.alpha[0].item<double>(), 0.2, 1e-15);
  EXPECT_NEAR(r.alpha[1].item<double>(), -0.15, 1e-15);
  auto cam_ref = torch::tensor({0.125, 0.4, 0.0, 0.05}, torch::kFloat64).reshape({2, 2});
  EXPECT_TRUE(torch::allclose(r.cam, cam_ref, 0, 1e-15)) << r.cam;
  EXPECT_TRUE(torch::allclose(r.scaled, cam_ref / 0.4, 0, 1e-15));
  // ViT tokens: CLS + 4 patches with the same channels → the same CAM
  auto tokA = torch::cat({torch::full({1, 2}, 9.0, torch::kFloat64), A.reshape({2, 4}).t()});
  auto tokG = torch::cat({torch::full({1, 2}, -9.0, torch::kFloat64), G.reshape({2, 4}).t()});
  auto rv = grad_cam(tokens_to_grid(tokA, 2, 2), tokens_to_grid(tokG, 2, 2));
  EXPECT_TRUE(torch::allclose(rv.cam, cam_ref, 0, 1e-15));
  expect_throw_message([&] { tokens_to_grid(tokA, 3, 2); }, "is not a 3x2 patch grid");
  expect_throw_message([&] { grad_cam(A, G[0]); }, "expected [K, H, W]");
}

TEST(GradCam, AutogradOnAConvNetGivesTheAnalyticWeights) {
  // y = Σ_k w_k · mean(A_k): ∂y/∂A_k = w_k / (H·W), so α_k = w_k / (H·W).
  torch::manual_seed(2);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  auto w = torch::tensor({0.5, -1.0, 2.0, 0.25});
  auto x = torch::randn({1, 3, 6, 6});
  auto act = conv->forward(x);
  act.retain_grad();
  auto y = (act.mean({2, 3}).squeeze(0) * w).sum();
  y.backward();
  auto r = grad_cam(act, act.grad());
  EXPECT_TRUE(torch::allclose(r.alpha, (w / 36.0).to(torch::kFloat64), 0, 1e-7));
  EXPECT_GE(r.scaled.min().item<double>(), 0.0);
  EXPECT_NEAR(r.scaled.max().item<double>(), 1.0, 1e-12);
}

TEST(GradCam, BilinearUpsamplingUsesHalfPixelCentres) {
  auto m = torch::tensor({0.0, 4.0, 8.0, 12.0}, torch::kFloat64).reshape({2, 2});
  auto u = upsample_bilinear(m, 4, 4);
  // source x = (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, .25, .75, 1
  auto ref_row = torch::tensor({0.0, 1.0, 3.0, 4.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(u[0], ref_row, 0, 1e-12)) << u;
  EXPECT_TRUE(torch::allclose(u[3], ref_row + 8, 0, 1e-12)) << u;
  EXPECT_TRUE(torch::equal(min_max_scale(torch::ones({3, 3})), torch::zeros({3, 3})));
}

// ---- Overlay mapping -------------------------------------------------------------------------

TEST(Overlay, LinearHeatmapMapsBackExactlyInsideTheBox) {
  // heatmap value = column index of the crop (a linear ramp); mapped to a slice shown at
  // 2× the resampled grid, crop box [10, 30) × [5, 15) → slice pixels [20, 60) × [10, 30).
  report::Raster h(40, 20);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x) h.at(x, y) = static_cast<float>(x);
  SliceMapping m{{10, 5, 30, 15}, 2.0, 2.0};
  auto s = map_heatmap_to_slice(h, m, 80, 40);
  EXPECT_TRUE(std::isnan(s.at(19, 20)));
  EXPECT_TRUE(std::isnan(s.at(60, 20)));
  EXPECT_TRUE(std::isnan(s.at(30, 9)));
  EXPECT_FALSE(std::isnan(s.at(20, 10)));
  EXPECT_FALSE(std::isnan(s.at(59, 29)));
  // slice pixel u: resampled X = (u+0.5)/2, crop column = (X − 10)/20·40 − 0.5 = u − 20
  for (int u = 21; u < 59; ++u) EXPECT_NEAR(s.at(u, 20), u - 20.0, 1e-5) << u;
  auto b = box_on_slice(m, "tumour");
  EXPECT_DOUBLE_EQ(b.x0, 20);
  EXPECT_DOUBLE_EQ(b.y1, 30);
  expect_throw_message([&] { map_heatmap_to_slice(h, SliceMapping{{5, 5, 5, 9}}, 10, 10); }, "is empty");
}

TEST(Overlay, RelevanceOnSliceFromAPatchGrid) {
  // a 2x2 patch relevance, crop 8x8 px cut from [4, 12) x [4, 12) of a 16x16 slice
  auto grid = torch::tensor({0.0, 1.0, 2.0, 4.0}, torch::kFloat64).reshape({2, 2});
  auto r = relevance_on_slice(grid, 8, 8, SliceMapping{{4, 4, 12, 12}}, 16, 16);
  EXPECT_TRUE(std::isnan(r.at(3, 8)));
  EXPECT_TRUE(std::isnan(r.at(12, 8)));
  // corners of the crop take the scaled patch values (0, .25, .5, 1) where no interpolation reaches
  EXPECT_NEAR(r.at(4, 4), 0.0, 1e-6);
  EXPECT_NEAR(r.at(11, 4), 0.25, 1e-6);
  EXPECT_NEAR(r.at(4, 11), 0.5, 1e-6);
  EXPECT_NEAR(r.at(11, 11), 1.0, 1e-6);
  auto raster = to_raster(torch::arange(6, torch::kFloat32).reshape({2, 3}));
  EXPECT_EQ(raster.width, 3);
  EXPECT_EQ(raster.height, 2);
  EXPECT_FLOAT_EQ(raster.at(2, 1), 5.f);
}

TEST(Shapley, RowVectorModelAdaptor) {
  BatchModel rows_model = batch_model_from_rows([](const std::vector<std::vector<double>>& rows) {
    std::vector<double> out;
    for (const auto& r : rows)
      out.push_back(1.0 / (1.0 + std::exp(-(0.5 * r[0] - r[1] + 0.25 * r[2] * r[3] + 0.3))));
    return out;
  });
  Eigen::MatrixXd bg(3, 4);
  bg << 0, 0, 0, 0, 1, 2, 1, 0, 2, 1, 0, 1;
  Eigen::Vector4d x(1.5, -0.5, 2, 3);
  auto a = kernel_shap(rows_model, x, make_background(bg));
  auto b = kernel_shap(stats_model(), x, make_background(bg));
  EXPECT_LT((a.phi - b.phi).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(Export, RowsForTheRunFolder) {
  CohortExplanation c;
  c.phi.resize(2, 3);
  c.phi << 0.1, -0.2, 0.3, 0.0, 0.5, -0.5;
  Eigen::MatrixXd X(2, 3);
  X << 1, 2, 3, 4, 5, 6;
  auto rows =
      clinical_shap_rows(c, X, {"P1", "P2"}, {"train", "external"}, "msm_tc", {"age", "FIGO", "LVSI"});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[4].id, "P2");
  EXPECT_EQ(rows[4].cohort, "external");
  EXPECT_EQ(rows[4].feature, "FIGO");
  EXPECT_EQ(rows[4].value, 5);
  EXPECT_EQ(rows[4].phi, 0.5);
  auto m = modality_shap_rows(c, {"P1", "P2"}, {"train", "external"}, {"image", "report", "clinical"});
  EXPECT_EQ(m[2].modality, "clinical");
  EXPECT_EQ(m[2].phi, 0.3);
  expect_throw_message(
      [&] {
        modality_shap_rows(c, {"P1"}, {"train"}, {"a", "b", "c"});
      },
      "2 explained patients, 1 ids");
  expect_throw_message(
      [&] {
        modality_shap_rows(c, {"P1", "P2"}, {"t", "t"}, {"a"});
      },
      "3 players but 1 names");
}

// More than 20 players: refused before the model is called (2^21 coalitions would be evaluated).
TEST(Shapley, ExactRefusesMoreThanTwentyPlayersBeforeCallingTheModel) {
  int calls = 0;
  BatchModel f = [&calls](const Eigen::MatrixXd& rows) {
    ++calls;
    return Eigen::VectorXd(rows.rowwise().sum());
  };
  const Eigen::MatrixXd bg = Eigen::MatrixXd::Zero(2, 21);
  const Eigen::VectorXd x = Eigen::VectorXd::Ones(21);
  try {
    exact_shapley(f, x, make_background(bg), ShapleyOptions{});
    FAIL() << "21 players accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("21 players; at most 20 (use kernel_shap)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 0);
}
