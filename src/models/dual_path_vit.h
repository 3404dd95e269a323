// Dual-path vision transformer in the style of CrossViT (Chen, Fan & Panda 2021, "CrossViT:
// Cross-Attention Multi-Scale Vision Transformer", doi:10.1109/ICCV48922.2021.00041).
// Branch A embeds the tumour crop with small patches, branch B the context crop with large
// patches; after each multi-scale block the CLS tokens exchange information by cross-attention.
// Parameter names equal timm's `CrossVit` (patch_embed.N.proj, cls_token_N, pos_embed_N,
// blocks.K.blocks.N.M.attn.qkv, blocks.K.projs.N.0, blocks.K.fusion.N.attn.wq, ..., norm.N,
// head.N), so timm checkpoints load; position embeddings are interpolated when the grid differs.
// Attention is explicit (compat::attention_with_probs) and every block's probabilities are kept.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/weights.h"

namespace cervirisk::models {

struct CrossVitConfig {
  // Index 0 = branch A (tumour crop, small patches), 1 = branch B (context crop, large patches).
  std::array<std::int64_t, 2> img_size{240, 224};
  std::array<std::int64_t, 2> patch_size{12, 16};
  std::array<std::int64_t, 2> embed_dim{96, 192};
  std::array<std::int64_t, 2> num_heads{3, 3};
  std::array<double, 2> mlp_ratio{4.0, 4.0};
  // One entry per multi-scale block: {blocks in A, blocks in B, cross-attention layers}.
  std::vector<std::array<std::int64_t, 3>> depth{{1, 4, 0}, {1, 4, 0}, {1, 4, 0}};
  std::int64_t in_chans = 3;
  std::int64_t num_classes = 0;  // 0: no head
  bool qkv_bias = true;
  double drop_path_rate = 0.0;
  double eps = 1e-6;

  // timm's crossvit_tiny_240, _small_240, _base_240, _9_240, _15_240, _18_240 (names without the
  // "crossvit_" prefix and "_240" suffix are accepted too).
  static CrossVitConfig named(const std::string& name);
  std::int64_t num_patches(int branch) const {
    auto g = img_size[branch] / patch_size[branch];
    return g * g;
  }
  std::int64_t embed_total() const { return embed_dim[0] + embed_dim[1]; }
};

struct VitAttentionImpl : torch::nn::Module {
  VitAttentionImpl(std::int64_t dim, std::int64_t heads, bool qkv_bias);
  // Returns the output and the probabilities [B, heads, N, N].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  std::int64_t heads;
};
TORCH_MODULE(VitAttention);

struct VitMlpImpl : torch::nn::Module {
  VitMlpImpl(std::int64_t dim, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VitMlp);

// Pre-norm transformer block (timm vision_transformer.Block).
struct VitBlockImpl : torch::nn::Module {
  VitBlockImpl(std::int64_t dim, std::int64_t heads, double mlp_ratio, bool qkv_bias,
               double drop_path, double eps);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  VitAttention attn{nullptr};
  VitMlp mlp{nullptr};
  double drop_path_rate;
};
TORCH_MODULE(VitBlock);

// CLS-token cross-attention: the query is the first token only (paper eq. 4-6).
struct CrossAttentionImpl : torch::nn::Module {
  CrossAttentionImpl(std::int64_t dim, std::int64_t heads, bool qkv_bias);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);  // [B,1,C], [B,h,1,N]
  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr}, proj{nullptr};
  std::int64_t heads;
};
TORCH_MODULE(CrossAttention);

struct CrossAttentionBlockImpl : torch::nn::Module {
  CrossAttentionBlockImpl(std::int64_t dim, std::int64_t heads, bool qkv_bias, double drop_path, double eps);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);  // x[:,0:1] + attn(norm1(x))
  torch::nn::LayerNorm norm1{nullptr};
  CrossAttention attn{nullptr};
  double drop_path_rate;
};
TORCH_MODULE(CrossAttentionBlock);

