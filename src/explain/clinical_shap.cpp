#include "explain/clinical_shap.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "core/torch/threads.h"

namespace cervirisk::explain {

namespace {

// Encoded clinical rows (Eigen, column-major) → [n, f] float32 rows.
torch::Tensor to_float_rows(const Eigen::MatrixXd& rows) {
  auto t = torch::from_blob(const_cast<double*>(rows.data()), {rows.cols(), rows.rows()}, torch::kFloat64);
  return t.t().to(torch::kFloat32).contiguous();
}

Eigen::VectorXd to_eigen(const torch::Tensor& p) {
  auto d = p.to(torch::kFloat64).contiguous();
  return Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(d.data_ptr<double>(), d.size(0)));
}

// The head [LayerNorm(D), Linear(D→H), GELU, Dropout] split so that only the clinical block's
// F columns are multiplied per row: with v = [o, c] (o fixed), LayerNorm(v) = γ⊙(v − μ)/σ + β
// and W·LayerNorm(v) = (W_o(γ_o⊙o) + W_c(γ_c⊙c))/σ − (μ/σ)·Wγ + Wβ, where μ and σ² come from
// Σv and Σv² (the fixed part's sums precomputed). Exact algebra (float64); F·H instead of D·H
// multiply-adds per row. Empty when the head has another structure (generic path then).
struct HeadSplit {
  bool ok = false;
  std::int64_t n = 0;  // D
  double eps = 1e-5, sum_o = 0, sumsq_o = 0;
  torch::Tensor wc;       // [F, H] = (W_c diag(γ_c))ᵀ
  torch::Tensor a_o;      // [H] = W_o(γ_o⊙o)
  torch::Tensor w_gamma;  // [H] = Wγ
  torch::Tensor bias;     // [H] = Wβ + b
  torch::Tensor cls_w, cls_b;
};

HeadSplit split_head(models::RecurrenceModel& model, const torch::Tensor& row, std::int64_t m, std::int64_t F) {
  HeadSplit h;
  auto& head = *model->head;
  if (head.size() != 4) return h;
  auto* ln = head.ptr(0)->as<torch::nn::LayerNormImpl>();
  auto* lin = head.ptr(1)->as<torch::nn::LinearImpl>();
  auto* gelu = head.ptr(2)->as<torch::nn::GELUImpl>();
  // The 4th module is a dropout (torch's or the project's own), the identity in eval mode.
  if (!ln || !lin || !gelu || gelu->options.approximate() != "none" ||
      head.ptr(3)->name().find("Dropout") == std::string::npos ||
      !ln->options.elementwise_affine() || ln->options.normalized_shape().size() != 1)
    return h;
  torch::NoGradGuard no_grad;
  const auto dd = torch::kFloat64;
  h.n = ln->options.normalized_shape()[0];
  h.eps = ln->options.eps();
  auto gamma = ln->weight.to(dd), beta = ln->bias.to(dd), W = lin->weight.to(dd), b = lin->bias.to(dd);
  auto o = row.defined() ? row.reshape({-1}).to(dd).clone() : torch::zeros({h.n}, dd);
  if (o.numel() != h.n) return h;
  o.narrow(0, m * F, F).zero_();  // the clinical block is supplied per row
  h.sum_o = o.sum().item<double>();
  h.sumsq_o = (o * o).sum().item<double>();
  h.a_o = torch::mv(W, gamma * o);
  h.wc = (W.narrow(1, m * F, F) * gamma.narrow(0, m * F, F).unsqueeze(0)).t().contiguous();
  h.w_gamma = torch::mv(W, gamma);
  h.bias = torch::mv(W, beta) + b;
  h.cls_w = model->classifier->weight.to(dd);
  h.cls_b = model->classifier->bias.to(dd);
  h.ok = true;
  return h;
}

}  // namespace

bool clinical_head_split_applies(models::RecurrenceModel model) {
  const auto& order = model->modality_order();
  const auto it = std::find(order.begin(), order.end(), "clinical");
  if (it == order.end()) return false;
  return split_head(model, torch::Tensor(), it - order.begin(), model->arch().fusion_dim).ok;
}

