// NIfTI-1 / NIfTI-2, uncompressed (.nii): header, then the whole read as `study` does it.
#include "fuzz_util.h"
#include "io/nifti.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.nii", data, size);
  fuzz::expect_clean([&] { io::read_nifti_info(path); });
  fuzz::expect_clean([&] { io::read_nifti(path); });
  return 0;
}
