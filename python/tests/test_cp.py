"""cp_als / cp_hals from Python: NumPy references, layouts and dtypes, sparse inputs, callbacks,
Ctrl-C, the GIL, and errors."""
import os
import signal
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import facto
from conftest import EPS, cp_als_ref, cp_full, low_rank


def numpy_fit(X, model):
    return 1 - np.linalg.norm(X - cp_full(model.weights, model.factors)) / np.linalg.norm(X)


def test_als_equals_numpy_als_from_the_same_start(rng):
    X = rng.standard_normal((6, 5, 4))
    start = [rng.standard_normal((d, 3)) for d in X.shape]
    iters = 5
    r = facto.cp_als(X, 3, initial=start, max_iters=iters, tol=0)
    assert r.iters == iters and not r.converged and not r.interrupted
    ref = cp_full(np.ones(3), cp_als_ref(X, start, iters))
    got = r.model.full()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-8 * np.abs(ref).max())
    assert r.fit == pytest.approx(numpy_fit(X, r.model), abs=1e-10)


@pytest.mark.parametrize("method", [facto.cp_als, facto.cp_hals])
def test_recovers_an_exact_low_rank_tensor(method):
    X, _ = low_rank((8, 7, 6), 3, seed=4, nonneg=True)
    r = method(X, 3, max_iters=1000, tol=1e-12, seed=2, init="svd")
    assert r.fit > 0.999
    # Near a perfect fit the reported fit (from ||X||^2 + ||M||^2 - 2<X, M>) loses half the digits.
    assert r.fit == pytest.approx(numpy_fit(X, r.model), abs=100 * np.sqrt(EPS))
    assert len(r.history) == r.iters and r.history[-1].fit == r.fit
    assert [h.iter for h in r.history] == list(range(1, r.iters + 1))
    w = r.model.weights
    assert np.all(np.diff(w) <= 0)
    for F in r.model.factors:
        np.testing.assert_allclose(np.linalg.norm(F, axis=0), 1, rtol=1e-10)


def test_hals_factors_are_nonnegative(rng):
    X = rng.standard_normal((6, 7, 8))  # negative entries too: the model stays nonnegative
    r = facto.cp_hals(X, 4, max_iters=30, seed=1)
    assert all(np.all(F >= 0) for F in r.model.factors) and np.all(r.model.weights >= 0)
    assert r.fit == pytest.approx(numpy_fit(X, r.model), abs=1e-9)


def test_same_seed_same_result(rng):
    X = rng.random((7, 6, 5))
    a = facto.cp_als(X, 3, seed=9, max_iters=20)
    b = facto.cp_als(X, 3, seed=9, max_iters=20)
    c = facto.cp_als(X, 3, seed=10, max_iters=20)
    for Fa, Fb in zip(a.model.factors, b.model.factors):
        np.testing.assert_array_equal(Fa, Fb)
    assert any(not np.array_equal(Fa, Fc) for Fa, Fc in zip(a.model.factors, c.model.factors))


def test_fortran_order_is_the_reversed_c_problem(rng):
    X = np.asfortranarray(rng.random((5, 6, 7)))
    r = facto.cp_als(X, 2, seed=3, max_iters=10, tol=0)
    t = facto.cp_als(np.ascontiguousarray(X.T), 2, seed=3, max_iters=10, tol=0)
    assert r.model.shape == X.shape
    for Fr, Ft in zip(r.model.factors, reversed(t.model.factors)):
        np.testing.assert_array_equal(Fr, Ft)
    np.testing.assert_array_equal(r.model.weights, t.model.weights)
    assert r.fit == pytest.approx(numpy_fit(X, r.model), abs=1e-10)


def test_fortran_order_with_given_start_matches_c_order(rng):
    X = rng.random((5, 6, 7))
    start = [rng.random((d, 2)) for d in X.shape]
    c = facto.cp_als(X, 2, initial=start, max_iters=5, tol=0)
    f = facto.cp_als(np.asfortranarray(X), 2, initial=start, max_iters=5, tol=0)
    # Modes are swept in another order, so models differ slightly; both are fits of X.
    assert f.model.shape == X.shape
    assert f.fit == pytest.approx(numpy_fit(X, f.model), abs=1e-10)
    assert c.fit == pytest.approx(numpy_fit(X, c.model), abs=1e-10)


def test_dtypes_and_strided_views(rng):
    X, _ = low_rank((6, 5, 4), 2, seed=8, nonneg=True)
    r64 = facto.cp_als(X, 2, seed=1, max_iters=50)
    r32 = facto.cp_als(X.astype(np.float32), 2, seed=1, max_iters=50)
    assert r32.model.factors[0].dtype == np.float64
    assert abs(r32.fit - r64.fit) < 1e-3
    big = np.zeros((12, 5, 8))
    big[::2, :, ::2] = X
    r_view = facto.cp_als(big[::2, :, ::2], 2, seed=1, max_iters=50)  # copied to C order
    np.testing.assert_array_equal(r_view.model.weights, r64.model.weights)
    r_int = facto.cp_als((X * 1000).astype(np.int64), 2, seed=1, max_iters=50)
    assert r_int.fit > 0.99


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_arrays_are_used_in_place(rng, dtype):
    # NumPy reports its allocations to tracemalloc (facto's own do not show): an input copied
    # by the binding would add its full size to the peak.
    import tracemalloc

    X = np.asarray(rng.random((64, 64, 64)), dtype=dtype)
    for arr, copied in ((X, False), (np.asfortranarray(X), False), (X[:, :, ::-1], True), ((X * 100).astype(np.int32), True)):
        tracemalloc.start()
        facto.cp_als(arr, 2, max_iters=2)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (peak >= X.nbytes) == copied, (arr.flags, arr.dtype, peak)


