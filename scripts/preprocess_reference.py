#!/usr/bin/python3
"""Reference implementation of cervirisk's preprocessing (src/imaging/roi.h) with nibabel +
numpy + scipy.ndimage: the same algorithm, written the way a Python user would.

Used by bench/imaging.sh (throughput comparison, same files, same run) and by
scripts/make_imaging_goldens.py (numeric goldens for tests/test_imaging.cpp).

  /usr/bin/python3 scripts/preprocess_reference.py IMAGE MASK [IMAGE MASK ...]
prints the wall-clock and CPU seconds per patient (load .nii.gz + normalise + resample +
multi-scale crops), imports excluded.
"""
import sys
import time

import nibabel as nib
import numpy as np
from scipy import ndimage

DEFAULTS = dict(spacing_mm=0.8, tumour_margin_mm=5.0, context_margin_mm=15.0, context_fov_mm=0.0,
                neighbours=1, tumour_size_px=64, context_size_px=96, clip=(0.5, 99.5))


def otsu(v):
    mn, mx = float(v.min()), float(v.max())
    if not mx > mn:
        return mn
    hist, edges = np.histogram(v, bins=256, range=(mn, mx))
    width = (mx - mn) / 256
    centres = mn + (np.arange(256) + 0.5) * width
    w0 = np.cumsum(hist)[:-1].astype(np.float64)
    s0 = np.cumsum(hist * centres)[:-1]
    total, total_sum = hist.sum(), (hist * centres).sum()
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (s0 / w0 - (total_sum - s0) / w1) ** 2
    between[(w0 == 0) | (w1 == 0)] = -1
    t = int(np.argmax(between)) + 1
    return mn + t * width


def intensity_stats(data, p):
    thr = otsu(data)
    fg = data[data >= thr]
    lo, hi = np.percentile(fg, p["clip"][0]), np.percentile(fg, p["clip"][1])
    c = np.clip(fg.astype(np.float64), lo, hi)
    mean, sd = c.mean(), c.std()
    return dict(otsu=thr, n_fg=int(fg.size), lo=float(lo), hi=float(hi), mean=float(mean), sd=float(sd or 1.0))


def resample_slices(vol, zooms, s, order):
    """vol: (ni, nj, nk) -> in-plane spacing s; first voxel centre kept (see resample.h)."""
    ni, nj = vol.shape[:2]
    no = [max(1, int(round(n * z / s))) for n, z in zip((ni, nj), zooms[:2])]
    xi = np.clip(np.arange(no[0]) * s / zooms[0], 0, ni - 1)
    xj = np.clip(np.arange(no[1]) * s / zooms[1], 0, nj - 1)
    gi, gj = np.meshgrid(xi, xj, indexing="ij")
    if order == 0:
        gi, gj = np.floor(gi + 0.5), np.floor(gj + 0.5)
    out = np.empty((no[0], no[1], vol.shape[2]), dtype=np.float32)
    for k in range(vol.shape[2]):
        out[:, :, k] = ndimage.map_coordinates(vol[:, :, k], [gi, gj], order=1 if order else 0, mode="nearest")
    return out


def preprocess(image_path, mask_path, p=DEFAULTS):
    img = nib.load(image_path)
    data = img.get_fdata(dtype=np.float32)
    mask = np.asanyarray(nib.load(mask_path).dataobj) > 0.5
    zooms = img.header.get_zooms()[:3]
    areas = mask.sum(axis=(0, 1))
    kc = int(np.argmax(areas))
    nk = data.shape[2]
    ks = [min(max(kc + d, 0), nk - 1) for d in range(-p["neighbours"], p["neighbours"] + 1)]
    st = intensity_stats(data, p)
    k0, k1 = ks[0], ks[-1] + 1
    r = resample_slices(data[:, :, k0:k1], zooms, p["spacing_mm"], 1)
    r = ((np.clip(r, st["lo"], st["hi"]) - st["mean"]) / st["sd"]).astype(np.float32)
    pad = (st["lo"] - st["mean"]) / st["sd"]
    m = resample_slices(mask[:, :, kc:kc + 1].astype(np.float32), zooms, p["spacing_mm"], 0)[:, :, 0] > 0.5
    ii, jj = np.nonzero(m)
    s = p["spacing_mm"]
    cx, cy = (ii.min() + ii.max()) / 2.0, (jj.min() + jj.max()) / 2.0
    w, h = (ii.max() - ii.min() + 1) * s, (jj.max() - jj.min() + 1) * s
    side_t = max(w, h) + 2 * p["tumour_margin_mm"]
    side_c = p["context_fov_mm"] if p["context_fov_mm"] > 0 else side_t + 2 * p["context_margin_mm"]

    def crop(side, size):
        pix = side / size
        half = (size - 1) / 2.0
        off = (np.arange(size) - half) * pix / s
        gy, gx = np.meshgrid(cy + off, cx + off, indexing="ij")  # [H][W]: y rows, x columns
        return np.stack([ndimage.map_coordinates(r[:, :, k - k0], [gx, gy], order=1, mode="constant", cval=pad)
                         for k in ks]).astype(np.float32)

    return dict(tumour=crop(side_t, p["tumour_size_px"]), context=crop(side_c, p["context_size_px"]),
                slice_index=kc, slices=ks, stats=st, side_t=side_t, side_c=side_c, centre=(cx, cy))


def main(args):
    pairs = list(zip(args[0::2], args[1::2]))
    t0, c0 = time.perf_counter(), time.process_time()
    for im, ma in pairs:
        preprocess(im, ma)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("%.6f %.6f" % (dt / len(pairs), dc / len(pairs)))


if __name__ == "__main__":
    main(sys.argv[1:])
