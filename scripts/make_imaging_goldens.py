#!/usr/bin/python3
"""Phantom fixtures and goldens for tests/test_imaging.cpp.

  /usr/bin/python3 scripts/make_imaging_goldens.py [--phantom]
Writes (the phantom only when absent or with --phantom) tests/data/imaging/{phantom,phantom_mask}.nii.gz (nibabel) and, for each parameter set (two in the acquisition frame, two in the sagittal frame),
the crops computed by scripts/preprocess_reference.py (nibabel + numpy + scipy.ndimage) as raw
little-endian float32 ([C][H][W]) plus goldens.json (statistics, slices, sides, versions).
"""
import json
import os
import sys

import nibabel as nib
import numpy as np
import scipy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preprocess_reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "data", "imaging")


def phantom():
    rng = np.random.RandomState(5)
    shape = (96, 80, 12)
    zooms = np.array([0.7, 0.9, 4.0])
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    x, y, z = i * zooms[0], j * zooms[1], k * zooms[2]
    body = ((x - 34) / 30) ** 2 + ((y - 36) / 32) ** 2 < 1
    img = np.where(body, 420.0, 8.0) + rng.normal(0, 15, shape)
    img += np.where(body, 60 * np.sin(x / 6.0) * np.cos(y / 9.0), 0)  # texture, asymmetric
    # tumour: an ellipsoid centred off-centre, largest in slice 9, brighter
    tum = ((x - 41) / 9) ** 2 + ((y - 30) / 6.5) ** 2 + ((z - 37) / 9) ** 2 < 1
    img = np.where(tum, img + 380, img)
    img = np.clip(np.round(img), -100, 4000).astype(np.int16)
    t1 = 0.15
    rot = np.array([[np.cos(t1), -np.sin(t1), 0], [np.sin(t1), np.cos(t1), 0], [0, 0, 1]])
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag(zooms)
    aff[:3, 3] = [-30.0, 15.5, -20.0]
    nib.save(nib.Nifti1Image(img, aff), os.path.join(OUT, "phantom.nii.gz"))
    nib.save(nib.Nifti1Image(tum.astype(np.uint8), aff), os.path.join(OUT, "phantom_mask.nii.gz"))


CASES = {
    "default": dict(ref.DEFAULTS),
    "fov_k2": dict(ref.DEFAULTS, neighbours=2, context_fov_mm=100.0, spacing_mm=0.6, tumour_size_px=48,
                   context_size_px=80, clip=(1.0, 99.0), tumour_margin_mm=3.0),
    # The canonical sagittal frame on the phantom's rotated axial grid (4 mm slices along S).
    "sagittal": dict(ref.SAGITTAL),
    "sagittal_box_k2": dict(ref.SAGITTAL, neighbours=2, slice_spacing_mm=2.5, tumour_fov_mm=0.0, spacing_mm=0.6,
                            tumour_size_px=48, context_size_px=80, tumour_margin_mm=3.0),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    if "--phantom" in sys.argv or not os.path.exists(os.path.join(OUT, "phantom.nii.gz")):
        phantom()  # gzip bytes depend on the zlib build: rewrite only when asked
    g = {"tool": "nibabel %s, numpy %s, scipy %s" % (nib.__version__, np.__version__, scipy.__version__),
         "command": "/usr/bin/python3 scripts/make_imaging_goldens.py", "cases": {}}
    for name, p in CASES.items():
        r = ref.preprocess(os.path.join(OUT, "phantom.nii.gz"), os.path.join(OUT, "phantom_mask.nii.gz"), p)
        r["tumour"].astype("<f4").tofile(os.path.join(OUT, "%s_tumour.f32" % name))
        r["context"].astype("<f4").tofile(os.path.join(OUT, "%s_context.f32" % name))
        g["cases"][name] = {
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()},
            "slice_index": r["slice_index"], "slices": r["slices"], "stats": r["stats"],
            "side_t": r["side_t"], "side_c": r["side_c"], "centre_px": list(r["centre"]),
            "tumour_shape": list(r["tumour"].shape), "context_shape": list(r["context"].shape),
        }
        if "centre_lps" in r:
            g["cases"][name]["centre_lps"] = r["centre_lps"]
            g["cases"][name]["area_mm2"] = r["area_mm2"]
    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump(g, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
