"""facto.nmf from Python: planted models, NumPy references of MU and plain HALS, invariants,
masks and sparse input, float32, determinism, the callback, the CLI, and errors."""
import json
import os
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import facto
from conftest import EPS

EPS32 = np.finfo(np.float32).eps
TINY = np.finfo(np.float64).tiny


def planted(m, n, k, seed):
    rng = np.random.default_rng(seed)
    W, H = rng.random((m, k)), rng.random((k, n))
    return W @ H, W, H


def rel(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def mu_ref(X, W, H, iters):
    """Lee & Seung's multiplicative updates (W, then H), denominators floored at the smallest normal."""
    W, H = W.copy(), H.copy()
    for _ in range(iters):
        W *= (X @ H.T) / np.maximum(W @ (H @ H.T), TINY)
        H *= (W.T @ X) / np.maximum((W.T @ W) @ H, TINY)
    return W, H


def hals_ref(X, W, H, iters):
    """Plain fast HALS (one sweep per update, scikit-learn's 'cd'): column r of W, then row r of H."""
    W, H = W.copy(), H.copy()
    for _ in range(iters):
        P, G = X @ H.T, H @ H.T
        for r in range(W.shape[1]):
            W[:, r] = np.maximum(0, W[:, r] + (P[:, r] - W @ G[:, r]) / G[r, r])
        Q, G = X.T @ W, W.T @ W
        for r in range(H.shape[0]):
            H[r] = np.maximum(0, H[r] + (Q[:, r] - H.T @ G[:, r]) / G[r, r])
    return W, H


# ---------------------------------------------------------------------------------------------
# Planted models


@pytest.mark.parametrize("method", ["hals", "anls"])
def test_exact_nonnegative_low_rank_is_recovered(method):
    X, _, _ = planted(40, 30, 5, seed=1)
    r = facto.nmf(X, 5, method=method, max_iters=4000, tol=1e-12)
    assert r.W.shape == (40, 5) and r.H.shape == (5, 30) and r.W.dtype == np.float64
    assert r.rel_error < 1e-5, r.rel_error
    assert rel(r.W @ r.H, X) < 1e-5
    # The reported error is the measured one.
    assert abs(r.rel_error - rel(r.W @ r.H, X)) < 1e-7


def test_low_rank_completion_from_30_percent_of_entries():
    # 60 x 50 rank 3: 900 observed entries for 3 * (60 + 50) parameters.
    X, _, _ = planted(60, 50, 3, seed=2)
    observed = np.random.default_rng(3).random(X.shape) < 0.3
    dense = facto.nmf(X, 3, mask=observed, max_iters=2000, tol=1e-12, init="random", seed=4)
    assert dense.rel_error < 1e-3  # on the observed entries
    assert rel(dense.W @ dense.H, X) < 2e-3  # on all of them: the missing 70% are predicted
    # The same completion from a sparse matrix whose unstored entries are missing.
    sparse = facto.nmf(sp.csr_matrix(X * observed), 3, unstored_missing=True, max_iters=2000, tol=1e-12,
                       init="random", seed=4)
    assert rel(sparse.W @ sparse.H, X) < 2e-3
    # Without the mask the zeros are fitted and the missing entries are not recovered.
    zeros = facto.nmf(X * observed, 3, max_iters=300, init="random", seed=4)
    assert rel(zeros.W @ zeros.H, X) > 0.3


def test_completion_mask_of_a_sparse_matrix_is_a_sparse_pattern():
    X, _, _ = planted(30, 25, 2, seed=5)
    observed = np.random.default_rng(6).random(X.shape) < 0.4
    a = facto.nmf(sp.csr_matrix(X), 2, mask=sp.csr_matrix(observed.astype(float)), max_iters=1500, tol=1e-12)
    b = facto.nmf(sp.csr_matrix(X), 2, mask=observed, max_iters=1500, tol=1e-12)  # dense mask converted
    np.testing.assert_array_equal(a.W, b.W)
    assert rel(a.W @ a.H, X) < 5e-3


# ---------------------------------------------------------------------------------------------
# References and invariants


def test_mu_matches_numpy_reference(rng):
    X = rng.random((15, 12))
    W0, H0 = rng.random((15, 3)), rng.random((3, 12))
    r = facto.nmf(X, 3, method="mu", initial_W=W0, initial_H=H0, max_iters=5, tol=0)
    W, H = mu_ref(X, W0, H0, 5)
    np.testing.assert_allclose(r.W, W, rtol=0, atol=100 * EPS * np.abs(W).max())
    np.testing.assert_allclose(r.H, H, rtol=0, atol=100 * EPS * np.abs(H).max())
    assert abs(r.rel_error - rel(W @ H, X)) < 1e-7


def test_plain_hals_matches_numpy_reference(rng):
    X = rng.random((15, 12))
    W0, H0 = rng.random((15, 3)), rng.random((3, 12))
    r = facto.nmf(X, 3, method="hals", inner_iters=1, initial_W=W0, initial_H=H0, max_iters=5, tol=0)
    W, H = hals_ref(X, W0, H0, 5)
    np.testing.assert_allclose(r.W, W, rtol=0, atol=1000 * EPS * np.abs(W).max())
    np.testing.assert_allclose(r.H, H, rtol=0, atol=1000 * EPS * np.abs(H).max())


@pytest.mark.parametrize("method", ["hals", "mu", "anls"])
def test_factors_nonnegative_and_error_history_non_increasing(method, rng):
    X = rng.random((25, 20))
    r = facto.nmf(X, 4, method=method, max_iters=60, tol=0, seed=3)
    assert (r.W >= 0).all() and (r.H >= 0).all()
    assert r.iters == 60 == len(r.history) and not r.converged
    assert [h.iter for h in r.history] == list(range(1, 61))
    errors = np.array([h.rel_error for h in r.history])
    assert errors[-1] == r.rel_error
    if method in ("hals", "mu"):  # monotone methods (up to the ~sqrt(eps) floor of the error formula)
        assert (np.diff(errors) <= 1e-7).all(), np.diff(errors).max()


def test_kl_divergence_non_increasing(rng):
    X = rng.random((15, 12))
    r = facto.nmf(X, 3, method="mu", loss="kl", max_iters=50, tol=0)
    d = np.array([h.divergence for h in r.history])
    assert d[-1] == r.divergence > 0 and (np.diff(d) <= 1e-12 * d[0]).all()


def test_l1_penalty_gives_sparser_factors(rng):
    X, _, _ = planted(30, 20, 4, seed=7)
    plain = facto.nmf(X, 4, max_iters=200, tol=0)
    lasso = facto.nmf(X, 4, max_iters=200, tol=0, l1_W=0.5, l1_H=0.5)
    assert (lasso.W == 0).sum() + (lasso.H == 0).sum() > (plain.W == 0).sum() + (plain.H == 0).sum()
    ridge = facto.nmf(X, 4, max_iters=200, tol=0, l2_W=5.0, l2_H=5.0)
    assert np.linalg.norm(ridge.W) ** 2 + np.linalg.norm(ridge.H) ** 2 < \
        np.linalg.norm(plain.W) ** 2 + np.linalg.norm(plain.H) ** 2


def test_tol_stops_early_and_reports_converged(rng):
    r = facto.nmf(rng.random((20, 15)), 3, tol=1e-3, max_iters=500)
    assert r.converged and r.iters < 500 and r.history[-1].change < 1e-3


def test_compute_error_every_leaves_nan_between(rng):
    r = facto.nmf(rng.random((20, 15)), 3, tol=0, max_iters=9, compute_error_every=4)
    computed = [h.iter for h in r.history if not np.isnan(h.rel_error)]
    assert computed == [4, 8, 9]


# ---------------------------------------------------------------------------------------------
# Inputs, precision, determinism


def test_sparse_input_same_as_dense(rng):
    X = rng.random((20, 15)) * (rng.random((20, 15)) < 0.4)
    a = facto.nmf(X, 3, seed=1, max_iters=40, tol=0)
    b = facto.nmf(sp.csr_matrix(X), 3, seed=1, max_iters=40, tol=0)
    c = facto.nmf(sp.coo_matrix(X), 3, seed=1, max_iters=40, tol=0)
    np.testing.assert_allclose(b.W, a.W, rtol=0, atol=1e3 * EPS * np.abs(a.W).max())
    np.testing.assert_array_equal(b.W, c.W)
    assert abs(a.rel_error - b.rel_error) < 1e-10


def test_fortran_and_integer_inputs(rng):
    X = rng.integers(0, 5, (20, 15))
    a = facto.nmf(X.astype(np.float64), 3, seed=2, max_iters=30, tol=0)
    np.testing.assert_array_equal(facto.nmf(X, 3, seed=2, max_iters=30, tol=0).W, a.W)
    np.testing.assert_array_equal(facto.nmf(np.asfortranarray(X, dtype=float), 3, seed=2, max_iters=30, tol=0).W, a.W)


def test_float32_stays_float32(rng):
    X = rng.random((20, 15))
    a = facto.nmf(X, 3, seed=1, max_iters=40, tol=0)
    f = facto.nmf(X.astype(np.float32), 3, seed=1, max_iters=40, tol=0)
    s = facto.nmf(sp.csr_matrix(X.astype(np.float32)), 3, seed=1, max_iters=40, tol=0)
    assert f.W.dtype == f.H.dtype == s.W.dtype == np.float32
    assert abs(f.rel_error - a.rel_error) < 1e3 * EPS32
    np.testing.assert_allclose(f.W @ f.H, a.W @ a.H, rtol=0, atol=1e3 * EPS32 * X.max())


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "random"])
def test_same_seed_same_result(init, rng):
    X = rng.random((20, 15))
    a = facto.nmf(X, 3, init=init, seed=11, max_iters=20, tol=0)
    b = facto.nmf(X, 3, init=init, seed=11, max_iters=20, tol=0)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.H, b.H)
    assert [h.rel_error for h in a.history] == [h.rel_error for h in b.history]
    if init == "random":
        assert not np.array_equal(facto.nmf(X, 3, init=init, seed=12, max_iters=20, tol=0).W, a.W)


