#include "core/error.h"

#include "core/utf8.h"

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

std::string printable_message(std::string_view m) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(m.size());
  for (std::size_t i = 0; i < m.size();) {
    const auto c = static_cast<unsigned char>(m[i]);
    const std::size_t n = utf8_sequence_length(m, i);
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
