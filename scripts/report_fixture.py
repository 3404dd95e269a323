#!/usr/bin/python3
"""Writes a small synthetic run folder (tests/data/report/run) in the formats of docs/report.md,
for the report tests. The numbers are consistent with the predictions they describe:
AUC = sklearn.metrics.roc_auc_score; its CI by Hanley & McNeil (1982); Se/Sp at the
threshold 0.5 with Wilson intervals; p vs msm_tc from scipy's two-sided normal tail of the AUC
difference over the unpaired variance (a stand-in; the study runner writes paired DeLong);
Kaplan-Meier with Greenwood log-type CI and the log-rank test written out here in numpy.

Usage: /usr/bin/python3 scripts/report_fixture.py tests/data/report/run
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import sklearn
from PIL import Image
from scipy.stats import chi2, norm
from sklearn.metrics import roc_auc_score

VARIANTS = ["clinical", "convnext", "vit", "msm", "msm_t", "msm_tc"]
COHORTS = {"train": 60, "internal": 40, "external": 40}
STRENGTH = {"clinical": 0.8, "convnext": 1.0, "vit": 1.1, "msm": 1.4, "msm_t": 1.6, "msm_tc": 1.9}
FEATURES = ["age", "FIGO stage", "SCC-Ag", "LVSI", "depth of invasion", "tumour size", "parametrial invasion", "lymph nodes"]


def wilson(k, n, z=1.959963984540054):
    if n == 0:
        return [None, None]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [c - h, c + h]


def hanley(auc, npos, nneg):
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (npos - 1) * (q1 - auc**2) + (nneg - 1) * (q2 - auc**2)) / (npos * nneg)
    return var


def km(time, event):
    order = np.argsort(time)
    t, e = time[order], event[order]
    ts, surv, lo, hi = [0.0], [1.0], [1.0], [1.0]
    s, gw = 1.0, 0.0
    for u in np.unique(t[e == 1]):
        n = np.sum(t >= u)
        d = np.sum((t == u) & (e == 1))
        s *= 1 - d / n
        gw += d / (n * (n - d)) if n > d else 0.0
        se = math.sqrt(gw)
        ts.append(float(u)); surv.append(s)
        lo.append(math.exp(math.log(s) - 1.96 * se) if s > 0 else 0.0)
        hi.append(min(1.0, math.exp(math.log(s) + 1.96 * se)) if s > 0 else 0.0)
    return ts, surv, lo, hi


def logrank(time, event, group):
    o_e, v = 0.0, 0.0
    for u in np.unique(time[event == 1]):
        at = time >= u
        n, n1 = at.sum(), (at & group).sum()
        d = ((time == u) & (event == 1)).sum()
        d1 = ((time == u) & (event == 1) & group).sum()
        o_e += d1 - d * n1 / n
        if n > 1:
            v += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    stat = o_e**2 / v
    return float(chi2.sf(stat, 1)), o_e, v


def tiny_png(path, w=96, h=72):
    y, x = np.mgrid[0:h, 0:w]
    grey = (80 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)).clip(0, 255)
    heat = np.exp(-((x - 50) ** 2 + (y - 36) ** 2) / 180.0)
    rgb = np.stack([grey + 120 * heat, grey + 60 * heat, grey * (1 - 0.5 * heat)], -1).clip(0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path)


def main(out):
    rng = np.random.default_rng(9)
    os.makedirs(os.path.join(out, "predictions"), exist_ok=True)
    os.makedirs(os.path.join(out, "explain"), exist_ok=True)
    patients = []
    for c, n in COHORTS.items():
        for i in range(n):
            label = int(rng.random() < 0.3)
            time = float(np.round(rng.exponential(30 if label else 80), 1)) + 1
            event = label if time < 60 else 0
            patients.append({"id": f"{c[:3].upper()}{i:03d}", "cohort": c, "label": label, "time": min(time, 72.0),
                             "event": event, "z": rng.normal()})
    metrics, survival, calibration, decision = [], [], [], []
    probs = {}
    for v in VARIANTS:
        rows = ["id,cohort,center,label,time_months,event,logit,probability,risk,risk_group"]
        p = []
        for pt in patients:
            logit = STRENGTH[v] * (pt["label"] - 0.3) * 1.5 + rng.normal() * 1.2 - 0.8
            prob = 1 / (1 + math.exp(-logit))
            p.append(prob)
            grp = "high" if prob >= 0.35 else "low"
            rows.append(f'{pt["id"]},{pt["cohort"]},C{"1" if pt["cohort"] != "external" else "3"},{pt["label"]},'
                        f'{pt["time"]},{pt["event"]},{logit:.6f},{prob:.6f},{logit:.6f},{grp}')
        probs[v] = np.array(p)
        with open(os.path.join(out, "predictions", v + ".csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
    for c in COHORTS:
        idx = np.array([pt["cohort"] == c for pt in patients])
        y = np.array([pt["label"] for pt in patients])[idx]
        ref_auc = roc_auc_score(y, probs["msm_tc"][idx])
        for v in VARIANTS:
            s = probs[v][idx]
            auc = roc_auc_score(y, s)
            var = hanley(auc, y.sum(), (1 - y).sum())
            se_ = math.sqrt(var)
            tp = int(((s >= 0.5) & (y == 1)).sum()); tn = int(((s < 0.5) & (y == 0)).sum())
            npos = int((s >= 0.5).sum()); nneg = int((s < 0.5).sum())
            m = {"variant": v, "cohort": c, "n": int(idx.sum()), "events": int(y.sum()),
                 "auc": auc, "auc_ci": [max(0, auc - 1.96 * se_), min(1, auc + 1.96 * se_)], "threshold": 0.5,
                 "sensitivity": tp / y.sum(), "sensitivity_ci": wilson(tp, int(y.sum())),
                 "specificity": tn / (1 - y).sum(), "specificity_ci": wilson(tn, int((1 - y).sum())),
                 "ppv": tp / npos, "ppv_ci": wilson(tp, npos), "npv": tn / nneg, "npv_ci": wilson(tn, nneg),
                 "brier": float(np.mean((s - y) ** 2)), "calibration_slope": None, "calibration_intercept": None}
            if v != "msm_tc":
                z = (auc - ref_auc) / math.sqrt(var + hanley(ref_auc, y.sum(), (1 - y).sum()))
                m["delong_p"] = float(2 * norm.sf(abs(z)))
            metrics.append(m)
        # survival, calibration and decision curve of the reference variant
        s = probs["msm_tc"][idx]
        t = np.array([pt["time"] for pt in patients])[idx]
        e = np.array([pt["event"] for pt in patients])[idx]
        high = s >= 0.35
        groups = []
        for label, g in (("Low risk", ~high), ("High risk", high)):
            ts, sv, lo, hi = km(t[g], e[g])
            groups.append({"label": label, "time": ts, "surv": sv, "lower": lo, "upper": hi,
                           "censor_times": [float(x) for x in t[g][e[g] == 0]], "follow_up": [float(x) for x in t[g]]})
        pval, o_e, v_ = logrank(t, e, high)
        hr = math.exp(o_e / v_)
        survival.append({"variant": "msm_tc", "cohort": c, "cutpoint": 0.35, "logrank_p": pval, "hr": hr,
                         "hr_ci": [math.exp(o_e / v_ - 1.96 / math.sqrt(v_)), math.exp(o_e / v_ + 1.96 / math.sqrt(v_))],
                         "groups": groups})
        bins = np.quantile(s, np.linspace(0, 1, 6))
        pred, obs = [], []
        for b in range(5):
            sel = (s >= bins[b]) & ((s <= bins[b + 1]) if b == 4 else (s < bins[b + 1]))
            if sel.sum() == 0:
                continue
            pred.append(float(s[sel].mean())); obs.append(float(y[sel].mean()))
        calibration.append({"variant": "msm_tc", "cohort": c, "predicted": pred, "observed": obs,
                            "brier": float(np.mean((s - y) ** 2)), "slope": None, "intercept": None})
        th = [round(0.01 * k, 2) for k in range(1, 61)]
        prev = y.mean()
        nb = [float(((s >= p) & (y == 1)).sum() / len(y) - ((s >= p) & (y == 0)).sum() / len(y) * p / (1 - p)) for p in th]
        ta = [float(prev - (1 - prev) * p / (1 - p)) for p in th]
        decision.append({"variant": "msm_tc", "cohort": c, "threshold": th, "net_benefit": nb, "treat_all": ta})
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"format": "cervirisk-metrics/1", "reference_variant": "msm_tc", "variants": VARIANTS, "cohorts": list(COHORTS), "metrics": metrics,
                   "survival": survival, "calibration": calibration, "decision_curve": decision}, f, indent=1)
    run = {"cervirisk_version": "0.1.0", "git_revision": "fixture", "command": "cervirisk study --config study.toml",
           "started_utc": "2026-11-29T08:00:00Z", "seed": 42, "synthetic": True,
           "runtime": {"torch": "1.13.1", "blas": "OpenBLAS", "device": "cpu", "intra_op_threads": "2"},
           "config": {"path": "study.toml", "sha256": "3f" * 32},
           "inputs": {"manifest": "ab" * 32, "P001/image": "cd" * 32, "P001/mask": "ef" * 32},
           "timings_s": {"train/msm_tc": 61.5, "total": 301.2}}
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
    with open(os.path.join(out, "table1.csv"), "w") as f:
        f.write("characteristic,train (n = 60),internal (n = 40),external (n = 40),p\n"
                "\"Age, years, median [IQR]\",49 [42-56],50 [44-57],48 [41-55],0.61\n"
                "\"FIGO stage IB, n (%)\",38 (63.3),24 (60.0),27 (67.5),0.78\n"
                "\"LVSI, n (%)\",21 (35.0),13 (32.5),15 (37.5),0.89\n"
                "\"Recurrence, n (%)\",18 (30.0),12 (30.0),11 (27.5),0.95\n")
    # explanations
    lines = ["id,cohort,variant,feature,value,phi"]
    mods = ["id,cohort,modality,phi"]
    for pt in patients[:50]:
        for j, feat in enumerate(FEATURES):
            val = round(float(rng.normal(loc=j)), 3)
            lines.append(f'{pt["id"]},{pt["cohort"]},msm_tc,{feat},{val},{round(0.05 * (8 - j) * (val - j) + rng.normal() * 0.01, 5)}')
        for m, w in (("image", 0.3), ("report", 0.15), ("clinical", 0.1)):
            mods.append(f'{pt["id"]},{pt["cohort"]},{m},{round(w * rng.normal(), 5)}')
    with open(os.path.join(out, "explain", "shap_clinical.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "explain", "modality_shapley.csv"), "w") as f:
        f.write("\n".join(mods) + "\n")
    tiny_png(os.path.join(out, "explain", "EXT001_gradcam_convnext.png"))
    ex = [{"id": "EXT001", "cohort": "external", "kind": "true positive", "variant": "msm_tc", "probability": 0.81,
           "label": 1, "modalities": [{"name": "image", "phi": 0.62}, {"name": "report", "phi": 0.21}, {"name": "clinical", "phi": -0.05}],
           "clinical": [{"feature": "LVSI", "value": "yes", "phi": 0.12}, {"feature": "age", "value": "51", "phi": -0.02}],
           "images": ["explain/EXT001_gradcam_convnext.png"]},
          {"id": "INT007", "cohort": "internal", "kind": "false negative", "variant": "msm_tc", "probability": 0.18,
           "label": 1, "modalities": [{"name": "image", "phi": -0.31}, {"name": "report", "phi": 0.05}, {"name": "clinical", "phi": -0.12}],
           "clinical": [{"feature": "FIGO stage", "value": "IB1", "phi": -0.09}], "images": []}]
    with open(os.path.join(out, "explain", "examples.json"), "w") as f:
        json.dump({"format": "cervirisk-examples/1", "examples": ex}, f, indent=1)
    for v in ("msm", "msm_tc"):
        os.makedirs(os.path.join(out, "models", v), exist_ok=True)
        with open(os.path.join(out, "models", v, "history.csv"), "w") as f:
            f.write("epoch,train_loss,val_loss,val_auc\n")
            for ep in range(1, 16):
                f.write(f"{ep},{0.69 * math.exp(-0.12 * ep):.5f},{0.69 * math.exp(-0.07 * ep) + 0.04:.5f},"
                        f"{0.6 + (0.25 if v == 'msm_tc' else 0.2) * (1 - math.exp(-0.3 * ep)):.5f}\n")
        with open(os.path.join(out, "models", v, "model.json"), "w") as f:
            json.dump({"format": "cervirisk-model/1", "variant": v, "preset": "cpu-small", "arch": {}, "threshold": 0.5,
                       "cutpoint": 0.35, "seed": 42, "best_epoch": 11, "epochs_done": 15, "stopped_early": False,
                       "fingerprint": "fixture", "config_sha256": "3f" * 32,
                       "training_cohort": {"n": 60, "events": 18, "prevalence": 0.3, "auc": 0.8,
                                           "probability_quantiles": [0.1, 0.2, 0.3, 0.5, 0.7]}}, f)
    with open(os.path.join(out, "PROVENANCE"), "w") as f:
        f.write(f"Generated by scripts/report_fixture.py (numpy {np.__version__}, scipy {scipy.__version__}, "
                f"scikit-learn {sklearn.__version__}):\n  /usr/bin/python3 scripts/report_fixture.py tests/data/report/run\n"
                "Synthetic data; see the script's docstring for how each number was computed.\n")


if __name__ == "__main__":
    main(sys.argv[1])
