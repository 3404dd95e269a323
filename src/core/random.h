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

}  // namespace cervirisk
