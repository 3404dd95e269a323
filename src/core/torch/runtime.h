// Torch-side runtime services: seeding, threads, determinism and version facts for run.json.
// Kept out of core proper so torch-free modules (stats, io, text) do not link LibTorch.
#pragma once

#include <cstdint>
#include <string>

namespace cervirisk {

struct RuntimeInfo {
  std::string torch_version;
  std::string blas;            // BLAS/LAPACK as torch reports it
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  std::string device;          // "cpu" or "cuda:0 (NAME)"
  bool deterministic = false;
};

// Seeds std (seed_all) and torch (CPU and, when present, CUDA).
void seed_everything(std::uint64_t seed);
// threads <= 0: the number of cores.
void set_threads(int threads);
void set_deterministic(bool on);
RuntimeInfo runtime_info();

}  // namespace cervirisk
