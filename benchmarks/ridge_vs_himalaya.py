#!/usr/bin/env python3
"""`brain2img ridge fit` against himalaya's RidgeCV, side by side on the same data, BLAS and thread count.

    /usr/bin/python3 benchmarks/ridge_vs_himalaya.py --n 4000 --p 2000 --t 6400 --alphas 7 --folds 5 --threads 2

Run it with the Python whose NumPy links the system OpenBLAS (Debian's /usr/bin/python3 with python3-numpy:
`libblas.so.3` → openblas-pthread), the same `libopenblas.so.0` that `brain2img` binds through FFM; the script
prints what NumPy links so that this can be checked. OPENBLAS_NUM_THREADS (and the JVM's -Dbrain2img.threads) are
set to --threads for both before either starts.

The peer is himalaya's `RidgeCV(solver="svd")` on the NumPy backend when himalaya is importable. Otherwise it is
"himalaya-equivalent NumPy": the same algorithm written here from himalaya's `solve_group_ridge_random_search`
(which `solve_ridge_cv_svd`, hence `RidgeCV`, calls with one feature space): per fold, centre by the training
means, thin SVD of X_train, the resolution matrices V·diag(s/(s²+α))·Uᵀ for all alphas at once, X_test times
them, one batched matmul with Y_train for all targets, R² per alpha and target; mean over folds, best alpha per
target (ties to the larger alpha); refit on all samples with the matrices of the alphas used and each target's
column taken from its alpha. Both sides score held-out R² (SST around the held-out mean) and centre per fold,
so both choose alphas by the same rule; the script prints how many chosen alphas agree.

Data: X standard normal (n, p); Y = X[:, :64]·B + noise with a noise level rising across targets, f32.
Times are wall clock of the whole `brain2img ridge fit` process (JVM start and .npy loading included) and of
the NumPy fit call, with the CPU time of each (all threads; on a machine shared with other jobs the wall times
stretch with the load while CPU times stay comparable, though spinning BLAS threads inflate both sides' CPU).
The ratios are brain2img / peer. Build the jar first (`./brain2img --help`) so that no build is timed.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--p", type=int, default=2000)
    ap.add_argument("--t", type=int, default=6400)
    ap.add_argument("--alphas", type=int, default=7, help="alphas log-spaced over 1e-2..1e4")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--order", choices=["brain2img-first", "peer-first"], default="brain2img-first")
    ap.add_argument("--java-opts", default="", help="extra JVM options for brain2img (BRAIN2IMG_JAVA_OPTS)")
    return ap.parse_args()


ARGS = parse_args()
# before NumPy loads OpenBLAS: the thread count is read once at library load
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def blas_line():
    """Which BLAS NumPy's linalg module has mapped, read from this process's memory maps."""
    np.linalg.svd(np.ones((2, 2)))
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path or "lapack" in path:
                libs.add(os.path.realpath(path))
    return ", ".join(sorted(libs)) or "unknown"


def problem(n, p, t, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p), dtype=np.float32)
    q = min(p, 64)
    b = (rng.standard_normal((q, t)) / np.sqrt(q)).astype(np.float32)
    noise = rng.standard_normal((n, t), dtype=np.float32) * (0.3 + 3.0 * np.arange(t, dtype=np.float32) / t)
    return x, x[:, :q] @ b + noise


def kfold(n, k):
    """numpy.array_split of range(n) into k contiguous parts, as sklearn's KFold(k) without shuffling."""
    return np.array_split(np.arange(n), k)


def r2_score(y_true, y_pred):
    """himalaya.scoring.r2_score: 1 − SSE/SST over samples (axis −2), broadcast over leading axes."""
    sse = ((y_true - y_pred) ** 2).sum(-2)
    sst = ((y_true - y_true.mean(0)) ** 2).sum(0)
    return 1 - sse / sst


def decompose(x_train, alphas):
    """himalaya's _decompose_ridge(method="svd"): (A, p, n_train) matrices (XᵀX + αI)⁻¹Xᵀ via the thin SVD."""
    u, s, vt = np.linalg.svd(x_train, full_matrices=False)
    weighting = s / (alphas[:, None] + s ** 2)
    return vt.T @ (weighting[:, :, None] * u.T)


