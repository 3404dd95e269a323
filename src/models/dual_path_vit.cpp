#include "models/dual_path_vit.h"

#include <cmath>
#include <regex>

#include "core/error.h"
#include "core/torch_compat.h"
#include "models/convnext.h"  // trunc_normal_, init_trunc_normal, stochastic_depth

namespace cervirisk::models {
namespace {

struct PatchEmbedImpl : torch::nn::Module {
  PatchEmbedImpl(std::int64_t in, std::int64_t dim, std::int64_t patch)
      : proj(register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, dim, patch).stride(patch)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return proj(x).flatten(2).transpose(1, 2); }
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

torch::nn::Sequential norm_act_linear(std::int64_t in, std::int64_t out, double eps) {
  return torch::nn::Sequential(torch::nn::LayerNorm(torch::nn::LayerNormOptions({in}).eps(eps)), torch::nn::GELU(),
                               torch::nn::Linear(in, out));
}

torch::Tensor split_heads(const torch::Tensor& x, std::int64_t heads) {
  // [B, N, C] -> [B, h, N, C/h]
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).permute({0, 2, 1, 3});
}

}  // namespace

CrossVitConfig CrossVitConfig::named(const std::string& name) {
  std::string s = name;
  if (s.rfind("crossvit_", 0) == 0) s = s.substr(9);
  if (s.size() > 4 && s.compare(s.size() - 4, 4, "_240") == 0) s = s.substr(0, s.size() - 4);
  CrossVitConfig c;  // tiny
  using D = std::vector<std::array<std::int64_t, 3>>;
  if (s == "tiny") {
    c.embed_dim = {96, 192}; c.num_heads = {3, 3}; c.mlp_ratio = {4, 4}; c.depth = D(3, {1, 4, 0});
  } else if (s == "small") {
    c.embed_dim = {192, 384}; c.num_heads = {6, 6}; c.mlp_ratio = {4, 4}; c.depth = D(3, {1, 4, 0});
  } else if (s == "base") {
    c.embed_dim = {384, 768}; c.num_heads = {12, 12}; c.mlp_ratio = {4, 4}; c.depth = D(3, {1, 4, 0});
  } else if (s == "9") {
    c.embed_dim = {128, 256}; c.num_heads = {4, 4}; c.mlp_ratio = {3, 3}; c.depth = D(3, {1, 3, 0});
  } else if (s == "15") {
    c.embed_dim = {192, 384}; c.num_heads = {6, 6}; c.mlp_ratio = {3, 3}; c.depth = D(3, {1, 5, 0});
  } else if (s == "18") {
    c.embed_dim = {224, 448}; c.num_heads = {7, 7}; c.mlp_ratio = {3, 3}; c.depth = D(3, {1, 6, 0});
  } else {
    throw ConfigError("unknown CrossViT '" + name + "' (expected crossvit_tiny_240, _small_240, _base_240, _9_240, _15_240 or _18_240)");
  }
  return c;
}

VitAttentionImpl::VitAttentionImpl(std::int64_t dim, std::int64_t heads_, bool qkv_bias)
    : qkv(register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(qkv_bias)))),
      proj(register_module("proj", torch::nn::Linear(dim, dim))),
      heads(heads_) {}

std::pair<torch::Tensor, torch::Tensor> VitAttentionImpl::forward(const torch::Tensor& x) {
  const auto b = x.size(0), n = x.size(1), c = x.size(2);
  auto t = qkv(x).reshape({b, n, 3, heads, c / heads}).permute({2, 0, 3, 1, 4});
  auto [o, p] = compat::attention_with_probs(t[0], t[1], t[2]);
  return {proj(o.transpose(1, 2).reshape({b, n, c})), p};
}

VitMlpImpl::VitMlpImpl(std::int64_t dim, std::int64_t hidden)
    : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, dim))) {}

torch::Tensor VitMlpImpl::forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }

VitBlockImpl::VitBlockImpl(std::int64_t dim, std::int64_t heads, double mlp_ratio, bool qkv_bias, double dp,
                           double eps)
    : norm1(register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)))),
      norm2(register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)))),
      attn(register_module("attn", VitAttention(dim, heads, qkv_bias))),
      mlp(register_module("mlp", VitMlp(dim, static_cast<std::int64_t>(dim * mlp_ratio)))),
      drop_path_rate(dp) {}

std::pair<torch::Tensor, torch::Tensor> VitBlockImpl::forward(const torch::Tensor& x) {
  auto [a, p] = attn(norm1(x));
  auto y = x + stochastic_depth(a, drop_path_rate, is_training());
  y = y + stochastic_depth(mlp(norm2(y)), drop_path_rate, is_training());
  return {y, p};
}

