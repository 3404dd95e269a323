// Every difference between the LibTorch versions we build against lives here:
// Debian's LibTorch 1.13 (CPU machines) and a torch 2.x libtorch (GPU machines).
// Include only from .cpp files that already include <torch/torch.h>.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <string>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

#ifndef TORCH_VERSION_MAJOR
#define TORCH_VERSION_MAJOR 1
#define TORCH_VERSION_MINOR 13
#endif

namespace cervirisk::compat {

inline std::string torch_version_string() {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#else
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR);
#endif
}

inline std::string blas_info() {
  // show_config() lists the BLAS and LAPACK the build links; keep the BLAS line.
  std::string cfg = at::show_config();
  auto pos = cfg.find("BLAS_INFO=");
  if (pos == std::string::npos) return "unknown";
  auto end = cfg.find_first_of(",\n", pos);
  return cfg.substr(pos + 10, end == std::string::npos ? std::string::npos : end - pos - 10);
}

// 2.x renamed c10::optional to std::optional; code uses compat::optional.
#if TORCH_VERSION_MAJOR >= 2
template <typename T>
using optional = std::optional<T>;
inline constexpr auto nullopt = std::nullopt;
#else
template <typename T>
using optional = c10::optional<T>;
inline constexpr auto nullopt = c10::nullopt;
#endif

// softmax(q k^T / sqrt(d)) v with the probabilities returned: 1.13 has no
// scaled_dot_product_attention, and rollout needs the probabilities anyway, so attention is
// always explicit. `mask` (optional) is added to the scores before the softmax.
inline std::pair<torch::Tensor, torch::Tensor> attention_with_probs(const torch::Tensor& q,
                                                                    const torch::Tensor& k,
                                                                    const torch::Tensor& v,
                                                                    const torch::Tensor& mask = {}) {
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (mask.defined()) scores = scores + mask;
  auto probs = torch::softmax(scores, -1);
  return {torch::matmul(probs, v), probs};
}

// bfloat16 autocast on CUDA for the lifetime of the guard (nothing when `on` is false). 1.13 has
// set_enabled / set_autocast_gpu_dtype; 2.4 moved to per-device-type calls.
class CudaAutocast {
 public:
  explicit CudaAutocast(bool on) : on_(on) {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    prev_ = at::autocast::is_autocast_enabled(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    prev_ = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~CudaAutocast() {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, prev_);
#else
    at::autocast::set_enabled(prev_);
#endif
    at::autocast::clear_cache();
  }
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool on_;
  bool prev_ = false;
};

}  // namespace cervirisk::compat