def himalaya_equivalent_ridge_cv(x, y, alphas, folds):
    """Returns (best alphas (t,), coefficients (p, t), intercept (t,)) as RidgeCV(fit_intercept=True) would."""
    n, t = y.shape
    parts = kfold(n, folds)
    scores = np.zeros((folds, len(alphas), t), dtype=x.dtype)
    for f, test in enumerate(parts):
        train = np.concatenate([parts[g] for g in range(folds) if g != f])
        x_mean = x[train].mean(0)
        matrix = (x[test] - x_mean) @ decompose(x[train] - x_mean, alphas)  # (A, n_test, n_train)
        y_train = y[train]
        y_mean = y_train.mean(0)
        predictions = matrix @ (y_train - y_mean)  # (A, n_test, t)
        scores[f] = r2_score(y[test] - y_mean, predictions)
    mean = scores.astype(np.float64).mean(0) + (np.log10(alphas) * 1e-10)[:, None]  # ties → larger alpha
    best = alphas[np.argmax(mean, 0)]
    x_mean, y_mean = x.mean(0), y.mean(0)
    used = np.unique(best)
    weights = decompose(x - x_mean, used) @ (y - y_mean)  # (used, p, t)
    coef = weights[np.searchsorted(used, best), :, np.arange(t)].T
    return best, coef, y_mean - x_mean @ coef


def run_peer(x, y, alphas, folds):
    try:
        from himalaya.backend import set_backend
        from himalaya.ridge import RidgeCV
        from himalaya.scoring import r2_score as himalaya_r2
        from sklearn.model_selection import KFold
    except ImportError:
        t0, c0 = time.perf_counter(), time.process_time()
        best, _, _ = himalaya_equivalent_ridge_cv(x, y, alphas, folds)
        return ("himalaya-equivalent NumPy (himalaya not installed)", time.perf_counter() - t0,
                time.process_time() - c0, best)
    set_backend("numpy")
    model = RidgeCV(alphas=alphas, cv=KFold(folds), fit_intercept=True,
                    solver_params=dict(score_func=himalaya_r2))
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(x, y)
    return ("himalaya RidgeCV (NumPy backend)", time.perf_counter() - t0, time.process_time() - c0,
            np.asarray(model.best_alphas_))


def run_brain2img(tmp, alphas, folds):
    out = tmp / "model.safetensors"
    cmd = [str(ROOT / "brain2img"), "ridge", "fit", "--x", str(tmp / "x.npy"), "--y", str(tmp / "y.npy"),
           "--alphas", ",".join(repr(float(a)) for a in alphas), "--folds", str(folds), "--dtype", "f32",
           "--out", str(out)]
    env = dict(os.environ, BRAIN2IMG_JAVA_OPTS=f"-Dbrain2img.threads={ARGS.threads} {ARGS.java_opts}".strip())
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sec, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode != 0:
        sys.exit("brain2img ridge fit failed:\n" + proc.stderr)
    for line in proc.stderr.splitlines():
        if line.startswith("ridge:"):
            print("   ", line)
    return sec, cpu, safetensors_f64(out, "alpha")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def safetensors_f64(path, key):
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    entry = json.loads(raw[8:8 + size])[key]
    begin, end = entry["data_offsets"]
    return np.frombuffer(raw[8 + size + begin:8 + size + end], dtype=np.float64)


def main():
    n, p, t, folds = ARGS.n, ARGS.p, ARGS.t, ARGS.folds
    alphas = np.logspace(-2, 4, ARGS.alphas).astype(np.float32)
    print(f"problem: n={n} p={p} t={t}, {len(alphas)} alphas (1e-2..1e4), {folds} folds, f32; "
          f"{ARGS.threads} BLAS threads; NumPy {np.__version__} BLAS: {blas_line()}")
    x, y = problem(n, p, t)
    with tempfile.TemporaryDirectory(prefix="ridge-vs-himalaya-") as d:
        tmp = Path(d)
        np.save(tmp / "x.npy", x)
        np.save(tmp / "y.npy", y)
        results = {}
        order = ["brain2img", "peer"] if ARGS.order == "brain2img-first" else ["peer", "brain2img"]
        for who in order:
            print(f"[load average {os.getloadavg()[0]:.1f}]")
            if who == "brain2img":
                results[who] = run_brain2img(tmp, alphas, folds)
                print(f"brain2img ridge fit: {results[who][0]:.1f} s wall, {results[who][1]:.1f} s CPU")
            else:
                name, sec, cpu, best = run_peer(x, y, alphas, folds)
                results[who] = (sec, cpu, best)
                print(f"{name}: {sec:.1f} s wall, {cpu:.1f} s CPU")
    (ours, our_cpu, our_alpha), (theirs, their_cpu, their_alpha) = results["brain2img"], results["peer"]
    agree = int(np.sum(np.isclose(our_alpha, their_alpha.astype(np.float64), rtol=1e-6)))
    print(f"[load average {os.getloadavg()[0]:.1f}]")
    print(f"chosen alphas agree on {agree} of {t} targets")
    print(f"ratio brain2img / peer: {ours / theirs:.2f} wall, {our_cpu / their_cpu:.2f} CPU")


if __name__ == "__main__":
    main()
