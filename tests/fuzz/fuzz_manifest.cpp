// The study manifest (manifest.csv) through load_cohort with a fixed study.toml: the table, the
// clinical schema's validation, the split and the table-level guards, with findings collected
// (throw_on_error = false, as `cervirisk check` does). Images are not opened (check_images is
// the image readers' business: fuzz_nifti, fuzz_dicom, ...).
#include "config_fixture.h"
#include "core/config.h"
#include "data/cohort.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cervirisk;
  static const config::Config cfg = [] {
    fuzz::write_input("ok.txt", std::string_view("宫颈见团块状稍长T2信号影，FIGO IB2期。"));
    return config::Config::parse(fuzz::kStudyToml, "study.toml", fuzz::scratch());
  }();
  fuzz::write_input("manifest.csv", data, size);
  fuzz::expect_clean([&] {
    const data::Cohort c = data::load_cohort(cfg, false);
    data::cohort_table(c).csv();
  });
  return 0;
}
