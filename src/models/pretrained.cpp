#include "models/pretrained.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "models/convnext.h"
#include "models/dual_path_vit.h"

namespace cervirisk::models {

namespace fs = std::filesystem;

PretrainedFile read_pretrained(const std::string& part, const std::string& key, const fs::path& file) {
  if (!fs::exists(file)) throw InputError(fmt::format("{}: '{}' does not exist", key, file.string()));
  const auto ext = file.extension().string();
  if (ext == ".pth" || ext == ".pt" || ext == ".bin")
    throw FormatError(fmt::format("{}: '{}' is a pickled PyTorch checkpoint; convert it to .safetensors first "
                                 "(cervirisk weights convert --from torchvision --weights {} --out <file>.safetensors)",
                                 key, file.string(), file.string()));
  PretrainedFile f;
  f.part = part;
  f.key = key;
  f.file = file;
  try {
    f.tensors = read_safetensors(file);
  } catch (const Error& e) {
    throw FormatError(fmt::format("{}: '{}' is not a readable safetensors checkpoint: {}", key, file.string(), e.what()));
  }
  f.sha256 = sha256_file(file);
  return f;
}

torch::Tensor adapt_input_conv(const torch::Tensor& weight, std::int64_t in_chans) {
  if (weight.dim() != 4) return {};
  const auto I = weight.size(1);
  if (I == in_chans) return weight;
  auto w = weight.to(torch::kFloat32);
  if (in_chans == 1) {
    if (I > 3) {
      if (I % 3 != 0) return {};
      return w.reshape({w.size(0), I / 3, 3, w.size(2), w.size(3)}).sum(2);
    }
    return w.sum(1, /*keepdim=*/true);
  }
  if (I != 3) return {};
  const auto repeat = (in_chans + 2) / 3;
  return w.repeat({1, repeat, 1, 1}).slice(1, 0, in_chans) * (3.0 / static_cast<double>(in_chans));
}

namespace {

// The branch's own adapt, then the input-plane rule for the first convolution.
LoadOptions with_input_adapt(LoadOptions o, std::vector<std::string> input_convs) {
  auto inner = o.adapt;
  o.adapt = [inner, input_convs](const std::string& name, const torch::Tensor& ckpt, const torch::Tensor& target) {
    for (const auto& c : input_convs)
      if (name == c && ckpt.dim() == 4 && target.dim() == 4 && ckpt.size(0) == target.size(0) &&
          ckpt.size(2) == target.size(2) && ckpt.size(3) == target.size(3))
        return adapt_input_conv(ckpt, target.size(1));
    return inner ? inner(name, ckpt, target) : torch::Tensor();
  };
  o.strict = false;
  return o;
}

WeightReport load_checked(torch::nn::Module& branch, const PretrainedFile& f, const LoadOptions& o, bool copy) {
  WeightReport r = copy ? load_weights(branch, f.tensors, o) : check_weights(branch, f.tensors, o);
  if (!r.ok())
    throw FormatError(fmt::format("{} = '{}' does not fit the {} branch ({} missing, {} mis-shaped): {}", f.key,
                                 f.file.string(), f.part, r.missing.size(), r.mismatched.size(), r.summary(12)));
  if (r.loaded.empty())
    throw FormatError(fmt::format("{} = '{}': no tensor of the {} branch was found in it", f.key, f.file.string(), f.part));
  return r;
}

}  // namespace

WeightReport load_convnext_pretrained(RecurrenceModelImpl& model, const PretrainedFile& f, bool copy) {
  if (!model.convnext) throw ConfigError(fmt::format("{}: the {} model has no ConvNeXt branch", f.key, variant_name(model.arch().variant)));
  auto o = with_input_adapt(convnext_load_options(f.tensors), {"stem.0.weight"});
  return load_checked(*model.convnext, f, o, copy);
}

WeightReport load_vit_pretrained(RecurrenceModelImpl& model, const PretrainedFile& f, bool copy) {
  if (!model.vit) throw ConfigError(fmt::format("{}: the {} model has no ViT branch", f.key, variant_name(model.arch().variant)));
  auto o = with_input_adapt(crossvit_load_options(), {"patch_embed.0.proj.weight", "patch_embed.1.proj.weight"});
  return load_checked(*model.vit, f, o, copy);
}

}  // namespace cervirisk::models
