// NIfTI in a gzip stream (.nii.gz): the input is the compressed file, so the inflater (zlib or
// libdeflate) and the reader see truncated, concatenated and corrupt streams.
#include "fuzz_util.h"
#include "io/nifti.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.nii.gz", data, size);
  fuzz::expect_clean([&] { io::read_nifti_info(path); });
  fuzz::expect_clean([&] { io::read_nifti(path); });
  return 0;
}
