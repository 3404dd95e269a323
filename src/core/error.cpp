#include "core/error.h"

namespace cervirisk {

const std::vector<ExitCodeInfo>& exit_codes() {
  static const std::vector<ExitCodeInfo> table{
      {ExitCode::kOk, "ok", "success"},
      {ExitCode::kFailure, "failure", "any other failure"},
      {ExitCode::kBadArguments, "bad_arguments", "bad command line or configuration"},
      {ExitCode::kInputMissing, "input_missing", "input missing or unreadable"},
      {ExitCode::kCorruptInput, "corrupt_input", "corrupt or unsupported file"},
      {ExitCode::kValidationFailed, "validation_failed",
       "data fails validation, or a statistic is undefined on it"},
      {ExitCode::kIncompatibleModel, "incompatible_model", "incompatible model or checkpoint"},
      {ExitCode::kOutputNotWritable, "output_not_writable", "output not writable"},
  };
  return table;
}

const ExitCodeInfo& exit_code_info(ExitCode code) {
  // The table is in numeric order from 0 (tests/test_cli.cpp checks it).
  return exit_codes().at(static_cast<std::size_t>(code));
}

namespace {
// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}
}  // namespace

std::string printable_message(std::string_view m) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(m.size());
  for (std::size_t i = 0; i < m.size();) {
    const auto c = static_cast<unsigned char>(m[i]);
    const std::size_t n = utf8_sequence(m, i);
    if (n == 0 || (n == 1 && ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F))) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      ++i;
    } else {
      out.append(m.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace cervirisk
