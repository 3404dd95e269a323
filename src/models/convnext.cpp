#include "models/convnext.h"

#include <regex>

#include "core/error.h"
#include "models/rng.h"

namespace cervirisk::models {

// Stochastic depth (Huang et al. 2016, doi:10.1007/978-3-319-46493-0_39): drop the residual
// branch per sample and rescale the kept ones ("row" mode of torchvision, timm's DropPath).
torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training) {
  if (p <= 0.0 || !training) return x;
  std::vector<std::int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  auto keep = bernoulli(shape, 1.0 - p, x.options());
  return x * keep / (1.0 - p);
}

void trunc_normal_(torch::Tensor t, double std) {
  // N(0, std) truncated to +-2 std (timm's bounds) by redrawing the ~4.6% outside: cheaper than
  // inverse-CDF sampling (erfinv) on tens of millions of weights.
  torch::NoGradGuard ng;
  t.normal_(0.0, std);
  for (int round = 0; round < 100; ++round) {
    auto out = t.abs() > 2.0 * std;
    const auto n = out.sum().item<std::int64_t>();
    if (n == 0) break;
    t.masked_scatter_(out, torch::empty({n}, t.options()).normal_(0.0, std));
  }
  t.clamp_(-2.0 * std, 2.0 * std);
}

void init_trunc_normal(torch::nn::Module& m, double std) {
  torch::NoGradGuard ng;
  for (auto& sub : m.modules(/*include_self=*/false)) {  // self is a container, and may not be owned by a shared_ptr yet
    if (auto* lin = sub->as<torch::nn::LinearImpl>()) {
      trunc_normal_(lin->weight, std);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* conv = sub->as<torch::nn::Conv2dImpl>()) {
      trunc_normal_(conv->weight, std);
      if (conv->bias.defined()) conv->bias.zero_();
    }
  }
}

ConvNeXtConfig ConvNeXtConfig::named(const std::string& size) {
  ConvNeXtConfig c;
  auto s = size;
  if (s.rfind("convnext_", 0) == 0) s = s.substr(9);
  if (s == "atto") { c.depths = {2, 2, 6, 2}; c.dims = {40, 80, 160, 320}; }
  else if (s == "femto") { c.depths = {2, 2, 6, 2}; c.dims = {48, 96, 192, 384}; }
  else if (s == "pico") { c.depths = {2, 2, 6, 2}; c.dims = {64, 128, 256, 512}; }
  else if (s == "nano") { c.depths = {2, 2, 8, 2}; c.dims = {80, 160, 320, 640}; }
  else if (s == "tiny") { c.depths = {3, 3, 9, 3}; c.dims = {96, 192, 384, 768}; }
  else if (s == "small") { c.depths = {3, 3, 27, 3}; c.dims = {96, 192, 384, 768}; }
  else if (s == "base") { c.depths = {3, 3, 27, 3}; c.dims = {128, 256, 512, 1024}; }
  else if (s == "large") { c.depths = {3, 3, 27, 3}; c.dims = {192, 384, 768, 1536}; }
  else
    throw ConfigError("unknown ConvNeXt size '" + size +
                      "' (expected atto, femto, pico, nano, tiny, small, base or large)");
  return c;
}

LayerNorm2dImpl::LayerNorm2dImpl(std::int64_t channels, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor LayerNorm2dImpl::forward(const torch::Tensor& x) {
  // Normalise over channels at every position: NCHW -> NHWC -> layer_norm -> NCHW.
  auto y = torch::layer_norm(x.permute({0, 2, 3, 1}), {weight.size(0)}, weight, bias, eps);
  return y.permute({0, 3, 1, 2});
}

ConvNeXtMlpImpl::ConvNeXtMlpImpl(std::int64_t dim, std::int64_t hidden)
    : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, dim))) {}

torch::Tensor ConvNeXtMlpImpl::forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }

ConvNeXtBlockImpl::ConvNeXtBlockImpl(std::int64_t dim, double dp, double ls_init, double eps)
    : conv_dw(register_module(
          "conv_dw", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 7).padding(3).groups(dim)))),
      norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)))),
      mlp(register_module("mlp", ConvNeXtMlp(dim, 4 * dim))),
      drop_path_rate(dp) {
  if (ls_init > 0) gamma = register_parameter("gamma", torch::full({dim}, ls_init));
}

