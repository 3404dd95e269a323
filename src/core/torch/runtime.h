// Torch-side runtime services: seeding, threads, determinism and version facts for run.json.
// Kept out of core proper so torch-free modules (stats, io, text) do not link LibTorch.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace cervirisk {

struct RuntimeInfo {
  std::string torch_version;
  std::string blas;            // BLAS/LAPACK as torch reports it
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  std::string device;          // the devices this LibTorch can use: "cpu, 2 cuda" or "cpu (LibTorch without CUDA)"
  bool deterministic = false;
};

// Seeds std (seed_all) and torch (CPU and, when present, CUDA).
void seed_everything(std::uint64_t seed);
// threads <= 0: the number of cores.
void set_threads(int threads);
void set_deterministic(bool on);
RuntimeInfo runtime_info();

// train.device / --device: "cpu", "cuda" (= cuda:0) or "cuda:N". ConfigError (exit 2) for any
// other text, for CUDA when this LibTorch has none (Debian's is CPU-only: build against a CUDA
// LibTorch, docs/install.md) and for a device index the machine does not have.
c10::Device parse_device(const std::string& name);
// The command line's --device ("" = none): study / train put it in train.device, predict and
// explain move the bundle's model there.
void set_device_override(const std::string& name);
const std::string& device_override();
// device_override() parsed, or the CPU.
c10::Device command_device();
// "bf16" autocast on CUDA for train.precision = bf16, or auto on a CUDA device; ConfigError for
// bf16 on the CPU.
bool use_bf16(const std::string& precision, const c10::Device& device);

}  // namespace cervirisk
