// One seed fixes the whole run. seed_all() seeds the process-wide std generator that library
// code draws from (via rng()), and, when the torch runtime is linked, torch's generators too
// (core/torch/runtime.h: seed_torch). Components that need their own stream derive it with
// derive_seed(seed, "purpose") so adding a consumer does not shift the others.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace cervirisk {

void seed_all(std::uint64_t seed);
std::uint64_t global_seed();
std::mt19937_64& rng();
// A stable, well-mixed seed for a named sub-stream (splitmix64 of seed ^ FNV-1a(purpose)).
std::uint64_t derive_seed(std::uint64_t seed, std::string_view purpose);

// splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014,
// doi:10.1145/2660193.2660195; constants of Vigna's reference splitmix64.c): advances `state` by
// the golden-ratio increment and returns the mixed value. derive_seed and the seeding of the
// synthetic cohort's generator (data/rng.h) both use this one copy.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace cervirisk