def test_nmf_initialize_is_the_start_of_nmf(rng):
    X = rng.random((20, 15))
    for init in ("nndsvd", "nndsvda", "random"):
        W0, H0 = facto.nmf_initialize(X, 3, init=init, seed=5)
        assert W0.shape == (20, 3) and H0.shape == (3, 15) and (W0 >= 0).all() and (H0 >= 0).all()
        a = facto.nmf(X, 3, init=init, seed=5, max_iters=10, tol=0)
        b = facto.nmf(X, 3, initial_W=W0, initial_H=H0, max_iters=10, tol=0)
        np.testing.assert_array_equal(a.W, b.W)
    W0, _ = facto.nmf_initialize(X, 3, init="nndsvd")
    assert (W0 == 0).any()  # NNDSVD keeps its zeros; nndsvda fills them
    assert (facto.nmf_initialize(X, 3, init="nndsvda")[0] > 0).all()


# ---------------------------------------------------------------------------------------------
# Callback


def test_callback_sees_every_iteration_and_can_stop(rng):
    X = rng.random((20, 15))
    seen = []
    r = facto.nmf(X, 3, tol=0, max_iters=50, on_iteration=lambda it: seen.append(it.rel_error) or it.iter < 4)
    assert r.interrupted and not r.converged and r.iters == 4 == len(seen)
    assert seen == [h.rel_error for h in r.history]
    full = facto.nmf(X, 3, tol=0, max_iters=4)
    np.testing.assert_array_equal(r.W, full.W)  # the factors of the last completed iteration


