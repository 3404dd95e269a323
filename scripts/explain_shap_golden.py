#!/usr/bin/python3
"""Independent numpy implementation of exact (group) Shapley and KernelSHAP (shap's
KernelExplainer algorithm, l1_reg off) used as the golden for tests/test_explain.cpp and as the
Python side of bench/explain.sh.

The coalition sampler uses splitmix64 (not numpy's generator) so that the C++ implementation
draws the very same coalitions from the same seed:
  u = (next() >> 11) * 2**-53; index = first i with u*cdf[-1] < cdf[i];
  permutation = Fisher-Yates, j = next() % (i+1) for i = M-1..1.

Usage:  /usr/bin/python3 scripts/explain_shap_golden.py tests/data/explain/shap12.json
"""
import itertools
import json
import math
import sys

import numpy as np

MASK64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53

    def choice(self, cdf):
        u = self.uniform() * cdf[-1]
        for i, c in enumerate(cdf):
            if u < c:
                return i
        return len(cdf) - 1

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next() % (i + 1)
            p[i], p[j] = p[j], p[i]
        return p


# The 12-feature test model (identical formula in tests/test_explain.cpp and bench/explain_bench.cpp).
W = np.array([0.8, -0.5, 0.3, 0.0, 0.6, -0.2, 0.1, 0.45, -0.35, 0.25, 0.05, -0.15])


def model12(X):
    X = np.atleast_2d(X)
    z = -0.2 + X @ W + 0.4 * X[:, 0] * X[:, 1] - 0.3 * X[:, 2] * X[:, 5] + 0.25 * np.tanh(X[:, 7] * X[:, 8])
    return 1.0 / (1.0 + np.exp(-z))


def link(p, name):
    return p if name == "identity" else np.log(p / (1 - p))


def coalition_values(model, x, bg, bw, masks, lk):
    nb = bg.shape[0]
    rows = np.repeat(bg[None, :, :], masks.shape[0], axis=0)  # S x nb x F
    m = masks.astype(bool)
    rows[m[:, None, :].repeat(nb, axis=1)] = np.broadcast_to(x, rows.shape)[m[:, None, :].repeat(nb, axis=1)]
    out = model(rows.reshape(-1, bg.shape[1])).reshape(masks.shape[0], nb)
    return link(out @ bw, lk)


def exact_shapley(model, x, bg, bw, lk, groups=None):
    groups = groups or [[j] for j in range(len(x))]
    p = len(groups)
    nc = 1 << p
    masks = np.zeros((nc, len(x)))
    for s in range(nc):
        for i in range(p):
            if (s >> i) & 1:
                masks[s, groups[i]] = 1.0
    v = coalition_values(model, x, bg, bw, masks, lk)
    v[0] = link(model(bg) @ bw, lk)
    v[-1] = link(model(x)[0], lk)
    phi = np.zeros(p)
    for s in range(nc):
        size = bin(s).count("1")
        for i in range(p):
            if not (s >> i) & 1:
                w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
                phi[i] += w * (v[s | (1 << i)] - v[s])
    return phi, v[-1], v[0]


