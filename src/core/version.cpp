#include "core/version.h"

#include "core/version_info.h"

namespace cervirisk {
std::string version() { return CERV_VERSION; }
std::string git_revision() { return CERV_GIT_REVISION; }
std::string compiler() { return CERV_COMPILER; }
}  // namespace cervirisk
