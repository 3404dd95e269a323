#include "bundle/feature_spec.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "runfolder/json_format.h"

namespace cervirisk::bundle {

namespace fs = std::filesystem;
using json = nlohmann::json;
using runfolder::JsonPath;

json preprocessing_json(const FeatureSpec& spec) {
  const auto& im = spec.imaging;
  json j;
  j["imaging"] = {{"frame", imaging::frame_name(im.frame)},
                  {"slice_spacing_mm", im.slice_spacing_mm},
                  {"spacing_mm", im.spacing_mm},
                  {"tumour_margin_mm", im.tumour_margin_mm},
                  {"context_margin_mm", im.context_margin_mm},
                  {"context_fov_mm", im.context_fov_mm},
                  {"tumour_fov_mm", im.tumour_fov_mm},
                  {"neighbours", im.neighbours},
                  {"mask_channel", im.mask_channel},
                  {"tumour_size_px", im.tumour_size_px},
                  {"context_size_px", im.context_size_px},
                  {"clip_percentiles", {im.clip_low_percentile, im.clip_high_percentile}},
                  {"normalise", imaging::normalisation_name(im.normalise)},
                  {"canonical", im.canonical()}};
  j["text"] = {{"max_tokens", spec.max_tokens},
               {"long_policy", text::long_policy_name(spec.policy)},
               {"has_vocab", spec.tokenizer != nullptr}};
  return j;
}

void write_preprocessing(const fs::path& file, const FeatureSpec& spec) {
  write_file_atomic(file, preprocessing_json(spec).dump(2));
}

namespace {

imaging::PreprocessParams read_imaging(const json& im, const JsonPath& w) {
  imaging::PreprocessParams p;
  // Bundles written before the canonical frame existed took their crops in each image's own
  // acquisition frame with box-scaled tumour crops; reading them with today's defaults would
  // feed the model other anatomy than it was trained on. Refuse them by name.
  if (!im.contains("frame"))
    throw ModelError(w.file + ": imaging.frame is missing: this bundle was made by a cervirisk before the canonical "
                     "anatomical frame (its crops were taken in each image's acquisition frame); retrain it with this "
                     "version (preprocess.frame = \"acquisition\" reproduces the old crops)");
  const std::string frame = runfolder::string_field(im, "frame", w);
  try {
    p.frame = imaging::parse_frame(frame);
  } catch (const Error&) {
    w.at("frame").fail("is \"" + frame + "\", expected sagittal or acquisition");
  }
  p.slice_spacing_mm = runfolder::number_field(im, "slice_spacing_mm", w);
  p.spacing_mm = runfolder::number_field(im, "spacing_mm", w);
  p.tumour_margin_mm = runfolder::number_field(im, "tumour_margin_mm", w);
  p.context_margin_mm = runfolder::number_field(im, "context_margin_mm", w);
  p.context_fov_mm = runfolder::number_field(im, "context_fov_mm", w);
  p.tumour_fov_mm = runfolder::number_field(im, "tumour_fov_mm", w);
  p.neighbours = static_cast<int>(runfolder::integer_field(im, "neighbours", w));
  // Bundles written before mask channels existed have no key: image planes only.
  if (im.contains("mask_channel")) {
    if (!im["mask_channel"].is_boolean()) w.at("mask_channel").fail("must be true or false");
    p.mask_channel = im["mask_channel"].get<bool>();
  }
  p.tumour_size_px = static_cast<int>(runfolder::integer_field(im, "tumour_size_px", w));
  p.context_size_px = static_cast<int>(runfolder::integer_field(im, "context_size_px", w));
  const auto clip = runfolder::numbers_field(im, "clip_percentiles", w);
  if (clip.size() != 2) w.at("clip_percentiles").fail("must be [low, high]");
  p.clip_low_percentile = clip[0];
  p.clip_high_percentile = clip[1];
  const std::string n = runfolder::string_field(im, "normalise", w);
  bool known = false;
  for (auto c : {imaging::Normalisation::kZScore, imaging::Normalisation::kMinMax, imaging::Normalisation::kNone})
    if (n == imaging::normalisation_name(c)) p.normalise = c, known = true;
  if (!known) w.at("normalise").fail("is \"" + n + "\", expected zscore, minmax or none");
  try {
    p.validate();
  } catch (const Error& e) {
    w.fail(std::string("is inconsistent: ") + e.what());
  }
  return p;
}

}  // namespace

FeatureSpec read_feature_spec(const fs::path& dir) {
  const fs::path file = dir / "preprocessing.json";
  const json j = runfolder::read_json_file(file);
  const JsonPath w{file.string(), ""};
  FeatureSpec s;
  s.imaging = read_imaging(runfolder::field(j, "imaging", w), w.at("imaging"));
  const json& t = runfolder::field(j, "text", w);
  s.max_tokens = runfolder::integer_field(t, "max_tokens", w.at("text"));
  if (s.max_tokens < 2) w.at("text").at("max_tokens").fail("must be at least 2 ([CLS] and [SEP])");
  try {
    s.policy = text::long_policy_from_name(runfolder::string_field(t, "long_policy", w.at("text")));
  } catch (const Error& e) {
    w.at("text").at("long_policy").fail(e.what());
  }
  if (fs::exists(dir / "vocab.txt"))
    s.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::from_pretrained(dir));
  if (fs::exists(dir / "clinical.json")) s.clinical = models::ClinicalEncoder::from_json(runfolder::read_json_file(dir / "clinical.json"));
  return s;
}

}  // namespace cervirisk::bundle
