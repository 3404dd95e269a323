// Text benchmarks: tokenizer throughput (reports per second) on synthetic reports, and BERT
// forward latency for the cpu-small and bert-base shapes. Writes the reports and vocabulary it
// used into OUT_DIR so bench/text.sh can time the Python reference tokenizer on the same input.
//   text_bench OUT_DIR [n_reports]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/torch/runtime.h"
#include "models/bert.h"
#include "text/tokenizer.h"
#include "text/vocab_builder.h"
#include "../tests/text_synth_reports.h"

using namespace cervirisk;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: text_bench OUT_DIR [n_reports]\n");
    return 2;
  }
  // Threads as the CLI sets them (--threads 0 = number of cores); TEXT_BENCH_THREADS overrides.
  set_threads(std::getenv("TEXT_BENCH_THREADS") ? std::atoi(std::getenv("TEXT_BENCH_THREADS")) : 0);
  std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 2000;
  auto reports = testing::synth_reports(n, 2024);
  std::string all;
  for (const auto& r : reports) all += r + "\n";
  write_file_atomic(out / "reports.txt", all);
  text::Vocab vocab = text::build_vocab(reports, 2000);
  vocab.save(out / "vocab.txt");
  text::Tokenizer tok(vocab, {});

  // Tokenizer: best of 3 passes over all reports.
  double best = 1e30;
  std::size_t n_tokens = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    n_tokens = 0;
    for (const auto& r : reports) n_tokens += tok.tokenize(r).size();
    best = std::min(best, seconds_since(t0));
  }
  std::printf("{\"bench\":\"tokenize\",\"impl\":\"cervirisk\",\"reports\":%zu,\"tokens\":%zu,\"seconds\":%.4f,\"reports_per_s\":%.1f}\n",
              n, n_tokens, best, static_cast<double>(n) / best);
  std::fflush(stdout);

  // BERT forward latency (eval, no grad), median of runs after a warm-up.
  torch::NoGradGuard ng;
  struct Shape {
    const char* preset;
    std::int64_t batch, tokens;
    int runs;
  };
  for (Shape s : {Shape{"cpu-small", 1, 128, 30}, Shape{"cpu-small", 16, 192, 10}, Shape{"bert-base", 1, 128, 10},
                  Shape{"bert-base", 8, 192, 3}}) {
    torch::manual_seed(0);
    models::Bert bert(models::BertConfig::preset(s.preset, 21128));
    bert->eval();
    auto ids = torch::randint(5, 21128, {s.batch, s.tokens}, torch::kLong);
    auto mask = torch::ones({s.batch, s.tokens}, torch::kLong);
    bert(ids, mask);  // warm-up
    std::vector<double> times;
    for (int i = 0; i < s.runs; ++i) {
      auto t0 = Clock::now();
      auto r = bert(ids, mask);
      (void)r.pooled.sum().item<float>();
      times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    std::printf("{\"bench\":\"bert_forward\",\"preset\":\"%s\",\"batch\":%lld,\"tokens\":%lld,\"threads\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f}\n",
                s.preset, static_cast<long long>(s.batch), static_cast<long long>(s.tokens), torch::get_num_threads(),
                1e3 * times[times.size() / 2], 1e3 * times.front());
    std::fflush(stdout);
  }
  return 0;
}
