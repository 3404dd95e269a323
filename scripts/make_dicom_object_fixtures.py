#!/usr/bin/python3
"""Fixtures for tests/test_dicom_objects.cpp (run through scripts/make_dicom_object_fixtures.sh).

  nifti OUTDIR          synthetic image.nii.gz + the known masks (gtv.nii.gz, bladder.nii.gz) and
                        the structure-set image ss.nii.gz + ss_list.txt that plastimatch turns
                        into a DICOM series and an RTSTRUCT
  seg OUTDIR            DICOM-SEG objects written by hand with pydicom (no highdicom) from the
                        known masks, on the geometry of the plastimatch image series in
                        OUTDIR/image/; malformed RTSTRUCT / SEG variants for the error tests; an
                        RTSTRUCT with analytic contours and its even-odd reference mask

Grid: 47 columns x 39 rows x 10 slices (47*39 = 1833 bits per frame, not a multiple of 8, so
that a binary SEG's frames are packed across byte boundaries), spacing 0.9 x 1.1 x 3.0 mm,
identity LPS direction. Masks are evaluated at voxel centres (i, j, k):
  GTV      an ellipse on slices 2..6, with an elliptic hole on slices 3..5; on slice 7 two
           separate discs (two islands)
  Bladder  a disc on slices 1..4 away from the GTV
"""
import os
import sys

import numpy as np

NI, NJ, NK = 47, 39, 10
SPACING = (0.9, 1.1, 3.0)
ORIGIN_LPS = (-20.5, -30.25, 12.0)


def masks():
    i, j = np.meshgrid(np.arange(NI), np.arange(NJ), indexing="ij")
    gtv = np.zeros((NI, NJ, NK), np.uint8)
    bladder = np.zeros((NI, NJ, NK), np.uint8)
    for k in range(2, 7):
        outer = ((i - 22.3) / 13.2) ** 2 + ((j - 18.6) / 10.4) ** 2 <= 1.0
        sl = outer.copy()
        if 3 <= k <= 5:
            sl &= ~(((i - 21.8) / 5.3) ** 2 + ((j - 19.2) / 4.1) ** 2 <= 1.0)
        gtv[:, :, k] = sl
    gtv[:, :, 7] = (((i - 12.4) ** 2 + (j - 14.1) ** 2) <= 5.6 ** 2) | (((i - 31.7) ** 2 + (j - 24.3) ** 2) <= 6.3 ** 2)
    for k in range(1, 5):
        bladder[:, :, k] = ((i - 38.2) ** 2 + (j - 7.4) ** 2) <= 4.7 ** 2
    return gtv, bladder


def affine_ras():
    # LPS identity direction -> RAS: x and y flipped.
    a = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    a[:3, 3] = [-ORIGIN_LPS[0], -ORIGIN_LPS[1], ORIGIN_LPS[2]]
    return a


def make_nifti(out):
    import nibabel as nib

    gtv, bladder = masks()
    i, j, k = np.meshgrid(np.arange(NI), np.arange(NJ), np.arange(NK), indexing="ij")
    img = (200 + 3 * i + 2 * j + 5 * k + 400 * gtv + 250 * bladder).astype(np.int16)
    aff = affine_ras()

    def save(a, name):
        im = nib.Nifti1Image(a, aff)
        im.set_qform(aff, 1)
        im.set_sform(aff, 1)
        nib.save(im, os.path.join(out, name))

    save(img, "image.nii.gz")
    save(gtv, "gtv.nii.gz")
    save(bladder, "bladder.nii.gz")
    # plastimatch structure-set image: bit b of the voxel value = structure b of the list
    save((gtv | (bladder << 1)).astype(np.uint8), "ss.nii.gz")
    with open(os.path.join(out, "ss_list.txt"), "w") as f:
        f.write("0|255 0 0|GTV\n1|0 0 255|Bladder\n")


# ---------------------------------------------------------------------------------------------
# DICOM-SEG by hand (PS3.3 A.51 Segmentation IOD, C.8.20 Segmentation modules)


def image_series(folder):
    import pydicom

    slices = []
    for name in sorted(os.listdir(folder)):
        ds = pydicom.dcmread(os.path.join(folder, name))
        if ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.3":
            continue
        slices.append(ds)
    slices.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return slices


def check_geometry(slices):
    first = slices[0]
    assert int(first.Columns) == NI and int(first.Rows) == NJ and len(slices) == NK, "unexpected series size"
    assert np.allclose([float(v) for v in first.ImageOrientationPatient], [1, 0, 0, 0, 1, 0]), "orientation"
    assert np.allclose([float(v) for v in first.PixelSpacing], [SPACING[1], SPACING[0]]), "pixel spacing"
    for k, ds in enumerate(slices):
        expect = [ORIGIN_LPS[0], ORIGIN_LPS[1], ORIGIN_LPS[2] + k * SPACING[2]]
        assert np.allclose([float(v) for v in ds.ImagePositionPatient], expect, atol=1e-3), (k, ds.ImagePositionPatient)


