#!/usr/bin/python3
"""Goldens for tests/test_synth.cpp: how nibabel reads the images `cervirisk synth` writes.

Run from the repository root after building:
    /usr/bin/python3 scripts/make-synth-goldens.py build/bin/cervirisk
Writes tests/data/data/synth_nibabel.json (shape, affine, dtype, voxel sums per patient). The
goldens pin the generator's output: regenerate them when the generator changes on purpose.
"""
import json
import os
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np

binary = sys.argv[1] if len(sys.argv) > 1 else "build/bin/cervirisk"
patients, seed = 9, 7
with tempfile.TemporaryDirectory() as d:
    subprocess.run([binary, "synth", "--size", "small", "--patients", str(patients), "--seed", str(seed),
                    "--out", d, "-q"], check=True, stdout=subprocess.DEVNULL)
    images = {}
    for name in sorted(os.listdir(os.path.join(d, "images"))):
        pid = name.split("_")[0]
        img = nib.load(os.path.join(d, "images", name))
        msk = nib.load(os.path.join(d, "masks", pid + "_mask.nii.gz"))
        data = np.asanyarray(img.dataobj)
        mdata = np.asanyarray(msk.dataobj)
        assert np.allclose(img.affine, msk.affine)
        images[pid] = {
            "shape": list(img.shape),
            "affine": [[float(v) for v in row] for row in img.affine],
            "axcodes": "".join(nib.aff2axcodes(img.affine)),
            "dtype": str(img.get_data_dtype()),
            "mask_dtype": str(msk.get_data_dtype()),
            "sum": float(data.astype(np.float64).sum()),
            "mask_sum": float(mdata.astype(np.float64).sum()),
            "zooms": [float(z) for z in img.header.get_zooms()],
        }
out = {
    "provenance": "nibabel %s, numpy %s; /usr/bin/python3 scripts/make-synth-goldens.py build/bin/cervirisk "
                  "(cervirisk synth --size small --patients %d --seed %d)" % (nib.__version__, np.__version__, patients, seed),
    "patients": patients,
    "seed": seed,
    "images": images,
}
with open("tests/data/data/synth_nibabel.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote %d images" % len(images))