torch::Tensor ConvNeXtBlockImpl::forward(const torch::Tensor& x) {
  // dwconv 7x7 -> LN -> Linear 4C -> GELU -> Linear C -> layer scale, + residual (paper Fig. 4).
  auto y = conv_dw(x).permute({0, 2, 3, 1});
  y = mlp(norm(y));
  if (gamma.defined()) y = y * gamma;
  return x + stochastic_depth(y.permute({0, 3, 1, 2}), drop_path_rate, is_training());
}

ConvNeXtStageImpl::ConvNeXtStageImpl(std::int64_t in_dim, std::int64_t out_dim, std::int64_t depth,
                                     const std::vector<double>& dps, double ls_init, double eps) {
  if (in_dim != out_dim) {
    downsample = register_module(
        "downsample",
        torch::nn::Sequential(LayerNorm2d(in_dim, eps),
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(in_dim, out_dim, 2).stride(2))));
  }
  blocks = register_module("blocks", torch::nn::Sequential());
  for (std::int64_t i = 0; i < depth; ++i) blocks->push_back(ConvNeXtBlock(out_dim, dps.at(i), ls_init, eps));
}

torch::Tensor ConvNeXtStageImpl::forward(torch::Tensor x) {
  if (downsample) x = downsample->forward(x);
  return blocks->forward(x);
}

ConvNeXtHeadImpl::ConvNeXtHeadImpl(std::int64_t dim, std::int64_t num_classes, double eps)
    : norm(register_module("norm", LayerNorm2d(dim, eps))) {
  if (num_classes > 0) fc = register_module("fc", torch::nn::Linear(dim, num_classes));
}

ConvNeXtImpl::ConvNeXtImpl(ConvNeXtConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.depths.size() != cfg_.dims.size() || cfg_.depths.empty())
    throw ConfigError("convnext: depths and dims must have the same, non-zero length (got " +
                      std::to_string(cfg_.depths.size()) + " and " + std::to_string(cfg_.dims.size()) + ")");
  stem = register_module(
      "stem", torch::nn::Sequential(
                  torch::nn::Conv2d(torch::nn::Conv2dOptions(cfg_.in_chans, cfg_.dims[0], 4).stride(4)),
                  LayerNorm2d(cfg_.dims[0], cfg_.ls_eps)));
  std::int64_t total = 0;
  for (auto d : cfg_.depths) total += d;
  // Linearly increasing drop-path rate over all blocks (paper sec. A.1, timm / torchvision).
  std::vector<double> dpr;
  for (std::int64_t i = 0; i < total; ++i)
    dpr.push_back(total > 1 ? cfg_.drop_path_rate * static_cast<double>(i) / static_cast<double>(total - 1) : 0.0);
  stages = register_module("stages", torch::nn::ModuleList());
  std::int64_t k = 0, prev = cfg_.dims[0];
  for (std::size_t s = 0; s < cfg_.depths.size(); ++s) {
    std::vector<double> d(dpr.begin() + k, dpr.begin() + k + cfg_.depths[s]);
    stages->push_back(ConvNeXtStage(prev, cfg_.dims[s], cfg_.depths[s], d, cfg_.layer_scale_init, cfg_.ls_eps));
    prev = cfg_.dims[s];
    k += cfg_.depths[s];
  }
  head = register_module("head", ConvNeXtHead(prev, cfg_.num_classes, cfg_.ls_eps));
  init_trunc_normal(*this, 0.02);
}

ConvNeXtOutput ConvNeXtImpl::forward(const torch::Tensor& x) {
  // Channels-last throughout: the blocks' NCHW -> NHWC permutes become free views (no copy
  // before LayerNorm / Linear), and oneDNN's depthwise convolution prefers NHWC.
  auto y = stem->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  for (const auto& s : *stages) y = s->as<ConvNeXtStage>()->forward(y);
  ConvNeXtOutput out;
  out.features = y;
  auto pooled = y.mean({2, 3});
  out.embedding = torch::layer_norm(pooled, {pooled.size(1)}, head->norm->weight, head->norm->bias, cfg_.ls_eps);
  if (head->fc) out.logits = head->fc(out.embedding);
  return out;
}

