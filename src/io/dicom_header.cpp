// Header attributes of one DICOM file, read through GDCM without the pixel data: the Image
// Plane Module (PS3.3 C.7.6.2), Image Pixel Module (C.7.6.3) and, for enhanced multi-frame
// images, the shared and per-frame functional groups (C.7.6.16).
#include <fmt/format.h>
#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmStringFilter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmVR.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/dicom_detail.h"

namespace cervirisk::io::dicom_detail {

std::string raw_string(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return "";
  const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
  if (!bv || !bv->GetPointer()) return "";
  return std::string(bv->GetPointer(), bv->GetLength());
}

namespace {

namespace fs = std::filesystem;

long to_long(const std::string& s) {
  try {
    return std::stol(trim(s));
  } catch (...) {
    return 0;
  }
}

std::vector<double> numbers(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, '\\')) {
    item = trim(item);
    if (item.empty()) continue;
    try {
      out.push_back(std::stod(item));
    } catch (...) {
      return {};
    }
  }
  return out;
}

std::vector<double> numbers(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  return numbers(raw_string(ds, g, e));
}

const gdcm::DataSet* first_item(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return nullptr;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  if (!sq || sq->GetNumberOfItems() < 1) return nullptr;
  return &sq->GetItem(1).GetNestedDataSet();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Non-DICOM files in a folder are skipped quietly; a DICOM file that is corrupt is an error.
bool is_part10(const fs::path& file, std::string& why) {
  std::ifstream f(file, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  f.seekg(128);
  f.read(magic, 4);
  if (!f || std::string(magic, 4) != "DICM") {
    why = "not a DICOM Part 10 file (no 'DICM' at byte 128)";
    return false;
  }
  return true;
}

// Top-level attributes (a classic image, or an enhanced one before its functional groups).
void read_attributes(const gdcm::File& f, SliceInfo& s) {
  const gdcm::DataSet& ds = f.GetDataSet();
  const std::string charset = raw_string(ds, 0x0008, 0x0005);
  s.series_uid = trim(raw_string(ds, 0x0020, 0x000e));
  s.description = decode_text(raw_string(ds, 0x0008, 0x103e), charset);
  s.modality = trim(raw_string(ds, 0x0008, 0x0060));
  s.sop_class = trim(raw_string(ds, 0x0008, 0x0016));
  s.image_type = upper(trim(raw_string(ds, 0x0008, 0x0008)));
  s.photometric = trim(raw_string(ds, 0x0028, 0x0004));
  s.transfer_syntax = gdcm::TransferSyntax::GetTSString(f.GetHeader().GetDataSetTransferSyntax());
  s.iop = numbers(ds, 0x0020, 0x0037);
  s.ipp = numbers(ds, 0x0020, 0x0032);
  s.pixel_spacing = numbers(ds, 0x0028, 0x0030);
  auto th = numbers(ds, 0x0018, 0x0050);
  s.slice_thickness = th.empty() ? 0 : th[0];
  auto sb = numbers(ds, 0x0018, 0x0088);
  s.spacing_between = sb.empty() ? 0 : sb[0];
  s.frames = std::max(1L, to_long(raw_string(ds, 0x0028, 0x0008)));
  s.echo = trim(raw_string(ds, 0x0018, 0x0086)) + "/" + trim(raw_string(ds, 0x0018, 0x0081));
  s.b_value = trim(raw_string(ds, 0x0018, 0x9087));
  s.multiframe_functional = ds.FindDataElement(gdcm::Tag(0x5200, 0x9230));
}

// Enhanced multi-frame: the shared groups give orientation and spacing, else the first frame's;
// the first frame's position stands for the file (per-frame positions are read with the pixels).
void read_functional_groups(const gdcm::DataSet& ds, SliceInfo& s) {
  if (const gdcm::DataSet* sh = first_item(ds, 0x5200, 0x9229)) {
    if (const gdcm::DataSet* po = first_item(*sh, 0x0020, 0x9116)) s.iop = numbers(*po, 0x0020, 0x0037);
    if (const gdcm::DataSet* pm = first_item(*sh, 0x0028, 0x9110)) {
      s.pixel_spacing = numbers(*pm, 0x0028, 0x0030);
      auto t2 = numbers(*pm, 0x0018, 0x0050);
      if (!t2.empty()) s.slice_thickness = t2[0];
    }
  }
  if (const gdcm::DataSet* pf = first_item(ds, 0x5200, 0x9230)) {
    if (s.iop.size() != 6)
      if (const gdcm::DataSet* po = first_item(*pf, 0x0020, 0x9116)) s.iop = numbers(*po, 0x0020, 0x0037);
    if (s.pixel_spacing.size() != 2)
      if (const gdcm::DataSet* pm = first_item(*pf, 0x0028, 0x9110)) s.pixel_spacing = numbers(*pm, 0x0028, 0x0030);
    if (const gdcm::DataSet* pp = first_item(*pf, 0x0020, 0x9113)) s.ipp = numbers(*pp, 0x0020, 0x0032);
  }
}

// Pixel Value Transformation (0028,9145) of a functional group item, when it has one.
void read_rescale(const gdcm::DataSet& group, FrameInfo& f) {
  if (const gdcm::DataSet* pv = first_item(group, 0x0028, 0x9145)) {
    auto sl = numbers(*pv, 0x0028, 0x1053), in = numbers(*pv, 0x0028, 0x1052);
    if (!sl.empty()) f.slope = sl[0], f.has_rescale = true;
    if (!in.empty()) f.intercept = in[0];
  }
}

}  // namespace

void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

bool read_up_to_pixels(const fs::path& file, gdcm::Reader& reader) {
  check_structure(file);
  reader.SetFileName(file.string().c_str());
  std::set<gdcm::Tag> skip{gdcm::Tag(0x7fe0, 0x0010)};
  return reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip);
}