CrossAttentionImpl::CrossAttentionImpl(std::int64_t dim, std::int64_t heads_, bool qkv_bias)
    : wq(register_module("wq", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(qkv_bias)))),
      wk(register_module("wk", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(qkv_bias)))),
      wv(register_module("wv", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(qkv_bias)))),
      proj(register_module("proj", torch::nn::Linear(dim, dim))),
      heads(heads_) {}

std::pair<torch::Tensor, torch::Tensor> CrossAttentionImpl::forward(const torch::Tensor& x) {
  // Only the CLS token queries; keys and values are all tokens (paper eq. 4-5): linear in N.
  const auto b = x.size(0), c = x.size(2);
  auto q = split_heads(wq(x.slice(1, 0, 1)), heads);
  auto k = split_heads(wk(x), heads);
  auto v = split_heads(wv(x), heads);
  auto [o, p] = compat::attention_with_probs(q, k, v);
  return {proj(o.transpose(1, 2).reshape({b, 1, c})), p};
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(std::int64_t dim, std::int64_t heads, bool qkv_bias, double dp,
                                                 double eps)
    : norm1(register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)))),
      attn(register_module("attn", CrossAttention(dim, heads, qkv_bias))),
      drop_path_rate(dp) {}

std::pair<torch::Tensor, torch::Tensor> CrossAttentionBlockImpl::forward(const torch::Tensor& x) {
  auto [a, p] = attn(norm1(x));
  return {x.slice(1, 0, 1) + stochastic_depth(a, drop_path_rate, is_training()), p};
}

MultiScaleBlockImpl::MultiScaleBlockImpl(const CrossVitConfig& cfg, const std::array<std::int64_t, 3>& depth,
                                         const std::vector<double>& dp)
    : cross_layers(depth[2]) {
  blocks = register_module("blocks", torch::nn::ModuleList());
  projs = register_module("projs", torch::nn::ModuleList());
  fusion = register_module("fusion", torch::nn::ModuleList());
  revert_projs = register_module("revert_projs", torch::nn::ModuleList());
  for (int d = 0; d < 2; ++d) {
    if (depth[d] < 1)
      throw ConfigError("crossvit: every multi-scale block needs at least one transformer block per branch");
    torch::nn::ModuleList l;
    for (std::int64_t i = 0; i < depth[d]; ++i)
      l->push_back(VitBlock(cfg.embed_dim[d], cfg.num_heads[d], cfg.mlp_ratio[d], cfg.qkv_bias, dp.at(i), cfg.eps));
    blocks->push_back(l);
  }
  for (int d = 0; d < 2; ++d) projs->push_back(norm_act_linear(cfg.embed_dim[d], cfg.embed_dim[1 - d], cfg.eps));
  for (int d = 0; d < 2; ++d) {
    const int o = 1 - d;  // branch d's CLS, projected to the other branch's width, attends to its tokens
    if (depth[2] == 0) {
      fusion->push_back(CrossAttentionBlock(cfg.embed_dim[o], cfg.num_heads[o], cfg.qkv_bias, dp.back(), cfg.eps));
    } else {
      torch::nn::ModuleList l;
      for (std::int64_t i = 0; i < depth[2]; ++i)
        l->push_back(CrossAttentionBlock(cfg.embed_dim[o], cfg.num_heads[o], cfg.qkv_bias, dp.back(), cfg.eps));
      fusion->push_back(l);
    }
  }
  for (int d = 0; d < 2; ++d) revert_projs->push_back(norm_act_linear(cfg.embed_dim[1 - d], cfg.embed_dim[d], cfg.eps));
}

MultiScaleOutput MultiScaleBlockImpl::forward(const std::array<torch::Tensor, 2>& x) {
  MultiScaleOutput out;
  std::array<torch::Tensor, 2> y;
  for (int d = 0; d < 2; ++d) {
    y[d] = x[d];
    for (const auto& m : *blocks[d]->as<torch::nn::ModuleListImpl>()) {
      out.last_block_input[d] = y[d];
      auto [t, p] = m->as<VitBlockImpl>()->forward(y[d]);
      y[d] = t;
      out.self_attention[d].push_back(p);
    }
  }
  for (int d = 0; d < 2; ++d) {
    const int o = 1 - d;
    auto cls = projs[d]->as<torch::nn::SequentialImpl>()->forward(y[d].slice(1, 0, 1));
    auto t = torch::cat({cls, y[o].slice(1, 1)}, 1);
    if (cross_layers == 0) {
      auto [c, p] = fusion[d]->as<CrossAttentionBlockImpl>()->forward(t);
      t = c;
      out.cross_attention[d].push_back(p);
    } else {
      for (const auto& m : *fusion[d]->as<torch::nn::ModuleListImpl>()) {
        auto [c, p] = m->as<CrossAttentionBlockImpl>()->forward(t);
        t = c;
        out.cross_attention[d].push_back(p);
      }
    }
    auto back = revert_projs[d]->as<torch::nn::SequentialImpl>()->forward(t.slice(1, 0, 1));
    out.tokens[d] = torch::cat({back, y[d].slice(1, 1)}, 1);
  }
  return out;
}

