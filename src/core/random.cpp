#include "core/random.h"

namespace cervirisk {
namespace {
std::uint64_t g_seed = 42;
std::mt19937_64 g_rng(42);
}  // namespace

void seed_all(std::uint64_t seed) {
  g_seed = seed;
  g_rng.seed(seed);
}
std::uint64_t global_seed() { return g_seed; }
std::mt19937_64& rng() { return g_rng; }

std::uint64_t derive_seed(std::uint64_t seed, std::string_view purpose) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : purpose) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::uint64_t state = seed ^ h;
  return splitmix64(state);
}

}  // namespace cervirisk
