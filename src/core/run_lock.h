// One writer per run folder: a `study` holds an exclusive lock on <run>/.lock for as long as it
// runs, so a second process started into the same folder is refused (OutputError, exit 7) with
// the holder's pid and command, instead of both writing the same files.
//
// The lock is flock(2) on the open file: the kernel drops it when the holder exits, however it
// exits (kill -9 included), so a lock file left by a dead process is simply taken over. The file
// itself stays (removing it would race with a process that has just opened it); its content is the
// current or last holder: "pid <n>\ncommand <text>\nstarted <ISO 8601 UTC>\n". Once it holds the
// lock, a writer removes the temporary files of writers killed before their commit (core/atomic_file.h).
#pragma once

#include <filesystem>
#include <string>

namespace cervirisk {

class RunFolderLock {
 public:
  // Creates `dir` if needed. Throws OutputError naming the folder and the holder when another
  // open lock holds it, or when the lock file cannot be created.
  RunFolderLock(const std::filesystem::path& dir, const std::string& command);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

  static std::filesystem::path file_in(const std::filesystem::path& dir) { return dir / ".lock"; }

 private:
  int fd_ = -1;
};

}  // namespace cervirisk
