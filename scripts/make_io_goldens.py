#!/usr/bin/python3
"""Goldens for tests/test_nifti.cpp and tests/test_dicom.cpp, computed by nibabel and pydicom.

Run from the repository root:  /usr/bin/python3 scripts/make_io_goldens.py
Writes tests/data/io/goldens.json (and the small derived DICOM fixtures under
tests/data/io/dicom_derived/). CI never runs this: the outputs are committed.

Index convention of the goldens = ours (ITK): voxel (i, j, k), i fastest; for DICOM i runs
along a row (column index), j down the columns (row index), k along the slice normal.
nibabel's DICOM wrappers index (row, column, slice), so their affines/arrays are permuted here,
explicitly, before comparing.
"""
import gzip
import io
import json
import os
import sys

import nibabel as nib
import numpy as np
import pydicom

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "tests", "data", "io")


def weights(shape):
    # Position-dependent weights (break every symmetry: a flipped or transposed axis changes the
    # weighted sum). Same formula in tests/io_golden.h.
    i, j, k = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), np.arange(shape[2]), indexing="ij")
    return ((i * 73 + j * 37 + k * 11) % 17).astype(np.float64) / 17.0 + 0.5


def stats(arr):
    a = np.asarray(arr, dtype=np.float64)
    a32 = a.astype(np.float32).astype(np.float64)  # we store float32
    rng = np.random.RandomState(7)
    idx = [tuple(int(rng.randint(0, s)) for s in a.shape) for _ in range(40)]
    return {
        "shape": list(a.shape),
        "min": float(a32.min()),
        "max": float(a32.max()),
        "mean": float(a32.mean()),
        "weighted_sum": float((a32 * weights(a.shape)).sum()),
        "samples": [[list(ix), float(a32[ix])] for ix in idx],
    }


def nifti_golden(name, volume_index=0):
    img = nib.load(os.path.join(DATA, name))
    hdr = img.header
    data = np.asanyarray(img.dataobj, dtype=np.float64) if False else img.get_fdata()
    if data.ndim > 3:
        data = data.reshape(data.shape[:3] + (-1,))[..., volume_index]
    while data.ndim < 3:
        data = data[..., None]
    g = stats(data)
    g.update({
        "file": name,
        "affine_ras": img.affine.tolist(),
        "zooms": [float(z) for z in hdr.get_zooms()[:3]],
        "dtype": str(hdr.get_data_dtype().name),
        "byte_order": "big" if hdr.endianness == ">" else "little",
        "sform_code": int(hdr["sform_code"]),
        "qform_code": int(hdr["qform_code"]),
        "full_shape": list(img.shape),
        "volume_index": volume_index,
    })
    return g


def make_derived_nifti():
    """Small fixtures nibabel writes: the header variants the real test files do not cover."""
    d = os.path.join(DATA, "derived")
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(3)
    data = rng.randint(-300, 3000, size=(7, 5, 4)).astype(np.int16)
    # An oblique, asymmetric affine (rotation about two axes, anisotropic voxels).
    t1, t2 = 0.3, -0.2
    rx = np.array([[1, 0, 0], [0, np.cos(t1), -np.sin(t1)], [0, np.sin(t1), np.cos(t1)]])
    rz = np.array([[np.cos(t2), -np.sin(t2), 0], [np.sin(t2), np.cos(t2), 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rz @ rx @ np.diag([0.7, 0.9, 3.5])
    aff[:3, 3] = [-41.5, 12.25, 7.0]
    made = []

    def save(name, img):
        nib.save(img, os.path.join(d, name))
        made.append(name)

    # qform only, left-handed (qfac = -1)
    laff = aff @ np.diag([1, 1, -1, 1])
    img = nib.Nifti1Image(data, None)
    img.set_qform(laff, code=1)
    img.set_sform(None, code=0)
    save("qform_only_lefthanded.nii", img)
    # sform differs from qform: sform must win
    img = nib.Nifti1Image(data, None)
    img.set_qform(aff, code=1)
    img.set_sform(aff @ np.diag([1, -1, 1, 1]), code=2)
    save("sform_wins.nii.gz", img)
    # no transform at all: pixdim only (nibabel's base affine)
    img = nib.Nifti1Image(data, np.diag([2.0, 3.0, 4.0, 1.0]))
    save("pixdim_only.nii", img)
    # nibabel stores a default sform on save; clear both codes in the bytes (offsets 252/254).
    with open(os.path.join(d, "pixdim_only.nii"), "r+b") as f:
        f.seek(252)
        f.write(b"\0\0\0\0")
    # big-endian float64 with slope and intercept
    hdr = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image((data.astype(np.float64) / 7.0).astype(">f8"), aff, hdr)
    img.header.set_data_dtype(">f8")
    img.header.set_slope_inter(2.5, -10.0)
    save("bigendian_f64_scaled.nii", img)
    # other integer types, NIfTI-2
    for dt in ["uint8", "int8", "uint16", "int32", "float32"]:
        arr = np.abs(data) % 120 if dt in ("uint8", "int8") else np.abs(data)
        img = nib.Nifti1Image(arr.astype(dt), aff)
        save("type_%s.nii.gz" % dt, img)
    img = nib.Nifti2Image(data, aff)
    img.header.set_slope_inter(0.5, 1.0)
    save("nifti2_scaled.nii", img)
    # asymmetric orientation fixtures: the same data with one axis flipped and the affine
    # adjusted so world content is identical -> world lookups must agree.
    for ax in range(3):
        flipped = np.flip(data, axis=ax)
        f = np.eye(4)
        f[ax, ax] = -1
        f[ax, 3] = data.shape[ax] - 1
        save("flip_axis%d.nii.gz" % ax, nib.Nifti1Image(flipped, aff @ f))
    save("flip_none.nii.gz", nib.Nifti1Image(data, aff))
    # a 4D file (2 volumes)
    save("fourd.nii.gz", nib.Nifti1Image(np.stack([data, data * 2], axis=-1), aff))
    return ["derived/" + m for m in made]


def main():
    out = {"tool": "nibabel %s, pydicom %s, numpy %s" % (nib.__version__, pydicom.__version__, np.__version__),
           "command": "/usr/bin/python3 scripts/make_io_goldens.py",
           "nifti": [], "dicom": []}
    for name in ["example4d.nii.gz", "anatomical.nii", "functional.nii", "standard.nii.gz",
                 "example_nifti2.nii.gz"]:
        out["nifti"].append(nifti_golden(name))
    out["nifti"].append(nifti_golden("example4d.nii.gz", volume_index=1))
    for name in make_derived_nifti():
        out["nifti"].append(nifti_golden(name))
    out["nifti"].append(nifti_golden("derived/fourd.nii.gz", volume_index=1))
    if os.path.exists(os.path.join(ROOT, "scripts", "make_dicom_goldens.py")):
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import make_dicom_goldens
        out["dicom"] = make_dicom_goldens.goldens(DATA, stats)
    with open(os.path.join(DATA, "goldens.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
