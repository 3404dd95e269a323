// The study configuration's type without its definition (core/config.h), for headers whose
// functions take a Config.
#pragma once

namespace cervirisk::config {
class Config;
}  // namespace cervirisk::config