def kernel_coalitions(M, nsamples, seed):
    if nsamples == 0:
        nsamples = 2 * M + 2048
    nsamples = min(nsamples, 2**M - 2)
    masks, weights = [], []
    num_subset_sizes = int(np.ceil((M - 1) / 2.0))
    num_paired = int(np.floor((M - 1) / 2.0))
    weight_vector = np.array([(M - 1.0) / (i * (M - i)) for i in range(1, num_subset_sizes + 1)])
    weight_vector[:num_paired] *= 2
    weight_vector /= np.sum(weight_vector)
    num_full = 0
    num_samples_left = nsamples
    remaining = weight_vector.copy()
    for size in range(1, num_subset_sizes + 1):
        nsubsets = math.comb(M, size)
        if size <= num_paired:
            nsubsets *= 2
        if num_samples_left * remaining[size - 1] / nsubsets >= 1.0 - 1e-8:
            num_full += 1
            num_samples_left -= nsubsets
            if remaining[size - 1] < 1.0:
                remaining /= 1 - remaining[size - 1]
            w = weight_vector[size - 1] / math.comb(M, size)
            if size <= num_paired:
                w /= 2.0
            for inds in itertools.combinations(range(M), size):
                mask = np.zeros(M)
                mask[list(inds)] = 1.0
                masks.append(mask.copy()); weights.append(w)
                if size <= num_paired:
                    masks.append(1.0 - mask); weights.append(w)
        else:
            break
    nfixed = len(masks)
    samples_left = nsamples - nfixed
    if num_full != num_subset_sizes and samples_left > 0:
        rw = weight_vector.copy()
        rw[:num_paired] /= 2
        rw = rw[num_full:]
        cdf = list(np.cumsum(rw))
        rng = SplitMix64(seed)
        ind_set = [rng.choice(cdf) for _ in range(4 * samples_left)]
        used = {}
        pos = 0
        while samples_left > 0 and pos < len(ind_set):
            size = ind_set[pos] + num_full + 1
            pos += 1
            mask = np.zeros(M)
            mask[rng.permutation(M)[:size]] = 1.0
            key = tuple(mask)
            fresh = False
            if key not in used:
                fresh = True
                used[key] = len(masks)
                samples_left -= 1
                masks.append(mask.copy()); weights.append(1.0)
            else:
                weights[used[key]] += 1.0
            if samples_left > 0 and size <= num_paired:
                if fresh:
                    samples_left -= 1
                    masks.append(1.0 - mask); weights.append(1.0)
                else:
                    weights[used[key] + 1] += 1.0
        weights = np.array(weights)
        weights[nfixed:] *= np.sum(weight_vector[num_full:]) / np.sum(weights[nfixed:])
    return np.array(masks), np.array(weights), nfixed


def kernel_shap(model, x, bg, bw, lk, nsamples=0, seed=0):
    fx = link(model(x)[0], lk)
    fnull = link(model(bg) @ bw, lk)
    p = len(x)
    phi = np.zeros(p)
    varying = [j for j in range(p) if not np.all(np.isclose(x[j], bg[:, j], equal_nan=True))]
    M = len(varying)
    if M == 0:
        return phi, fx, fnull
    if M == 1:
        phi[varying[0]] = fx - fnull
        return phi, fx, fnull
    masks, weights, _ = kernel_coalitions(M, nsamples, seed)
    full = np.zeros((masks.shape[0], p))
    full[:, varying] = masks
    y = coalition_values(model, x, bg, bw, full, lk) - fnull
    total = fx - fnull
    y2 = y - masks[:, -1] * total
    E = masks[:, :-1] - masks[:, -1:]
    WE = weights[:, None] * E
    w = np.linalg.solve(E.T @ WE, WE.T @ y2)
    phi[varying[:-1]] = w
    phi[varying[-1]] = total - w.sum()
    return phi, fx, fnull


def main(out):
    rng = np.random.default_rng(20261129)
    bg = np.round(rng.normal(size=(16, 12)), 3)
    bg[:, 10] = 0.0  # constant in the background: a patient with x10 = 0 makes it non-varying
    bw = np.full(16, 1 / 16)
    X = np.round(rng.normal(size=(3, 12)), 3)
    X[2, 10] = 0.0
    cases = []
    for lk in ("identity", "logit"):
        for i, x in enumerate(X):
            ex, fx, fnull = exact_shapley(model12, x, bg, bw, lk)
            ks, _, _ = kernel_shap(model12, x, bg, bw, lk, nsamples=0, seed=7 + i)
            cases.append({"link": lk, "patient": i, "fx": float(fx), "expected": float(fnull),
                          "exact": ex.tolist(), "kernel": ks.tolist(), "seed": 7 + i})
    masks, weights, nfixed = kernel_coalitions(12, 0, 7)
    doc = {
        "provenance": "scripts/explain_shap_golden.py (numpy %s, Python %s): /usr/bin/python3 scripts/explain_shap_golden.py tests/data/explain/shap12.json"
        % (np.__version__, sys.version.split()[0]),
        "model": "model12 in scripts/explain_shap_golden.py",
        "background": bg.tolist(), "X": X.tolist(), "cases": cases,
        "coalitions_m12_seed7": {"count": int(masks.shape[0]), "fixed": int(nfixed),
                                 "weight_sum": float(weights.sum()),
                                 "mask_checksum": float((masks * np.arange(1, 13)).sum(axis=1) @ np.arange(1, masks.shape[0] + 1))},
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
