#include "imaging/cache.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/parallel.h"
#include "io/mask.h"
#include "io/nifti.h"
#include "io/safetensors.h"

namespace cervirisk::imaging {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "cervirisk-preprocess-cache-3";

json vec(const io::Vec3& v) { return json::array({v[0], v[1], v[2]}); }
io::Vec3 vec3(const json& j) { return {j[0].get<double>(), j[1].get<double>(), j[2].get<double>()}; }

json box_json(const Crop& c) {
  return {{"channels", c.channels},       {"height", c.height},
          {"width", c.width},             {"size_px", c.box.size_px},
          {"side_mm", c.box.side_mm},     {"pixel_mm", c.box.pixel_mm},
          {"centre_lps_mm", vec(c.box.centre_lps_mm)}, {"step_x_lps", vec(c.box.step_x_lps)},
          {"step_y_lps", vec(c.box.step_y_lps)},       {"normal_lps", vec(c.box.normal_lps)},
          {"slice_step_mm", c.box.slice_step_mm},      {"centre_slice", c.box.centre_slice}};
}
void box_from(const json& j, Crop& c) {
  c.channels = j["channels"];
  c.height = j["height"];
  c.width = j["width"];
  c.box.size_px = j["size_px"];
  c.box.side_mm = j["side_mm"];
  c.box.pixel_mm = j["pixel_mm"];
  c.box.centre_lps_mm = vec3(j["centre_lps_mm"]);
  c.box.step_x_lps = vec3(j["step_x_lps"]);
  c.box.step_y_lps = vec3(j["step_y_lps"]);
  c.box.normal_lps = vec3(j["normal_lps"]);
  c.box.slice_step_mm = j["slice_step_mm"];
  c.box.centre_slice = j["centre_slice"];
}

json to_json(const PatientSample& s) {
  const auto& g = s.image_geometry;
  json geom = {{"shape", {g.shape[0], g.shape[1], g.shape[2]}},
               {"spacing_mm", vec(g.spacing_mm)},
               {"origin_lps_mm", vec(g.origin_lps_mm)},
               {"direction_lps", {vec({g.direction_lps[0][0], g.direction_lps[0][1], g.direction_lps[0][2]}),
                                  vec({g.direction_lps[1][0], g.direction_lps[1][1], g.direction_lps[1][2]}),
                                  vec({g.direction_lps[2][0], g.direction_lps[2][1], g.direction_lps[2][2]})}}};
  return {{"format", kFormat},
          {"frame", frame_name(s.frame)},
          {"tumour", box_json(s.tumour)},
          {"context", box_json(s.context)},
          {"slice_index", s.slice_index},
          {"slice_indices", s.slice_indices},
          {"tumour_area_mm2", s.tumour_area_mm2},
          {"box_mm", s.box_mm},
          {"stats",
           {{"method", normalisation_name(s.stats.method)},
            {"otsu_threshold", s.stats.otsu_threshold},
            {"n_foreground", s.stats.n_foreground},
            {"clip_low", s.stats.clip_low},
            {"clip_high", s.stats.clip_high},
            {"mean", s.stats.mean},
            {"sd", s.stats.sd}}},
          {"image_geometry", geom}};
}

PatientSample from_json(const json& j) {
  PatientSample s;
  s.frame = parse_frame(j["frame"].get<std::string>());
  box_from(j["tumour"], s.tumour);
  box_from(j["context"], s.context);
  s.slice_index = j["slice_index"];
  s.slice_indices = j["slice_indices"].get<std::vector<std::int64_t>>();
  s.tumour_area_mm2 = j["tumour_area_mm2"];
  s.box_mm = j["box_mm"].get<std::array<double, 4>>();
  const json& st = j["stats"];
  s.stats.method = parse_normalisation(st["method"].get<std::string>());
  s.stats.otsu_threshold = st["otsu_threshold"];
  s.stats.n_foreground = st["n_foreground"];
  s.stats.clip_low = st["clip_low"];
  s.stats.clip_high = st["clip_high"];
  s.stats.mean = st["mean"];
  s.stats.sd = st["sd"];
  const json& g = j["image_geometry"];
  for (int a = 0; a < 3; ++a) s.image_geometry.shape[a] = g["shape"][a];
  s.image_geometry.spacing_mm = vec3(g["spacing_mm"]);
  s.image_geometry.origin_lps_mm = vec3(g["origin_lps_mm"]);
  for (int r = 0; r < 3; ++r) {
    io::Vec3 row = vec3(g["direction_lps"][r]);
    for (int c = 0; c < 3; ++c) s.image_geometry.direction_lps[r][c] = row[c];
  }
  return s;
}
}  // namespace

std::string sample_json(const PatientSample& s) { return to_json(s).dump(1); }

std::string input_hash(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return sha256_file(path);
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), path));
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& f : files) {
    h.update(f.generic_string());
    h.update(std::string_view("\0", 1));
    h.update(sha256_file(path / f));
  }
  return h.hex_digest();
}

PreprocessCache::PreprocessCache(fs::path dir) : dir_(std::move(dir)) {}