// Pixel-module attributes GDCM asserts on (Debian builds keep assertions): check them first.
// PS3.3 C.7.6.3: Samples per Pixel 1/3/4, Bits Stored <= Bits Allocated, High Bit < Bits Stored.
void check_pixel_attributes(const fs::path& file, const gdcm::File& f) {
  const gdcm::DataSet& ds = f.GetDataSet();
  // GDCM's typed attribute reader asserts (aborting the process) when an element it reads as its
  // dictionary VR carries another explicit VR (found by fuzzing on NumberOfFrames): the image
  // module's elements must have their own VR, or UN.
  static const struct { std::uint16_t group, element; gdcm::VR::VRType vr; } kImageVrs[] = {
      {0x0028, 0x0002, gdcm::VR::US}, {0x0028, 0x0004, gdcm::VR::CS}, {0x0028, 0x0006, gdcm::VR::US},
      {0x0028, 0x0008, gdcm::VR::IS}, {0x0028, 0x0010, gdcm::VR::US}, {0x0028, 0x0011, gdcm::VR::US},
      {0x0028, 0x0030, gdcm::VR::DS}, {0x0028, 0x0100, gdcm::VR::US}, {0x0028, 0x0101, gdcm::VR::US},
      {0x0028, 0x0102, gdcm::VR::US}, {0x0028, 0x0103, gdcm::VR::US}, {0x0028, 0x1052, gdcm::VR::DS},
      {0x0028, 0x1053, gdcm::VR::DS}, {0x0020, 0x0032, gdcm::VR::DS}, {0x0020, 0x0037, gdcm::VR::DS},
      {0x0018, 0x0050, gdcm::VR::DS}, {0x0018, 0x0088, gdcm::VR::DS}};
  for (const auto& e : kImageVrs) {
    const gdcm::Tag t(e.group, e.element);
    if (!ds.FindDataElement(t)) continue;
    const gdcm::VR vr = ds.GetDataElement(t).GetVR();
    if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN && vr != e.vr)
      throw FormatError("corrupt DICOM file " + file.string() + ": element (" + fmt::format("{:04X},{:04X}", e.group, e.element) +
                        ") has VR " + gdcm::VR::GetVRString(vr) + ", expected " + gdcm::VR::GetVRString(e.vr));
  }
  gdcm::StringFilter sf;
  sf.SetFile(f);
  auto us = [&](std::uint16_t e, long dflt) {
    gdcm::Tag t(0x0028, e);
    return ds.FindDataElement(t) && !ds.GetDataElement(t).IsEmpty() ? to_long(sf.ToString(t)) : dflt;
  };
  long spp = us(0x0002, 1), ba = us(0x0100, 0), bs = us(0x0101, ba), hb = us(0x0102, bs - 1), pr = us(0x0103, 0);
  long rows = us(0x0010, 0), cols = us(0x0011, 0);
  auto bad = [&](const std::string& what) {
    throw FormatError("corrupt DICOM file " + file.string() + ": " + what);
  };
  if (spp != 1 && spp != 3 && spp != 4) bad("SamplesPerPixel = " + std::to_string(spp) + ", expected 1, 3 or 4");
  if (ba != 1 && ba != 8 && ba != 12 && ba != 16 && ba != 32 && ba != 64)
    bad("BitsAllocated = " + std::to_string(ba) + ", expected 1, 8, 16, 32 or 64");
  if (bs < 1 || bs > ba) bad("BitsStored = " + std::to_string(bs) + " with BitsAllocated = " + std::to_string(ba));
  if (hb < 0 || hb >= bs) bad("HighBit = " + std::to_string(hb) + " with BitsStored = " + std::to_string(bs));
  if (pr != 0 && pr != 1) bad("PixelRepresentation = " + std::to_string(pr) + ", expected 0 or 1");
  if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535)
    bad("Rows x Columns = " + std::to_string(rows) + " x " + std::to_string(cols));
  long frames = std::max(1L, to_long(raw_string(ds, 0x0028, 0x0008)));
  if (frames > 100000) bad("NumberOfFrames = " + std::to_string(frames));
  // Debian's GDCM is built with assertions on: its pixel reader asserts (aborting the process)
  // when the retired ACR-NEMA Recognition Code (0008,0010) holds anything but an ACR-NEMA / MIPS
  // version string (found by fuzzing). Such a file is refused before GDCM reads its pixels.
  if (ds.FindDataElement(gdcm::Tag(0x0008, 0x0010))) {
    const gdcm::ByteValue* bv = ds.GetDataElement(gdcm::Tag(0x0008, 0x0010)).GetByteValue();
    if (bv) {
      const std::string code(bv->GetPointer(), bv->GetLength());
      if (code.rfind("ACR-NEMA", 0) != 0 && code.rfind("ACRNEMA", 0) != 0 && code.rfind("MIPS 2.0", 0) != 0)
        bad("RecognitionCode (0008,0010) is not an ACR-NEMA version string");
    }
  }
}

