// run_isolated (core/sandbox.h): results, crashes, hangs and errors of a forked child.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "core/sandbox.h"

using namespace cervirisk;
using namespace std::chrono_literals;

namespace {

// A crash in a test child should not leave a core file behind.
void no_core_file() {
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

// True when this process has no child left, running or zombie.
bool no_children() {
  errno = 0;
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

// The IsolatedError that run_isolated throws for fn (fails the test when none is thrown).
IsolatedError isolated_error(const std::function<std::string()>& fn, std::chrono::milliseconds timeout,
                             ExitCode code = ExitCode::kFailure) {
  try {
    run_isolated(fn, timeout, code);
  } catch (const IsolatedError& e) {
    return e;
  }
  ADD_FAILURE() << "no IsolatedError thrown";
  return IsolatedError(ExitCode::kOk, IsolationFailure::kIncomplete, 0, "");
}

}  // namespace

TEST(Sandbox, ReturnsTheChildsBytes) {
  EXPECT_EQ(run_isolated([] { return std::string("abc\0def", 7); }, 10s), std::string("abc\0def", 7));
  EXPECT_EQ(run_isolated([] { return std::string(); }, 10s), "");
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, PayloadLargerThanThePipeBufferRoundTrips) {
  // 4 MiB: the parent must read while the child writes, or both block on a full pipe.
  auto make = [] {
    std::string s(std::size_t{4} << 20, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
    return s;
  };
  const std::string got = run_isolated(make, 30s);
  EXPECT_EQ(got.size(), std::size_t{4} << 20);
  EXPECT_TRUE(got == make());
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, RunsInAnotherProcess) {
  const pid_t parent = ::getpid();
  const std::string child = run_isolated([] { return std::to_string(::getpid()); }, 10s);
  EXPECT_NE(child, std::to_string(parent));
}

TEST(Sandbox, CrashBecomesAnErrorWithTheSignal) {
  IsolatedError e = isolated_error(
      []() -> std::string {
        no_core_file();
        ::raise(SIGSEGV);
        return "not reached";
      },
      10s, ExitCode::kCorruptInput);
  EXPECT_EQ(e.failure(), IsolationFailure::kSignal);
  EXPECT_EQ(e.signal_number(), SIGSEGV);
  EXPECT_EQ(e.code(), ExitCode::kCorruptInput);
  EXPECT_NE(std::string(e.what()).find("signal " + std::to_string(SIGSEGV)), std::string::npos) << e.what();
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, AbortIsACrashToo) {
  IsolatedError e = isolated_error(
      []() -> std::string {
        no_core_file();
        std::abort();
      },
      10s);
  EXPECT_EQ(e.failure(), IsolationFailure::kSignal);
  EXPECT_EQ(e.signal_number(), SIGABRT);
  EXPECT_EQ(e.code(), ExitCode::kFailure);
}

TEST(Sandbox, HangIsKilledAtTheTimeoutAndReaped) {
  const auto start = std::chrono::steady_clock::now();
  IsolatedError e = isolated_error(
      []() -> std::string {
        for (;;) ::pause();
      },
      300ms, ExitCode::kCorruptInput);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.failure(), IsolationFailure::kTimeout);
  EXPECT_EQ(e.code(), ExitCode::kCorruptInput);
  EXPECT_NE(std::string(e.what()).find("0.3 s"), std::string::npos) << e.what();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, HangAfterClosingThePipeIsKilledToo) {
  // A child that closes its end of the pipe and then hangs: EOF comes early, the wait must not.
  const auto start = std::chrono::steady_clock::now();
  IsolatedError e = isolated_error(
      []() -> std::string {
        for (int fd = 3; fd < 1024; ++fd) ::close(fd);
        for (;;) ::pause();
      },
      300ms);
  EXPECT_EQ(e.failure(), IsolationFailure::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, NonZeroExitIsAnError) {
  IsolatedError e = isolated_error([]() -> std::string { ::_exit(3); }, 10s, ExitCode::kCorruptInput);
  EXPECT_EQ(e.failure(), IsolationFailure::kExitStatus);
  EXPECT_EQ(e.exit_status(), 3);
  EXPECT_EQ(e.code(), ExitCode::kCorruptInput);
  EXPECT_NE(std::string(e.what()).find("status 3"), std::string::npos) << e.what();
}

TEST(Sandbox, ExitWithoutAResultIsIncomplete) {
  IsolatedError e = isolated_error([]() -> std::string { ::_exit(0); }, 10s);
  EXPECT_EQ(e.failure(), IsolationFailure::kIncomplete);
}

TEST(Sandbox, ThrownErrorKeepsItsTypeMessageAndCode) {
  try {
    run_isolated([]() -> std::string { throw FormatError("corrupt frame 3 in x.dcm"); }, 10s);
    FAIL() << "nothing thrown";
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "corrupt frame 3 in x.dcm");
    EXPECT_EQ(e.code(), ExitCode::kCorruptInput);
  }
  try {
    run_isolated([]() -> std::string { throw InputError("missing"); }, 10s, ExitCode::kCorruptInput);
    FAIL() << "nothing thrown";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "missing");
  }
  EXPECT_TRUE(no_children());
}

TEST(Sandbox, OtherExceptionsBecomeTheFailureCode) {
  try {
    run_isolated([]() -> std::string { throw std::length_error("vector too long"); }, 10s, ExitCode::kCorruptInput);
    FAIL() << "nothing thrown";
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "vector too long");
  }
  try {
    run_isolated([]() -> std::string { throw std::runtime_error("boom"); }, 10s);
    FAIL() << "nothing thrown";
  } catch (const IsolatedError&) {
    FAIL() << "an exception of fn is not an isolation failure";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "boom");
    EXPECT_EQ(e.code(), ExitCode::kFailure);
  }
}
