#include "core/error.h"

namespace cervirisk {

const char* exit_code_name(ExitCode code) {
  switch (code) {
    case ExitCode::kOk: return "ok";
    case ExitCode::kFailure: return "failure";
    case ExitCode::kBadArguments: return "bad arguments or configuration";
    case ExitCode::kInputMissing: return "input missing or unreadable";
    case ExitCode::kCorruptInput: return "corrupt or unsupported file";
    case ExitCode::kValidationFailed: return "data fails validation";
    case ExitCode::kIncompatibleModel: return "incompatible model or checkpoint";
    case ExitCode::kOutputNotWritable: return "output not writable";
  }
  return "unknown";
}

}  // namespace cervirisk
