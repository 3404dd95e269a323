#include "io/dicom.h"

#include "core/error.h"

namespace cervirisk::io {
std::vector<DicomSeriesInfo> list_dicom_series(const std::filesystem::path& path) {
  throw FormatError("DICOM reading is not available yet: " + path.string());
}
Volume read_dicom_series(const DicomSeriesInfo& s) {
  throw FormatError("DICOM reading is not available yet: " + s.series_uid);
}
Volume read_dicom(const std::filesystem::path& path, const DicomReadOptions&) {
  throw FormatError("DICOM reading is not available yet: " + path.string());
}
}  // namespace cervirisk::io