def test_sparse_inputs_agree_with_dense(rng):
    X = rng.random((6, 7, 8)) * (rng.random((6, 7, 8)) < 0.5)
    C = facto.to_coo(X)
    start = [rng.random((d, 3)) for d in X.shape]
    d = facto.cp_als(X, 3, initial=start, max_iters=8, tol=0)
    s = facto.cp_als(C, 3, initial=start, max_iters=8, tol=0)
    S = facto.make_csf_set(C, facto.csf_policy.one)
    s1 = facto.cp_als(S, 3, initial=start, max_iters=8, tol=0, csf="one")
    for r in (s, s1):
        np.testing.assert_allclose(r.model.full(), d.model.full(), atol=1e-9 * np.abs(X).max())
        assert r.fit == pytest.approx(d.fit, abs=1e-10)


def test_scipy_sparse_matrix(rng):
    M = sp.random(30, 20, density=0.3, random_state=5, format="csc")
    dense = M.toarray(order="C")  # csc.toarray() would be Fortran order: the transposed problem
    for start in ({"seed": 2}, {"initial": [rng.random((d, 4)) for d in M.shape]}):
        r = facto.cp_als(M, 4, max_iters=30, tol=0, **start)
        d = facto.cp_als(dense, 4, max_iters=30, tol=0, **start)
        assert r.fit == pytest.approx(d.fit, abs=1e-9)
        assert r.fit == pytest.approx(numpy_fit(dense, r.model), abs=1e-9)


def test_callback_sees_every_iteration_and_can_stop(rng):
    X = rng.random((6, 5, 4))
    seen = []
    r = facto.cp_als(X, 2, max_iters=50, tol=0, on_iteration=seen.append)
    assert [it.iter for it in seen] == list(range(1, 51)) and r.iters == 50
    assert [it.fit for it in seen] == [h.fit for h in r.history]
    stopped = facto.cp_hals(X, 2, max_iters=50, tol=0, on_iteration=lambda it: it.iter < 4)
    assert stopped.interrupted and stopped.iters == 4 and len(stopped.history) == 4


def test_callback_exception_propagates(rng):
    def boom(it):
        raise RuntimeError(f"stop at {it.iter}")

    with pytest.raises(RuntimeError, match="stop at 1"):
        facto.cp_als(rng.random((4, 5, 6)), 2, on_iteration=boom)


def test_progress_lines(rng, capsys):
    facto.cp_als(rng.random((4, 5, 6)), 2, max_iters=3, tol=0, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and err[0].startswith("cp_als iter    1  fit ")


def long_problem():
    rng = np.random.default_rng(1)
    return rng.random((60, 60, 60))


def test_ctrl_c_raises_keyboard_interrupt():
    X = long_problem()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            facto.cp_als(X, 8, max_iters=100000, tol=0)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 30


def test_gil_is_released_during_computation():
    X = long_problem()
    ticks, iter_times = [], []
    done = threading.Event()
    result = {}

    def work():
        result["r"] = facto.cp_als(X, 8, max_iters=1000, tol=0, on_iteration=lambda it: iter_times.append(time.monotonic()))
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.001)
    worker.join()
    assert result["r"].iters == 1000
    # Had the worker kept the GIL inside cp_als, this thread could not run between its first and
    # last iteration at all.
    during = [t for t in ticks if iter_times[0] < t < iter_times[-1]]
    assert len(during) >= 5


def test_errors(rng):
    X = rng.random((4, 5, 6))
    with pytest.raises(ValueError, match="rank"):
        facto.cp_als(X, 0)
    with pytest.raises(ValueError):
        facto.cp_als(np.zeros((3, 4)), 2)
    with pytest.raises(ValueError):
        facto.cp_als(rng.random(5), 2)
    with pytest.raises(ValueError, match="init"):
        facto.cp_als(X, 2, init="nvecs")
    with pytest.raises(ValueError, match="initial"):
        facto.cp_als(X, 2, init="given")
    with pytest.raises(ValueError):
        facto.cp_als(X, 2, initial=[rng.random((4, 2)), rng.random((5, 2)), rng.random((7, 2))])
    with pytest.raises(ValueError, match="csf"):
        facto.cp_als(facto.to_coo(X), 2, csf="two")
    with pytest.raises(ValueError, match="callable"):
        facto.cp_als(X, 2, on_iteration=3)
    with pytest.raises(TypeError):
        facto.cp_als(X, 2, 50)  # options after the rank are keyword-only


def test_init_spellings_agree(rng):
    X = rng.random((4, 5, 6))
    a = facto.cp_als(X, 2, init="svd", max_iters=5)
    b = facto.cp_als(X, 2, init=facto.cp_init.svd, max_iters=5)
    np.testing.assert_array_equal(a.model.weights, b.model.weights)
    K = facto.kruskal_tensor([rng.random((d, 2)) for d in X.shape])
    c = facto.cp_als(X, 2, initial=K, max_iters=5)
    d = facto.cp_als(X, 2, init="given", initial=K.factors, max_iters=5)
    np.testing.assert_array_equal(c.model.weights, d.model.weights)
