#!/usr/bin/python3
"""Speed and quality of facto's CP against NumPy/SciPy references and the machine's roofline.

Runs, in one script on one machine (so ratios are meaningful on a shared, noisy machine):
  1. the roofline: bench_roofline (memory bandwidth, DGEMM rate) and bench_mttkrp;
  2. .tns parsing speed (the read time in facto's report) on sparse3.tns;
  3. CP-ALS on the standard workloads (../shared/bench/gen_workloads.py) from the same initial
     factors: facto (CLI) against a NumPy reference that works as TensorLy does (unfolding times
     an explicit Khatri-Rao product) and an einsum one (dense), or a SciPy sparse one (sparse);
  4. facto CP-ALS on ../shared/data/flights-2001 at ranks 16 and 64, with 1 and 2 threads.
Prints a markdown table and writes it, with the raw numbers, to BUILD/bench-results.{md,json}.

Usage: /usr/bin/python3 bench/run_all.py [--build build] [--data DIR] [--iters 10] [--quick]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- NumPy / SciPy references

def khatri_rao(mats):
    """Row (i0, i1, ...) = product of rows, last index fastest (matches a C-order unfolding)."""
    out = mats[0]
    for m in mats[1:]:
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, m.shape[1])
    return out


def mttkrp_unfold(X, factors, n):
    """TensorLy's way: copy the mode-n unfolding, form the full Khatri-Rao product, one GEMM."""
    Xn = np.moveaxis(X, n, 0).reshape(X.shape[n], -1)
    return Xn @ khatri_rao([f for i, f in enumerate(factors) if i != n])


def mttkrp_einsum(X, factors, n):
    letters = "abcdefgh"[: X.ndim]
    ins = [letters] + [letters[i] + "r" for i in range(X.ndim) if i != n]
    return np.einsum(",".join(ins) + "->" + letters[n] + "r", X,
                     *[f for i, f in enumerate(factors) if i != n], optimize=True)


class SparseCOO:
    """SciPy sparse reference: MTTKRP = S_n @ (vals * Khatri-Rao rows gathered per nonzero)."""

    def __init__(self, idx, vals, shape):
        import scipy.sparse as sp
        self.idx, self.vals, self.shape = idx, vals, shape
        nnz = len(vals)
        self.S = [sp.csr_matrix((np.ones(nnz), (idx[:, n], np.arange(nnz))), shape=(shape[n], nnz))
                  for n in range(len(shape))]
        self.norm = float(np.linalg.norm(vals))

    def mttkrp(self, factors, n):
        prod = self.vals[:, None].copy()
        for m, f in enumerate(factors):
            if m != n:
                prod = prod * f[self.idx[:, m]]
        return self.S[n] @ prod


def cp_als_reference(mttkrp, norm_x, factors, iters):
    """Plain CP-ALS (normal equations, pinv), fit from the last MTTKRP: seconds/iter and fits."""
    factors = [f.copy() for f in factors]
    N, R = len(factors), factors[0].shape[1]
    weights = np.ones(R)
    fits, times = [], []
    for _ in range(iters):
        t0 = time.perf_counter()
        for n in range(N):
            V = np.ones((R, R))
            for m in range(N):
                if m != n:
                    V *= factors[m].T @ factors[m]
            M = mttkrp(factors, n)
            A = M @ np.linalg.pinv(V)
            weights = np.linalg.norm(A, axis=0)
            weights[weights == 0] = 1
            factors[n] = A / weights
        inner = np.sum(weights * np.sum(factors[-1] * M, axis=0))
        G = np.ones((R, R))
        for f in factors:
            G *= f.T @ f
        norm_m = weights @ G @ weights
        fits.append(1 - np.sqrt(max(0.0, norm_x ** 2 + norm_m - 2 * inner)) / norm_x)
        times.append(time.perf_counter() - t0)
    return times, fits


# ---------------------------------------------------------------- facto runs

def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def facto_cp(facto, path, rank, iters, threads, init=None, method="als", shape=None):
    with tempfile.TemporaryDirectory() as out:
        cmd = [facto, "cp", path, "--rank", str(rank), "--iters", str(iters), "--tol", "0",
               "--threads", str(threads), "--method", method, "--out", out]
        if shape:  # a .tns file cannot record trailing empty slices
            cmd += ["--shape", ",".join(map(str, shape))]
        if init:
            cmd += ["--init", init]
        run(cmd)
        with open(os.path.join(out, "report.json")) as f:
            return json.load(f)


