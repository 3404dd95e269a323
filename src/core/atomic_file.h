// Atomic outputs: write to a temporary file in the target folder, fsync, rename over the
// target. A failed or interrupted write leaves the old file (or none) -- never a half file.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace cervirisk {

// Writes `content` to `path` atomically; creates parent folders. Throws OutputError.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Streaming variant: write through stream(), then commit(). If destroyed without commit()
// (an exception, an early return), the temporary file is removed and the target untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path, bool binary = true);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Creates a folder (and parents) and checks that we can write into it. Throws OutputError.
void ensure_writable_dir(const std::filesystem::path& dir);

// Reads a whole file. Throws InputError naming the path.
std::string read_file(const std::filesystem::path& path);

}  // namespace cervirisk
