// Errors and the documented process exit codes (docs/exit-codes.md).
// The library throws; only main() catches, prints "error: ..." and returns the code.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace cervirisk {

// The meaning of each code is in the table exit_codes() (error.cpp).
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,
  kBadArguments = 2,
  kInputMissing = 3,
  kCorruptInput = 4,
  kValidationFailed = 5,
  kIncompatibleModel = 6,
  kOutputNotWritable = 7,
};

struct ExitCodeInfo {
  ExitCode code;
  const char* name;     // the enumerator without its k, in snake_case
  const char* meaning;  // one line
};

// Every ExitCode in numeric order: the one table that `cervirisk --help` prints and that
// docs/exit-codes.md must match (tests/test_cli.cpp checks both).
const std::vector<ExitCodeInfo>& exit_codes();
const ExitCodeInfo& exit_code_info(ExitCode code);

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

}  // namespace cervirisk