def iter_seconds(report):
    secs = [h["seconds"] for h in report["history"]]
    return secs[1:] if len(secs) > 1 else secs  # the first iteration warms caches and pages


def median(xs):
    return float(np.median(xs)) if len(xs) else float("nan")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=None, help="workload folder (default BUILD/workloads; generated if missing)")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="skip the slow NumPy/SciPy sparse reference and flights")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    facto = os.path.join(build, "facto")
    data = os.path.abspath(args.data or os.path.join(build, "workloads"))
    if not os.path.exists(os.path.join(data, "manifest.json")):
        gen = os.path.join(SHARED, "bench", "gen_workloads.py")
        if not os.path.exists(gen):
            sys.exit(f"run_all: no workloads in {data} and no {gen} to generate them")
        run([sys.executable, gen, data, "--only", "dense3,sparse3,sparse3lr,inits"])

    rows, raw = [], {}

    def row(what, facto_s, ref_name, ref_s, note=""):
        ratio = ref_s / facto_s if facto_s and ref_s else float("nan")
        rows.append(f"| {what} | {facto_s:.4f} | {ref_name} | {ref_s:.4f} | {ratio:.1f}x | {note} |")

    # 1. Roofline and kernels
    roof = {}
    for b in ["bench_roofline", "bench_mttkrp"]:
        exe = os.path.join(build, "bench", b)
        if os.path.exists(exe):
            res = run([exe, "--benchmark_format=json", "--benchmark_min_time=0.2"]).stdout
            roof[b] = [{k: v for k, v in r.items() if k in ("name", "real_time", "time_unit", "bytes_per_second", "GFLOPS", "GB/s", "GFLOP/s")}
                       for r in json.loads(res)["benchmarks"]]
    raw["kernels"] = roof
    bw = {r["name"]: r.get("bytes_per_second", 0) / 1e9 for r in roof.get("bench_roofline", [])}
    gemm = {r["name"]: r.get("GFLOPS", 0) for r in roof.get("bench_roofline", [])}
    read_bw2 = bw.get("BM_stream_read/2/real_time", float("nan"))

    # 3a. dense3, rank 10, same initial factors
    X = np.load(os.path.join(data, "dense3.npy"))
    init = os.path.join(data, "cp_init_dense3_r10.npz")
    U = [np.load(init)[k] for k in ("U0", "U1", "U2")]
    rep = facto_cp(facto, os.path.join(data, "dense3.npy"), 10, args.iters, 2, init)
    fs, ffit = median(iter_seconds(rep)), rep["history"][-1]["fit"]
    nx = float(np.linalg.norm(X))
    for name, fn in [("NumPy unfold+KR (TensorLy's way)", mttkrp_unfold), ("NumPy einsum", mttkrp_einsum)]:
        ts, fits = cp_als_reference(lambda f, n: fn(X, f, n), nx, U, args.iters)
        row("CP-ALS dense3 200^3 r10, s/iter (2 thr)", fs, name, median(ts[1:]),
            f"fit facto {ffit:.6f} vs {fits[-1]:.6f}")
        raw.setdefault("dense3", []).append({"ref": name, "ref_s": ts, "ref_fits": fits})
    raw["dense3_facto"] = rep
    rep1 = facto_cp(facto, os.path.join(data, "dense3.npy"), 10, args.iters, 1, init)
    row("CP-ALS dense3 200^3 r10, s/iter (1 thr)", median(iter_seconds(rep1)), "PLANC (REFERENCES, 2 thr)", 0.015, "")
    # MTTKRP share of the roofline: each iteration reads X three times.
    if read_bw2 == read_bw2:
        frac = 3 * X.nbytes / 1e9 / fs / read_bw2
        rows.append(f"| dense3 iteration vs 3 reads of X at {read_bw2:.1f} GB/s | {fs:.4f} | roofline | "
                    f"{3 * X.nbytes / 1e9 / read_bw2:.4f} | {frac:.2f} of roofline | PLANC 0.015-0.028, TensorLy 0.073 |")
    del X

    # 3b. sparse3, rank 16, same initial factors: speed (and .tns parsing, from the report)
    init = os.path.join(data, "cp_init_sparse3_r16.npz")
    tns = os.path.join(data, "sparse3.tns")
    with open(os.path.join(data, "manifest.json")) as f:
        manifest = json.load(f)
    rep = facto_cp(facto, tns, 16, args.iters, 2, init, shape=manifest["sparse3"]["shape"])
    fs = median(iter_seconds(rep))
    raw["sparse3_facto"] = rep
    mb = os.path.getsize(tns) / 1e6
    t_read = rep["timings"]["read"]
    rows.append(f"| read sparse3.tns ({mb:.0f} MB, 5M nnz; parse + sum duplicates) | {t_read:.3f} | SPLATT (REFERENCES) | 3.0 | "
                f"{3.0 / t_read:.1f}x | {mb / t_read:.0f} MB/s |")
    row("CP-ALS sparse3 r16, s/iter (2 thr)", fs, "SPLATT (REFERENCES)", 0.25, f"CSF set-up {rep['timings']['setup']:.2f} s")
    rep1 = facto_cp(facto, tns, 16, max(3, args.iters // 2), 1, init, shape=manifest["sparse3"]["shape"])
    row("CP-ALS sparse3 r16, s/iter (1 thr)", median(iter_seconds(rep1)), "GenTen 1 thr (REFERENCES)", 0.69, "")

    # 3c. sparse3lr (exactly rank 16): the same start gives the same fit as a SciPy reference
    if not args.quick:
        lr = os.path.join(data, "sparse3lr.tns")
        if not os.path.exists(lr):
            run([sys.executable, os.path.join(SHARED, "bench", "gen_workloads.py"), data, "--only", "sparse3lr"])
        iters = 3
        shape = manifest["sparse3lr"]["shape"]
        rep = facto_cp(facto, lr, 16, iters, 2, init, shape=shape)
        nz = np.fromfile(lr, sep=" ").reshape(-1, 4)
        idx = nz[:, :3].astype(np.int64) - 1
        coo = SparseCOO(idx, nz[:, 3].copy(), tuple(shape))
        U = [np.load(init)[k] for k in ("U0", "U1", "U2")]
        ts, fits = cp_als_reference(coo.mttkrp, coo.norm, U, iters)
        ffits = [h["fit"] for h in rep["history"]]
        row("CP-ALS sparse3lr r16, s/iter (2 thr)", median(iter_seconds(rep)), "SciPy sparse", median(ts[1:]),
            "fits per iteration facto " + ", ".join(f"{f:.6f}" for f in ffits) +
            " / SciPy " + ", ".join(f"{f:.6f}" for f in fits))
        raw["sparse3lr"] = {"facto": rep, "ref_s": ts, "ref_fits": fits}
        del coo, nz, idx

    # 4. flights-2001
    flights = os.path.join(SHARED, "data", "flights-2001", "flights_od_date_hour.tns.xz")
    if os.path.exists(flights) and not args.quick:
        for rank in (16, 64):
            for thr in (1, 2):
                rep = facto_cp(facto, flights, rank, 5, thr)
                s = median(iter_seconds(rep))
                rows.append(f"| CP-ALS flights 229x229x182x24 (2.6M nnz) r{rank}, {thr} thr | {s:.4f} | | | | "
                            f"fit {rep['history'][-1]['fit']:.4f} |")
                raw[f"flights_r{rank}_t{thr}"] = rep

    # MTTKRP kernels as a fraction of the streaming-read roofline of the same run.
    kernel_rows = ["| kernel | ms | GB/s | fraction of read roofline |", "|---|---|---|---|"]
    for r in roof.get("bench_mttkrp", []):
        gbs = r.get("GB/s")
        if gbs is None:
            continue
        thr = 2 if "threads:2" in r["name"] else 1
        ceiling = bw.get(f"BM_stream_read/{thr}/real_time", float("nan"))
        kernel_rows.append(f"| {r['name']} | {r['real_time']:.2f} | {gbs:.1f} | {gbs / ceiling:.2f} |")

    header = ["| workload | facto (s) | reference | reference (s) | speed-up | notes |", "|---|---|---|---|---|---|"]
    roofline = [f"Roofline (this run): streaming read {bw.get('BM_stream_read/1/real_time', 0):.1f} GB/s (1 thread), "
                f"{read_bw2:.1f} GB/s (2 threads); DGEMM {gemm.get('BM_dgemm/1/2000/real_time', 0):.1f} / "
                f"{gemm.get('BM_dgemm/2/2000/real_time', 0):.1f} GFLOP/s (1 / 2 threads).", ""]
    md = "\n".join(roofline + header + rows + [""] + kernel_rows) + "\n"
    print(md)
    with open(os.path.join(build, "bench-results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(build, "bench-results.json"), "w") as f:
        json.dump(raw, f, indent=1, default=float)


if __name__ == "__main__":
    main()
