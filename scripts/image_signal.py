#!/usr/bin/python3
"""What an image model learned, on a synthetic cohort: the Pearson correlation of each variant's
logit with the simulation's truth (truth.csv: the image oracle, the tumour size, the texture
latent), per cohort and per centre within a cohort.

    /usr/bin/python3 scripts/image_signal.py RUN_DIR TRUTH_CSV [variant ...]

RUN_DIR is a study run folder (predictions/<variant>.csv); TRUTH_CSV the synthetic cohort's
truth.csv (`cervirisk synth`). Needs python3-numpy and python3-scipy (Debian). A model that
tracks tumour size on the training centres but not on the external one has learned a centre-
specific proxy for size (docs/study.md "Measured").
"""
import csv
import sys

import numpy as np
from scipy.stats import pearsonr


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    run, truth_csv = argv[1], argv[2]
    variants = argv[3:] or ["convnext", "vit", "msm"]
    truth = {r["patient_id"]: r for r in csv.DictReader(open(truth_csv, newline=""))}
    print("variant   cohort    centre    n  r(logit,oracle_image)  r(logit,size_cm)  r(logit,texture)  r(oracle_image,size)")
    for v in variants:
        rows = list(csv.DictReader(open(f"{run}/predictions/{v}.csv", newline="")))
        groups = []
        for cohort in ("train", "internal", "external"):
            in_cohort = [r for r in rows if r["cohort"] == cohort]
            groups.append((cohort, "all", in_cohort))
            centres = sorted({r["center"] for r in in_cohort})
            if len(centres) > 1:
                groups += [(cohort, c, [r for r in in_cohort if r["center"] == c]) for c in centres]
        for cohort, centre, sel in groups:
            if len(sel) < 3:
                continue
            logit = np.array([float(r["logit"]) for r in sel])
            t = [truth[r["id"]] for r in sel]
            oracle = np.array([float(x["oracle_image"]) for x in t])
            size = np.array([float(x["size_cm"]) for x in t])
            texture = np.array([float(x["texture_latent"]) for x in t])
            print(f"{v:9s} {cohort:9s} {centre:6s} {len(sel):4d}  {pearsonr(logit, oracle)[0]:+21.2f}  "
                  f"{pearsonr(logit, size)[0]:+16.2f}  {pearsonr(logit, texture)[0]:+16.2f}  "
                  f"{pearsonr(oracle, size)[0]:+20.2f}")


if __name__ == "__main__":
    main(sys.argv)
