// Per-patient preprocessing cache and the parallel cohort driver.
//
// Entry = <cache_dir>/<key>.safetensors (tensors "tumour" and "context", F32 [C][H][W]) +
// <key>.json (shapes, crop boxes, slices, intensity statistics, image geometry). The key is the SHA-256 of the format version, the canonical
// parameters and the SHA-256 of the input files' bytes, so changing an input or a parameter
// misses the cache (stale entries are simply never read again). Both files are written
// atomically, the .json last: an entry without its .json does not exist.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "imaging/params.h"
#include "imaging/roi.h"
#include "io/volume.h"

namespace cervirisk::imaging {

// SHA-256 of a file's bytes, or of a folder's files (sorted relative paths + their hashes).
std::string input_hash(const std::filesystem::path& path);

class PreprocessCache {
 public:
  explicit PreprocessCache(std::filesystem::path dir);
  std::string key(const std::string& image_hash, const std::string& mask_hash, const PreprocessParams& params,
                  const std::string& read_options = "") const;
  std::optional<PatientSample> load(const std::string& key) const;
  // `params`, `image_hash`, `mask_hash` are recorded in the JSON (provenance; the key already
  // depends on them).
  void store(const std::string& key, const PatientSample& sample, const PreprocessParams& params,
             const std::string& image_hash, const std::string& mask_hash) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

struct PatientInput {
  std::string id;                  // study pseudonym (never a DICOM PatientID)
  std::filesystem::path image;     // NIfTI file or DICOM folder
  std::filesystem::path mask;      // mask in any format io::read_mask reads (any grid; put on the image's)
  io::ImageReadOptions read_options;
  std::string mask_segment;        // RTSTRUCT ROI / SEG or .seg.nrrd segment / label value ("" = the only one)
};

struct CohortStats {
  int cache_hits = 0;
  int computed = 0;
};

// Preprocesses every patient with `workers` threads (0 = hardware concurrency). Results are in
// input order. The first failure (in input order) is rethrown with the same exit code and the
// patient id prefixed. cache_dir empty = no cache.
std::vector<PatientSample> preprocess_cohort(const std::vector<PatientInput>& patients, const PreprocessParams& params,
                                             int workers, const std::filesystem::path& cache_dir,
                                             CohortStats* stats = nullptr);

// Serialises the non-voxel part of a sample (boxes, slices, statistics) as JSON text.
std::string sample_json(const PatientSample& sample);

}  // namespace cervirisk::imaging
