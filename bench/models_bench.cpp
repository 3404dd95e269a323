// Forward+backward throughput (images or patients per second) of convnext_tiny at 224 px and of
// the cpu-small MSM-TC, and the machine's float32 matrix-multiply peak. Prints one JSON line per
// measurement (bench/models.sh compares with the Python side). Each model is timed twice: as the
// trainer runs a step (train::sharded_forward_backward: the batch split into one part per thread,
// impl "cpp") and as one forward + backward over the whole batch with torch's intra-op threads
// (impl "cpp_1part", the same computation Python does).
//   bench_models --threads T --batch-convnext B1 --batch-msm B2 --iters N [--shards S]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/registry.h"
#include "train/sharded_step.h"

using namespace cervirisk::models;
namespace train = cervirisk::train;
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

// One training step's forward + backward over `rows` rows in `parts` parts.
double step(cervirisk::ShardPool& pool, int parts, std::int64_t rows, const train::ShardedFns& fns,
            const std::vector<torch::Tensor>& params) {
  return train::sharded_forward_backward(&pool, parts, rows, 7, fns, params);
}

void print_row(const char* impl, const char* what, int batch, double s, double flops, int parts,
               long long params) {
  std::printf("{\"impl\": \"%s\", \"what\": \"%s\", \"batch\": %d, \"seconds\": %.4f, \"per_s\": %.3f, "
              "\"gflops\": %.2f, \"parts\": %d, \"params\": %lld}\n",
              impl, what, batch, s, batch / s, flops / s / 1e9, parts, params);
}

int main(int argc, char** argv) {
  int threads = 2, batch_convnext = 8, batch_msm = 32, iters = 3, text_len = 64, shards = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--threads") threads = v;
    else if (k == "--batch-convnext") batch_convnext = v;
    else if (k == "--batch-msm") batch_msm = v;
    else if (k == "--iters") iters = v;
    else if (k == "--text-len") text_len = v;
    else if (k == "--shards") shards = v;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const double peak = matmul_peak_gflops(5);
  cervirisk::ShardPool pool(threads);
  std::printf("{\"impl\": \"cpp\", \"what\": \"matmul_peak\", \"gflops\": %.2f, \"threads\": %d}\n", peak, threads);

  {
    auto a = named_architecture("convnext_tiny");
    auto m = std::dynamic_pointer_cast<ConvNeXtImpl>(a.module);
    m->train();
    auto x = torch::randn({batch_convnext, 3, 224, 224});
    auto y = torch::randint(0, 1000, {batch_convnext}, torch::kInt64);
    train::ShardedFns fns;
    fns.forward = [&](int, std::int64_t b, std::int64_t e) { return m->forward(x.narrow(0, b, e - b)).logits; };
    fns.loss = [&](const torch::Tensor& out) { return torch::nn::functional::cross_entropy(out, y); };
    const auto params = m->parameters();
    const double flops = 3.0 * static_cast<double>(a.flops) * batch_convnext;  // backward ~ 2x forward
    const long long np = static_cast<long long>(parameter_count(*m));
    const int parts = train::shard_count(batch_convnext, shards);
    print_row("cpp", "convnext_tiny", batch_convnext,
              best_of(iters, [&] { step(pool, parts, batch_convnext, fns, params); }), flops, parts, np);
    print_row("cpp_1part", "convnext_tiny", batch_convnext,
              best_of(iters, [&] { step(pool, 1, batch_convnext, fns, params); }), flops, 1, np);
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
    train::ShardedFns fns;
    fns.forward = [&](int, std::int64_t b, std::int64_t e) { return m->forward(in.narrow(b, e)).logit; };
    fns.loss = [&](const torch::Tensor& out) { return torch::binary_cross_entropy_with_logits(out, y); };
    const auto params = m->parameters();
    const double flops = 3.0 * static_cast<double>(m->flops(text_len)) * batch_msm;
    const long long np = static_cast<long long>(parameter_count(*m));
    const int parts = train::shard_count(batch_msm, shards);
    print_row("cpp", "msm_tc_cpu_small", batch_msm,
              best_of(iters, [&] { step(pool, parts, batch_msm, fns, params); }), flops, parts, np);
    print_row("cpp_1part", "msm_tc_cpu_small", batch_msm,
              best_of(iters, [&] { step(pool, 1, batch_msm, fns, params); }), flops, 1, np);
  }
  return 0;
}
