#include "text/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "core/error.h"

namespace cervirisk::text {

std::u32string utf8_to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::int32_t n = static_cast<std::int32_t>(s.size());
  std::int32_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      out.push_back(p[i++]);
      continue;
    }
    UChar32 c;
    U8_NEXT(p, i, n, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string u32_to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool is_whitespace(char32_t c) {
  if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') return true;
  if (c < 0x80) return c == 0x0B || c == 0x0C;
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_SURROGATE: case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  if (c < 0x80) return false;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONNECTOR_PUNCTUATION: case U_DASH_PUNCTUATION: case U_START_PUNCTUATION:
    case U_END_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

namespace {
const icu::Normalizer2& nfd_instance() {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(st);
  if (U_FAILURE(st) || !n) throw Error(ExitCode::kFailure, std::string("ICU NFD normaliser unavailable: ") + u_errorName(st));
  return *n;
}
const icu::Normalizer2& nfc_instance() {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(st);
  if (U_FAILURE(st) || !n) throw Error(ExitCode::kFailure, std::string("ICU NFC normaliser unavailable: ") + u_errorName(st));
  return *n;
}

std::u32string to_u32(const icu::UnicodeString& u) {
  std::u32string out;
  out.reserve(static_cast<std::size_t>(u.length()));
  for (std::int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

icu::UnicodeString from_u32(std::u32string_view s) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), static_cast<std::int32_t>(s.size()));
}
}  // namespace

std::u32string strip_accents(std::u32string_view s) {
  // Fast path: ASCII and the (canonically non-decomposing) CJK Unified Ideographs block are
  // NFD-stable and carry no marks; most report text is one or the other.
  static const icu::Normalizer2& nfd = nfd_instance();
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t c = s[i];
    if (c < 0x80 || (c >= 0x4E00 && c <= 0x9FFF)) {
      out.push_back(c);
      ++i;
      continue;
    }
    // A run of other characters is normalised together (combining sequences stay whole).
    std::size_t j = i;
    while (j < s.size() && !(s[j] < 0x80 || (s[j] >= 0x4E00 && s[j] <= 0x9FFF))) ++j;
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString d = nfd.normalize(from_u32(s.substr(i, j - i)), st);
    if (U_FAILURE(st)) throw Error(ExitCode::kFailure, std::string("ICU NFD failed: ") + u_errorName(st));
    for (char32_t x : to_u32(d))
      if (u_charType(static_cast<UChar32>(x)) != U_NON_SPACING_MARK) out.push_back(x);
    i = j;
  }
  return out;
}

std::u32string lowercase(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
      continue;
    }
    if (!u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CHANGES_WHEN_LOWERCASED)) {
      out.push_back(c);
      continue;
    }
    // Full mapping of the single character (no context): ICU's root-locale toLower of a
    // one-character string, e.g. U+0130 -> "i" + U+0307, U+03A3 -> U+03C3.
    UChar src[2];
    std::int32_t len = 0;
    U16_APPEND_UNSAFE(src, len, static_cast<UChar32>(c));
    UChar dst[8];
    UErrorCode st = U_ZERO_ERROR;
    std::int32_t n = u_strToLower(dst, 8, src, len, "", &st);
    if (U_FAILURE(st)) {
      out.push_back(static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
      continue;
    }
    for (std::int32_t k = 0; k < n;) {
      UChar32 x;
      U16_NEXT(dst, k, n, x);
      out.push_back(static_cast<char32_t>(x));
    }
  }
  return out;
}

std::u32string nfc(std::u32string_view s) {
  static const icu::Normalizer2& n = nfc_instance();
  UErrorCode st = U_ZERO_ERROR;
  icu::UnicodeString r = n.normalize(from_u32(s), st);
  if (U_FAILURE(st)) throw Error(ExitCode::kFailure, std::string("ICU NFC failed: ") + u_errorName(st));
  return to_u32(r);
}

}  // namespace cervirisk::text
