// read_mask as `study` calls it, for every label-image format: the first byte picks the file
// name (and so the reader); the mask is put on a fixed 8 x 8 x 4 image grid (resampled when its
// own grid differs), then read on its own grid as `convert` does.
#include "fuzz_util.h"
#include "io/mask.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  static const char* names[] = {"mask.nii", "mask.nii.gz", "mask.nrrd", "mask.seg.nrrd", "mask.mha"};
  const auto in = fuzz::split(data, size, 5);
  const auto path = fuzz::write_input(names[in.choice], in.data, in.size);
  io::Geometry grid;
  grid.shape = {8, 8, 4};
  grid.spacing_mm = {1.5, 1.5, 4.0};
  fuzz::expect_clean([&] { io::mask_format(path); });
  fuzz::expect_clean([&] { io::read_mask(path, grid); });
  fuzz::expect_clean([&] { io::read_mask_native(path); });
  return 0;
}
