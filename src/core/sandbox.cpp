// Forked-child isolation (sandbox.h). The child sends one record through a pipe:
//   [u8 tag][i32 exit code][u64 length][bytes]   tag 0: fn's result; tag 1: an error message
// The length lets the parent tell a complete record from one cut short by a crash.
#include "core/sandbox.h"

#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace cervirisk {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint8_t kResultTag = 0, kErrorTag = 1;
constexpr std::size_t kRecordHead = 1 + 4 + 8;

// The subclass that carries this exit code, so that a caller's catch clauses see the same type
// as if fn had run here (StatsError, which shares exit 5, arrives as ValidationError).
[[noreturn]] void throw_as(ExitCode code, const std::string& message) {
  switch (code) {
    case ExitCode::kBadArguments: throw ConfigError(message);
    case ExitCode::kInputMissing: throw InputError(message);
    case ExitCode::kCorruptInput: throw FormatError(message);
    case ExitCode::kValidationFailed: throw ValidationError(message);
    case ExitCode::kIncompatibleModel: throw ModelError(message);
    case ExitCode::kOutputNotWritable: throw OutputError(message);
    default: throw Error(code, message);
  }
}

void write_all(int fd, const void* data, std::size_t n) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the parent sees a short record and reports it
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

[[noreturn]] void child_main(int fd, const std::function<std::string()>& fn, ExitCode failure_code) {
  // A crash here must end this child by its signal, which the parent reports. Handlers the
  // parent installed (a crash reporter, a sanitizer's, a fuzzer's) would otherwise run in the
  // child as if the whole process had crashed (found when libFuzzer wrote a crash report for
  // every codec crash the sandbox had contained).
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) std::signal(sig, SIG_DFL);
  std::uint8_t tag = kResultTag;
  std::int32_t code = 0;
  std::string bytes;
  try {
    bytes = fn();
  } catch (const Error& e) {
    tag = kErrorTag;
    code = e.exit_code();
    bytes = e.what();
  } catch (const std::exception& e) {
    tag = kErrorTag;
    code = static_cast<std::int32_t>(failure_code);
    bytes = e.what();
  } catch (...) {
    tag = kErrorTag;
    code = static_cast<std::int32_t>(failure_code);
    bytes = "unknown exception";
  }
  const std::uint64_t n = bytes.size();
  write_all(fd, &tag, sizeof tag);
  write_all(fd, &code, sizeof code);
  write_all(fd, &n, sizeof n);
  write_all(fd, bytes.data(), bytes.size());
  ::close(fd);
  ::_exit(0);
}

enum class ReadEnd { kEof, kDeadline, kError };

// Drains the pipe until the child closes it (EOF) or the deadline passes.
ReadEnd read_until(int fd, Clock::time_point deadline, std::string& out) {
  char buf[1 << 16];
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return ReadEnd::kDeadline;
    pollfd pfd{fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ReadEnd::kError;
    if (r == 0) continue;  // the deadline is checked at the top
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ReadEnd::kError;
    if (got == 0) return ReadEnd::kEof;
    out.append(buf, static_cast<std::size_t>(got));
  }
}

// Waits for the child to exit; kills it at the deadline (a child that closed its end of the pipe
// and then hung). Always reaps it. Returns false when it had to be killed.
bool reap(pid_t pid, Clock::time_point deadline, int& wstatus) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more (reaped elsewhere)
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
      }
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
}

std::string timeout_message(std::chrono::milliseconds timeout) {
  return fmt::format("the isolated child process did not finish within {:g} s and was killed",
                     static_cast<double>(timeout.count()) / 1000.0);
}

// The child's record -> its result, or the error it reported.
std::string result_of(std::string out, ExitCode failure_code) {
  std::uint8_t tag = 0xFF;
  std::int32_t code = 0;
  std::uint64_t n = 0;
  if (out.size() >= kRecordHead) {
    std::memcpy(&tag, out.data(), 1);
    std::memcpy(&code, out.data() + 1, 4);
    std::memcpy(&n, out.data() + 5, 8);
  }
  if (out.size() < kRecordHead || out.size() - kRecordHead != n || (tag != kResultTag && tag != kErrorTag))
    throw IsolatedError(failure_code, IsolationFailure::kIncomplete, 0,
                        "the isolated child process exited without a complete result (" +
                            std::to_string(out.size()) + " bytes)");
  out.erase(0, kRecordHead);
  if (tag == kErrorTag) throw_as(static_cast<ExitCode>(code), out);
  return out;
}

std::string run_in_process(const std::function<std::string()>& fn, ExitCode failure_code) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_as(failure_code, e.what());
  }
}

}  // namespace

std::string run_isolated(const std::function<std::string()>& fn, std::chrono::milliseconds timeout,
                         ExitCode failure_code) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return run_in_process(fn, failure_code);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return run_in_process(fn, failure_code);
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], fn, failure_code);
  }
  ::close(fds[1]);
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string out;
  const ReadEnd end = read_until(fds[0], deadline, out);
  const int read_errno = errno;
  ::close(fds[0]);
  if (end == ReadEnd::kDeadline) {
    kill_and_reap(pid);
    throw IsolatedError(failure_code, IsolationFailure::kTimeout, 0, timeout_message(timeout));
  }
  if (end == ReadEnd::kError) {
    kill_and_reap(pid);
    throw IsolatedError(failure_code, IsolationFailure::kIncomplete, 0,
                        std::string("reading the isolated child's result failed: ") + std::strerror(read_errno));
  }
  int wstatus = 0;
  if (!reap(pid, deadline, wstatus))
    throw IsolatedError(failure_code, IsolationFailure::kTimeout, 0, timeout_message(timeout));
  if (WIFSIGNALED(wstatus))
    throw IsolatedError(failure_code, IsolationFailure::kSignal, WTERMSIG(wstatus),
                        fmt::format("the isolated child process was killed by signal {} ({})", WTERMSIG(wstatus),
                                    ::strsignal(WTERMSIG(wstatus))));
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
    throw IsolatedError(failure_code, IsolationFailure::kExitStatus, WEXITSTATUS(wstatus),
                        "the isolated child process exited with status " + std::to_string(WEXITSTATUS(wstatus)));
  return result_of(std::move(out), failure_code);
}

}  // namespace cervirisk
