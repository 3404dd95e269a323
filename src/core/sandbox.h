// Running untrusted-input work in a forked child process, so that a crash or a hang in
// third-party code (image codecs handed a malformed stream) becomes an Error in this process
// instead of taking it down. POSIX fork(2) / pipe(2) / waitpid(2); the child leaves with _exit(2)
// so that it runs none of the parent's atexit handlers or destructors.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/error.h"

namespace cervirisk {

// Why an isolated child delivered no result.
enum class IsolationFailure {
  kSignal,      // killed by a signal (a crash: SIGSEGV, SIGABRT from an assertion, ...)
  kTimeout,     // still running at the deadline; it was killed and reaped
  kExitStatus,  // exited with a non-zero status before delivering a result
  kIncomplete,  // exited with status 0 but without a complete result
};

// A child that crashed, hung or exited early. The exit code is the caller's choice (a codec
// that crashes on an input file means a corrupt input: ExitCode::kCorruptInput).
class IsolatedError : public Error {
 public:
  IsolatedError(ExitCode code, IsolationFailure failure, int detail, const std::string& message)
      : Error(code, message), failure_(failure), detail_(detail) {}
  IsolationFailure failure() const { return failure_; }
  // The signal number for kSignal, the exit status for kExitStatus, else 0.
  int signal_number() const { return failure_ == IsolationFailure::kSignal ? detail_ : 0; }
  int exit_status() const { return failure_ == IsolationFailure::kExitStatus ? detail_ : 0; }

 private:
  IsolationFailure failure_;
  int detail_;
};

// Runs fn in a forked child and returns the bytes it returned (any size: the parent reads the
// pipe while the child writes). Blocks until the child has finished and been reaped, or until
// `timeout` has passed, when the child is killed (SIGKILL) and reaped: no child outlives the call.
//  - fn throws a cervirisk::Error: the same subclass (by exit code) is thrown here with the same
//    message; any other exception: an Error with `failure_code` and its what().
//  - the child crashes, hangs or exits without a result: IsolatedError with `failure_code`.
// When the process cannot fork or make a pipe (resource limits), fn runs in this process:
// isolation is a safety net and the work still gets done.
// fn runs in a copy of this process made by one thread: it must not wait on other threads or
// on locks they may hold.
std::string run_isolated(const std::function<std::string()>& fn, std::chrono::milliseconds timeout,
                         ExitCode failure_code = ExitCode::kFailure);

}  // namespace cervirisk
