// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF):
// the one definition for reports, tables, error messages and the service's fields.
#pragma once

#include <cstddef>
#include <string_view>

namespace cervirisk {

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when there is none there.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// Byte offset of the first invalid sequence, or npos when the text is valid UTF-8.
std::size_t utf8_invalid_offset(std::string_view s);

}  // namespace cervirisk