def seq_item(**kw):
    from pydicom.dataset import Dataset

    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def segment_item(number, label, description, fractional=False):
    from pydicom.sequence import Sequence

    cat = seq_item(CodeValue="49755003", CodingSchemeDesignator="SCT", CodeMeaning="Morphologically Altered Structure")
    typ = seq_item(CodeValue="4147007" if number == 1 else "89837001", CodingSchemeDesignator="SCT",
                   CodeMeaning="Mass" if number == 1 else "Urinary bladder")
    return seq_item(SegmentNumber=number, SegmentLabel=label, SegmentDescription=description,
                    SegmentAlgorithmType="MANUAL", SegmentedPropertyCategoryCodeSequence=Sequence([cat]),
                    SegmentedPropertyTypeCodeSequence=Sequence([typ]))


def base_seg(slices, series_number, description):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ref = slices[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "SEG"
    ds.StudyInstanceUID = ref.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = ref.FrameOfReferenceUID
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.SeriesDescription = description
    ds.PatientName = "Synthetic^Phantom"
    ds.PatientID = "SYNTH001"
    ds.ContentLabel = "TUMOUR"
    ds.ContentCreatorName = "Fixture^Script"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = NJ
    ds.Columns = NI
    ds.PixelRepresentation = 0
    ds.LossyImageCompression = "00"
    ds.ReferencedSeriesSequence = Sequence([seq_item(
        SeriesInstanceUID=ref.SeriesInstanceUID,
        ReferencedInstanceSequence=Sequence([seq_item(ReferencedSOPClassUID=s.SOPClassUID,
                                                      ReferencedSOPInstanceUID=s.SOPInstanceUID) for s in slices]))])
    ds.DimensionOrganizationSequence = Sequence([seq_item(DimensionOrganizationUID=generate_uid())])
    ds.SharedFunctionalGroupsSequence = Sequence([seq_item(
        PlaneOrientationSequence=Sequence([seq_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])]),
        PixelMeasuresSequence=Sequence([seq_item(PixelSpacing=[SPACING[1], SPACING[0]], SliceThickness=SPACING[2],
                                                 SpacingBetweenSlices=SPACING[2])]))])
    return ds, pydicom


def frame_item(slices, k, segment, dim_index):
    from pydicom.sequence import Sequence

    ref = slices[k]
    return seq_item(
        FrameContentSequence=Sequence([seq_item(DimensionIndexValues=[segment, dim_index])]),
        DerivationImageSequence=Sequence([seq_item(SourceImageSequence=Sequence([seq_item(
            ReferencedSOPClassUID=ref.SOPClassUID, ReferencedSOPInstanceUID=ref.SOPInstanceUID)]))]),
        PlanePositionSequence=Sequence([seq_item(ImagePositionPatient=[float(v) for v in ref.ImagePositionPatient])]),
        SegmentIdentificationSequence=Sequence([seq_item(ReferencedSegmentNumber=segment)]))


def frame_pixels(mask, k):
    # DICOM frame: row r (j) by column c (i), row after row.
    return mask[:, :, k].T


def write_binary(out, slices, gtv, bladder):
    from pydicom.sequence import Sequence

    ds, _ = base_seg(slices, 300, "Binary segmentation (2 segments)")
    ds.SegmentationType = "BINARY"
    ds.BitsAllocated = 1
    ds.BitsStored = 1
    ds.HighBit = 0
    ds.SegmentSequence = Sequence([segment_item(1, "GTV", "Gross tumour volume"),
                                   segment_item(2, "Bladder", "Urinary bladder")])
    # GTV: one frame per slice (empty ones too); Bladder: only its non-empty slices.
    frames = [(1, k) for k in range(NK)] + [(2, k) for k in range(NK) if bladder[:, :, k].any()]
    rng = np.random.default_rng(11)
    order = rng.permutation(len(frames))  # frames stored out of slice order
    frames = [frames[o] for o in order]
    items, bits = [], []
    for seg, k in frames:
        items.append(frame_item(slices, k, seg, k + 1))
        bits.append(frame_pixels(gtv if seg == 1 else bladder, k).reshape(-1))
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.NumberOfFrames = len(frames)
    packed = np.packbits(np.concatenate(bits).astype(np.uint8), bitorder="little")  # across frames, LSB first
    data = packed.tobytes()
    if len(data) % 2:
        data += b"\0"
    ds.PixelData = data
    ds["PixelData"].VR = "OB"
    ds.is_little_endian, ds.is_implicit_VR = True, False  # explicit VR little endian
    ds.save_as(os.path.join(out, "seg_binary.dcm"), write_like_original=False)
    return ds