def test_callback_exception_propagates(rng):
    def boom(it):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        facto.nmf(rng.random((10, 8)), 2, on_iteration=boom)


def test_progress_prints_one_line_per_iteration(rng, capsys):
    facto.nmf(rng.random((10, 8)), 2, max_iters=3, tol=0, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("nmf hals iter    1")


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("call, match", [
    (lambda X: facto.nmf(-X, 3), "NMF needs finite entries >= 0"),
    (lambda X: facto.nmf(np.where(X > 0.5, np.nan, X), 3), "finite"),
    (lambda X: facto.nmf(np.zeros_like(X), 3), "zero"),
    (lambda X: facto.nmf(X[0], 3), "expected a 2-D array"),
    (lambda X: facto.nmf(X, 0), "rank"),
    (lambda X: facto.nmf(X, 3, method="cd"), "method must be 'hals', 'mu' or 'anls', found 'cd'"),
    (lambda X: facto.nmf(X, 3, loss="kl"), "needs method mu"),
    (lambda X: facto.nmf(X, 3, loss="itakura"), "loss must be"),
    (lambda X: facto.nmf(X, 3, init="svd"), "init must be"),
    (lambda X: facto.nmf(X, 3, init="given"), "needs initial_W= and initial_H="),
    (lambda X: facto.nmf(X, 3, initial_W=np.ones((12, 3))), "pass both or neither"),
    (lambda X: facto.nmf(X, 3, initial_W=np.ones((12, 3)), initial_H=np.ones((2, 10))), "initial_H is 2x10"),
    (lambda X: facto.nmf(X, 3, mask=np.ones((10, 12))), r"mask has shape \(10, 12\) but X has shape \(12, 10\)"),
    (lambda X: facto.nmf(X, 3, l1_W=-1), "l1_W must be a finite number >= 0"),
    (lambda X: facto.nmf(X, 3, unstored_missing=True), "applies to scipy.sparse input"),
    (lambda X: facto.nmf(X, 3, on_iteration=5), "on_iteration must be callable"),
])
def test_bad_input_raises_a_clear_value_error(call, match, rng):
    with pytest.raises(ValueError, match=match):
        call(rng.random((12, 10)))


def test_bad_array_type_raises(rng):
    with pytest.raises(ValueError, match="expected a real numeric array"):
        facto.nmf(np.array([["a", "b"], ["c", "d"]]), 1)


# ---------------------------------------------------------------------------------------------
# The CLI gives the same model (components sorted there by ||w_k|| ||h_k||)


@pytest.mark.parametrize("method", ["hals", "mu", "anls"])
def test_same_as_cli(cli, tmp_path, method):
    X, _, _ = planted(12, 9, 4, seed=3)
    np.save(tmp_path / "x.npy", X)
    done = subprocess.run([cli, "nmf", str(tmp_path / "x.npy"), "--rank", "4", "--method", method, "--seed", "2",
                           "--max-iters", "30", "--tol", "0", "--threads", "2", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    r = facto.nmf(X, 4, method=method, seed=2, max_iters=30, tol=0, threads=2)
    assert report["result"]["rel_error"] == r.rel_error and report["result"]["iters"] == r.iters
    assert [h["rel_error"] for h in report["history"]] == [h.rel_error for h in r.history]
    W, H = np.load(tmp_path / "out" / "W.npy"), np.load(tmp_path / "out" / "H.npy")
    order = np.argsort(-np.linalg.norm(r.W, axis=0) * np.linalg.norm(r.H, axis=1), kind="stable")
    np.testing.assert_array_equal(W, r.W[:, order])
    np.testing.assert_array_equal(H, r.H[order])