BatchModel fused_head_model(models::RecurrenceModel model, LogitMap map) {
  return [model, map](const Eigen::MatrixXd& rows) mutable {
    torch::NoGradGuard ng;
    auto t = torch::empty({rows.rows(), rows.cols()}, torch::kFloat32);
    auto a = t.accessor<float, 2>();
    for (Eigen::Index i = 0; i < rows.rows(); ++i)
      for (Eigen::Index j = 0; j < rows.cols(); ++j) a[i][j] = static_cast<float>(rows(i, j));
    auto p = torch::sigmoid(map.intercept + map.slope * model->classifier(model->head->forward(t)).squeeze(-1))
                 .to(torch::kFloat64)
                 .contiguous();
    return Eigen::VectorXd(Eigen::Map<Eigen::VectorXd>(p.data_ptr<double>(), p.size(0)));
  };
}

BatchModel clinical_model(models::RecurrenceModel model, const torch::Tensor& fused, LogitMap map) {
  const auto& order = model->modality_order();
  const auto it = std::find(order.begin(), order.end(), "clinical");
  if (it == order.end() || !model->clinical)
    throw ModelError("explain: variant " + std::string(models::variant_name(model->arch().variant)) +
                     " has no clinical path to explain");
  if (model->is_training())
    throw ModelError("explain: the model must be in eval mode (dropout off) to be explained");
  const std::int64_t F = model->arch().fusion_dim;
  const std::int64_t m = it - order.begin(), D = F * static_cast<std::int64_t>(order.size());
  torch::Tensor row;
  if (order.size() > 1) {
    if (!fused.defined() || fused.numel() != D)
      throw ModelError("explain: the fused vector has " + std::to_string(fused.defined() ? fused.numel() : 0) +
                       " values, the model's head expects " + std::to_string(D));
    row = fused.detach().to(torch::kFloat32).reshape({1, D});
  }
  const std::int64_t nf = model->arch().clinical_features;
  auto split = std::make_shared<HeadSplit>(split_head(model, row, m, F));
  return [model, row, m, F, D, nf, split, map](const Eigen::MatrixXd& rows) mutable {
    if (rows.cols() != nf)
      throw ModelError("explain: clinical rows have " + std::to_string(rows.cols()) + " features, the model expects " +
                       std::to_string(nf));
    torch::NoGradGuard no_grad;
    const std::int64_t n = rows.rows();
    auto block = model->proj["clinical"]->as<torch::nn::SequentialImpl>()->forward(
        model->clinical->forward(to_float_rows(rows)));
    if (split->ok) {
      const HeadSplit& h = *split;
      auto c = block.to(torch::kFloat64);
      auto mu = (c.sum(1) + h.sum_o) / static_cast<double>(h.n);
      auto var = ((c * c).sum(1) + h.sumsq_o) / static_cast<double>(h.n) - mu * mu;
      auto inv = torch::rsqrt(var.clamp_min(0) + h.eps).unsqueeze(1);
      // y = (c·Wc + a_o)/σ − (μ/σ)·Wγ + (Wβ + b), in place (no [n, H] temporaries per term)
      auto y = torch::addmm(h.a_o, c, h.wc);
      y.mul_(inv).addcmul_(mu.unsqueeze(1) * inv, h.w_gamma.unsqueeze(0), -1.0).add_(h.bias);
      auto logit = torch::linear(torch::gelu(y), h.cls_w, h.cls_b).squeeze(-1);
      return to_eigen(torch::sigmoid(map.intercept + map.slope * logit));
    }
    torch::Tensor v = block;
    if (row.defined()) {
      v = row.expand({n, D}).clone();
      v.narrow(1, m * F, F).copy_(block);
    }
    return to_eigen(
        torch::sigmoid(map.intercept + map.slope * model->classifier(model->head->forward(v)).squeeze(-1)));
  };
}

