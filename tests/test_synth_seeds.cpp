// Every cohort `synth` writes passes `validate`: 200 seeds at --size small and 20 at the default
// size, through the library. Label slow: each default-size seed is 445 full-size patients (about
// 80 s of CPU), so those run five seeds a test to stay well within the test timeout.
#include <gtest/gtest.h>

#include "synth_seeds.h"

using cervirisk::data::SynthSize;
using cervirisk::testing::expect_seeds_validate;

TEST(SynthValidSeeds, SmallSize200Seeds) { expect_seeds_validate(0, 200, SynthSize::kSmall); }

TEST(SynthValidSeeds, DefaultSizeSeeds0To4) { expect_seeds_validate(0, 5, SynthSize::kFull); }
TEST(SynthValidSeeds, DefaultSizeSeeds5To9) { expect_seeds_validate(5, 5, SynthSize::kFull); }
TEST(SynthValidSeeds, DefaultSizeSeeds10To14) { expect_seeds_validate(10, 5, SynthSize::kFull); }
TEST(SynthValidSeeds, DefaultSizeSeeds15To19) { expect_seeds_validate(15, 5, SynthSize::kFull); }
