#!/usr/bin/python3
"""Writes a small synthetic run folder (tests/data/report/run) in the formats of docs/report.md
(metrics.json cervirisk-metrics/2, model.json cervirisk-model/2), for the report tests. The
numbers are consistent with the predictions they describe, computed on the patients with a binary
outcome (one internal patient has label NA: censored before the 36-month horizon; one external
patient has no follow-up time, NA, and is left out of the survival statistics):
AUC = sklearn.metrics.roc_auc_score; its CI by Hanley & McNeil (1982); Se/Sp/PPV/NPV at the
threshold 0.5 with Wilson intervals; p vs msm_tc from scipy's two-sided normal tail of the AUC
difference over the unpaired variance (a stand-in; the study runner writes paired DeLong), Holm-
adjusted over the other variants of the cohort; probability = sigmoid(a + b logit) with model.json's
recalibration (a = -0.25, b = 0.8), "before recalibration" = sigmoid(logit); calibration slope =
glm(y ~ logit(p)), intercept = glm(y ~ offset(logit(p))) and calibration-in-the-large per centre,
both by Newton-Raphson here; Hosmer-Lemeshow over 5 quantile groups (chi-squared, 3 df);
Harrell's C of the logit with a normal-approximation CI (bootstrap sd); percentile bootstrap CIs (200 replicates, stratified by outcome,
numpy default_rng(9) after the data); cumulative/dynamic IPCW time-dependent AUC (censoring
Kaplan-Meier weights) at 12, 24, 36 months; continuous NRI, IDI and the likelihood-ratio test of
glm(y ~ logit_clinical) vs glm(y ~ logit_clinical + logit_variant); Kaplan-Meier with Greenwood
log-type CI, its value at 12/36/60 months, and the log-rank test written out here in numpy;
maxstat_p a stand-in (Bonferroni over the 10 candidate cut-points, not Lau94); median follow-up
by reverse Kaplan-Meier with the band's crossings as its CI.

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
RECAL_A, RECAL_B = -0.25, 0.8     # model.json recalibration: probability = sigmoid(a + b logit)
CUTPOINT = -0.6                   # risk-group cut-point on the logit (risk score)
HORIZON = 36.0
TD_HORIZONS = [12.0, 24.0, 36.0]
KM_TIMES = [12.0, 36.0, 60.0]
REPLICATES = 200
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


def classify(s, y, threshold=0.5):
    pos = s >= threshold
    return int((pos & (y == 1)).sum()), int((~pos & (y == 0)).sum()), int(pos.sum()), int((~pos).sum())


def logistic_fit(x, y, offset=None):
    """glm(y ~ x (+ offset), binomial) by Newton-Raphson; x = None: intercept only. Returns (coef, loglik)."""
    n = len(y)
    X = np.ones((n, 1)) if x is None else np.column_stack([np.ones(n)] + list(np.atleast_2d(x)))
    off = np.zeros(n) if offset is None else offset
    b = np.zeros(X.shape[1])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(60):
            p = 1 / (1 + np.exp(-(X @ b + off)))
            W = p * (1 - p)
            step = np.linalg.solve(X.T @ (X * W[:, None]) + 1e-12 * np.eye(X.shape[1]), X.T @ (y - p))
            b += step
            if not np.all(np.isfinite(b)) or np.max(np.abs(step)) < 1e-10:
                break
        else:
            b[:] = np.nan  # separation: no finite estimate
        if not np.all(np.isfinite(b)) or np.max(np.abs(b)) > 50:
            return np.full(X.shape[1], np.nan), float("nan")
        p = np.clip(1 / (1 + np.exp(-(X @ b + off))), 1e-300, 1 - 1e-16)
    return b, float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def calibration_fit(p, y):
    """(slope of glm(y ~ logit(p)), intercept of glm(y ~ offset(logit(p)))); None when one class."""
    if y.sum() == 0 or y.sum() == len(y):
        return None, None
    lp = np.log(p / (1 - p))
    return float(logistic_fit(lp, y)[0][1]), float(logistic_fit(None, y, offset=lp)[0][0])


def harrell_c(risk, time, event):
    num = den = 0.0
    for i in range(len(time)):
        if not event[i]:
            continue
        later = time > time[i]
        den += later.sum()
        num += (risk[i] > risk[later]).sum() + 0.5 * (risk[i] == risk[later]).sum()
    return float(num / den)


def percentile(values):
    v = np.array([x for x in values if x is not None and np.isfinite(x)])
    if len(v) == 0:  # e.g. the calibration slope of perfectly separated outcomes
        return [float("nan"), float("nan")]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]


def censoring_km(time, event):
    """G(t): Kaplan-Meier of the censoring distribution, as a function (left limit when strict)."""
    cens = np.unique(time[event == 0])
    steps, g = [], 1.0
    for u in cens:
        n = np.sum(time >= u)
        d = np.sum((time == u) & (event == 0))
        g *= 1 - d / n
        steps.append((u, g))

    def G(t, strict=False):
        val = 1.0
        for u, gv in steps:
            if u < t or (u == t and not strict):
                val = gv
        return val
    return G


def td_auc(risk, time, event, h):
    """Cumulative/dynamic AUC at h with IPCW weights (timeROC's definition)."""
    G = censoring_km(time, event)
    cases = (time <= h) & (event == 1)
    controls = time > h
    if cases.sum() == 0 or controls.sum() == 0:
        return float("nan"), int(cases.sum()), int(controls.sum())
    wi = np.array([1 / G(t, strict=True) for t in time[cases]])
    wj = 1 / G(h)
    rc, rn = risk[cases], risk[controls]
    conc = (rc[:, None] > rn[None, :]) + 0.5 * (rc[:, None] == rn[None, :])
    return float((wi[:, None] * wj * conc).sum() / (wi.sum() * wj * controls.sum())), int(cases.sum()), int(controls.sum())


def td_auc_entry(risk, time, event, h, rng):
    auc, ncase, nctrl = td_auc(risk, time, event, h)
    bs = []
    for _ in range(REPLICATES):
        b = rng.integers(0, len(time), len(time))
        bs.append(td_auc(risk[b], time[b], event[b], h)[0])
    return {"horizon": h, "auc": auc, "ci": percentile(bs), "cases": ncase, "controls": nctrl}


def nri_idi(p_old, p_new, y):
    up, down = p_new > p_old, p_new < p_old
    ev, ne = y == 1, y == 0
    nri_e = float(up[ev].mean() - down[ev].mean())
    nri_n = float(down[ne].mean() - up[ne].mean())
    idi = float((p_new[ev].mean() - p_new[ne].mean()) - (p_old[ev].mean() - p_old[ne].mean()))
    return nri_e + nri_n, nri_e, nri_n, idi


def incremental(p_old, p_new, l_old, l_new, y, rng):
    nri, nri_e, nri_n, idi = nri_idi(p_old, p_new, y)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    bn, bi = [], []
    for _ in range(REPLICATES):
        b = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        r = nri_idi(p_old[b], p_new[b], y[b])
        bn.append(r[0])
        bi.append(r[3])
    ll0 = logistic_fit(l_old, y)[1]
    ll1 = logistic_fit(np.vstack([l_old, l_new]), y)[1]
    lr = 2 * (ll1 - ll0)
    return {"over": "clinical", "nri": nri, "nri_events": nri_e, "nri_nonevents": nri_n, "nri_ci": percentile(bn),
            "idi": idi, "idi_ci": percentile(bi), "lr_chisq": lr, "lr_df": 1, "lr_p": float(chi2.sf(lr, 1))}


def holm(ps):
    order = np.argsort(ps)
    out, run = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        run = max(run, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = run
    return out


def km_at(ts, sv, lo, hi, follow, label, when):
    """summary(survfit, times): the step function's value at `when`; null beyond the last follow-up."""
    if when > follow.max():
        return {"group": label, "time": when, "n_risk": 0, "surv": None, "ci": [None, None]}
    k = max(i for i, t in enumerate(ts) if t <= when)
    return {"group": label, "time": when, "n_risk": int((follow >= when).sum()), "surv": sv[k], "ci": [lo[k], hi[k]]}


def binned(s, y, groups=5):
    bins = np.quantile(s, np.linspace(0, 1, groups + 1))
    pred, obs, stat = [], [], 0.0
    for b in range(groups):
        sel = (s >= bins[b]) & ((s <= bins[b + 1]) if b == groups - 1 else (s < bins[b + 1]))
        if sel.sum() == 0:
            continue
        e, o, n = s[sel].sum(), y[sel].sum(), sel.sum()
        pred.append(float(s[sel].mean())); obs.append(float(y[sel].mean()))
        stat += (o - e) ** 2 / (e * (1 - e / n))
    return pred, obs, float(chi2.sf(stat, len(pred) - 2))


def net_benefit(s, y, th):
    return [float(((s >= p) & (y == 1)).sum() / len(y) - ((s >= p) & (y == 0)).sum() / len(y) * p / (1 - p)) for p in th]


def reverse_km_summary(time, event):
    ts, sv, lo, hi = km(time, 1 - event)
    def first_below(curve):
        for t, v in zip(ts, curve):
            if v <= 0.5:
                return t
        return None
    at = [v for t, v in zip(ts, sv) if t <= HORIZON][-1]
    return {"median": first_below(sv), "ci": [first_below(lo), first_below(hi)], "followed_at_horizon": at}


def clean(x):
    """JSON as metrics.json writes it: NaN as null, numpy scalars as numbers."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(x) else float(x)
    return x


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
            center = {"train": "C1", "internal": "C1" if i % 2 else "C2", "external": "C3" if i % 3 else "C4"}[c]
            patients.append({"id": f"{c[:3].upper()}{i:03d}", "cohort": c, "center": center, "label": label,
                             "time": min(time, 72.0), "event": event, "z": rng.normal()})
    # One internal patient censored at 20 months without a recurrence: no binary outcome at 36 months.
    na_label = next(pt for pt in patients if pt["cohort"] == "internal" and pt["label"] == 0)
    na_label.update(time=20.0, event=0)
    # One external patient without a follow-up time.
    na_time = next(pt for pt in patients if pt["cohort"] == "external" and pt["label"] == 0)
    metrics, survival, calibration, decision, centers, follow_up = [], [], [], [], [], []
    logits, probs = {}, {}
    for v in VARIANTS:
        rows = ["id,cohort,center,label,time_months,event,logit,probability,risk,risk_group"]
        p, lg = [], []
        for pt in patients:
            logit = STRENGTH[v] * (pt["label"] - 0.3) * 1.5 + rng.normal() * 1.2 - 0.8
            logit = float(f"{logit:.6f}")
            prob = float(f"{1 / (1 + math.exp(-(RECAL_A + RECAL_B * logit))):.6f}")
            p.append(prob)
            lg.append(logit)
            grp = "high" if logit > CUTPOINT else "low"
            label = "NA" if pt is na_label else pt["label"]
            time = "NA" if pt is na_time else pt["time"]
            rows.append(f'{pt["id"]},{pt["cohort"]},{pt["center"]},{label},{time},{pt["event"]},{logit:.6f},{prob:.6f},'
                        f'{logit:.6f},{grp}')
        probs[v], logits[v] = np.array(p), np.array(lg)
        with open(os.path.join(out, "predictions", v + ".csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
    has_label = np.array([pt is not na_label for pt in patients])
    has_time = np.array([pt is not na_time for pt in patients])
    labels = np.array([pt["label"] for pt in patients])
    times = np.array([pt["time"] for pt in patients])
    events = np.array([pt["event"] for pt in patients])
    cohort_of = np.array([pt["cohort"] for pt in patients])
    center_of = np.array([pt["center"] for pt in patients])
    boot = np.random.default_rng(9)
    design = {"endpoint": "horizon", "horizon_months": HORIZON, "selection": "internal", "validation_fraction": None,
              "folds": 0, "loss": "bce", "class_balance": "weighted", "recalibration": "logistic",
              "threshold": "fixed", "cutpoint": "maxstat", "bootstrap": REPLICATES, "seeds": 1, "synthetic": True,
              "tdauc_horizons": TD_HORIZONS, "km_times": KM_TIMES}
    for c in COHORTS:
        idx = (cohort_of == c) & has_label
        tdx = (cohort_of == c) & has_time
        y = labels[idx]
        t_all, e_all = times[tdx], events[tdx]
        raw_p = {}
        rows_c = []
        for v in VARIANTS:
            s = probs[v][idx]
            r = 1 / (1 + np.exp(-logits[v][idx]))
            raw_p[v] = r
            auc = roc_auc_score(y, s)
            var = hanley(auc, y.sum(), (1 - y).sum())
            se_ = math.sqrt(var)
            k = classify(s, y)
            tp, tn, npos, nneg = k
            slope, citl = calibration_fit(s, y)
            slope_r, citl_r = calibration_fit(r, y)
            m = {"variant": v, "cohort": c, "n": int(idx.sum()), "events": int(y.sum()),
                 "excluded": int(((cohort_of == c) & ~has_label).sum()),
                 "missing_time": int(((cohort_of == c) & ~has_time).sum()),
                 "auc": auc, "auc_ci": [max(0, auc - 1.96 * se_), min(1, auc + 1.96 * se_)], "threshold": 0.5,
                 "sensitivity": tp / y.sum(), "sensitivity_ci": wilson(tp, int(y.sum())),
                 "specificity": tn / (1 - y).sum(), "specificity_ci": wilson(tn, int((1 - y).sum())),
                 "ppv": tp / npos, "ppv_ci": wilson(tp, npos), "npv": tn / nneg, "npv_ci": wilson(tn, nneg),
                 "brier": float(np.mean((s - y) ** 2)), "calibration_slope": slope, "calibration_intercept": citl,
                 "calibration_raw": {"brier": float(np.mean((r - y) ** 2)), "slope": slope_r, "intercept": citl_r}}
            c_idx = harrell_c(logits[v][tdx], t_all, e_all)
            m["c_index"] = c_idx
            # bootstrap: stratified by outcome (binary statistics) / plain (C-index)
            bs = {"sensitivity": [], "specificity": [], "ppv": [], "npv": [], "c_index": [], "calibration_slope": []}
            pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
            for _ in range(REPLICATES):
                b = np.concatenate([boot.choice(pos, len(pos)), boot.choice(neg, len(neg))])
                btp, btn, bnp, bnn = classify(s[b], y[b])
                bs["sensitivity"].append(btp / len(pos))
                bs["specificity"].append(btn / len(neg))
                bs["ppv"].append(btp / bnp if bnp else np.nan)
                bs["npv"].append(btn / bnn if bnn else np.nan)
                bs["calibration_slope"].append(calibration_fit(s[b], y[b])[0])
                bt = boot.integers(0, len(t_all), len(t_all))
                bs["c_index"].append(harrell_c(logits[v][tdx][bt], t_all[bt], e_all[bt]))
            m["bootstrap"] = {"replicates": REPLICATES, **{kk: percentile(vv) for kk, vv in bs.items()}}
            sd_c = float(np.std(bs["c_index"], ddof=1))  # a normal-approximation CI, unlike the bootstrap's percentiles
            m["c_index_ci"] = [c_idx - 1.96 * sd_c, min(1.0, c_idx + 1.96 * sd_c)]
            m["td_auc"] = [td_auc_entry(logits[v][tdx], t_all, e_all, h, boot) for h in TD_HORIZONS]
            m["auc_ipcw"] = td_auc_entry(logits[v][tdx], t_all, e_all, HORIZON, boot)
            if v != "clinical":
                m["incremental"] = incremental(probs["clinical"][idx], s, logits["clinical"][idx], logits[v][idx], y, boot)
            metrics.append(m)
            rows_c.append(m)
            # per centre
            for ctr in sorted(set(center_of[idx])):
                cdx = idx & (center_of == ctr)
                yc = labels[cdx]
                entry = {"variant": v, "cohort": c, "center": str(ctr), "n": int(cdx.sum()), "events": int(yc.sum())}
                if 0 < yc.sum() < len(yc):
                    a = roc_auc_score(yc, probs[v][cdx])
                    sa = math.sqrt(hanley(a, yc.sum(), (1 - yc).sum()))
                    entry["auc"], entry["auc_ci"] = a, [max(0, a - 1.96 * sa), min(1, a + 1.96 * sa)]
                else:
                    entry["auc"] = None
                entry["citl"] = calibration_fit(probs[v][cdx], yc)[1]
                centers.append(entry)
        # DeLong stand-in against msm_tc, Holm-adjusted over the other variants of the cohort
        ref_auc = rows_c[VARIANTS.index("msm_tc")]["auc"]
        others = [m for m in rows_c if m["variant"] != "msm_tc"]
        for m in others:
            z = (m["auc"] - ref_auc) / math.sqrt(hanley(m["auc"], y.sum(), (1 - y).sum()) + hanley(ref_auc, y.sum(), (1 - y).sum()))
            m["delong_p"] = float(2 * norm.sf(abs(z)))
        for m, ph in zip(others, holm([m["delong_p"] for m in others])):
            m["delong_p_holm"] = ph
        # survival, calibration and decision curve of the reference variant
        s = probs["msm_tc"][idx]
        r = raw_p["msm_tc"]
        risk = logits["msm_tc"][tdx]
        high = risk > CUTPOINT
        groups, at_times = [], []
        for label, g in (("Low risk", ~high), ("High risk", high)):
            ts, sv, lo, hi = km(t_all[g], e_all[g])
            groups.append({"label": label, "time": ts, "surv": sv, "lower": lo, "upper": hi,
                           "censor_times": [float(x) for x in t_all[g][e_all[g] == 0]], "follow_up": [float(x) for x in t_all[g]]})
            for when in KM_TIMES:
                at_times.append(km_at(ts, sv, lo, hi, t_all[g], label, when))
        pval, o_e, v_ = logrank(t_all, e_all, high)
        hr = math.exp(o_e / v_)
        srow = {"variant": "msm_tc", "cohort": c, "cutpoint": CUTPOINT, "logrank_p": pval, "hr": hr,
                "hr_ci": [math.exp(o_e / v_ - 1.96 / math.sqrt(v_)), math.exp(o_e / v_ + 1.96 / math.sqrt(v_))],
                "groups": groups, "at_times": at_times}
        if c == "train":
            srow["maxstat_p"] = min(1.0, 10 * pval)
        survival.append(srow)
        pred, obs, hl_p = binned(s, y)
        pred_r, obs_r, hl_p_r = binned(r, y)
        slope, citl = calibration_fit(s, y)
        slope_r, citl_r = calibration_fit(r, y)
        calibration.append({"variant": "msm_tc", "cohort": c, "predicted": pred, "observed": obs, "hl_p": hl_p,
                            "brier": float(np.mean((s - y) ** 2)), "slope": slope, "intercept": citl,
                            "predicted_raw": pred_r, "observed_raw": obs_r, "hl_p_raw": hl_p_r,
                            "fit_raw": {"brier": float(np.mean((r - y) ** 2)), "slope": slope_r, "intercept": citl_r}})
        th = [round(0.01 * k, 2) for k in range(1, 61)]
        prev = y.mean()
        ta = [float(prev - (1 - prev) * p / (1 - p)) for p in th]
        decision.append({"variant": "msm_tc", "cohort": c, "threshold": th, "net_benefit": net_benefit(s, y, th),
                         "treat_all": ta, "net_benefit_raw": net_benefit(r, y, th)})
        # follow-up: the cohort, then each centre
        for ctr in [""] + sorted(set(center_of[cohort_of == c])):
            sel = (cohort_of == c) & ((center_of == ctr) if ctr else True)
            fsel = sel & has_time
            follow_up.append({"cohort": c, "center": str(ctr), "n": int(sel.sum()), "events": int(events[fsel].sum()),
                              "missing_time": int((sel & ~has_time).sum()), **reverse_km_summary(times[fsel], events[fsel])})
    warnings = ["train.selection = internal: the internal cohort chose the training epoch, so its results are optimistic",
                "Median follow-up differs between the cohorts: train %.1f, external %.1f months"
                % (follow_up[0]["median"], next(f for f in follow_up if f["cohort"] == "external")["median"])]
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(clean({"format": "cervirisk-metrics/2", "design": design, "reference_variant": "msm_tc",
                         "variants": VARIANTS, "cohorts": list(COHORTS), "metrics": metrics, "survival": survival,
                         "calibration": calibration, "decision_curve": decision, "centers": centers,
                         "follow_up": follow_up, "warnings": warnings}), f, indent=1, allow_nan=False)
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
            json.dump({"format": "cervirisk-model/2", "variant": v, "preset": "cpu-small", "arch": {}, "threshold": 0.5,
                       "cutpoint": CUTPOINT, "seed": 42, "best_epoch": 11, "epochs_done": 15, "stopped_early": False,
                       "fingerprint": "fixture", "config_sha256": "3f" * 32,
                       "training_cohort": {"n": 60, "events": 18, "prevalence": 0.3, "auc": 0.8,
                                           "probability_quantiles": [0.1, 0.2, 0.3, 0.5, 0.7]},
                       "recalibration": {"method": "logistic", "intercept": RECAL_A, "slope": RECAL_B,
                                         "fitted_on": "training cohort", "n": 60, "events": 18,
                                         "note": "train.selection = internal: fitted on the training cohort's own predictions"},
                       "selection": {"mode": "internal", "validation_n": 0, "validation_events": 0, "folds": 0,
                                     "fold_best_epochs": []}}, f)
    with open(os.path.join(out, "PROVENANCE"), "w") as f:
        f.write(f"Generated by scripts/report_fixture.py (numpy {np.__version__}, scipy {scipy.__version__}, "
                f"scikit-learn {sklearn.__version__}):\n  /usr/bin/python3 scripts/report_fixture.py tests/data/report/run\n"
                "Synthetic data; see the script's docstring for how each number was computed.\n")


if __name__ == "__main__":
    main(sys.argv[1])
