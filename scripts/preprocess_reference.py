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
# The canonical sagittal frame (cervirisk's default since the frame exists; DEFAULTS above are
# the acquisition frame with box-scaled crops, kept for the older goldens).
SAGITTAL = dict(DEFAULTS, frame="sagittal", slice_spacing_mm=4.0, tumour_fov_mm=72.0)


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
    # clip at percentiles of the whole image; mean and SD of the whole clipped image
    lo, hi = np.percentile(data, p["clip"][0]), np.percentile(data, p["clip"][1])
    c = np.clip(data.astype(np.float64), lo, hi)
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
    if p.get("frame", "acquisition") == "sagittal":
        return preprocess_sagittal(image_path, mask_path, p)
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
    side_t = p["tumour_fov_mm"] if p.get("tumour_fov_mm", 0) > 0 else max(w, h) + 2 * p["tumour_margin_mm"]
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


# Canonical axes in LPS: crop x anterior -> posterior, crop y superior -> inferior, plane normal
# towards the patient's right (src/imaging/roi.h).
AX_X, AX_Y, AX_N = np.array([0.0, 1, 0]), np.array([0.0, 0, -1]), np.array([-1.0, 0, 0])
RAS_TO_LPS = np.diag([-1.0, -1, 1, 1])


def preprocess_sagittal(image_path, mask_path, p):
    """The sagittal frame: planes of the canonical frame sampled from the volume (trilinear),
    centre plane of largest tumour area (nearest-neighbour mask on the plane's lattice), fixed
    fields of view; see src/imaging/roi.h for the rule this re-implements."""
    img = nib.load(image_path)
    data = img.get_fdata(dtype=np.float32)
    mask = np.asanyarray(nib.load(mask_path).dataobj) > 0.5
    aff = RAS_TO_LPS @ img.affine  # voxel -> LPS
    inv = np.linalg.inv(aff)
    zooms = np.array(img.header.get_zooms()[:3], dtype=np.float64)
    s = p["spacing_mm"]
    ijk = np.argwhere(mask).astype(np.float64)
    world = ijk @ aff[:3, :3].T + aff[:3, 3]
    uvt = np.stack([world @ AX_X, world @ AX_Y, world @ AX_N], axis=1)
    lo, hi = uvt.min(axis=0), uvt.max(axis=0)
    slack = zooms.max()
    a0, a1 = int(np.floor((lo[0] - slack) / s)), int(np.ceil((hi[0] + slack) / s))
    b0, b1 = int(np.floor((lo[1] - slack) / s)), int(np.ceil((hi[1] + slack) / s))
    aa, bb = np.meshgrid(np.arange(a0, a1 + 1), np.arange(b0, b1 + 1), indexing="xy")

    def to_index(u, v, t):
        w = np.multiply.outer(u, AX_X) + np.multiply.outer(v, AX_Y) + np.multiply.outer(t, AX_N)
        return w @ inv[:3, :3].T + inv[:3, 3]

    def mask_on_plane(t):
        x = to_index(aa * s, bb * s, np.full(aa.shape, t))
        n = np.floor(x + 0.5).astype(np.int64)
        ok = np.all((n >= 0) & (n < np.array(mask.shape)), axis=-1)
        out = np.zeros(aa.shape, dtype=bool)
        out[ok] = mask[n[ok, 0], n[ok, 1], n[ok, 2]]
        return out

    normal = aff[:3, 2] / np.linalg.norm(aff[:3, 2])
    if abs(normal @ AX_N) > np.cos(np.pi / 180.0):
        ts = [(aff[:3, :3] @ [0, 0, k] + aff[:3, 3]) @ AX_N for k in range(mask.shape[2])]
        cands = [t for t in ts if lo[2] - 0.5 * zooms[2] <= t <= hi[2] + 0.5 * zooms[2]]
    else:
        cands, t = [], lo[2] - 0.5 * slack
        while t <= hi[2] + 0.5 * slack + 1e-9:
            cands.append(t)
            t += 0.5
    best, best_t = -1, 0.0
    for t in sorted(cands):
        n = int(mask_on_plane(t).sum())
        if n > best:
            best, best_t = n, t
    m = mask_on_plane(best_t)
    if best > 0:
        us, vs = aa[m], bb[m]
        cu, cv = (us.min() + us.max()) / 2.0 * s, (vs.min() + vs.max()) / 2.0 * s
        w, h = (us.max() - us.min() + 1) * s, (vs.max() - vs.min() + 1) * s
    else:
        cu, cv = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
        w, h, best_t, best = hi[0] - lo[0] + s, hi[1] - lo[1] + s, (lo[2] + hi[2]) / 2, 0
    side_t = p["tumour_fov_mm"] if p["tumour_fov_mm"] > 0 else max(w, h) + 2 * p["tumour_margin_mm"]
    side_c = p["context_fov_mm"] if p["context_fov_mm"] > 0 else side_t + 2 * p["context_margin_mm"]
    st = intensity_stats(data, p)
    pad = (st["lo"] - st["mean"]) / st["sd"]
    k = p["neighbours"]
    half = 0.5 * max(side_t, side_c) + 2 * s
    x0, x1 = int(np.floor((cu - half) / s)), int(np.ceil((cu + half) / s))
    y0, y1 = int(np.floor((cv - half) / s)), int(np.ceil((cv + half) / s))
    gx, gy = np.meshgrid(np.arange(x0, x1 + 1) * s, np.arange(y0, y1 + 1) * s, indexing="xy")  # [y][x]
    slab = []
    for c in range(2 * k + 1):
        t = best_t - k * p["slice_spacing_mm"] + c * p["slice_spacing_mm"]
        x = to_index(gx, gy, np.full(gx.shape, t))
        outside = np.any((x < -0.5) | (x > np.array(data.shape) - 0.5), axis=-1)
        xc = np.clip(x, 0, np.array(data.shape) - 1)
        raw = ndimage.map_coordinates(data, [xc[..., 0], xc[..., 1], xc[..., 2]], order=1, mode="nearest")
        val = (np.clip(raw.astype(np.float64), st["lo"], st["hi"]) - st["mean"]) / st["sd"]
        slab.append(np.where(outside, pad, val).astype(np.float32))
    cx, cy = cu / s - x0, cv / s - y0

    def crop(side, size):
        pix = side / size
        off = (np.arange(size) - (size - 1) / 2.0) * pix / s
        yy, xx = np.meshgrid(cy + off, cx + off, indexing="ij")  # [H][W]
        return np.stack([ndimage.map_coordinates(pl, [yy, xx], order=1, mode="constant", cval=pad)
                         for pl in slab]).astype(np.float32)

    centre = cu * AX_X + cv * AX_Y + best_t * AX_N
    return dict(tumour=crop(side_t, p["tumour_size_px"]), context=crop(side_c, p["context_size_px"]),
                slice_index=None, slices=None, stats=st, side_t=side_t, side_c=side_c, centre=(cx, cy),
                centre_lps=[float(c) for c in centre], area_mm2=best * s * s)


def main(args):
    pairs = list(zip(args[0::2], args[1::2]))
    t0, c0 = time.perf_counter(), time.process_time()
    for im, ma in pairs:
        preprocess(im, ma)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("%.6f %.6f" % (dt / len(pairs), dc / len(pairs)))


if __name__ == "__main__":
    main(sys.argv[1:])