def write_fractional(out, slices, gtv):
    from pydicom.sequence import Sequence

    ds, _ = base_seg(slices, 301, "Fractional segmentation")
    ds.SegmentationType = "FRACTIONAL"
    ds.SegmentationFractionalType = "PROBABILITY"
    ds.MaximumFractionalValue = 200
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.SegmentSequence = Sequence([segment_item(1, "GTV", "Gross tumour volume (probability)")])
    rng = np.random.default_rng(12)
    # inside: value/200 in [0.5, 1]; outside: [0, 0.5) -- thresholding at 0.5 gives the mask back
    inside = rng.integers(100, 201, size=gtv.shape)
    outside = rng.integers(0, 100, size=gtv.shape) * (rng.random(gtv.shape) < 0.3)
    frac = np.where(gtv > 0, inside, outside).astype(np.uint8)
    items, data = [], []
    for k in reversed(range(NK)):
        items.append(frame_item(slices, k, 1, k + 1))
        data.append(frame_pixels(frac, k).tobytes())
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.NumberOfFrames = NK
    ds.PixelData = b"".join(data) + (b"\0" if (NI * NJ * NK) % 2 else b"")
    ds["PixelData"].VR = "OB"
    ds.is_little_endian, ds.is_implicit_VR = True, True  # implicit VR little endian
    ds.save_as(os.path.join(out, "seg_fractional.dcm"), write_like_original=False)


def write_malformed(out):
    import pydicom

    def binary():
        return pydicom.dcmread(os.path.join(out, "seg_binary.dcm"))

    def rtstruct():
        return pydicom.dcmread(os.path.join(out, "rtstruct.dcm"))

    bad = os.path.join(out, "malformed")
    os.makedirs(bad, exist_ok=True)
    # SEG whose PixelData is 10 bytes short
    d = binary()
    d.PixelData = d.PixelData[:-10]
    d.save_as(os.path.join(bad, "seg_short_pixeldata.dcm"), write_like_original=False)
    # SEG without PerFrameFunctionalGroupsSequence
    d = binary()
    del d.PerFrameFunctionalGroupsSequence
    d.save_as(os.path.join(bad, "seg_no_perframe.dcm"), write_like_original=False)
    # SEG without SegmentSequence
    d = binary()
    del d.SegmentSequence
    d.save_as(os.path.join(bad, "seg_no_segments.dcm"), write_like_original=False)

    rt = rtstruct()
    gtv_number = next(int(r.ROINumber) for r in rt.StructureSetROISequence if r.ROIName == "GTV")
    gtv_contours = next(c for c in rt.ROIContourSequence if int(c.ReferencedROINumber) == gtv_number)

    def save(d, name):
        d.save_as(os.path.join(bad, name), write_like_original=False)

    # RTSTRUCT without ROIContourSequence
    d = rtstruct()
    del d.ROIContourSequence
    save(d, "rtstruct_no_roicontours.dcm")
    # one GTV contour moved half a slice along z: between two slices
    d = rtstruct()
    c = next(c for c in d.ROIContourSequence if int(c.ReferencedROINumber) == gtv_number)
    pts = [float(v) for v in c.ContourSequence[0].ContourData]
    for n in range(2, len(pts), 3):
        pts[n] += SPACING[2] / 2
    c.ContourSequence[0].ContourData = pts
    save(d, "rtstruct_between_slices.dcm")
    # one GTV contour tilted: z grows with x (not parallel to the slices)
    d = rtstruct()
    c = next(c for c in d.ROIContourSequence if int(c.ReferencedROINumber) == gtv_number)
    pts = [float(v) for v in c.ContourSequence[0].ContourData]
    x0 = pts[0]
    for n in range(0, len(pts), 3):
        pts[n + 2] += 0.2 * (pts[n] - x0)
    c.ContourSequence[0].ContourData = pts
    save(d, "rtstruct_tilted.dcm")
    # NumberOfContourPoints disagreeing with ContourData
    d = rtstruct()
    c = next(c for c in d.ROIContourSequence if int(c.ReferencedROINumber) == gtv_number)
    c.ContourSequence[0].NumberOfContourPoints = int(c.ContourSequence[0].NumberOfContourPoints) + 5
    save(d, "rtstruct_wrong_npoints.dcm")
    assert gtv_contours is not None


# ---------------------------------------------------------------------------------------------
# An RTSTRUCT with analytic contours (not along voxel edges) and its even-odd reference


