#!/usr/bin/python3
"""DICOM fixtures and goldens (imported by scripts/make_io_goldens.py; not run alone).

Geometry goldens are computed here from the DICOM attributes with numpy (independently of our
C++): i along the row cosine (column index), j along the column cosine (row index), k along
n = row x col, slices sorted by position . n, spacing from positions. Intensities: pydicom's
pixel_array through apply_modality_lut (RescaleSlope/Intercept). Where nibabel's DICOM wrapper
gives an affine, its in-plane columns and origin are checked against ours here (after swapping
its (row, column) axis order to ours).
"""
import gzip
import io
import os
import shutil

import nibabel.nicom.dicomwrappers as dw
import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut
from pydicom.uid import generate_uid

FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])


def geometry(iop, positions, ps, single_spacing):
    row, col = np.array(iop[:3], float), np.array(iop[3:], float)
    n = np.cross(row, col)
    n /= np.linalg.norm(n)
    pos = [np.array(p, float) for p in positions]
    order = sorted(range(len(pos)), key=lambda i: float(np.dot(pos[i], n)))
    d = [float(np.dot(pos[i], n)) for i in order]
    sp = (d[-1] - d[0]) / (len(d) - 1) if len(d) > 1 else single_spacing
    aff = np.eye(4)
    aff[:3, 0] = row * float(ps[1])
    aff[:3, 1] = col * float(ps[0])
    aff[:3, 2] = n * sp
    aff[:3, 3] = pos[order[0]]
    return aff, order


def check_nibabel_inplane(aff_lps, dcm):
    try:
        w = dw.wrapper_from_data(dcm)
        nib_aff = np.asarray(w.affine)
    except Exception:
        return None
    # nibabel indexes (row, column, slice): its column 0 is our column 1 and vice versa.
    ok = np.allclose(nib_aff[:3, 0], aff_lps[:3, 1], atol=1e-4) and np.allclose(nib_aff[:3, 1], aff_lps[:3, 0], atol=1e-4) \
        and np.allclose(nib_aff[:3, 3], aff_lps[:3, 3], atol=1e-4)
    assert ok, "nibabel in-plane geometry disagrees"
    return nib_aff.tolist()


def volume_golden(datasets, stats, single_spacing=None, files=None):
    d0 = datasets[0]
    aff, order = geometry(d0.ImageOrientationPatient, [d.ImagePositionPatient for d in datasets], d0.PixelSpacing,
                          float(single_spacing or d0.get("SliceThickness", 1.0)))
    slices = []
    for i in order:
        a = apply_modality_lut(datasets[i].pixel_array, datasets[i]).astype(np.float64)
        if datasets[i].PhotometricInterpretation == "MONOCHROME1":
            bs = datasets[i].BitsStored
            lo, hi = (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1) if datasets[i].PixelRepresentation else (0, 2 ** bs - 1)
            raw = datasets[i].pixel_array.astype(np.float64)
            a = apply_modality_lut((lo + hi - raw), datasets[i]).astype(np.float64)
        slices.append(a.T)  # (rows, cols) -> (i = col, j = row)
    vol = np.stack(slices, axis=-1)
    g = stats(vol)
    g["affine_ras"] = (FLIP @ aff).tolist()
    g["nibabel_affine_lps_row_col"] = check_nibabel_inplane(aff, datasets[order[0]])
    if files is not None:
        g["sorted_files"] = [files[i] for i in order]
    return g


