// The service's upload handling without the network: format sniffing, and a DICOM-series zip
// extracted into a private folder under the service's limits (entries, expanded bytes, names).
// Whatever the archive says, nothing may be written outside the folder: checked after each input.
#include <cstdio>

#include "fuzz_util.h"
#include "serve/upload.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  serve::sniff(bytes);
  const auto parent = fuzz::scratch() / "uploads";
  std::filesystem::create_directories(parent);
  {
    serve::PrivateTempDir dir(parent);
    serve::ZipLimits limits;
    limits.max_entries = 64;
    limits.max_bytes = 8u << 20;
    fuzz::expect_clean([&] { serve::extract_zip(bytes, dir.path() / "series", limits, "dicom_zip"); });
  }
  for (const auto& e : std::filesystem::directory_iterator(fuzz::scratch())) {
    if (e.path().filename() != "uploads") {
      std::fprintf(stderr, "the archive wrote %s outside its folder\n", e.path().c_str());
      std::abort();
    }
  }
  if (!std::filesystem::is_empty(parent)) {
    std::fprintf(stderr, "the private folder was not removed\n");
    std::abort();
  }
  return 0;
}
