// A narrower model than the cpu-small preset for fast tests: the same variants, inputs and
// wiring (ConvNeXt, dual-path ViT, BERT, clinical MLP, fusion head), fewer and thinner layers.
#pragma once

#include <cstdint>

#include "models/registry.h"

namespace cervirisk::testing {

inline models::ArchConfig small_arch(models::Variant v, std::int64_t clinical_features, std::int64_t vocab_size) {
  models::DataSizes s;
  s.clinical_features = clinical_features;
  s.vocab_size = vocab_size;
  auto a = models::make_arch("cpu-small", v, s);
  a.convnext.depths = {1, 1, 1};
  a.convnext.dims = {8, 16, 24};
  a.vit.embed_dim = {16, 24};
  a.vit.num_heads = {2, 2};
  a.text.hidden_size = 16;
  a.text.num_attention_heads = 2;
  a.text.intermediate_size = 32;
  a.validate();
  return a;
}

}  // namespace cervirisk::testing
