// Errors and the documented process exit codes (docs/exit-codes.md).
// The library throws; only main() catches, prints "error: ..." and returns the code.
#pragma once

#include <stdexcept>
#include <string>

namespace cervirisk {

enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,             // anything else (including "not implemented yet")
  kBadArguments = 2,        // bad command line or configuration
  kInputMissing = 3,        // input missing or unreadable
  kCorruptInput = 4,        // corrupt or unsupported file
  kValidationFailed = 5,    // data fails validation (e.g. leakage between cohorts)
  kIncompatibleModel = 6,   // incompatible model or checkpoint
  kOutputNotWritable = 7,   // output not writable
};

// Base of every error the library throws. The message names the file, field and the
// expected vs actual value where they apply.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }
  int exit_code() const { return static_cast<int>(code_); }

 private:
  ExitCode code_;
};

struct ConfigError : Error {
  explicit ConfigError(const std::string& m) : Error(ExitCode::kBadArguments, m) {}
};
struct InputError : Error {
  explicit InputError(const std::string& m) : Error(ExitCode::kInputMissing, m) {}
};
struct FormatError : Error {
  explicit FormatError(const std::string& m) : Error(ExitCode::kCorruptInput, m) {}
};
struct ValidationError : Error {
  explicit ValidationError(const std::string& m) : Error(ExitCode::kValidationFailed, m) {}
};
struct ModelError : Error {
  explicit ModelError(const std::string& m) : Error(ExitCode::kIncompatibleModel, m) {}
};
struct OutputError : Error {
  explicit OutputError(const std::string& m) : Error(ExitCode::kOutputNotWritable, m) {}
};
// A statistic that cannot be computed on the given data (one class only, n <= 1, ...).
struct StatsError : Error {
  explicit StatsError(const std::string& m) : Error(ExitCode::kValidationFailed, m) {}
};

// Short description of an exit code, for --help and docs.
const char* exit_code_name(ExitCode code);

}  // namespace cervirisk