bool read_header(const fs::path& file, SliceInfo& s, std::string& why) {
  if (!is_part10(file, why)) return false;
  gdcm::Reader reader;
  if (!read_up_to_pixels(file, reader)) {
    why = "not a readable DICOM file";
    return false;
  }
  const gdcm::File& f = reader.GetFile();
  const gdcm::DataSet& ds = f.GetDataSet();
  s.file = file;
  if (!ds.FindDataElement(gdcm::Tag(0x7fe0, 0x0010)) && !ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) {
    why = "no image (no Pixel Data)";
    return false;
  }
  std::string ms = trim(raw_string(f.GetHeader(), 0x0002, 0x0002));
  if (ms == "1.2.840.10008.1.3.10") {
    why = "a DICOMDIR (media directory), not an image";
    return false;
  }
  gdcm::StringFilter sf;
  sf.SetFile(f);
  s.rows = ds.FindDataElement(gdcm::Tag(0x0028, 0x0010)) ? to_long(sf.ToString(gdcm::Tag(0x0028, 0x0010))) : 0;
  s.cols = ds.FindDataElement(gdcm::Tag(0x0028, 0x0011)) ? to_long(sf.ToString(gdcm::Tag(0x0028, 0x0011))) : 0;
  if (s.rows <= 0 || s.cols <= 0) {
    why = "no image (Rows/Columns missing)";
    return false;
  }
  check_pixel_attributes(file, f);
  read_attributes(f, s);
  if (s.multiframe_functional) read_functional_groups(ds, s);
  return true;
}

std::vector<FrameInfo> frame_infos(const fs::path& file, std::string& why) {
  gdcm::Reader reader;
  if (!read_up_to_pixels(file, reader)) {
    why = "not readable";
    return {};
  }
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  FrameInfo shared;
  if (const gdcm::DataSet* sh = first_item(ds, 0x5200, 0x9229)) read_rescale(*sh, shared);
  gdcm::Tag t(0x5200, 0x9230);
  if (!ds.FindDataElement(t)) return {};
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  std::vector<FrameInfo> out;
  if (!sq) return out;
  for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i) {
    const gdcm::DataSet& item = sq->GetItem(i).GetNestedDataSet();
    FrameInfo f = shared;
    const gdcm::DataSet* pp = first_item(item, 0x0020, 0x9113);
    std::vector<double> p = pp ? numbers(*pp, 0x0020, 0x0032) : std::vector<double>{};
    if (p.size() != 3) {
      why = "frame " + std::to_string(i) + " has no Plane Position (Patient)";
      return {};
    }
    f.ipp = {p[0], p[1], p[2]};
    read_rescale(item, f);
    out.push_back(f);
  }
  return out;
}

}  // namespace cervirisk::io::dicom_detail
