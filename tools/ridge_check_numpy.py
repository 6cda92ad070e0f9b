#!/usr/bin/env python3
"""Cross-checks `brain2img ridge fit` against an independent NumPy implementation of the same semantics
(numpy.array_split folds over samples or groups in first-appearance order, training-fold centring and ddof-0
standardisation, held-out R² averaged over folds, best alpha per target with ties to the larger alpha, refit
on all samples), on the real fMRI of shared/data/vangerven-digits (90 training trials, 3092 voxels → 784 pixels).

    python3 tools/ridge_check_numpy.py OUTDIR          # writes OUTDIR/{X,Y,g}.npy and prints the fit commands
    ./brain2img ridge fit --x OUTDIR/X.npy --y OUTDIR/Y.npy --alphas 1e-1,1,10,100,1e3,1e4,1e5 --standardize \
        --dtype f64 --out OUTDIR/m.safetensors
    python3 tools/ridge_check_numpy.py OUTDIR OUTDIR/m.safetensors [--groups]

Needs numpy and scipy (to read the .mat file). The reference solves the kernel form
W = Xcᵀ (Xc Xcᵀ + αI)⁻¹ Yc with numpy.linalg.solve per fold and alpha.
"""
import json
import pathlib
import struct
import sys

import numpy as np
import scipy.io as sio

ALPHAS = np.array([1e-1, 1, 10, 100, 1e3, 1e4, 1e5])
MAT = pathlib.Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data' / 'vangerven-digits' / 'digit69_28x28.mat'


def data():
    m = sio.loadmat(MAT)
    x = np.ascontiguousarray(m['fmriTrn'], dtype=np.float64)
    y = np.ascontiguousarray(m['stimTrn'], dtype=np.float64) / 255.0
    # pseudo repetitions with scrambled ids: 5 consecutive trials share an id (18 groups → uneven folds of 4,4,4,3,3)
    g = (1000 - (np.arange(len(x)) // 5) * 37 % 101).astype(np.int64)
    return x, y, g


def fit(x, y, alphas, k, groups=None, standardize=True):
    n = len(x)
    if groups is None:
        unit = np.arange(n)
        units = np.arange(n)
    else:
        _, first = np.unique(groups, return_index=True)
        order = groups[np.sort(first)]
        unit = np.array([np.flatnonzero(order == v)[0] for v in groups])
        units = np.arange(len(order))
    score = np.zeros((len(alphas), y.shape[1]))

    def stats(rows):
        mu = x[rows].mean(0)
        sd = x[rows].std(0) if standardize else np.ones(x.shape[1])
        sd[sd == 0] = 1
        return mu, sd, y[rows].mean(0)

    for part in np.array_split(units, k):
        te = np.isin(unit, part)
        tr = ~te
        mu, sd, ym = stats(tr)
        xc, xe, yc = (x[tr] - mu) / sd, (x[te] - mu) / sd, y[tr] - ym
        kern = xc @ xc.T
        sst = ((y[te] - y[te].mean(0)) ** 2).sum(0)
        for a, alpha in enumerate(alphas):
            w = xc.T @ np.linalg.solve(kern + alpha * np.eye(len(kern)), yc)
            sse = ((y[te] - xe @ w - ym) ** 2).sum(0)
            safe = np.where(sst > 0, sst, 1)
            score[a] += np.where(sst > 0, 1 - sse / safe, np.where(sse == 0, 1.0, 0.0)) / k
    best = np.array([max(range(len(alphas)), key=lambda a: (score[a, j], alphas[a])) for j in range(y.shape[1])])
    mu, sd, ym = stats(np.ones(n, bool))
    xc = (x - mu) / sd
    kern = xc @ xc.T
    coef = np.zeros((x.shape[1], y.shape[1]))
    for a, alpha in enumerate(alphas):
        cols = best == a
        if cols.any():
            coef[:, cols] = xc.T @ np.linalg.solve(kern + alpha * np.eye(n), y[:, cols] - ym[cols])
    return alphas[best], coef, ym, score


def load_safetensors(path):
    b = pathlib.Path(path).read_bytes()
    hl = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + hl])
    out = {}
    for name, v in header.items():
        if name == '__metadata__':
            continue
        begin, end = v['data_offsets']
        dt = {'F32': np.float32, 'F64': np.float64}[v['dtype']]
        out[name] = np.frombuffer(b[8 + hl + begin:8 + hl + end], dtype=dt).reshape(v['shape'])
    return out, header.get('__metadata__', {})


def main():
    out = pathlib.Path(sys.argv[1])
    x, y, g = data()
    if len(sys.argv) == 2:
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / 'X.npy', x)
        np.save(out / 'Y.npy', y)
        np.save(out / 'g.npy', g)
        print(f'wrote {out}/X.npy {x.shape}, Y.npy {y.shape}, g.npy {g.shape}')
        return
    grouped = '--groups' in sys.argv
    alpha, coef, intercept, score = fit(x, y, ALPHAS, 5, g if grouped else None)
    model, meta = load_safetensors(sys.argv[2])
    print(f"alphas equal on {(model['alpha'] == alpha).sum()} of {len(alpha)} targets "
          f"({len(np.unique(alpha))} distinct alphas chosen)")
    print(f"coef relative error {np.linalg.norm(model['coef'] - coef) / np.linalg.norm(coef):.2e}, "
          f"intercept {np.linalg.norm(model['intercept'] - intercept) / np.linalg.norm(intercept):.2e}, "
          f"cv_score max abs difference {np.abs(model['cv_score'] - score).max():.2e}")
    print(f"model: dtype {meta.get('dtype')}, solver {meta.get('solver_cv')}, linalg {meta.get('linalg')}")


if __name__ == '__main__':
    main()
