// The TOML configuration: parse and validate against the schema; a configuration that parses
// must survive its own round trip (the run folder's config.toml reloads to the same hash, which
// `--resume` and run.json depend on). Also the settings merge of `benchmark --settings`.
#include <cstdio>

#include "core/config.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    const auto c = config::Config::parse(text, "fuzz.toml", fuzz::scratch());
    const std::string once = c.to_toml();
    const auto again = config::Config::parse(once, "config.toml", fuzz::scratch());
    if (again.hash() != c.hash()) {
      std::fprintf(stderr, "config round trip changed the hash:\n%s\n---\n%s\n", once.c_str(), again.to_toml().c_str());
      std::abort();
    }
  });
  fuzz::expect_clean([&] { config::merge_toml("[train]\nepochs = 3\n", "base.toml", text, "settings.toml"); });
  return 0;
}
