#!/usr/bin/env python3
"""Golden values from scikit-learn for the calibration curve and the Brier score.

Run from the repository root (after scripts/stats_goldens.R wrote tests/data/stats/binary.csv):
    /usr/bin/python3 scripts/stats_goldens_sklearn.py
Writes tests/data/stats/sklearn_calibration.json.
"""
import csv
import json

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

rows = list(csv.DictReader(open("tests/data/stats/binary.csv")))
y = np.array([int(r["y"]) for r in rows])
p = np.array([float(r["prob"]) for r in rows])
out = {"brier": float(brier_score_loss(y, p))}
for strategy in ("uniform", "quantile"):
    for n_bins in (5, 10):
        frac_pos, mean_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
        out[f"{strategy}_{n_bins}"] = {"frac_pos": frac_pos.tolist(), "mean_pred": mean_pred.tolist()}
out["provenance"] = (f"/usr/bin/python3 scripts/stats_goldens_sklearn.py; scikit-learn {sklearn.__version__}, "
                     f"numpy {np.__version__}")
json.dump(out, open("tests/data/stats/sklearn_calibration.json", "w"), indent=1)