def make_fixtures(data):
    src = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
    root = os.path.join(data, "dicom_derived")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    made = {}
    # (a) a 3-slice axial series: files named in shuffled order, InstanceNumber reversed,
    # rescale slope/intercept, ORIGINAL image type.
    n = np.cross(np.array(src.ImageOrientationPatient[:3], float), np.array(src.ImageOrientationPatient[3:], float))
    uid = generate_uid(entropy_srcs=["cervirisk-series-a"])
    names = {0: "z_slice.dcm", 1: "a_slice.dcm", 2: "m_slice.dcm"}
    os.makedirs(os.path.join(root, "series_a"))
    for k in range(3):
        d = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
        d.SeriesInstanceUID = uid
        d.SOPInstanceUID = generate_uid(entropy_srcs=["cervirisk-a-%d" % k])
        d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
        d.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        d.SeriesDescription = "AX T2 shuffled"
        d.InstanceNumber = 10 - k
        d.ImagePositionPatient = [float(x) for x in np.array(src.ImagePositionPatient, float) + n * 2.5 * k]
        arr = d.pixel_array.astype(np.int16)
        arr = np.flipud(arr) if k == 1 else (np.fliplr(arr) if k == 2 else arr)
        d.PixelData = np.ascontiguousarray(arr + 7 * k).astype(np.int16).tobytes()
        d.RescaleSlope = "2.5"
        d.RescaleIntercept = "-100"
        d.save_as(os.path.join(root, "series_a", names[k]))
    made["series_a"] = [os.path.join("series_a", names[k]) for k in range(3)]
    # (b) MONOCHROME1
    os.makedirs(os.path.join(root, "mono1"))
    d = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
    d.SeriesInstanceUID = generate_uid(entropy_srcs=["cervirisk-mono1"])
    d.ImageType = ["ORIGINAL", "PRIMARY"]
    d.SeriesDescription = "mono1"
    d.PhotometricInterpretation = "MONOCHROME1"
    d.save_as(os.path.join(root, "mono1", "mono1.dcm"))
    made["mono1"] = ["mono1/mono1.dcm"]
    # (c) GB18030 series description
    os.makedirs(os.path.join(root, "gb18030"))
    d = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
    d.SeriesInstanceUID = generate_uid(entropy_srcs=["cervirisk-gb18030"])
    d.ImageType = ["ORIGINAL", "PRIMARY"]
    d.SpecificCharacterSet = "GB18030"
    text = "盆腔 T2 轴位"
    raw = text.encode("gb18030")
    if len(raw) % 2:
        raw += b" "
    d.add_new(0x0008103E, "LO", raw)
    d.save_as(os.path.join(root, "gb18030", "gb.dcm"))
    assert pydicom.dcmread(os.path.join(root, "gb18030", "gb.dcm")).SeriesDescription == text
    made["gb18030"] = ["gb18030/gb.dcm"]
    # (d) one SeriesInstanceUID holding two echoes at the same two positions (a dual-echo
    # acquisition): must split into two 2-slice series, never one 4-slice stack.
    echo_root = os.path.join(data, "dicom_echoes")
    shutil.rmtree(echo_root, ignore_errors=True)
    os.makedirs(echo_root)
    uid = generate_uid(entropy_srcs=["cervirisk-echoes"])
    for echo, te in ((1, 12.0), (2, 96.0)):
        for k in range(2):
            d = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
            d.SeriesInstanceUID = uid
            d.SOPInstanceUID = generate_uid(entropy_srcs=["cervirisk-echo-%d-%d" % (echo, k)])
            d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
            d.ImageType = ["ORIGINAL", "PRIMARY"]
            d.SeriesDescription = "dual echo"
            d.EchoNumbers = echo
            d.EchoTime = te
            d.ImagePositionPatient = [float(x) for x in np.array(src.ImagePositionPatient, float) + n * 3.0 * k]
            d.PixelData = (d.pixel_array.astype(np.int16) // echo).tobytes()
            d.save_as(os.path.join(echo_root, "e%d_s%d.dcm" % (echo, k)))
    return made, text


def goldens(data, stats):
    out = []
    for name in sorted(os.listdir(os.path.join(data, "dicom"))):
        if not name.startswith("MR_small") or "truncated" in name:
            continue
        d = pydicom.dcmread(os.path.join(data, "dicom", name))
        pixels_from = name
        try:
            d.pixel_array
        except RuntimeError:
            # pydicom has no JPEG-LS / JPEG 2000 decoder installed here. These variants are
            # lossless encodings of MR_small.dcm, so their pixels must equal its pixels.
            assert d.file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90")
            ref = pydicom.dcmread(os.path.join(data, "dicom", "MR_small.dcm"))
            d.PixelData = ref.PixelData
            d.file_meta.TransferSyntaxUID = ref.file_meta.TransferSyntaxUID
            d.is_little_endian, d.is_implicit_VR = True, False
            pixels_from = "MR_small.dcm (lossless original)"
        g = volume_golden([d], stats)
        g.update({"file": "dicom/" + name, "transfer_syntax": str(pydicom.dcmread(os.path.join(data, "dicom", name)).file_meta.TransferSyntaxUID),
                  "pixels_from": pixels_from})
        out.append(g)
    # dicomdirtests: the one regular axial CT series (5 slices, descending positions on disk)
    folder = os.path.join(data, "dicomdirtests", "98892001", "CT5N")
    files = sorted(os.listdir(folder))
    ds = [pydicom.dcmread(os.path.join(folder, f)) for f in files]
    g = volume_golden(ds, stats, files=files)
    g.update({"file": "dicomdirtests/98892001/CT5N", "series_uid": str(ds[0].SeriesInstanceUID)})
    out.append(g)
    made, text = make_fixtures(data)
    for key, rels in made.items():
        ds = [pydicom.dcmread(os.path.join(data, "dicom_derived", r)) for r in rels]
        g = volume_golden(ds, stats, files=rels)
        g.update({"file": "dicom_derived/" + key, "series_uid": str(ds[0].SeriesInstanceUID),
                  "description": text if key == "gb18030" else str(ds[0].SeriesDescription)})
        out.append(g)
    # enhanced multi-frame (Philips): geometry from the per-frame positions read by pydicom
    d = pydicom.dcmread(io.BytesIO(gzip.open(os.path.join(data, "philips_mprage.dcm.gz")).read()))
    pf = d.PerFrameFunctionalGroupsSequence
    iop = pf[0].PlaneOrientationSequence[0].ImageOrientationPatient
    ps = (pf[0].PixelMeasuresSequence[0].PixelSpacing if "PixelMeasuresSequence" in pf[0]
          else d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing)
    aff, order = geometry(iop, [f.PlanePositionSequence[0].ImagePositionPatient for f in pf], ps, 1.0)
    arr = d.pixel_array.astype(np.float64)  # (frames, rows, cols)
    vol = np.stack([arr[i].T for i in order], axis=-1)
    g = stats(vol)
    g["affine_ras"] = (FLIP @ aff).tolist()
    nib_aff = np.asarray(dw.wrapper_from_data(d).affine)
    g["nibabel_affine_lps_row_col"] = nib_aff.tolist()
    # nibabel 5.0's MultiframeWrapper puts its slice axis along -n while the frames advance
    # along +n (positions above): its in-plane columns and origin agree with ours, the slice
    # column has the opposite sign. Recorded, not hidden.
    g["nibabel_slice_axis_matches"] = bool(np.allclose(nib_aff[:3, 2], aff[:3, 2], atol=1e-4))
    assert np.allclose(nib_aff[:3, 0], aff[:3, 1], atol=1e-4) and np.allclose(nib_aff[:3, 1], aff[:3, 0], atol=1e-4)
    assert np.allclose(nib_aff[:3, 3], aff[:3, 3], atol=1e-4)
    g.update({"file": "philips_mprage.dcm.gz", "frames": len(pf)})
    out.append(g)
    return out
