#include "core/torch/runtime.h"

#include <torch/torch.h>

#include <thread>

#include "core/random.h"
#include "core/torch_compat.h"

namespace cervirisk {
namespace {
bool g_deterministic = false;
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
  r.device = torch::cuda::is_available() ? "cuda" : "cpu";
  r.deterministic = g_deterministic;
  return r;
}

}  // namespace cervirisk
