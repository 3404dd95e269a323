// `validate` over the cohorts `synth` writes for a range of seeds, through the library (no CLI):
// shared by the unit test (test_synth.cpp) and the slow one over 200 seeds (test_synth_seeds.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/log.h"
#include "data/cohort.h"
#include "data/synth.h"
#include "test_util.h"

namespace cervirisk::testing {

// `cervirisk synth --seed S` with --size small (40 patients) or the default size (445).
inline data::SynthOptions synth_cli_options(std::uint64_t seed, data::SynthSize size) {
  data::SynthOptions o;
  o.size = size;
  o.patients = size == data::SynthSize::kSmall ? 40 : 445;
  o.seed = seed;
  return o;
}

// The errors `validate` finds in the cohort synth writes with o: the table guards of load_cohort
// and the image guards of check_images, as apps/cervirisk/cmd_validate.cpp runs them.
inline std::vector<std::string> synth_validation_errors(const data::SynthOptions& o) {
  const TempDir tmp("synth_seed");
  const std::filesystem::path d = tmp / "cohort";
  data::write_synthetic_cohort(o, d);
  const config::Config cfg = config::Config::load(d / "study.toml");
  data::Cohort c = data::load_cohort(cfg, false);
  data::check_images(c, o.threads, cfg.get_string("data.dicom_series"));
  std::vector<std::string> errors;
  for (const auto& f : c.findings)
    if (f.severity == data::Severity::kError) errors.push_back("[" + f.guard + "] " + f.message);
  return errors;
}

// Seeds first .. first + count - 1 at `size`: each cohort validates without an error.
inline void expect_seeds_validate(std::uint64_t first, std::uint64_t count, data::SynthSize size) {
  const log::Level level = log::level();
  log::set_level(log::Level::kError);  // every cohort warns of its missing reports
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    const auto errors = synth_validation_errors(synth_cli_options(seed, size));
    EXPECT_TRUE(errors.empty()) << "seed " << seed << ": " << errors.size() << " error(s), first " << errors.front();
  }
  log::set_level(level);
}

}  // namespace cervirisk::testing
