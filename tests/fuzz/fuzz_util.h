// Shared by the libFuzzer harnesses (tests/fuzz/fuzz_<target>.cpp): the readers take paths, so
// each input is written to a file in this process's private scratch folder first. A harness calls
// the reader exactly as the CLI does; a cervirisk::Error (a documented exit code with a message)
// is the expected answer to a bad file, anything else -- a crash, a sanitizer report, any other
// exception escaping, a hang -- is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/error.h"
#include "io/volume.h"

namespace cervirisk::fuzz {

// The scratch folder: $CERV_FUZZ_TMP or /dev/shm (else the system temp), one per process.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* env = std::getenv("CERV_FUZZ_TMP");
    std::filesystem::path base = env && *env ? std::filesystem::path(env)
                                 : std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                             : std::filesystem::temp_directory_path();
    auto d = base / ("cerv_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static const std::filesystem::path remove_at_exit = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(remove_at_exit, ec);
    });
    // Volumes larger than this are refused from the header (the service's --max-voxels does the
    // same); without a bound a 2^31-voxel header that is valid would only measure memory.
    io::set_voxel_limit(std::int64_t{1} << 22);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto p = scratch() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p;
}

inline std::filesystem::path write_input(const std::string& name, std::string_view bytes) {
  return write_input(name, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// Runs fn; a cervirisk::Error is the documented answer to a bad input (main() prints its message
// through printable_message, so raw bytes the message echoes from a file are escaped there).
template <typename Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

// Input split: the first byte chooses among `n` cases, the rest is the file.
struct Split {
  unsigned choice;
  const std::uint8_t* data;
  std::size_t size;
};
inline Split split(const std::uint8_t* data, std::size_t size, unsigned n) {
  if (size == 0) return {0, data, 0};
  return {static_cast<unsigned>(data[0]) % n, data + 1, size - 1};
}

}  // namespace cervirisk::fuzz