std::int64_t ConvNeXtImpl::flops(std::int64_t h, std::int64_t w) const {
  std::int64_t f = 0;
  h /= 4;
  w /= 4;
  f += 2 * cfg_.in_chans * cfg_.dims[0] * 16 * h * w;
  std::int64_t prev = cfg_.dims[0];
  for (std::size_t s = 0; s < cfg_.depths.size(); ++s) {
    auto c = cfg_.dims[s];
    if (prev != c) {
      h /= 2;
      w /= 2;
      f += 2 * prev * c * 4 * h * w;
    }
    f += cfg_.depths[s] * (2 * 49 * c * h * w + 2 * 8 * c * c * h * w);
    prev = c;
  }
  if (cfg_.num_classes > 0) f += 2 * prev * cfg_.num_classes;
  return f;
}

std::string torchvision_to_timm_name(const std::string& key) {
  // torchvision: features.0 = stem (0: conv, 1: LayerNorm2d); odd features.N = stage (N-1)/2
  // blocks (block.0 dwconv, block.2 LayerNorm, block.3 / block.5 Linear, layer_scale [C,1,1]);
  // even features.N (N >= 2) = downsample of stage N/2; classifier.0 = norm, classifier.2 = fc.
  static const std::regex stem(R"(^features\.0\.([01])\.(weight|bias)$)");
  static const std::regex block(R"(^features\.(\d+)\.(\d+)\.(block\.(\d+)\.(weight|bias)|layer_scale)$)");
  static const std::regex down(R"(^features\.(\d+)\.([01])\.(weight|bias)$)");
  static const std::regex cls(R"(^classifier\.([02])\.(weight|bias)$)");
  std::smatch m;
  if (std::regex_match(key, m, stem)) return "stem." + m[1].str() + "." + m[2].str();
  if (std::regex_match(key, m, block)) {
    int n = std::stoi(m[1]);
    if (n % 2 == 1) {
      std::string pre = "stages." + std::to_string((n - 1) / 2) + ".blocks." + m[2].str() + ".";
      if (m[3] == "layer_scale") return pre + "gamma";
      int b = std::stoi(m[4]);
      const char* part = b == 0 ? "conv_dw" : b == 2 ? "norm" : b == 3 ? "mlp.fc1" : b == 5 ? "mlp.fc2" : nullptr;
      if (!part) return "";
      return pre + part + "." + m[5].str();
    }
  }
  if (std::regex_match(key, m, down)) {
    int n = std::stoi(m[1]);
    if (n >= 2 && n % 2 == 0)
      return "stages." + std::to_string(n / 2) + ".downsample." + m[2].str() + "." + m[3].str();
  }
  if (std::regex_match(key, m, cls)) return std::string("head.") + (m[1] == "0" ? "norm" : "fc") + "." + m[2].str();
  return key;
}

bool is_torchvision_convnext(const TensorMap& tensors) { return tensors.count("features.0.0.weight") > 0; }

LoadOptions convnext_load_options(const TensorMap& tensors, const std::string& prefix) {
  LoadOptions o;
  const bool tv = is_torchvision_convnext(tensors);
  o.rename = [tv, prefix](const std::string& k) { return prefix + (tv ? torchvision_to_timm_name(k) : k); };
  o.adapt = [](const std::string& name, const torch::Tensor& ckpt, const torch::Tensor& target) -> torch::Tensor {
    auto ends = [&](const char* s) {
      const std::string suffix(s);
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ckpt.numel() != target.numel()) return {};
    // torchvision's layer_scale is [C, 1, 1], timm's gamma [C]. timm's small sizes (atto ..
    // nano, conv_mlp=True) keep the MLP as 1x1 convolutions [O, I, 1, 1]: the same linear map
    // on channels as our Linear [O, I] after the channels-last permute.
    if (ends("gamma") || ((ends("mlp.fc1.weight") || ends("mlp.fc2.weight")) && ckpt.dim() == 4))
      return ckpt.reshape(target.sizes());
    return {};
  };
  return o;
}

TensorMap convert_torchvision_convnext(const TensorMap& tensors) {
  TensorMap out;
  for (const auto& [k, v] : tensors) {
    auto n = torchvision_to_timm_name(k);
    if (n.empty()) continue;
    out[n] = n.size() >= 5 && n.compare(n.size() - 5, 5, "gamma") == 0 ? v.reshape({-1}) : v;
  }
  return out;
}

}  // namespace cervirisk::models
