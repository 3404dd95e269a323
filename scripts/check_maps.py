#!/usr/bin/python3
"""nibabel's view of the relevance maps cervirisk writes (tests/test_study.cpp, test_explain_model).

  /usr/bin/python3 scripts/check_maps.py MAP IMAGE [MAP IMAGE ...]
For each pair prints `map PATH affine_diff D max V argmax I J K` (D = the largest absolute
difference between the two affines as nibabel reads them, in mm; (I, J, K) = the voxel of the
map's maximum in nibabel's array order) and, when every D <= 1e-6 and every map has the image's
shape, `maps ok: N` last. Exit 1 otherwise.
"""
import sys

import nibabel as nib
import numpy as np


def main(args):
    if len(args) % 2 or not args:
        print(__doc__)
        return 2
    ok = True
    for m, i in zip(args[0::2], args[1::2]):
        mi, ii = nib.load(m), nib.load(i)
        d = float(np.max(np.abs(mi.affine - ii.affine)))
        data = np.asanyarray(mi.dataobj)
        idx = np.unravel_index(int(np.argmax(data)), data.shape)
        print("map %s affine_diff %.3g max %.6g argmax %d %d %d" % (m, d, float(data.max()), *idx))
        ok = ok and d <= 1e-6 and data.shape[:3] == ii.shape[:3]
    if ok:
        print("maps ok: %d" % (len(args) // 2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
