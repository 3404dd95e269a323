// Preprocessing throughput: load .nii.gz image + mask, normalise, resample, multi-scale crops,
// per patient (bench/imaging.sh runs it beside scripts/preprocess_reference.py on the same files).
// Usage: bench_imaging WORKERS IMAGE MASK [IMAGE MASK ...]   -> prints wall and CPU seconds per patient
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "imaging/cache.h"
#include "io/nifti.h"

int main(int argc, char** argv) {
  using namespace cervirisk::imaging;
  if (argc < 4 || (argc - 2) % 2 != 0) {
    std::fprintf(stderr, "usage: bench_imaging WORKERS IMAGE MASK [IMAGE MASK ...]\n");
    return 2;
  }
  int workers = std::atoi(argv[1]);
  // CERV_BENCH_ZLIB=1: time the zlib-only reader (what a build without libdeflate uses).
  if (const char* z = std::getenv("CERV_BENCH_ZLIB"); z && std::string(z) == "1") cervirisk::io::set_nifti_fast_inflate(false);
  std::vector<PatientInput> pts;
  for (int i = 2; i + 1 < argc; i += 2) pts.push_back({"p" + std::to_string(i / 2), argv[i], argv[i + 1], {}});
  PreprocessParams p;
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  double c0 = cpu();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<PatientSample> out = preprocess_cohort(pts, p, workers, "");
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double check = 0;
  for (const auto& s : out) check += s.tumour.data[s.tumour.data.size() / 2];
  double dc = cpu() - c0;
  std::printf("%.6f %.6f\n", dt / static_cast<double>(pts.size()), dc / static_cast<double>(pts.size()));
  std::fprintf(stderr, "checksum %.4f\n", check);
  return 0;
}
