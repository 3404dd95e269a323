// What an upload becomes on disk: a private temporary folder per request, and .zip archives (a
// DICOM series) extracted into it only when every entry is safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace cervirisk::serve {

// A folder only this process can read (mode 0700), removed with everything in it on destruction.
class PrivateTempDir {
 public:
  explicit PrivateTempDir(const std::filesystem::path& parent);
  ~PrivateTempDir();
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ZipLimits {
  std::size_t max_entries = 4096;
  std::uint64_t max_bytes = 512ull << 20;  // all entries expanded
};

// Extracts a zip archive held in memory into `dir`. Refused (FormatError naming `field` and the
// entry) before anything is written: an absolute name, a ".." component, a backslash or drive
// letter, a symbolic link, more than max_entries entries, declared sizes over max_bytes; while
// writing: more bytes than declared (an archive that lies about its sizes).
void extract_zip(const std::string& bytes, const std::filesystem::path& dir, const ZipLimits& limits,
                 const std::string& field);

// The format of an uploaded file from its first bytes: "zip", "gzip", "nifti", "dicom" or "".
std::string sniff(const std::string& bytes);

// Random bytes from the operating system as lowercase hex (2 * n characters).
std::string random_hex(std::size_t n);

}  // namespace cervirisk::serve
