// Build identity: version, git revision, compiler.
#pragma once
#include <string>

namespace cervirisk {
std::string version();       // "0.1.0"
std::string git_revision();  // short hash at configure time, "-dirty" when the tree had changes; "unknown" outside git
std::string compiler();      // "GNU 12.2.0"
}  // namespace cervirisk
