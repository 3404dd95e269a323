#include "core/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "core/atomic_file.h"
#include "core/error.h"

namespace cervirisk {

namespace fs = std::filesystem;

namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The holder as the lock file describes it, on one line ("pid 123, command study, started ...").
std::string holder(int fd) {
  std::string text(512, '\0');
  const ssize_t n = pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  for (auto& c : text)
    if (c == '\n') c = ',';
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  while (!text.empty() && (text.back() == ',' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "a process that has not written its pid yet" : text;
}

// Removes the temporary files of AtomicFile writers killed before commit() (core/atomic_file.cpp
// names them ".<name>.tmp.<pid>.<n>") from `dir` and its subfolders.
void remove_stale_temp_files(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto tmp = name.rfind(".tmp.");
    const auto dot = name.rfind('.');
    if (name[0] != '.' || tmp == std::string::npos || tmp == 0 || dot <= tmp + 5 || dot + 1 == name.size() ||
        name.find_first_not_of("0123456789", tmp + 5) != dot ||
        name.find_first_not_of("0123456789", dot + 1) != std::string::npos)
      continue;
    std::error_code rec;
    if (it->is_regular_file(rec)) fs::remove(it->path(), rec);
  }
}

}  // namespace

RunFolderLock::RunFolderLock(const fs::path& dir, const std::string& command) {
  ensure_writable_dir(dir);
  const fs::path file = file_in(dir);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw OutputError(file.string() + ": cannot create the run folder's lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string who = err == EWOULDBLOCK ? holder(fd_) : std::string();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw OutputError(dir.string() + ": the run folder is in use by another cervirisk run (" + who +
                        "); wait for it to finish or choose another --out");
    throw OutputError(file.string() + ": cannot lock the run folder: " + std::strerror(err));
  }
  const std::string text = "pid " + std::to_string(::getpid()) + "\ncommand " + command + "\nstarted " + utc_now() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw OutputError(file.string() + ": cannot write the run folder's lock file: " + std::strerror(err));
  }
  remove_stale_temp_files(dir);
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace cervirisk