std::string PreprocessCache::key(const std::string& image_hash, const std::string& mask_hash,
                                 const PreprocessParams& p, const std::string& read_options) const {
  return sha256_hex(std::string(kFormat) + "\n" + p.canonical() + "\n" + image_hash + "\n" + mask_hash + "\n" +
                    read_options);
}

std::optional<PatientSample> PreprocessCache::load(const std::string& key) const {
  fs::path js = dir_ / (key + ".json"), st = dir_ / (key + ".safetensors");
  std::error_code ec;
  if (!fs::exists(js, ec) || !fs::exists(st, ec)) return std::nullopt;
  try {
    json j = json::parse(read_file(js));
    if (j.value("format", "") != kFormat) return std::nullopt;
    PatientSample s = from_json(j);
    io::SafetensorsFile f(st);
    const bool masks = j.value("mask_channel", false);
    for (auto [name, crop] : {std::pair<const char*, Crop*>{"tumour", &s.tumour}, {"context", &s.context}}) {
      std::vector<std::int64_t> want = {crop->channels, crop->height, crop->width};
      const io::TensorView& t = f.at(name);
      if (t.dtype != io::DType::kF32 || t.shape != want) return std::nullopt;
      crop->data = t.to_float();
      if (!masks) continue;
      const io::TensorView& m = f.at(std::string(name) + "_mask");
      if (m.dtype != io::DType::kF32 || m.shape != want) return std::nullopt;
      crop->mask = m.to_float();
    }
    return s;
  } catch (const std::exception& e) {
    log::warn("ignoring unreadable cache entry {}: {}", js.string(), e.what());
    return std::nullopt;
  }
}

void PreprocessCache::store(const std::string& key, const PatientSample& s, const PreprocessParams& params,
                            const std::string& image_hash, const std::string& mask_hash) const {
  std::map<std::string, io::TensorData> tensors;
  tensors["tumour"] = io::TensorData::from_floats(s.tumour.data, {s.tumour.channels, s.tumour.height, s.tumour.width});
  tensors["context"] =
      io::TensorData::from_floats(s.context.data, {s.context.channels, s.context.height, s.context.width});
  const bool masks = !s.tumour.mask.empty();
  if (masks) {
    tensors["tumour_mask"] = io::TensorData::from_floats(s.tumour.mask, {s.tumour.channels, s.tumour.height, s.tumour.width});
    tensors["context_mask"] =
        io::TensorData::from_floats(s.context.mask, {s.context.channels, s.context.height, s.context.width});
  }
  io::write_safetensors(dir_ / (key + ".safetensors"), tensors, {{"format", kFormat}});
  json j = to_json(s);
  if (masks) j["mask_channel"] = true;
  j["params"] = params.canonical();
  j["image_sha256"] = image_hash;
  j["mask_sha256"] = mask_hash;
  write_file_atomic(dir_ / (key + ".json"), j.dump(1));  // last: the entry now exists
}

std::vector<PatientSample> preprocess_cohort(const std::vector<PatientInput>& patients, const PreprocessParams& p,
                                             int workers, const fs::path& cache_dir, CohortStats* stats) {
  p.validate();
  const std::size_t n = patients.size();
  std::vector<PatientSample> out(n);
  std::vector<std::exception_ptr> errors(n);
  std::optional<PreprocessCache> cache;
  if (!cache_dir.empty()) {
    ensure_writable_dir(cache_dir);
    cache.emplace(cache_dir);
  }
  std::atomic<int> hits{0}, computed{0};
  auto work = [&](std::size_t i) {
    const PatientInput& in = patients[i];
    try {
      std::string key, image_hash, mask_hash;
      if (cache) {
        std::string opts = std::to_string(in.read_options.volume_index) + "|" + in.read_options.series_pattern + "|" +
                           in.read_options.series_uid + (in.mask_segment.empty() ? "" : "|segment=" + in.mask_segment);
        image_hash = input_hash(in.image);
        mask_hash = input_hash(in.mask);
        key = cache->key(image_hash, mask_hash, p, opts);
        if (auto hit = cache->load(key)) {
          out[i] = std::move(*hit);
          ++hits;
          return;
        }
      }
      io::Volume image = io::read_image(in.image, in.read_options);
      io::Volume mask = io::read_mask(in.mask, image.geometry, io::MaskReadOptions{in.mask_segment});
      out[i] = preprocess(image, mask, p);
      ++computed;
      if (cache) cache->store(key, out[i], p, image_hash, mask_hash);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  parallel_for(n, worker_count(workers, n), work);
  for (std::size_t i = 0; i < n; ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const Error& e) {
      throw Error(e.code(), "patient " + patients[i].id + ": " + e.what());
    } catch (const std::exception& e) {
      throw Error(ExitCode::kFailure, "patient " + patients[i].id + ": " + e.what());
    }
  }
  if (stats) {
    stats->cache_hits = hits;
    stats->computed = computed;
  }
  return out;
}

}  // namespace cervirisk::imaging
