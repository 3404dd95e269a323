// Choosing one structure from a file that holds several: an RTSTRUCT's ROIs, a DICOM-SEG's
// segments, a 3D Slicer .seg.nrrd's segments, or the labels of a label image.
//
// Selector rule (the manifest's `mask_segment` column, `data.mask_segment`, `convert --segment`):
//   ""        -> the file's only structure; several -> ValidationError (exit 5) listing them.
//   a name    -> the structure whose name, id or description equals it, case-insensitively
//                (Unicode beyond ASCII compared byte for byte); none -> ValidationError listing
//                every structure; several with that name -> ValidationError listing them.
//   a number  -> when no name matches: the structure whose label value is that integer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cervirisk::io {

struct SegmentInfo {
  std::string name;         // ROIName / SegmentLabel / SegmentN_Name
  std::string id;           // Slicer SegmentN_ID; "" where the format has none
  std::string description;  // SegmentDescription; "" where the format has none
  long label = 0;           // ROINumber / SegmentNumber / SegmentN_LabelValue / the label value
};

// The index of the chosen structure in `segments` (see the rule above). `file` and `what`
// ("ROI", "segment", "label") name things in the error, e.g.
//   "mask.seg.nrrd holds 3 segments (name [label]): GTV [1], CTV [2], bladder [3]; choose one
//    with the manifest's mask_segment column or data.mask_segment"
std::size_t choose_segment(const std::vector<SegmentInfo>& segments, const std::string& selector,
                           const std::string& file, const std::string& what);

// "GTV [1], CTV [2]" (name, or id when there is no name; the label in brackets).
std::string list_segments(const std::vector<SegmentInfo>& segments);

}  // namespace cervirisk::io
