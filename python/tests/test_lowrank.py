"""svd, tucker, tt and tt_round from Python: NumPy references, planted models, tolerance
guarantees, sparse inputs, float32, layouts, the GIL, and errors."""
import os
import signal
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import facto
from conftest import EPS

EPS32 = np.finfo(np.float32).eps


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def assert_orthonormal_columns(Q, eps=EPS):
    k = Q.shape[1]
    err = np.abs(Q.T.astype(np.float64) @ Q.astype(np.float64) - np.eye(k)).max()
    assert err <= 50 * max(Q.shape) * eps, err


def planted_matrix(m, n, k, seed, zero_rows=0.0):
    """An exact rank-k matrix; a fraction of its rows (and columns) zero, to be stored sparse."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((m, k)) * (rng.random((m, 1)) >= zero_rows)
    V = rng.standard_normal((n, k)) * (rng.random((n, 1)) >= zero_rows)
    return U @ np.diag(np.geomspace(10, 1, k)) @ V.T


def ttm_full(core, factors):
    """Dense tensor of a Tucker model, by NumPy."""
    X = core
    for n, U in enumerate(factors):
        X = np.moveaxis(np.tensordot(U, X, axes=(1, n)), 0, n)
    return X


def planted_tucker(shape, ranks, seed, zero_rows=0.0):
    rng = np.random.default_rng(seed)
    factors = []
    for d, r in zip(shape, ranks):
        A = rng.standard_normal((d, r)) * (rng.random((d, 1)) >= zero_rows)
        factors.append(np.linalg.qr(A)[0])
    core = rng.standard_normal(ranks)
    return ttm_full(core, factors)


def tt_full_ref(cores):
    """Dense tensor of a tensor train, by NumPy."""
    X = cores[0]
    for G in cores[1:]:
        X = np.tensordot(X, G, axes=(-1, 0))
    return X.reshape(X.shape[1:-1])


def random_cores(shape, ranks, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((ranks[k], shape[k], ranks[k + 1])) for k in range(len(shape))]


# ---------------------------------------------------------------------------------------------
# SVD


def test_svd_agrees_with_numpy(rng):
    A = rng.standard_normal((40, 25))
    r = facto.svd(A)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    assert r.rank == 25 and not r.randomized and r.converged
    assert r.U.shape == (40, 25) and r.V.shape == (25, 25) and r.s.dtype == np.float64
    np.testing.assert_allclose(r.s, s, rtol=0, atol=20 * max(A.shape) * EPS * s[0])
    assert_orthonormal_columns(r.U)
    assert_orthonormal_columns(r.V)
    np.testing.assert_allclose((r.U * r.s) @ r.V.T, A, rtol=0, atol=100 * EPS * s[0])
    # Distinct singular values: the same vectors up to sign.
    for j in range(25):
        sign = np.sign(r.U[:, j] @ U[:, j])
        np.testing.assert_allclose(r.U[:, j] * sign, U[:, j], atol=1e-8)
        np.testing.assert_allclose(r.V[:, j] * sign, Vt[j], atol=1e-8)
    k = facto.svd(A, 6)
    np.testing.assert_allclose(k.s, s[:6], rtol=0, atol=20 * max(A.shape) * EPS * s[0])
    assert k.rel_error == pytest.approx(np.sqrt((s[6:] ** 2).sum() / (s ** 2).sum()), rel=1e-10)
    assert k.rel_error == pytest.approx(rel((k.U * k.s) @ k.V.T, A), rel=1e-8)


@pytest.mark.parametrize("randomized", [False, True])
def test_svd_recovers_a_planted_rank(randomized):
    A = planted_matrix(60, 45, 5, seed=3)
    r = facto.svd(A, tol=1e-6, randomized=randomized, seed=1)
    assert r.rank == 5 and r.converged and r.randomized == randomized
    assert r.rel_error <= 1e-6 and rel((r.U * r.s) @ r.V.T, A) <= 1e-6
    np.testing.assert_allclose(r.s, np.linalg.svd(A, compute_uv=False)[:5], rtol=1e-8)
    assert_orthonormal_columns(r.U)
    assert_orthonormal_columns(r.V)
    fixed = facto.svd(A, 5, randomized=True, seed=2)
    assert fixed.rank == 5 and rel((fixed.U * fixed.s) @ fixed.V.T, A) <= 1e-10
    krylov = facto.svd(A, 5, randomized=True, krylov_block=3, power_iters=1, seed=2)
    assert krylov.rank == 5 and rel((krylov.U * krylov.s) @ krylov.V.T, A) <= 1e-10
    with pytest.raises(ValueError, match="krylov_block"):
        facto.svd(A, 5, randomized=True, krylov_block=2, power_iters=1)


@pytest.mark.parametrize("randomized", [False, True])
@pytest.mark.parametrize("tol", [0.5, 0.2, 0.05])
def test_svd_tolerance_is_met(rng, randomized, tol):
    A = rng.standard_normal((50, 30)) @ np.diag(np.geomspace(1, 1e-3, 30)) @ rng.standard_normal((30, 30))
    r = facto.svd(A, tol=tol, randomized=randomized, seed=4)
    measured = rel((r.U * r.s) @ r.V.T, A)
    assert measured <= tol and r.rel_error == pytest.approx(measured, rel=1e-6)
    # Fewest triplets within tol: one fewer would not do (the exact SVD is optimal).
    s = np.linalg.svd(A, compute_uv=False)
    assert np.sqrt((s[r.rank - 1:] ** 2).sum() / (s ** 2).sum()) > tol
    if randomized:
        assert r.converged and r.rel_error_estimate <= tol


def test_svd_same_seed_same_result(rng):
    A = rng.standard_normal((40, 30))
    a, b = (facto.svd(A, 4, randomized=True, seed=7) for _ in range(2))
    c = facto.svd(A, 4, randomized=True, seed=8, power_iters=0)
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_array_equal(a.s, b.s)
    assert not np.array_equal(a.s, c.s)


def test_svd_sparse_agrees_with_dense():
    A = planted_matrix(70, 50, 4, seed=5, zero_rows=0.6)
    S = sp.csr_matrix(A)
    assert S.nnz < 0.3 * A.size
    dense = facto.svd(A, 4, randomized=True, seed=3)
    for sparse_input in (S, S.tocoo(), sp.csc_array(A), facto.coo_tensor.from_scipy(S)):
        r = facto.svd(sparse_input, 4, seed=3)  # randomized by default for sparse input
        assert r.randomized and r.rank == 4
        np.testing.assert_allclose(r.s, dense.s, rtol=1e-10)
        np.testing.assert_allclose((r.U * r.s) @ r.V.T, A, atol=1e-10 * np.abs(A).max())
        assert r.rel_error < 1e-6
    tolerant = facto.svd(S, tol=1e-6)
    assert tolerant.rank == 4 and tolerant.converged


def test_svd_float32():
    A = planted_matrix(50, 40, 6, seed=9) + 1e-3 * np.random.default_rng(1).standard_normal((50, 40))
    s64 = np.linalg.svd(A, compute_uv=False)
    A32 = A.astype(np.float32)
    for randomized in (False, True):
        r = facto.svd(A32, 6, randomized=randomized, seed=1)
        assert r.U.dtype == r.s.dtype == r.V.dtype == np.float32
        np.testing.assert_allclose(r.s, s64[:6], rtol=0, atol=1e3 * EPS32 * s64[0])
        assert_orthonormal_columns(r.U, EPS32)
        assert_orthonormal_columns(r.V, EPS32)
    # Integers are computed in float64.
    assert facto.svd(np.arange(12).reshape(3, 4)).s.dtype == np.float64


def test_svd_fortran_order_and_views(rng):
    A = rng.standard_normal((30, 20))
    for arr in (np.asfortranarray(A), A.T.copy().T, A[:, :]):
        r = facto.svd(arr, 5)
        assert r.U.shape == (30, 5) and r.V.shape == (20, 5)
        np.testing.assert_allclose((r.U * r.s) @ r.V.T, (lambda k: (k.U * k.s) @ k.V.T)(facto.svd(A, 5)), atol=1e-12)
    big = np.zeros((60, 20))
    big[::2] = A
    np.testing.assert_allclose(facto.svd(big[::2], 5).s, facto.svd(A, 5).s, rtol=1e-13)
    # randomized on the transpose: another sketch, the same kind of answer
    r = facto.svd(np.asfortranarray(A), 20, randomized=True)
    np.testing.assert_allclose((r.U * r.s) @ r.V.T, A, atol=1e-10)


def test_svd_errors(rng):
    A = rng.standard_normal((6, 5))
    with pytest.raises(ValueError, match="rank"):
        facto.svd(A, 0)
    with pytest.raises(ValueError, match="tol"):
        facto.svd(A, tol=-0.1)
    with pytest.raises(ValueError, match="rank= .*or tol="):
        facto.svd(A, randomized=True)
    with pytest.raises(ValueError, match="exceeds"):
        facto.svd(A, 6, randomized=True)
    with pytest.raises(ValueError, match="oversample"):
        facto.svd(A, 2, randomized=True, oversample=-1)
    with pytest.raises(ValueError, match="sparse"):
        facto.svd(sp.csr_matrix(A), 2, randomized=False)
    with pytest.raises(ValueError, match="2-D"):
        facto.svd(rng.standard_normal((3, 4, 5)))
    with pytest.raises(ValueError, match="non-finite"):
        facto.svd(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError):
        facto.svd(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="rank must be an integer"):
        facto.svd(A, 2.5)
    with pytest.raises(TypeError, match="tol must be a number"):
        facto.svd(A, tol="0.1")
    with pytest.raises(TypeError, match="randomized"):
        facto.svd(A, 2, randomized="yes")
    assert facto.svd(A, np.int64(2), randomized=np.bool_(True)).rank == 2
    with pytest.raises(TypeError):
        facto.svd(A, 2, 0.1)  # tol and the rest are keyword-only


def test_gil_is_released_during_svd(rng):
    A = rng.standard_normal((700, 700))
    span, ticks = {}, []
    done = threading.Event()

    def work():
        span["start"] = time.monotonic()
        facto.svd(A)
        span["end"] = time.monotonic()
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.0005)
    worker.join()
    # Had svd kept the GIL, this thread could not have run while it computed.
    assert len([t for t in ticks if span["start"] < t < span["end"]]) >= 3


# ---------------------------------------------------------------------------------------------
# Tucker


@pytest.mark.parametrize("method", ["sthosvd", "hosvd", "hooi"])
def test_tucker_recovers_a_planted_model(method):
    X = planted_tucker((9, 8, 7), (3, 4, 2), seed=2)
    r = facto.tucker(X, (3, 4, 2), method=method)
    assert r.method == method and r.model.ranks == (3, 4, 2) and r.model.shape == X.shape
    assert r.core.shape == (3, 4, 2) and [F.shape for F in r.factors] == [(9, 3), (8, 4), (7, 2)]
    np.testing.assert_allclose(r.full(), X, atol=1e-10 * np.abs(X).max())
    np.testing.assert_allclose(ttm_full(r.core, r.factors), X, atol=1e-10 * np.abs(X).max())
    assert r.rel_error < 1e-10 and r.rel_error == pytest.approx(rel(r.full(), X), abs=1e-12)
    for F in r.factors:
        assert_orthonormal_columns(F)
    assert (r.iters > 0) == (method == "hooi") and r.converged and r.seconds >= 0
    # tol alone finds the planted ranks (above the Gram route's ~sqrt(eps) floor)
    assert facto.tucker(X, tol=1e-5, method=method).model.ranks == (3, 4, 2)


@pytest.mark.parametrize("method", ["sthosvd", "hosvd", "hooi"])
@pytest.mark.parametrize("tol", [0.6, 0.3])
def test_tucker_tolerance_is_met(rng, method, tol):
    # Decaying spectra in every mode, so that tol leaves ranks below the dimensions.
    shape = (10, 9, 8)
    X = ttm_full(rng.standard_normal(shape), [np.diag(np.geomspace(1, 0.05, d)) for d in shape])
    r = facto.tucker(X, tol=tol, method=method)
    measured = rel(r.full(), X)
    assert measured <= tol and r.rel_error == pytest.approx(measured, rel=1e-9)
    assert r.rel_error <= r.error_bound + 100 * EPS and r.error_bound <= tol
    assert all(R < d for R, d in zip(r.model.ranks, X.shape))


def test_tucker_one_rank_for_every_mode_and_caps(rng):
    X = rng.standard_normal((6, 7, 8))
    assert facto.tucker(X, 2).model.ranks == (2, 2, 2)
    capped = facto.tucker(X, [2, 3, 2], tol=1e-3)
    assert capped.model.ranks == (2, 3, 2) and capped.error_bound > 1e-3


def test_tucker_sparse_agrees_with_dense():
    X = planted_tucker((12, 10, 9), (2, 3, 2), seed=6, zero_rows=0.5)
    C = facto.to_coo(X)
    assert C.nnz < 0.5 * X.size
    dense = facto.tucker(X, (2, 3, 2), method="hooi")
    s = facto.tucker(C, (2, 3, 2), seed=1)  # hooi by default for sparse input
    assert s.method == "hooi" and s.error_bound == 0
    np.testing.assert_allclose(s.full(), dense.full(), atol=1e-9 * np.abs(X).max())
    assert s.rel_error < 1e-6
    # A scipy.sparse matrix is a 2-way tensor.
    M = planted_matrix(30, 20, 3, seed=2, zero_rows=0.5)
    m = facto.tucker(sp.csr_matrix(M), [3, 3])
    np.testing.assert_allclose(m.full(), facto.tucker(M, [3, 3]).full(), atol=1e-9 * np.abs(M).max())


@pytest.mark.parametrize("sparse", [False, True])
def test_tucker_hooi_history_and_callback(rng, sparse):
    shape = (12, 11, 10)
    X = ttm_full(rng.standard_normal(shape), [np.diag(np.geomspace(1, 0.1, d)) for d in shape])
    data = facto.to_coo(X) if sparse else X
    seen = []
    r = facto.tucker(data, (3, 3, 3), method="hooi", max_iters=40, iter_tol=0, on_iteration=seen.append)
    assert r.iters == len(r.history) == len(seen) and r.iters >= 2 and not r.interrupted
    assert [it.iter for it in seen] == list(range(1, r.iters + 1))
    assert [it.rel_error for it in seen] == r.history
    assert np.all(np.diff(r.history) <= 1e-12)  # HOOI never increases the error
    assert r.history[-1] == pytest.approx(r.rel_error_estimate, abs=1e-12)
    assert all(it.change == pytest.approx(a - b, abs=1e-15) for it, a, b in zip(seen[1:], r.history, r.history[1:]))
    stopped = facto.tucker(data, (3, 3, 3), method="hooi", max_iters=40, iter_tol=0, on_iteration=lambda it: it.iter < 2)
    assert stopped.interrupted and stopped.iters == 2 and len(stopped.history) == 2
    assert stopped.history == r.history[:2]
    assert facto.tucker(X, (3, 3, 3)).history == []  # sthosvd: no sweeps


def test_tucker_callback_errors_progress_and_ctrl_c(rng, capsys):
    X = rng.standard_normal((8, 7, 6))

    def boom(it):
        raise RuntimeError(f"stop at {it.iter}")

    with pytest.raises(RuntimeError, match="stop at 1"):
        facto.tucker(X, 2, method="hooi", on_iteration=boom)
    with pytest.raises(KeyboardInterrupt):
        facto.tucker(X, 2, method="hooi", iter_tol=0, max_iters=1000,
                     on_iteration=lambda it: os.kill(os.getpid(), signal.SIGINT))
    with pytest.raises(ValueError, match="callable"):
        facto.tucker(X, 2, method="hooi", on_iteration=3)
    r = facto.tucker(X, 2, method="hooi", max_iters=3, iter_tol=0, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == r.iters == 3 and err[0].startswith("tucker hooi iter    1  rel_error ")


def test_tucker_float32():
    X = planted_tucker((8, 7, 6), (2, 3, 2), seed=4)
    r = facto.tucker(X.astype(np.float32), (2, 3, 2))
    assert r.core.dtype == np.float32 and all(F.dtype == np.float32 for F in r.factors)
    assert r.full().dtype == np.float32
    assert rel(r.full().astype(np.float64), X) < 100 * EPS32
    for F in r.factors:
        assert_orthonormal_columns(F, EPS32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tucker_uses_c_order_arrays_in_place(rng, dtype):
    import tracemalloc

    X = np.asarray(rng.random((48, 48, 48)), dtype=dtype)
    for arr, copied in ((X, False), (np.asfortranarray(X), True), (X[:, :, ::-1], True)):
        tracemalloc.start()
        r = facto.tucker(arr, 2, check_error=False)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (peak >= X.nbytes) == copied, (arr.flags, peak)
        assert r.model.shape == X.shape
    f = facto.tucker(np.asfortranarray(X), 3)
    np.testing.assert_allclose(f.full(), facto.tucker(X, 3).full(), atol=1e-5 if dtype == np.float32 else 1e-12)


def test_tucker_tensor_from_arrays(rng):
    core = rng.standard_normal((2, 3, 4))
    factors = [rng.standard_normal((d, r)) for d, r in zip((5, 6, 7), core.shape)]
    T = facto.tucker_tensor(core, factors)
    assert T.shape == (5, 6, 7) and T.ranks == (2, 3, 4) and T.order == 3
    np.testing.assert_allclose(T.full(), ttm_full(core, factors), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        T.core[0, 0, 0] = 1.0  # read-only copies
    with pytest.raises(ValueError, match="columns"):
        facto.tucker_tensor(core, [factors[0], factors[1], rng.standard_normal((7, 3))])
    with pytest.raises(ValueError, match="one factor per mode"):
        facto.tucker_tensor(core, factors[:2])


def test_tucker_errors(rng):
    X = rng.standard_normal((4, 5, 6))
    with pytest.raises(ValueError, match="method"):
        facto.tucker(X, 2, method="tsvd")
    with pytest.raises(ValueError, match="sparse"):
        facto.tucker(facto.to_coo(X), 2, method="sthosvd")
    with pytest.raises(ValueError):
        facto.tucker(X)  # neither ranks nor tol
    with pytest.raises(ValueError):
        facto.tucker(X, [2, 2])  # one rank per mode
    with pytest.raises(ValueError, match="ranks"):
        facto.tucker(X, [2, 0, 2])
    with pytest.raises(TypeError, match="ranks must be an integer"):
        facto.tucker(X, [2, 2.0, 2])
    with pytest.raises(ValueError, match="ranks"):
        facto.tucker(X, "222")
    with pytest.raises(ValueError):
        facto.tucker(X, [2, 6, 2])  # above the dimension
    with pytest.raises(ValueError, match="tol"):
        facto.tucker(X, tol=-1)
    with pytest.raises(ValueError):
        facto.tucker(facto.to_coo(X), tol=0.1)  # sparse hooi needs ranks
    with pytest.raises(TypeError):
        facto.tucker(X, 2, 0.1)


# ---------------------------------------------------------------------------------------------
# Tensor train


def test_tt_exact_and_planted():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 5, 6, 3))
    T = facto.tt(X)
    assert T.ranks == (1, 4, 18, 3, 1) and T.shape == X.shape and T.order == 4
    np.testing.assert_allclose(T.full(), X, atol=100 * EPS * np.abs(X).max())
    np.testing.assert_allclose(tt_full_ref(T.cores), X, atol=100 * EPS * np.abs(X).max())
    assert T.rel_error_bound <= 10 * EPS
    cores = random_cores((5, 6, 7, 4), (1, 2, 3, 2, 1), seed=4)
    Y = tt_full_ref(cores)
    P = facto.tt(Y, tol=1e-10)
    assert P.ranks == (1, 2, 3, 2, 1)
    np.testing.assert_allclose(P.full(), Y, atol=1e-10 * np.abs(Y).max())
    # left-orthonormal cores (TT-SVD): every core but the last, unfolded (r_k n_k) x r_{k+1}
    for G in P.cores[:-1]:
        assert_orthonormal_columns(G.reshape(-1, G.shape[2]))


@pytest.mark.parametrize("tol", [0.5, 0.2, 0.05])
def test_tt_tolerance_is_met(rng, tol):
    X = rng.standard_normal((6, 7, 8, 5))
    T = facto.tt(X, tol=tol)
    measured = rel(T.full(), X)
    assert measured <= T.rel_error_bound + 100 * EPS and T.rel_error_bound <= tol
    capped = facto.tt(X, tol=tol, max_ranks=2)
    assert max(capped.ranks) <= 2 and rel(capped.full(), X) <= capped.rel_error_bound + 100 * EPS
    per_rank = facto.tt(X, max_ranks=[3, 4, 2])
    assert per_rank.ranks == (1, 3, 4, 2, 1)


def test_tt_entries_norm_and_size(rng):
    X = rng.standard_normal((4, 5, 6))
    T = facto.tt(X, tol=0.3)
    F = T.full()
    for idx in [(0, 0, 0), (3, 4, 5), (1, 2, 3), (-1, -2, -3), (np.int64(2), 1, np.int32(0))]:
        assert T[idx] == pytest.approx(F[idx], abs=1e-12)
    assert T((1, 2, 3)) == pytest.approx(F[1, 2, 3], abs=1e-12)
    assert T.norm() == pytest.approx(np.linalg.norm(F), rel=1e-12)
    assert T.storage_size == sum(G.size for G in T.cores)
    assert T.compression_ratio == pytest.approx(X.size / T.storage_size)
    with pytest.raises(IndexError):
        T[4, 0, 0]
    with pytest.raises(IndexError):
        T[0, 0]
    with pytest.raises(IndexError):
        T((0, 0, -1))
    with pytest.raises(TypeError):
        T[0:2, 0, 0]
    with pytest.raises(TypeError):
        T[0.5, 0, 0]
    with pytest.raises(ValueError):
        T.cores[0][0, 0, 0] = 1.0  # read-only copies
    v = facto.tt(np.arange(5.0))
    assert v.ranks == (1, 1) and v[3] == pytest.approx(3.0) and v[-1] == pytest.approx(4.0)


def test_tt_round_gives_minimal_ranks():
    cores = random_cores((5, 6, 4, 3), (1, 2, 3, 2, 1), seed=7)
    Y = tt_full_ref(cores)
    # Y + Y as a train of doubled ranks: block-diagonal inner cores, stacked ends.
    doubled = [np.concatenate([cores[0], cores[0]], axis=2)]
    for G in cores[1:-1]:
        D = np.zeros((2 * G.shape[0], G.shape[1], 2 * G.shape[2]))
        D[: G.shape[0], :, : G.shape[2]] = G
        D[G.shape[0]:, :, G.shape[2]:] = G
        doubled.append(D)
    doubled.append(np.concatenate([cores[-1], cores[-1]], axis=0))
    S = facto.tt_tensor(doubled)
    assert S.ranks == (1, 4, 6, 4, 1) and S.rel_error_bound == 0
    np.testing.assert_allclose(S.full(), 2 * Y, atol=1e-12 * np.abs(Y).max())
    R = facto.tt_round(S, tol=1e-10)
    assert R.ranks == (1, 2, 3, 2, 1)
    np.testing.assert_allclose(R.full(), 2 * Y, atol=1e-10 * np.abs(Y).max())
    coarse = facto.tt_round(S, tol=0.3)
    assert rel(coarse.full(), 2 * Y) <= coarse.rel_error_bound + 100 * EPS and coarse.rel_error_bound <= 0.3
    assert max(facto.tt_round(S, max_ranks=1).ranks) == 1


def test_tt_float32(rng):
    X = rng.standard_normal((5, 6, 7)).astype(np.float32)
    T = facto.tt(X)
    assert all(G.dtype == np.float32 for G in T.cores) and T.full().dtype == np.float32
    assert rel(T.full().astype(np.float64), X.astype(np.float64)) < 100 * EPS32
    R = facto.tt_round(T, tol=0.5)
    assert R.cores[0].dtype == np.float32 and rel(R.full(), X) <= 0.5
    assert facto.tt_tensor(T.cores).cores[1].dtype == np.float32


def test_tt_errors(rng):
    X = rng.standard_normal((4, 5, 6))
    with pytest.raises(ValueError, match="tol"):
        facto.tt(X, tol=-0.1)
    with pytest.raises(ValueError, match="max_ranks"):
        facto.tt(X, max_ranks=0)
    with pytest.raises(ValueError):
        facto.tt(X, max_ranks=[2, 2, 2])  # d - 1 = 2 values
    with pytest.raises(ValueError, match="sparse"):
        facto.tt(sp.csr_matrix(X[0]))
    with pytest.raises(ValueError):
        facto.tt(np.zeros((3, 0, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        facto.tt(np.array([[1.0, np.inf], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="3"):
        facto.tt_tensor([rng.standard_normal((1, 4))])
    with pytest.raises(ValueError):
        facto.tt_tensor([rng.standard_normal((1, 4, 2)), rng.standard_normal((3, 5, 1))])  # 2 != 3
    with pytest.raises(TypeError):
        facto.tt_round(X, tol=0.1)
