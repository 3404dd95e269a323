// A small, portable random source for the generator. The standard library's distributions
// are implementation-defined (libstdc++ and libc++ draw different numbers from the same engine),
// so the synthetic cohort would not be byte-identical across toolchains with them.
// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
// ACM TOMS 47(4), 2021, doi:10.1145/3460772), seeded through splitmix64 (core/random.h).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/random.h"

namespace cervirisk::data {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Unbiased integer in [0, n) (Lemire's rejection would be faster; n is small here).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Standard normal pair by Box-Muller (one log and one sincos per two draws).
  void normal_pair(double& a, double& b) {
    double u1 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 6.283185307179586 * uniform();
    a = r * std::cos(t);
    b = r * std::sin(t);
  }
  double normal() {
    double a, b;
    normal_pair(a, b);
    return a;
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace cervirisk::data
