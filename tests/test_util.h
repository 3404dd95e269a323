// Helpers shared by the unit tests (header-only): a temporary directory that removes itself and
// the message / exit code of the cervirisk::Error a callable throws.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/error.h"

namespace cervirisk::testing {

// A fresh, empty directory under the system temp directory, unique to this process and object
// (ctest runs each test case as its own process, in parallel), removed with its contents when the
// object goes out of scope. Converts to std::filesystem::path.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("cerv_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;  // a test may have made it read-only or removed it: never throw here
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                 ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  operator const std::filesystem::path&() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }
  std::string string() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// What a callable threw: whether an E was thrown, its message and exit code.
struct Thrown {
  bool thrown = false;
  std::string message;
  int exit_code = -1;
};

// Runs f and catches an E (cervirisk::Error or a subclass); anything else propagates.
template <typename E = Error, typename F>
Thrown thrown_by(F&& f) {
  Thrown t;
  try {
    f();
  } catch (const E& e) {
    t.thrown = true;
    t.message = e.what();
    t.exit_code = e.exit_code();
  }
  return t;
}

// The message of the E that f throws, or "(nothing thrown)" so that a comparison fails readably.
template <typename E = Error, typename F>
std::string error_message(F&& f) {
  Thrown t = thrown_by<E>(f);
  return t.thrown ? t.message : "(nothing thrown)";
}

// The message of the Error that f throws, checking its exit code; a test failure if none is thrown.
template <typename F>
std::string error_message(F&& f, ExitCode expected) {
  Thrown t = thrown_by<Error>(f);
  if (!t.thrown) {
    ADD_FAILURE() << "no error thrown";
    return {};
  }
  EXPECT_EQ(t.exit_code, static_cast<int>(expected)) << t.message;
  return t.message;
}

// Expects f to throw an Error whose message contains `needle`.
template <typename F>
void expect_error_containing(F&& f, const std::string& needle) {
  Thrown t = thrown_by<Error>(f);
  if (!t.thrown) {
    ADD_FAILURE() << "expected an exception containing '" << needle << "'";
    return;
  }
  EXPECT_NE(t.message.find(needle), std::string::npos) << t.message;
}

}  // namespace cervirisk::testing
