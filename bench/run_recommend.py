#!/usr/bin/env python3
"""Recommendation benchmarks: facto next to NumPy/SciPy references in the same run.

1. Workload `ratings` (1M ratings, 20000 users x 5000 items, planted rank 10, noise floor RMSE
   0.30; ratings_train.txt / ratings_test.txt from gen_workloads.py): explicit ALS (mean +
   factors, unweighted L2) in facto and in a batched NumPy ALS (the same updates: per-row k x k
   normal equations stacked and solved by np.linalg.solve), per-iteration time, test RMSE after
   each iteration, time to reach test RMSE 0.36 and 0.35; facto SGD at rank 32 (LIBMF's setting),
   RMSE after 20 epochs.
2. Implicit-feedback ALS (Hu-Koren-Volinsky) at rank 32 on the same training pairs, 3 warm-started
   conjugate-gradient steps per row: facto against a NumPy/SciPy implementation that runs the CG
   for all users at once with sparse products (implicit's algorithm, vectorized).
3. MovieTweetings 100K, 5-fold cross-validation: RMSE of the global mean, the bias-only model and
   biased ALS (facto recommend eval).

Timings on a shared machine are noisy: read the ratios (facto against the reference in the same
run). Usage: /usr/bin/python3 bench/run_recommend.py --facto build/facto [--data DIR (default build/workloads, generated there if missing)]
           [--threads 2] [--quick] [--json out.json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def load_ratings(path):
    a = np.loadtxt(path, dtype=np.float64)
    return a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2]


# ---- NumPy references -------------------------------------------------------------------------

def als_half(indptr, indices, values, Y, reg, mu, chunk=4000):
    """Solves every row: (sum y y^T + reg I) x = sum (r - mu) y, rows batched."""
    n = len(indptr) - 1
    k = Y.shape[1]
    X = np.zeros((n, k))
    eye = reg * np.eye(k)
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        p0, p1 = indptr[r0], indptr[r1]
        Yg = Y[indices[p0:p1]]
        starts = indptr[r0:r1] - p0
        G = np.add.reduceat(Yg[:, :, None] * Yg[:, None, :], starts, axis=0) + eye
        b = np.add.reduceat(Yg * (values[p0:p1] - mu)[:, None], starts, axis=0)
        X[r0:r1] = np.linalg.solve(G, b[:, :, None])[:, :, 0]
    return X


def numpy_als(R, Rt, test, k, reg, iters, seed):
    mu = R.data.mean()
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((R.shape[1], k)) * 0.3
    tu, ti, tv = test
    hist = []
    for _ in range(iters):
        t0 = time.perf_counter()
        P = als_half(R.indptr, R.indices, R.data, Q, reg, mu)
        Q = als_half(Rt.indptr, Rt.indices, Rt.data, P, reg, mu)
        dt = time.perf_counter() - t0
        pred = mu + np.einsum("ij,ij->i", P[tu], Q[ti])
        hist.append((dt, float(np.sqrt(np.mean((tv - pred) ** 2)))))
    return hist


def numpy_implicit_cg(C, Ct, k, reg, alpha, iters, cg_steps, seed):
    """HKV implicit ALS with cg_steps warm-started CG steps per row, all rows at once."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.17, 0.17, (C.shape[0], k))
    Y = rng.uniform(-0.17, 0.17, (C.shape[1], k))

    def half(A, X, Y):
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        cols = A.indices
        w = alpha * A.data                       # c - 1
        YtY = Y.T @ Y + reg * np.eye(k)

        def apply(V):
            s = np.einsum("ij,ij->i", V[rows], Y[cols]) * w
            return V @ YtY + sp.csr_matrix((s, cols, A.indptr), shape=A.shape) @ Y

        b = sp.csr_matrix((1 + w, cols, A.indptr), shape=A.shape) @ Y
        r = b - apply(X)
        p = r.copy()
        rs = np.einsum("ij,ij->i", r, r)
        for _ in range(cg_steps):
            Ap = apply(p)
            a = rs / np.maximum(np.einsum("ij,ij->i", p, Ap), 1e-300)
            X = X + a[:, None] * p
            r = r - a[:, None] * Ap
            rs_new = np.einsum("ij,ij->i", r, r)
            p = r + (rs_new / np.maximum(rs, 1e-300))[:, None] * p
            rs = rs_new
        return X

    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        X = half(C, X, Y)
        Y = half(Ct, Y, X)
        times.append(time.perf_counter() - t0)
    return times