def ellipse(ci, cj, ri, rj, angle_deg, n, z):
    """Polygon in LPS mm around continuous index centre (ci, cj), radii in voxels, on plane z."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a = np.deg2rad(angle_deg)
    di, dj = ri * np.cos(t), rj * np.sin(t)
    i = ci + di * np.cos(a) - dj * np.sin(a)
    j = cj + di * np.sin(a) + dj * np.cos(a)
    return np.stack([ORIGIN_LPS[0] + SPACING[0] * i, ORIGIN_LPS[1] + SPACING[1] * j, np.full(n, z)], axis=1)


def polygon_contours():
    """{slice k: [polygons]}: rotated ellipses on 2..6, holes on 3..5; on slice 7 a ring
    (disc with a hole) holding a small island inside its hole, plus a separate disc."""
    out = {}
    for k in range(2, 7):
        z = ORIGIN_LPS[2] + SPACING[2] * k
        polys = [ellipse(22.15, 18.45, 13.3 - abs(k - 4), 10.2 - 0.5 * abs(k - 4), 17.0, 48, z)]
        if 3 <= k <= 5:
            polys.append(ellipse(21.6, 19.1, 5.2, 3.9, -25.0, 23, z))
        out[k] = polys
    z = ORIGIN_LPS[2] + SPACING[2] * 7
    out[7] = [ellipse(13.3, 14.2, 9.1, 8.2, 0.0, 37, z), ellipse(13.1, 14.4, 5.6, 4.9, 10.0, 29, z),
              ellipse(13.2, 14.3, 2.3, 2.1, 0.0, 13, z), ellipse(35.4, 27.7, 5.3, 6.1, 33.0, 31, z)]
    return out


def even_odd(polys_ij, ni, nj):
    """Voxel centres inside by the even-odd rule: an odd number of crossings x <= i of the row
    y = j with the edges (an edge counts for y0 <= y < y1, half-open)."""
    mask = np.zeros((ni, nj), bool)
    for j in range(nj):
        xs = []
        for p in polys_ij:
            q = np.roll(p, -1, axis=0)
            for (x0, y0), (x1, y1) in zip(p, q):
                if (y0 <= j < y1) or (y1 <= j < y0):
                    xs.append(x0 + (j - y0) * (x1 - x0) / (y1 - y0))
        for i in range(ni):
            mask[i, j] = sum(1 for x in xs if x <= i) % 2 == 1
    return mask


def write_polygons(out):
    import nibabel as nib
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    rt = pydicom.dcmread(os.path.join(out, "rtstruct.dcm"))
    gtv_number = next(int(r.ROINumber) for r in rt.StructureSetROISequence if r.ROIName == "GTV")
    roi = next(c for c in rt.ROIContourSequence if int(c.ReferencedROINumber) == gtv_number)
    template = roi.ContourSequence[0]
    contours = []
    expected = np.zeros((NI, NJ, NK), np.uint8)
    for k, polys in polygon_contours().items():
        ij = []
        for p in polys:
            c = Dataset()
            c.ContourImageSequence = template.ContourImageSequence
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(p)
            c.ContourData = [float("%.4f" % v) for v in p.reshape(-1)]
            contours.append(c)
            pts = np.array(c.ContourData, float).reshape(-1, 3)
            ij.append(np.stack([(pts[:, 0] - ORIGIN_LPS[0]) / SPACING[0], (pts[:, 1] - ORIGIN_LPS[1]) / SPACING[1]], 1))
        expected[:, :, k] = even_odd(ij, NI, NJ)
    roi.ContourSequence = Sequence(contours)
    rt.StructureSetROISequence[[int(r.ROINumber) for r in rt.StructureSetROISequence].index(gtv_number)].ROIName = "GTV"
    rt.save_as(os.path.join(out, "rtstruct_polygons.dcm"), write_like_original=False)
    im = nib.Nifti1Image(expected, affine_ras())
    im.set_qform(affine_ras(), 1)
    im.set_sform(affine_ras(), 1)
    nib.save(im, os.path.join(out, "polygons_even_odd.nii.gz"))


def make_seg(out):
    import nibabel as nib

    slices = image_series(os.path.join(out, "image"))
    check_geometry(slices)
    gtv = np.asarray(nib.load(os.path.join(out, "gtv.nii.gz")).dataobj).astype(np.uint8)
    bladder = np.asarray(nib.load(os.path.join(out, "bladder.nii.gz")).dataobj).astype(np.uint8)
    write_binary(out, slices, gtv, bladder)
    write_fractional(out, slices, gtv)
    write_malformed(out)
    write_polygons(out)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("nifti", "seg"):
        sys.exit("usage: make_dicom_object_fixtures.py nifti|seg OUTDIR")
    {"nifti": make_nifti, "seg": make_seg}[sys.argv[1]](sys.argv[2])
