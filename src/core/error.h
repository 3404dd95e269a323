// Errors and the documented process exit codes (docs/exit-codes.md).
// The library throws; only main() catches, prints "error: ..." and returns the code.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
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

// Each error class fixes its exit code, so that a throw site names the kind of error, not a number.
template <ExitCode C>
struct ErrorWithCode : Error {
  explicit ErrorWithCode(const std::string& m) : Error(C, m) {}
};
struct ConfigError : ErrorWithCode<ExitCode::kBadArguments> { using ErrorWithCode::ErrorWithCode; };
struct InputError : ErrorWithCode<ExitCode::kInputMissing> { using ErrorWithCode::ErrorWithCode; };
struct FormatError : ErrorWithCode<ExitCode::kCorruptInput> { using ErrorWithCode::ErrorWithCode; };
struct ValidationError : ErrorWithCode<ExitCode::kValidationFailed> { using ErrorWithCode::ErrorWithCode; };
struct ModelError : ErrorWithCode<ExitCode::kIncompatibleModel> { using ErrorWithCode::ErrorWithCode; };
struct OutputError : ErrorWithCode<ExitCode::kOutputNotWritable> { using ErrorWithCode::ErrorWithCode; };
// A statistic that cannot be computed on the given data (one class only, n <= 1, ...).
struct StatsError : ErrorWithCode<ExitCode::kValidationFailed> { using ErrorWithCode::ErrorWithCode; };

// An error message made safe for a terminal and a log: valid UTF-8 (Chinese included), tab and
// newline are kept; every byte of an invalid or truncated UTF-8 sequence and every other control
// character becomes "\xNN". Errors often quote a corrupt file's bytes (a field, a name).
std::string printable_message(std::string_view message);

}  // namespace cervirisk
