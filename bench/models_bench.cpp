// Forward+backward throughput (images or patients per second) of convnext_tiny at 224 px and of
// the cpu-small MSM-TC, and the machine's float32 matrix-multiply peak. Prints one JSON line per
// measurement (bench/models.sh compares with the Python side).
//   bench_models --threads T --batch-convnext B1 --batch-msm B2 --iters N
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/registry.h"

using namespace cervirisk::models;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <typename F>
double best_of(int iters, F&& step) {
  step();  // warm-up (allocator, OpenMP pool)
  double best = 1e30;
  for (int i = 0; i < iters; ++i) {
    auto t = Clock::now();
    step();
    best = std::min(best, seconds_since(t));
  }
  return best;
}

double matmul_peak_gflops(int iters) {
  const std::int64_t n = 2048;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  double s = best_of(iters, [&] { torch::mm_out(c, a, b); });
  return 2.0 * n * n * n / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, batch_convnext = 8, batch_msm = 32, iters = 3, text_len = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--threads") threads = v;
    else if (k == "--batch-convnext") batch_convnext = v;
    else if (k == "--batch-msm") batch_msm = v;
    else if (k == "--iters") iters = v;
    else if (k == "--text-len") text_len = v;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const double peak = matmul_peak_gflops(5);
  std::printf("{\"impl\": \"cpp\", \"what\": \"matmul_peak\", \"gflops\": %.2f, \"threads\": %d}\n", peak, threads);

  {
    auto a = named_architecture("convnext_tiny");
    auto m = std::dynamic_pointer_cast<ConvNeXtImpl>(a.module);
    m->train();
    auto x = torch::randn({batch_convnext, 3, 224, 224});
    auto y = torch::randint(0, 1000, {batch_convnext}, torch::kInt64);
    double s = best_of(iters, [&] {
      m->zero_grad();
      auto out = m->forward(x);
      torch::nn::functional::cross_entropy(out.logits, y).backward();
    });
    double flops = 3.0 * static_cast<double>(a.flops) * batch_convnext;  // backward ~ 2x forward
    std::printf("{\"impl\": \"cpp\", \"what\": \"convnext_tiny\", \"batch\": %d, \"seconds\": %.4f, \"per_s\": %.3f, "
                "\"gflops\": %.2f}\n",
                batch_convnext, s, batch_convnext / s, flops / s / 1e9);
  }
  {
    DataSizes sizes;
    sizes.clinical_features = 16;
    sizes.vocab_size = 2000;
    auto arch = make_arch("cpu-small", Variant::kMsmTC, sizes);
    auto m = build_model(arch);
    m->train();
    ModelInputs in;
    in.tumour = torch::randn({batch_msm, 3, arch.tumour_size, arch.tumour_size});
    in.context = torch::randn({batch_msm, 3, arch.context_size, arch.context_size});
    in.text_ids = torch::randint(1, sizes.vocab_size, {batch_msm, text_len}, torch::kInt64);
    in.text_mask = torch::ones({batch_msm, text_len}, torch::kInt64);
    in.clinical = torch::randn({batch_msm, sizes.clinical_features});
    in.has_text = torch::ones({batch_msm}, torch::kBool);
    in.has_clinical = torch::ones({batch_msm}, torch::kBool);
    auto y = torch::randint(0, 2, {batch_msm}).to(torch::kFloat32);
    double s = best_of(iters, [&] {
      m->zero_grad();
      auto out = m->forward(in);
      torch::binary_cross_entropy_with_logits(out.logit, y).backward();
    });
    double flops = 3.0 * static_cast<double>(m->flops(text_len)) * batch_msm;
    std::printf("{\"impl\": \"cpp\", \"what\": \"msm_tc_cpu_small\", \"batch\": %d, \"seconds\": %.4f, \"per_s\": %.3f, "
                "\"gflops\": %.2f, \"params\": %lld}\n",
                batch_msm, s, batch_msm / s, flops / s / 1e9, static_cast<long long>(parameter_count(*m)));
  }
  return 0;
}
