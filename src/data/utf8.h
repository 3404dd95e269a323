// Strict UTF-8 validation: the core's (core/utf8.h), under the name the data layer has used.
#pragma once

#include "core/utf8.h"

namespace cervirisk::data {

using cervirisk::utf8_invalid_offset;

}  // namespace cervirisk::data