# ---- facto runs -------------------------------------------------------------------------------

def facto_fit(facto, args, threads, out):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [facto, "recommend", "fit", *args, "--threads", str(threads), "--progress", "none", "--out", out]
    log("  $", " ".join(cmd))
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def time_to(hist, target):
    """Seconds of iterations until the test RMSE first reaches target (None if never)."""
    t = 0.0
    for dt, rmse in hist:
        t += dt
        if rmse <= target:
            return t
    return None


def fmt_s(x):
    return "not reached" if x is None else f"{x:.3f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facto", default=os.path.join(HERE, "..", "build", "facto"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", "build", "workloads"))
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=12)
    ap.add_argument("--quick", action="store_true", help="skip MovieTweetings and run fewer iterations")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    iters = 6 if a.quick else a.iters
    results = {"threads": a.threads}
    lines = []
    if not os.path.exists(os.path.join(a.data, "ratings_train.txt")):
        gen = os.path.join(a.shared, "..", "bench", "gen_workloads.py")
        if not os.path.exists(gen):
            sys.exit(f"run_recommend: no ratings workload in {a.data} and no {gen} to generate it")
        subprocess.run([sys.executable, gen, a.data, "--only", "ratings"], check=True)
    train_path = os.path.join(a.data, "ratings_train.txt")
    test_path = os.path.join(a.data, "ratings_test.txt")
    tmp = tempfile.mkdtemp(prefix="facto-bench-rec-")

    # 1. explicit ALS -----------------------------------------------------------------------
    log("reading the ratings workload for the NumPy reference")
    u, i, v = load_ratings(train_path)
    tu, ti, tv = load_ratings(test_path)
    shape = (int(max(u.max(), tu.max())) + 1, int(max(i.max(), ti.max())) + 1)
    R = sp.csr_matrix((v, (u, i)), shape=shape)
    R.sort_indices()
    Rt = R.T.tocsr()
    Rt.sort_indices()
    k, reg = 10, 0.3
    log(f"explicit ALS rank {k}, reg {reg} (unweighted), {iters} iterations")
    rep = facto_fit(a.facto, [train_path, "--test", test_path, "--rank", str(k), "--reg", str(reg),
                              "--reg-exponent", "0", "--biases", "mean", "--iters", str(iters)],
                    a.threads, os.path.join(tmp, "als"))
    f_hist = [(h["seconds"], h["test_rmse"]) for h in rep["history"]]
    n_hist = numpy_als(R, Rt, (tu, ti, tv), k, reg, iters, 0)
    f_it = np.median([h[0] for h in f_hist])
    n_it = np.median([h[0] for h in n_hist])
    results["explicit_als"] = {
        "rank": k, "reg": reg,
        "facto": {"iter_seconds": f_it, "test_rmse": [h[1] for h in f_hist],
                  "time_to_0.36": time_to(f_hist, 0.36), "time_to_0.35": time_to(f_hist, 0.35)},
        "numpy": {"iter_seconds": n_it, "test_rmse": [h[1] for h in n_hist],
                  "time_to_0.36": time_to(n_hist, 0.36), "time_to_0.35": time_to(n_hist, 0.35)},
    }
    lines.append(f"| explicit ALS r{k}, s/iteration | {f_it:.3f} | NumPy batched ALS {n_it:.3f} | {n_it / f_it:.1f}x |")
    lines.append(f"| explicit ALS r{k}, time to test RMSE 0.36 | {fmt_s(time_to(f_hist, 0.36))} | "
                 f"{fmt_s(time_to(n_hist, 0.36))} | |")
    lines.append(f"| explicit ALS r{k}, time to test RMSE 0.35 | {fmt_s(time_to(f_hist, 0.35))} | "
                 f"{fmt_s(time_to(n_hist, 0.35))} | |")
    lines.append(f"| explicit ALS r{k}, test RMSE after {iters} iterations | {f_hist[-1][1]:.4f} | "
                 f"{n_hist[-1][1]:.4f} | |")

    sgd_iters = 10 if a.quick else 20
    log(f"SGD rank 32, {sgd_iters} epochs")
    rep = facto_fit(a.facto, [train_path, "--test", test_path, "--method", "sgd", "--rank", "32",
                              "--iters", str(sgd_iters), "--learning-rate", "0.1",
                              "--reg", "0.05", "--bias-reg", "0.05"], a.threads, os.path.join(tmp, "sgd"))
    s_hist = [(h["seconds"], h["test_rmse"]) for h in rep["history"]]
    s_it = np.median([h[0] for h in s_hist])
    results["sgd"] = {"rank": 32, "iter_seconds": s_it, "test_rmse": [h[1] for h in s_hist]}
    lines.append(f"| SGD r32, s/epoch | {s_it:.3f} | (LIBMF, 2 threads, other machine: 0.034) | |")
    lines.append(f"| SGD r32, test RMSE after {sgd_iters} epochs | {s_hist[-1][1]:.4f} | (LIBMF: 0.60) | |")

    # 2. implicit ALS ------------------------------------------------------------------------
    ik, ireg, alpha, imp_iters = 32, 0.1, 10.0, 3 if a.quick else 5
    log(f"implicit ALS rank {ik}, CG 3 steps, {imp_iters} iterations")
    # Interaction strengths must be >= 0: both sides read |rating| (a few planted ratings are negative).
    imp_path = os.path.join(tmp, "implicit_train.txt")
    np.savetxt(imp_path, np.column_stack([u, i, np.abs(v)]), fmt=["%d", "%d", "%.4f"])
    rep = facto_fit(a.facto, [imp_path, "--implicit", "--rank", str(ik), "--reg", str(ireg), "--alpha", str(alpha),
                              "--iters", str(imp_iters)], a.threads, os.path.join(tmp, "implicit"))
    fi_it = np.median([h["seconds"] for h in rep["history"]])
    C = sp.csr_matrix((np.round(np.abs(v), 4), (u, i)), shape=shape)
    C.sort_indices()
    Ct = C.T.tocsr()
    Ct.sort_indices()
    ni_it = np.median(numpy_implicit_cg(C, Ct, ik, ireg, alpha, imp_iters, 3, 0))
    results["implicit_als"] = {"rank": ik, "facto_iter_seconds": fi_it, "numpy_iter_seconds": ni_it}
    lines.append(f"| implicit ALS r{ik} (CG, 3 steps), s/iteration | {fi_it:.3f} | NumPy/SciPy CG {ni_it:.3f} | "
                 f"{ni_it / fi_it:.1f}x |")

    # 3. MovieTweetings ---------------------------------------------------------------------
    mt = os.path.join(a.shared, "movietweetings-100k", "ratings.dat.xz")
    if not a.quick and os.path.exists(mt):
        log("MovieTweetings 100K, 5-fold cross-validation")
        out = os.path.join(tmp, "mt.json")
        cmd = [a.facto, "recommend", "eval", mt, "--folds", "5", "--rank", "10", "--reg", "4", "--reg-exponent", "0.5",
               "--bias-reg", "1.5", "--iters", "20", "--seed", "1", "--threads", str(a.threads), "--json", out]
        log("  $", " ".join(cmd))
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS=str(a.threads)))
        secs = time.perf_counter() - t0
        with open(out) as f:
            ev = json.load(f)
        results["movietweetings"] = {"mean": ev["mean"], "folds": ev["folds"], "seconds": secs}
        for name in ("global-mean", "bias-only", "als"):
            per = " ".join(f"{fo[name]['rmse']:.4f}" for fo in ev["folds"])
            lines.append(f"| MovieTweetings 5-fold RMSE, {name} | {ev['mean'][name]['RMSE']:.4f} | folds: {per} | |")

    print("| measure | facto | reference (same run) | reference / facto |")
    print("|---|---|---|---|")
    for line in lines:
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2, default=float)


if __name__ == "__main__":
    main()
