// One DICOM file through the path an image takes: our structure check, GDCM's header parse and
// series assembly in this process, pixel decoding by GDCM's codecs in the forked sandbox (a codec
// that crashes or hangs there is an exit-4 error here, which is what the harness expects).
#include "fuzz_util.h"
#include "io/dicom.h"
#include "io/dicom_detail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.dcm", data, size);
  fuzz::expect_clean([&] { io::dicom_detail::check_structure(path); });
  fuzz::expect_clean([&] {
    for (const auto& s : io::list_dicom_series(path))
      if (s.skip_reason.empty()) io::read_dicom_series(s);
  });
  return 0;
}
