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

}  // namespace cervirisk
