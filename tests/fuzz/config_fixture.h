// The study.toml of fuzz_manifest: every clinical type, a split with an external centre.
#pragma once

namespace cervirisk::fuzz {

inline constexpr const char* kStudyToml = R"(
[study]
seed = 7
[data]
manifest = "manifest.csv"
[split]
external_centers = ["C"]
[[clinical]]
name = "age"
type = "numeric"
unit = "years"
min = 18.0
max = 95.0
[[clinical]]
name = "stage"
type = "ordinal"
levels = ["IB1", "IB2", "IIA1"]
[[clinical]]
name = "lvsi"
type = "categorical"
levels = ["no", "yes"]
)";

}  // namespace cervirisk::fuzz
