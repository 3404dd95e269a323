#include "serve/upload.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zip.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace cervirisk::serve {

namespace fs = std::filesystem;

PrivateTempDir::PrivateTempDir(const fs::path& parent) {
  std::string templ = (parent / "cervirisk-serve-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw OutputError("cannot create a private temporary folder in " + parent.string());
  path_ = buf.data();  // mkdtemp makes it 0700
}

PrivateTempDir::~PrivateTempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

bool safe_name(const std::string& n) {
  if (n.empty() || n.front() == '/' || n.find('\\') != std::string::npos || n.find('\0') != std::string::npos) return false;
  if (n.size() >= 2 && n[1] == ':') return false;  // C:...
  std::size_t pos = 0;
  while (pos <= n.size()) {
    const auto slash = n.find('/', pos);
    const std::string part = n.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (part == "..") return false;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return true;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

}  // namespace

void extract_zip(const std::string& bytes, const fs::path& dir, const ZipLimits& limits, const std::string& field) {
  auto fail = [&](const std::string& why) { throw FormatError(fmt::format("{}: zip archive refused: {}", field, why)); };
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (!src) fail("cannot read it");
  zip_t* raw = zip_open_from_source(src, ZIP_RDONLY, &err);
  if (!raw) {
    zip_source_free(src);
    const std::string why = zip_error_strerror(&err);  // owned by err until zip_error_fini
    zip_error_fini(&err);
    fail("not a readable zip archive (" + why + ")");
  }
  std::unique_ptr<zip_t, ZipCloser> za(raw);
  const zip_int64_t n = zip_get_num_entries(raw, 0);
  if (n < 0) fail("no entry table");
  if (static_cast<std::uint64_t>(n) > limits.max_entries)
    fail(fmt::format("{} entries, more than the limit of {}", n, limits.max_entries));
  std::uint64_t total = 0;
  struct Entry {
    zip_uint64_t index;
    std::string name;
    std::uint64_t size;
  };
  std::vector<Entry> files;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(raw, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      fail(fmt::format("entry {} cannot be read", i));
    const std::string name = st.name;
    if (!safe_name(name)) fail(fmt::format("entry '{}' has an absolute or '..' path", name));
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(raw, static_cast<zip_uint64_t>(i), 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX && S_ISLNK((attr >> 16) & 0xFFFF))
      fail(fmt::format("entry '{}' is a symbolic link", name));
    if (name.back() == '/') continue;  // a folder: made when its files are written
    if (!(st.valid & ZIP_STAT_SIZE)) fail(fmt::format("entry '{}' has no size", name));
    // Compared before adding: a Zip64 size near 2^64 would wrap the sum around to a small one.
    if (st.size > limits.max_bytes - total)
      fail(fmt::format("more than {} MB when expanded (the upload limit)", limits.max_bytes >> 20));
    total += st.size;
    files.push_back({static_cast<zip_uint64_t>(i), name, st.size});
  }
  std::vector<char> buf(1 << 16);
  for (const auto& e : files) {
    const fs::path out = dir / e.name;
    fs::create_directories(out.parent_path());
    zip_file_t* zf = zip_fopen_index(raw, e.index, 0);
    if (!zf) fail(fmt::format("entry '{}' cannot be opened (encrypted or an unknown compression)", e.name));
    std::ofstream o(out, std::ios::binary);
    std::uint64_t written = 0;
    zip_int64_t got;
    while ((got = zip_fread(zf, buf.data(), buf.size())) > 0) {
      written += static_cast<std::uint64_t>(got);
      if (written > e.size) {
        zip_fclose(zf);
        fail(fmt::format("entry '{}' expands beyond its declared {} bytes", e.name, e.size));
      }
      o.write(buf.data(), got);
    }
    zip_fclose(zf);
    if (got < 0) fail(fmt::format("entry '{}' is corrupt", e.name));
    if (!o) throw OutputError("cannot write " + out.string());
  }
}

std::string sniff(const std::string& b) {
  if (b.size() >= 4 && b.compare(0, 4, "PK\x03\x04", 4) == 0) return "zip";
  if (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b) return "gzip";
  if (b.size() >= 348 && (b.compare(344, 4, "n+1\0", 4) == 0 || b.compare(344, 4, "ni1\0", 4) == 0)) return "nifti";
  if (b.size() >= 540 && b.compare(4, 4, "n+2\0", 4) == 0) return "nifti";
  if (b.size() >= 132 && b.compare(128, 4, "DICM") == 0) return "dicom";
  return "";
}

std::string random_hex(std::size_t n) {
  std::ifstream r("/dev/urandom", std::ios::binary);
  std::string bytes(n, '\0');
  if (!r.read(bytes.data(), static_cast<std::streamsize>(n))) throw Error(ExitCode::kFailure, "cannot read /dev/urandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace cervirisk::serve