struct MultiScaleOutput {
  std::array<torch::Tensor, 2> tokens;
  std::array<std::vector<torch::Tensor>, 2> self_attention;   // per transformer block, per branch
  std::array<std::vector<torch::Tensor>, 2> cross_attention;  // per cross-attention layer, per branch
  std::array<torch::Tensor, 2> last_block_input;  // tokens entering each branch's last transformer block
};

struct MultiScaleBlockImpl : torch::nn::Module {
  MultiScaleBlockImpl(const CrossVitConfig& cfg, const std::array<std::int64_t, 3>& depth,
                      const std::vector<double>& drop_paths);
  MultiScaleOutput forward(const std::array<torch::Tensor, 2>& x);
  torch::nn::ModuleList blocks{nullptr};        // blocks.N.M: VitBlock M of branch N
  torch::nn::ModuleList projs{nullptr};         // projs.N: LayerNorm, GELU, Linear(dim_N -> dim_other)
  torch::nn::ModuleList fusion{nullptr};        // fusion.N: CrossAttentionBlock, or fusion.N.M when depth[2] > 0
  torch::nn::ModuleList revert_projs{nullptr};  // revert_projs.N: LayerNorm, GELU, Linear(dim_other -> dim_N)
  std::int64_t cross_layers;                    // depth[2]; 0 = one block stored directly (timm)
};
TORCH_MODULE(MultiScaleBlock);

struct DualPathVitOutput {
  torch::Tensor embedding;                    // [B, D_a + D_b]: concatenated normalised CLS tokens
  std::array<torch::Tensor, 2> cls;           // [B, D_a], [B, D_b]
  std::array<torch::Tensor, 2> tokens;        // [B, 1+N_i, D_i] after the final norm
  std::vector<torch::Tensor> attention_a;     // per transformer block of branch A: [B, h, N, N]
  std::vector<torch::Tensor> attention_b;     // per transformer block of branch B
  std::vector<torch::Tensor> cross_attention; // per multi-scale block: A-CLS over B then B-CLS over A, [B, h, 1, N]
  torch::Tensor logits;                       // mean of the branch heads when num_classes > 0
  // Tokens [B, 1+N_i, D_i] entering each branch's last transformer block: the ViT Grad-CAM
  // target (as pytorch-grad-cam's blocks[-1].norm1; the final-norm patch tokens have no
  // gradient, only the CLS tokens reach the embedding).
  std::array<torch::Tensor, 2> last_block_input;
};

class DualPathVitImpl : public torch::nn::Module {
 public:
  explicit DualPathVitImpl(CrossVitConfig cfg);
  // a: tumour crop [B, C, Ha, Wa]; b: context crop [B, C, Hb, Wb], each at the configured size.
  DualPathVitOutput forward(const torch::Tensor& a, const torch::Tensor& b);
  const CrossVitConfig& config() const { return cfg_; }
  std::int64_t flops() const;

  torch::nn::ModuleList patch_embed{nullptr};  // patch_embed.N.proj
  torch::Tensor cls_token_0, cls_token_1, pos_embed_0, pos_embed_1;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::ModuleList norm{nullptr};
  torch::nn::ModuleList head{nullptr};  // empty when num_classes == 0

 private:
  CrossVitConfig cfg_;
};
TORCH_MODULE(DualPathVit);

// Maps older timm keys (cls_token.N, pos_embed.N) to the current ones.
std::string crossvit_legacy_name(const std::string& key);
// Resizes a [1, 1+g*g, D] position embedding to [1, 1+G*G, D] by bicubic interpolation of the
// grid (the CLS entry is kept), as timm does when the input size changes.
torch::Tensor interpolate_pos_embed(const torch::Tensor& pos, std::int64_t target_tokens);
// Load options for a timm CrossViT checkpoint: legacy names renamed, position embeddings
// interpolated to this model's grids; `prefix` is prepended to the module names.
LoadOptions crossvit_load_options(const std::string& prefix = "");

}  // namespace cervirisk::models
