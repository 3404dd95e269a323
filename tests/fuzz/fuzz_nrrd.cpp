// NRRD with attached data (.nrrd, raw or gzip encoding), as an image, as a label mask and as a
// 3D Slicer segmentation (.seg.nrrd: segments from the key/value pairs).
#include "fuzz_util.h"
#include "io/nrrd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("input.seg.nrrd", data, size);
  fuzz::expect_clean([&] { io::read_nrrd(path); });
  fuzz::expect_clean([&] { io::nrrd_segments(path); });
  fuzz::expect_clean([&] { io::read_nrrd_mask(path, ""); });
  fuzz::expect_clean([&] { io::read_nrrd_mask(path, "1"); });
  return 0;
}
