// run.json: what produced a run folder -- versions, git revision, compiler, torch and BLAS,
// threads, seed, config hash, input file hashes and timings -- so a run can be reproduced.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cervirisk {

struct RuntimeInfo;  // core/torch/runtime.h

class RunManifest {
 public:
  RunManifest(std::string command, std::uint64_t seed);

  void set_runtime(const RuntimeInfo& info);
  void set_config(const std::string& config_hash, const std::string& config_path);
  // Records the SHA-256 of an input file under a name ("manifest", "P001/image", ...).
  void add_input(const std::string& name, const std::filesystem::path& file);
  void add_input_hash(const std::string& name, const std::string& sha256);
  // Named timing in seconds ("preprocess", "train/msm_tc", ...); repeated names add up.
  void add_timing(const std::string& name, double seconds);
  void set_field(const std::string& key, const std::string& value);

  std::string to_json() const;
  // Writes <dir>/run.json atomically.
  void write(const std::filesystem::path& dir) const;

 private:
  std::string command_;
  std::uint64_t seed_;
  std::string started_utc_;
  std::chrono::steady_clock::time_point start_;
  std::map<std::string, std::string> runtime_;
  std::map<std::string, std::string> fields_;
  std::string config_hash_, config_path_;
  std::map<std::string, std::string> inputs_;
  std::vector<std::pair<std::string, double>> timings_;
};

// Scoped timer that adds its lifetime to a manifest.
class ScopedTiming {
 public:
  ScopedTiming(RunManifest& m, std::string name)
      : m_(m), name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTiming() {
    m_.add_timing(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

 private:
  RunManifest& m_;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace cervirisk
