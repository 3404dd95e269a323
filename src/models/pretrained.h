// Pretrained initialisations of the study's image encoders: a ConvNeXt (timm or torchvision
// layout) and a CrossViT (timm layout) checkpoint loaded into a RecurrenceModel's branches,
// checked tensor by tensor, adapted to the MRI input (timm's adapt_input_conv rule for the
// stem / patch embeddings, bicubic position-embedding interpolation for other crop sizes).
#pragma once

#include <filesystem>
#include <string>

#include "models/fusion.h"
#include "models/weights.h"

namespace cervirisk::models {

// A checkpoint read once for the whole study, with where it came from.
struct PretrainedFile {
  std::string part;                // "convnext", "vit", "text"
  std::string key;                 // the configuration key that named it
  std::filesystem::path file;
  std::string sha256;              // of the file's bytes
  TensorMap tensors;
  bool empty() const { return file.empty(); }
};

// Reads a .safetensors checkpoint (a .pth is refused with the conversion command). InputError
// (exit 3) for a missing file, FormatError (exit 4) for an unreadable one or a pickle.
PretrainedFile read_pretrained(const std::string& part, const std::string& key, const std::filesystem::path& file);

// timm's adapt_input_conv: a conv weight [O, I, kh, kw] trained on RGB for `in_chans` input
// planes. in_chans = 1: the filters summed over I (an RGB-trained filter applied to a grey image
// that was replicated 3x gives the same response); in_chans != I (I = 3): the RGB filters
// repeated ceil(in_chans / 3) times, the first in_chans kept, scaled by 3 / in_chans (a constant
// input then gives the RGB activation when in_chans is a multiple of 3; otherwise only roughly).
// Returns the weight unchanged when I == in_chans.
torch::Tensor adapt_input_conv(const torch::Tensor& weight, std::int64_t in_chans);

// Loads `f` into model->convnext / model->vit. Every tensor of the branch must come from the
// checkpoint (the checkpoint's classifier and anything else the branch lacks are ignored, and
// counted as unexpected in the report); FormatError (exit 4: the file does not hold what the key
// promises) names the file and every missing / mis-shaped tensor. ConfigError when the model has
// no such branch.
// copy = false: the same checks, nothing copied (what a trained model was started from).
WeightReport load_convnext_pretrained(RecurrenceModelImpl& model, const PretrainedFile& f, bool copy = true);
WeightReport load_vit_pretrained(RecurrenceModelImpl& model, const PretrainedFile& f, bool copy = true);

}  // namespace cervirisk::models
