// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace cervirisk::data {

// Byte offset of the first invalid sequence, or npos when the text is valid UTF-8.
std::size_t utf8_invalid_offset(std::string_view s);

}  // namespace cervirisk::data