ClinicalPlayers clinical_players(const models::ClinicalEncoder& encoder) {
  ClinicalPlayers p;
  for (const auto& c : encoder.columns()) p.names.push_back(c.name);
  p.groups.resize(p.names.size());
  const auto& col = encoder.feature_column();
  for (std::size_t f = 0; f < col.size(); ++f) p.groups.at(col[f]).push_back(static_cast<int>(f));
  // A column without features cannot be a player (never happens for a fitted encoder).
  for (std::size_t c = 0; c < p.groups.size(); ++c)
    if (p.groups[c].empty()) throw ModelError("explain: clinical column '" + p.names[c] + "' has no encoded feature");
  return p;
}

std::vector<double> clinical_display_values(const models::ClinicalEncoder& encoder, const models::ClinicalRow& row) {
  std::vector<double> out;
  for (const auto& c : encoder.columns()) {
    double v = std::numeric_limits<double>::quiet_NaN();
    auto it = row.find(c.name);
    if (it != row.end() && !models::is_missing_value(it->second)) {
      std::string s = it->second;
      s.erase(0, s.find_first_not_of(" \t\r\n"));
      s.erase(s.find_last_not_of(" \t\r\n") + 1);
      if (c.type == models::ClinicalType::kNumeric) {
        char* end = nullptr;
        double x = std::strtod(s.c_str(), &end);
        if (end != s.c_str() && *end == '\0') v = x;
      } else {
        auto l = std::find(c.levels.begin(), c.levels.end(), s);
        if (l != c.levels.end()) v = static_cast<double>(l - c.levels.begin());
      }
    }
    out.push_back(v);
  }
  return out;
}

ClinicalShap clinical_kernel_shap(models::RecurrenceModel model, const models::ClinicalEncoder& encoder,
                                  const Eigen::MatrixXd& X, const torch::Tensor& fused, const Background& background,
                                  KernelShapOptions options, LogitMap map) {
  if (fused.defined() && fused.size(0) != X.rows())
    throw ModelError("explain: " + std::to_string(X.rows()) + " clinical rows but " + std::to_string(fused.size(0)) +
                     " fused vectors");
  options.groups = clinical_players(encoder).groups;
  ClinicalShap r;
  auto& c = r.shap;
  const Eigen::Index n = X.rows();
  c.fx.resize(n);
  r.expected.resize(n);
  c.phi.resize(n, static_cast<Eigen::Index>(options.groups.size()));
  std::vector<Explanation> out(static_cast<std::size_t>(n));
  // Patients in parallel, each worker with single-threaded torch: the per-call tensors are
  // small, and intra-op threads would spend their time synchronising. The result does not
  // depend on the number of workers (each patient's model calls are the same).
  const int workers =
      static_cast<int>(std::clamp<Eigen::Index>(at::get_num_threads(), 1, std::max<Eigen::Index>(n, 1)));
  std::atomic<Eigen::Index> next{0};
  ShardPool pool(workers);
  pool.run(workers, [&](int) {
    try {
      for (Eigen::Index i; (i = next++) < n;) {
        auto f = clinical_model(model, fused.defined() ? fused[i] : torch::Tensor(), map);
        out[static_cast<std::size_t>(i)] = kernel_shap(f, X.row(i).transpose(), background, options);
      }
    } catch (...) {
      next = n;  // the other workers stop after their current patient
      throw;
    }
  });
  for (Eigen::Index i = 0; i < n; ++i) {
    const Explanation& e = out[static_cast<std::size_t>(i)];
    c.phi.row(i) = e.phi.transpose();
    c.fx(i) = e.fx;
    r.expected(i) = e.expected;
    r.coalitions = std::max(r.coalitions, e.coalitions);
    r.max_efficiency_error = std::max(r.max_efficiency_error, std::abs(e.phi.sum() - (e.fx - e.expected)));
  }
  c.expected = n ? r.expected.mean() : 0.0;
  c.mean_abs = c.phi.cwiseAbs().colwise().mean().transpose();
  return r;
}

}  // namespace cervirisk::explain
