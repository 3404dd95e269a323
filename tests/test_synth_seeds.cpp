// Every cohort `synth` writes passes `validate`: 200 seeds at --size small and 20 at the default
// size, through the library (label slow: ~20 minutes of CPU, most of it the full-size images).
#include <gtest/gtest.h>

#include "synth_seeds.h"

using cervirisk::data::SynthSize;
using cervirisk::testing::expect_seeds_validate;

TEST(SynthValidSeeds, SmallSize200Seeds) { expect_seeds_validate(0, 200, SynthSize::kSmall); }

TEST(SynthValidSeeds, DefaultSize20Seeds) { expect_seeds_validate(0, 20, SynthSize::kFull); }
