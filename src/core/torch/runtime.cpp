#include "core/torch/runtime.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include <thread>

#include "core/error.h"

#include "core/random.h"
#include "core/torch_compat.h"

namespace cervirisk {
namespace {
bool g_deterministic = false;
std::string g_device_override;
}

void seed_everything(std::uint64_t seed) {
  seed_all(seed);
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

void set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
}

void set_deterministic(bool on) {
  g_deterministic = on;
  at::globalContext().setDeterministicAlgorithms(on, /*warn_only=*/true);
}

RuntimeInfo runtime_info() {
  RuntimeInfo r;
  r.torch_version = compat::torch_version_string();
  r.blas = compat::blas_info();
  r.intra_op_threads = torch::get_num_threads();
  r.inter_op_threads = at::get_num_interop_threads();
  r.device = torch::cuda::is_available() ? fmt::format("cpu, {} cuda", torch::cuda::device_count())
                                         : "cpu (LibTorch without CUDA)";
  r.deterministic = g_deterministic;
  return r;
}

c10::Device parse_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  std::int64_t index = 0;
  if (name == "cuda") {
    index = 0;
  } else if (name.rfind("cuda:", 0) == 0 && name.size() > 5 && name.size() < 9 &&
             name.find_first_not_of("0123456789", 5) == std::string::npos) {
    index = std::stoll(name.substr(5));
  } else {
    throw ConfigError(fmt::format("device '{}': expected cpu, cuda or cuda:N", name));
  }
  if (!torch::cuda::is_available())
    throw ConfigError(fmt::format("device '{}': this cervirisk runs on a LibTorch {} without CUDA (or no CUDA device "
                                  "is visible); build it against a CUDA LibTorch (docs/install.md) or use --device cpu",
                                  name, compat::torch_version_string()));
  const auto count = static_cast<std::int64_t>(torch::cuda::device_count());
  if (index >= count)
    throw ConfigError(fmt::format("device '{}': this machine has {} CUDA device{} (cuda:0..cuda:{})", name, count,
                                  count == 1 ? "" : "s", count - 1));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void set_device_override(const std::string& name) { g_device_override = name; }
const std::string& device_override() { return g_device_override; }
c10::Device command_device() { return g_device_override.empty() ? c10::Device(c10::kCPU) : parse_device(g_device_override); }

bool use_bf16(const std::string& precision, const c10::Device& device) {
  if (precision == "bf16" && !device.is_cuda())
    throw ConfigError("train.precision = \"bf16\" needs a CUDA device (train.device / --device); the CPU runs fp32");
  return device.is_cuda() && (precision == "bf16" || precision == "auto");
}

}  // namespace cervirisk