DualPathVitImpl::DualPathVitImpl(CrossVitConfig cfg) : cfg_(std::move(cfg)) {
  for (int d = 0; d < 2; ++d) {
    if (cfg_.embed_dim[d] % cfg_.num_heads[d] != 0)
      throw ConfigError("crossvit: embed_dim " + std::to_string(cfg_.embed_dim[d]) + " of branch " +
                        std::to_string(d) + " is not divisible by num_heads " + std::to_string(cfg_.num_heads[d]));
    if (cfg_.img_size[d] % cfg_.patch_size[d] != 0)
      throw ConfigError("crossvit: image size " + std::to_string(cfg_.img_size[d]) + " of branch " +
                        std::to_string(d) + " is not a multiple of the patch size " +
                        std::to_string(cfg_.patch_size[d]));
  }
  patch_embed = register_module("patch_embed", torch::nn::ModuleList());
  for (int d = 0; d < 2; ++d) patch_embed->push_back(PatchEmbed(cfg_.in_chans, cfg_.embed_dim[d], cfg_.patch_size[d]));
  cls_token_0 = register_parameter("cls_token_0", torch::zeros({1, 1, cfg_.embed_dim[0]}));
  cls_token_1 = register_parameter("cls_token_1", torch::zeros({1, 1, cfg_.embed_dim[1]}));
  pos_embed_0 = register_parameter("pos_embed_0", torch::zeros({1, 1 + cfg_.num_patches(0), cfg_.embed_dim[0]}));
  pos_embed_1 = register_parameter("pos_embed_1", torch::zeros({1, 1 + cfg_.num_patches(1), cfg_.embed_dim[1]}));

  // Stochastic-depth rates as timm: linear over sum(max(a, b) + c) positions.
  std::int64_t total = 0;
  for (const auto& d : cfg_.depth) total += std::max(d[0], d[1]) + d[2];
  std::vector<double> dpr;
  for (std::int64_t i = 0; i < total; ++i)
    dpr.push_back(total > 1 ? cfg_.drop_path_rate * static_cast<double>(i) / static_cast<double>(total - 1) : 0.0);
  blocks = register_module("blocks", torch::nn::ModuleList());
  std::int64_t ptr = 0;
  for (const auto& d : cfg_.depth) {
    auto n = std::max(d[0], d[1]) + d[2];
    std::vector<double> slice(dpr.begin() + ptr, dpr.begin() + ptr + n);
    blocks->push_back(MultiScaleBlock(cfg_, d, slice));
    ptr += n;
  }
  norm = register_module("norm", torch::nn::ModuleList());
  for (int d = 0; d < 2; ++d)
    norm->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg_.embed_dim[d]}).eps(cfg_.eps)));
  head = register_module("head", torch::nn::ModuleList());
  if (cfg_.num_classes > 0)
    for (int d = 0; d < 2; ++d) head->push_back(torch::nn::Linear(cfg_.embed_dim[d], cfg_.num_classes));

  init_trunc_normal(*this, 0.02);
  for (auto* t : {&cls_token_0, &cls_token_1, &pos_embed_0, &pos_embed_1}) trunc_normal_(*t, 0.02);
}

