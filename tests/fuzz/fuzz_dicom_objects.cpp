// DICOM RTSTRUCT and SEG masks: listing their structures and rasterising / placing them on a
// fixed 16 x 16 x 10 grid (the one of tests/data/dicom_objects/image), as read_mask does.
#include "fuzz_util.h"
#include "io/dicom_objects.h"
#include "io/mask.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  const auto path = fuzz::write_input("mask.dcm", data, size);
  io::Geometry grid;
  grid.shape = {16, 16, 10};
  grid.spacing_mm = {2.0, 2.0, 3.0};
  grid.origin_lps_mm = {-16.0, -16.0, -15.0};
  fuzz::expect_clean([&] { io::dicom_object_kind(path); });
  fuzz::expect_clean([&] { io::rtstruct_rois(path); });
  fuzz::expect_clean([&] { io::dicom_seg_segments(path); });
  fuzz::expect_clean([&] { io::read_mask(path, grid); });
  return 0;
}
