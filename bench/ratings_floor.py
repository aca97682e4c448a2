#!/usr/bin/env python3
"""How low can test RMSE go on the `ratings` workload? Bayes references for the planted model.

gen_workloads.py draws r = 3 + <p_u, q_i> + N(0, 0.3^2) with p_u, q_i ~ N(0, s^2 I_10),
s^2 = 1/sqrt(10), about 45 training ratings per user and 180 per item. 0.30 is the noise floor
of a predictor that knows P and Q; an estimator only sees the ratings. This script regenerates
P and Q from the workload's seed and prints, on ratings_test.txt:
  1. the noiseless oracle (true P and Q): the noise floor;
  2. the posterior mean of P given the TRUE item factors Q and the true prior (per user, a
     Gaussian posterior): a lower bound for any estimator that must also estimate Q;
  3. variational Bayes with both factors unknown and the true hyperparameters (Lim & Teh 2007;
     factorized Gaussian posterior, ALS-like updates with the posterior covariances added);
  4. MAP (ALS) with the matching L2 weight sigma^2 / s^2, for comparison;
  5. with --gibbs N: the exact posterior mean (both factors unknown, true hyperparameters) by
     Gibbs sampling (Salakhutdinov & Mnih 2008, hyperparameters fixed): N sweeps from the MAP
     estimate, predictions averaged over all but the first tenth.
The posterior mean minimizes the expected squared error, so (2) bounds what any method can
reach in expectation and (5) is the Bayes risk itself, which no estimator beats in expectation;
(3) is its mean-field approximation.
Usage: /usr/bin/python3 bench/ratings_floor.py [--data DIR] [--iters 25] [--gibbs 400]
(about a minute; --gibbs 400 adds about ten)
"""
import argparse
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def master_seed(gen):
    for line in open(gen):
        if line.startswith("SEED"):
            return int(line.split("=")[1].split("#")[0])
    raise SystemExit(f"{gen}: no SEED line")


def load(path):
    a = np.loadtxt(path)
    return a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2]


def grouped(rows, cols, vals, n):
    order = np.argsort(rows, kind="stable")
    return np.searchsorted(rows[order], np.arange(n + 1)), cols[order], vals[order]


def solve_side(ptr, idx, val, Y, Ycov, prior_prec, sig2):
    """Per row a: A = sum (y y^T + cov_y) / sig2 + prior_prec I, mean = A^-1 sum r y / sig2."""
    k = Y.shape[1]
    outer = np.einsum("nr,ns->nrs", Y[idx], Y[idx])
    if Ycov is not None:
        outer += Ycov[idx]
    A = np.add.reduceat(outer, ptr[:-1], axis=0) / sig2 + prior_prec * np.eye(k)
    b = np.add.reduceat(Y[idx] * val[:, None], ptr[:-1], axis=0) / sig2
    cov = np.linalg.inv(A)
    return np.einsum("nrs,ns->nr", cov, b), cov


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "build", "workloads"))
    ap.add_argument("--gen", default=os.path.join(HERE, "..", "..", "shared", "bench", "gen_workloads.py"))
    ap.add_argument("--iters", type=int, default=25)
    ap.add_argument("--gibbs", type=int, default=0, metavar="N", help="Gibbs sweeps for (5); 0: skip")
    a = ap.parse_args()
    rng = np.random.default_rng(master_seed(a.gen) + 4)  # gen_ratings' generator, same draws
    users, items, k = 20000, 5000, 10
    s2 = 1.0 / np.sqrt(k)
    P = rng.standard_normal((users, k)) * np.sqrt(s2)
    Q = rng.standard_normal((items, k)) * np.sqrt(s2)
    sig2, mu = 0.09, 3.0
    tu, ti, tv = load(os.path.join(a.data, "ratings_test.txt"))
    u, i, v = load(os.path.join(a.data, "ratings_train.txt"))
    rmse = lambda Pm, Qm, m: float(np.sqrt(np.mean((tv - m - np.einsum("nr,nr->n", Pm[tu], Qm[ti])) ** 2)))  # noqa
    print(f"1. noiseless oracle (true P, Q):                 {rmse(P, Q, mu):.4f}")
    U = grouped(u, i, v - mu, users)
    Pq, _ = solve_side(*U, Q, None, 1 / s2, sig2)
    print(f"2. posterior mean of P given the true Q:         {rmse(Pq, Q, mu):.4f}  (lower bound)")
    m = float(v.mean())
    U, I = grouped(u, i, v - m, users), grouped(i, u, v - m, items)
    for name, vb in (("3. variational Bayes, true hyperparameters:     ", True),
                     ("4. MAP / ALS, L2 weight sigma^2/s^2 = 0.285:     ", False)):
        init = np.random.default_rng(0)
        Pm, Qm = init.standard_normal((users, k)) * 0.1, init.standard_normal((items, k)) * 0.3
        Pc = Qc = None
        for _ in range(a.iters):
            Pm, Pc = solve_side(*U, Qm, Qc if vb else None, 1 / s2, sig2)
            Qm, Qc = solve_side(*I, Pm, Pc if vb else None, 1 / s2, sig2)
        print(f"{name}{rmse(Pm, Qm, m):.4f}  ({a.iters} iterations)")
    if a.gibbs > 0:  # from the MAP factors of (4)
        draw = np.random.default_rng(1)
        sample = lambda mean, cov: mean + np.einsum("nrs,ns->nr", np.linalg.cholesky(cov),  # noqa
                                                    draw.standard_normal(mean.shape))
        burn, batches = a.gibbs // 10, 10
        per_batch = (a.gibbs - burn) // batches
        sums = np.zeros((batches, len(tv)))
        for sweep in range(burn + batches * per_batch):
            Pm = sample(*solve_side(*U, Qm, None, 1 / s2, sig2))
            Qm = sample(*solve_side(*I, Pm, None, 1 / s2, sig2))
            if sweep >= burn:
                sums[(sweep - burn) // per_batch] += m + np.einsum("nr,nr->n", Pm[tu], Qm[ti])
        means = sums / per_batch
        mse = np.mean((tv - means.mean(axis=0)) ** 2)
        # The sample average is the posterior mean plus Monte Carlo noise, whose variance per
        # prediction the spread of the batch means estimates; it adds to the squared error.
        noise = np.mean(means.var(axis=0, ddof=1)) / batches
        print(f"5. posterior mean by Gibbs sampling:             {np.sqrt(mse):.4f}  ({burn + batches * per_batch} "
              f"sweeps, {burn} discarded; {np.sqrt(max(mse - noise, 0)):.4f} without the sampling noise)")


if __name__ == "__main__":
    main()
