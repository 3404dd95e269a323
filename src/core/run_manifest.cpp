#include "core/run_manifest.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/torch/runtime.h"
#include "core/version.h"

namespace cervirisk {

RunManifest::RunManifest(std::string command, std::uint64_t seed)
    : command_(std::move(command)), seed_(seed), start_(std::chrono::steady_clock::now()) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  started_utc_ = buf;
}

void RunManifest::set_runtime(const RuntimeInfo& info) {
  runtime_["torch"] = info.torch_version;
  runtime_["blas"] = info.blas;
  runtime_["intra_op_threads"] = std::to_string(info.intra_op_threads);
  runtime_["inter_op_threads"] = std::to_string(info.inter_op_threads);
  runtime_["device"] = info.device;
  runtime_["deterministic"] = info.deterministic ? "true" : "false";
}

void RunManifest::set_config(const std::string& hash, const std::string& path) {
  config_hash_ = hash;
  config_path_ = path;
}

void RunManifest::add_input(const std::string& name, const std::filesystem::path& file) {
  inputs_[name] = sha256_file(file);
}
void RunManifest::add_input_hash(const std::string& name, const std::string& sha256) { inputs_[name] = sha256; }

void RunManifest::add_timing(const std::string& name, double seconds) {
  for (auto& [n, s] : timings_)
    if (n == name) {
      s += seconds;
      return;
    }
  timings_.emplace_back(name, seconds);
}

void RunManifest::set_field(const std::string& key, const std::string& value) { fields_[key] = value; }

std::string RunManifest::to_json() const {
  nlohmann::ordered_json j;
  j["cervirisk_version"] = version();
  j["git_revision"] = git_revision();
  j["compiler"] = compiler();
  j["command"] = command_;
  j["started_utc"] = started_utc_;
  j["seed"] = seed_;
  j["runtime"] = runtime_;
  j["config"] = {{"path", config_path_}, {"sha256", config_hash_}};
  j["inputs"] = inputs_;
  nlohmann::ordered_json t = nlohmann::ordered_json::object();
  for (const auto& [n, s] : timings_) t[n] = s;
  t["total"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  j["timings_s"] = t;
  for (const auto& [k, v] : fields_) j[k] = v;
  return j.dump(2) + "\n";
}

void RunManifest::write(const std::filesystem::path& dir) const { write_file_atomic(dir / "run.json", to_json()); }

}  // namespace cervirisk
