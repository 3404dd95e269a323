#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace cervirisk {
namespace {

fs::path temp_name_for(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  std::ostringstream s;
  s << "." << path.filename().string() << ".tmp." << ::getpid() << "." << counter++;
  return path.parent_path() / s.str();
}

void fsync_path(const fs::path& p, bool directory) {
  int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;  // best effort for directories on odd filesystems
  ::fsync(fd);
  ::close(fd);
}

void make_parent(const fs::path& path) {
  fs::path parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    throw OutputError("cannot write '" + path.string() + "': cannot create folder '" + parent.string() +
                      "': " + ec.message());
}

}  // namespace

AtomicFile::AtomicFile(fs::path path, bool binary) : path_(std::move(path)) {
  make_parent(path_);
  temp_ = temp_name_for(path_.parent_path().empty() ? fs::path(".") / path_ : path_);
  out_.open(temp_, binary ? std::ios::binary | std::ios::trunc : std::ios::trunc);
  if (!out_) {
    throw OutputError("cannot write '" + path_.string() + "': cannot create temporary file '" +
                      temp_.string() + "': " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) {
    throw OutputError("cannot write '" + path_.string() + "': write to temporary file failed");
  }
  out_.close();
  fsync_path(temp_, false);
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) {
    fs::remove(temp_, ec);
    throw OutputError("cannot write '" + path_.string() + "': rename failed: " + ec.message());
  }
  committed_ = true;
  fs::path parent = path_.parent_path();
  fsync_path(parent.empty() ? fs::path(".") : parent, true);
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  AtomicFile f(path);
  f.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  f.commit();
}

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw OutputError("output folder '" + dir.string() + "' cannot be created: " +
                      (ec ? ec.message() : std::string("not a folder")));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw OutputError("output folder '" + dir.string() + "' is not writable: " + std::strerror(errno));
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("cannot read '" + path.string() + "': " +
                     (fs::exists(path) ? std::strerror(errno) : "no such file"));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cervirisk