DualPathVitOutput DualPathVitImpl::forward(const torch::Tensor& a, const torch::Tensor& b) {
  const std::array<const torch::Tensor*, 2> in{&a, &b};
  std::array<torch::Tensor, 2> xs;
  for (int d = 0; d < 2; ++d) {
    const auto& x = *in[d];
    if (x.dim() != 4 || x.size(1) != cfg_.in_chans || x.size(2) != cfg_.img_size[d] || x.size(3) != cfg_.img_size[d])
      throw ModelError(std::string("dual-path ViT: ") + (d == 0 ? "tumour" : "context") + " input must be [B, " +
                       std::to_string(cfg_.in_chans) + ", " + std::to_string(cfg_.img_size[d]) + ", " +
                       std::to_string(cfg_.img_size[d]) + "], got " + c10::str(x.sizes()));
    auto t = patch_embed[d]->as<PatchEmbedImpl>()->forward(x);
    const auto& cls = d == 0 ? cls_token_0 : cls_token_1;
    const auto& pos = d == 0 ? pos_embed_0 : pos_embed_1;
    xs[d] = torch::cat({cls.expand({x.size(0), -1, -1}), t}, 1) + pos;
  }
  DualPathVitOutput out;
  for (const auto& m : *blocks) {
    auto r = m->as<MultiScaleBlockImpl>()->forward(xs);
    xs = r.tokens;
    for (int d = 0; d < 2; ++d)
      if (r.last_block_input[d].defined()) out.last_block_input[d] = r.last_block_input[d];
    for (auto& p : r.self_attention[0]) out.attention_a.push_back(p);
    for (auto& p : r.self_attention[1]) out.attention_b.push_back(p);
    for (int d = 0; d < 2; ++d)
      for (auto& p : r.cross_attention[d]) out.cross_attention.push_back(p);
  }
  for (int d = 0; d < 2; ++d) {
    out.tokens[d] = norm[d]->as<torch::nn::LayerNormImpl>()->forward(xs[d]);
    out.cls[d] = out.tokens[d].select(1, 0);
  }
  out.embedding = torch::cat({out.cls[0], out.cls[1]}, 1);
  if (cfg_.num_classes > 0)
    out.logits = (head[0]->as<torch::nn::LinearImpl>()->forward(out.cls[0]) +
                  head[1]->as<torch::nn::LinearImpl>()->forward(out.cls[1])) / 2.0;
  return out;
}

std::int64_t DualPathVitImpl::flops() const {
  std::int64_t f = 0;
  std::array<std::int64_t, 2> t{};
  for (int d = 0; d < 2; ++d) {
    auto n = cfg_.num_patches(d), dim = cfg_.embed_dim[d], p = cfg_.patch_size[d];
    t[d] = n + 1;
    f += 2 * cfg_.in_chans * p * p * dim * n;
  }
  for (const auto& depth : cfg_.depth) {
    for (int d = 0; d < 2; ++d) {
      auto D = cfg_.embed_dim[d], T = t[d];
      auto hidden = static_cast<std::int64_t>(D * cfg_.mlp_ratio[d]);
      f += depth[d] * (2 * 4 * D * D * T + 2 * 2 * T * T * D + 2 * 2 * D * hidden * T);
    }
    for (int d = 0; d < 2; ++d) {
      auto o = 1 - d;
      auto D = cfg_.embed_dim[o], T = t[o];
      auto layers = std::max<std::int64_t>(1, depth[2]);
      f += 2 * 2 * cfg_.embed_dim[d] * D;                           // proj + revert
      f += layers * (2 * 2 * D * D + 2 * 2 * D * D * T + 2 * 2 * T * D);  // wq + proj, wk + wv, attention
    }
  }
  if (cfg_.num_classes > 0) f += 2 * cfg_.embed_total() * cfg_.num_classes;
  return f;
}

std::string crossvit_legacy_name(const std::string& key) {
  static const std::regex legacy(R"(^(cls_token|pos_embed)\.(\d)$)");
  std::smatch m;
  if (std::regex_match(key, m, legacy)) return m[1].str() + "_" + m[2].str();
  return key;
}

torch::Tensor interpolate_pos_embed(const torch::Tensor& pos, std::int64_t target_tokens) {
  const auto n = pos.size(1) - 1, dim = pos.size(2);
  const auto g = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  const auto G = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(target_tokens - 1))));
  if (g * g != n || G * G != target_tokens - 1 || pos.dim() != 3) return {};
  auto grid = pos.slice(1, 1).reshape({1, g, g, dim}).permute({0, 3, 1, 2}).to(torch::kFloat32);
  namespace F = torch::nn::functional;
  grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                  .size(std::vector<std::int64_t>{G, G})
                                  .mode(torch::kBicubic)
                                  .align_corners(false));
  grid = grid.permute({0, 2, 3, 1}).reshape({1, G * G, dim});
  return torch::cat({pos.slice(1, 0, 1).to(torch::kFloat32), grid}, 1);
}

LoadOptions crossvit_load_options(const std::string& prefix) {
  LoadOptions o;
  o.rename = [prefix](const std::string& k) { return prefix + crossvit_legacy_name(k); };
  o.adapt = [](const std::string& name, const torch::Tensor& ckpt, const torch::Tensor& target) -> torch::Tensor {
    auto slash = name.rfind('.');
    auto leaf = slash == std::string::npos ? name : name.substr(slash + 1);
    if ((leaf == "pos_embed_0" || leaf == "pos_embed_1") && ckpt.dim() == 3 && target.dim() == 3 &&
        ckpt.size(2) == target.size(2))
      return interpolate_pos_embed(ckpt, target.size(1));
    return {};
  };
  return o;
}

}  // namespace cervirisk::models
