"""facto core types from Python: coo_tensor, kruskal_tensor, conversions, norm, mttkrp."""
import numpy as np
import pytest
import scipy.sparse as sp

import facto
from conftest import EPS, cp_full, mttkrp_ref


def test_coo_from_coordinates_and_back(rng):
    X = rng.standard_normal((4, 5, 3)) * (rng.random((4, 5, 3)) < 0.3)
    idx = np.array(np.nonzero(X))
    C = facto.coo_tensor(idx, X[tuple(idx)], shape=X.shape)
    assert C.shape == (4, 5, 3) and C.order == 3 and C.nnz == idx.shape[1]
    np.testing.assert_array_equal(C.indices, idx)
    np.testing.assert_array_equal(C.values, X[tuple(idx)])
    np.testing.assert_array_equal(C.to_dense(), X)
    np.testing.assert_array_equal(facto.to_dense(C), X)


def test_coo_shape_defaults_to_largest_index():
    C = facto.coo_tensor([[0, 3], [2, 1]], [1.0, 2.0])
    assert C.shape == (4, 3)


def test_coo_canonicalize_sums_duplicates():
    C = facto.coo_tensor([[1, 0, 1], [2, 0, 2]], [1.0, 5.0, 2.5], shape=(2, 3))
    assert not C.is_canonical()
    C.canonicalize()
    assert C.is_canonical() and C.nnz == 2
    np.testing.assert_array_equal(C.indices, [[0, 1], [0, 2]])
    np.testing.assert_array_equal(C.values, [5.0, 3.5])


def test_coo_attributes_are_read_only_copies():
    C = facto.coo_tensor([[0, 1]], [1.0, 2.0])
    with pytest.raises(ValueError):
        C.values[0] = 7
    assert C.values[0] == 1.0


def test_coo_errors():
    with pytest.raises(IndexError, match="outside"):
        facto.coo_tensor([[0, 5]], [1.0, 2.0], shape=(3,))
    with pytest.raises(IndexError):
        facto.coo_tensor([[0, -1]], [1.0, 2.0], shape=(3,))
    with pytest.raises(ValueError, match="integers"):
        facto.coo_tensor([[0.5, 1.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="values must be"):
        facto.coo_tensor([[0, 1]], [1.0])
    with pytest.raises(ValueError, match="shape has"):
        facto.coo_tensor([[0, 1]], [1.0, 2.0], shape=(3, 3))


def test_coo_scipy_round_trip(rng):
    M = sp.random(7, 9, density=0.3, random_state=3, format="csr")
    C = facto.coo_tensor.from_scipy(M)
    assert C.shape == (7, 9) and C.nnz == M.nnz
    np.testing.assert_array_equal(C.to_dense(), M.toarray())
    np.testing.assert_array_equal(C.to_scipy().toarray(), M.toarray())


def test_to_coo_threshold(rng):
    X = rng.standard_normal((3, 4, 5))
    C = facto.to_coo(X, threshold=0.5)
    np.testing.assert_array_equal(C.to_dense(), np.where(np.abs(X) > 0.5, X, 0))
    C32 = facto.to_coo(X.astype(np.float32))
    np.testing.assert_array_equal(C32.to_dense(), X.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_norm_matches_numpy(rng, dtype, order):
    X = np.asarray(rng.standard_normal((6, 7, 8)), dtype=dtype, order=order)
    ref = np.linalg.norm(X.astype(np.float64))
    assert facto.norm(X) == pytest.approx(ref, rel=100 * X.size * np.finfo(dtype).eps)
    assert facto.norm(facto.to_coo(X)) == pytest.approx(ref, rel=100 * X.size * np.finfo(dtype).eps)


def test_norm_of_strided_and_integer_arrays(rng):
    X = rng.standard_normal((6, 7, 8))
    view = X[::2, 1:, ::-1]
    assert facto.norm(view) == pytest.approx(np.linalg.norm(view), rel=1e-12)
    assert facto.norm(np.arange(10).reshape(2, 5)) == pytest.approx(np.linalg.norm(np.arange(10)), rel=1e-14)


def test_non_numeric_arrays_are_rejected():
    with pytest.raises(ValueError, match="dtype"):
        facto.norm(np.ones((2, 2), dtype=np.complex128))
    with pytest.raises(ValueError, match="dtype"):
        facto.norm(np.array([["a", "b"]]))


def test_kruskal_full_matches_numpy(rng):
    factors = [rng.standard_normal((d, 3)) for d in (4, 5, 6)]
    w = np.array([3.0, 2.0, 0.5])
    K = facto.kruskal_tensor(factors, w)
    assert K.shape == (4, 5, 6) and K.rank == 3 and K.order == 3
    ref = cp_full(w, factors)
    np.testing.assert_allclose(K.full(), ref, rtol=0, atol=100 * 3 * EPS * np.abs(ref).max())
    assert K((1, 2, 3)) == pytest.approx(ref[1, 2, 3], rel=1e-12)
    with pytest.raises(IndexError):
        K((1, 2, 6))


def test_kruskal_normalize_and_arrange_keep_the_tensor(rng):
    factors = [rng.standard_normal((d, 4)) for d in (3, 4, 5)]
    K = facto.kruskal_tensor(factors)
    np.testing.assert_array_equal(K.weights, np.ones(4))
    before = K.full()
    K.normalize()
    K.arrange()
    for F in K.factors:
        np.testing.assert_allclose(np.linalg.norm(F, axis=0), 1, rtol=1e-12)
    assert np.all(np.diff(K.weights) <= 0) and np.all(K.weights >= 0)
    np.testing.assert_allclose(K.full(), before, atol=1e-12 * np.abs(before).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_models_survive_pickle_and_deepcopy(rng, dtype):
    import copy
    import pickle

    K = facto.kruskal_tensor([rng.random((3, 2)), rng.random((4, 2))], [2.0, 0.5])
    T = facto.tucker_tensor(rng.random((2, 3)).astype(dtype), [rng.random((4, 2)), rng.random((5, 3))])
    TT = facto.tt_tensor([rng.random((1, 3, 2)), rng.random((2, 4, 1))])
    for model in (K, T, TT):
        for back in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert type(back) is type(model)
            np.testing.assert_array_equal(back.full(), model.full())
    T32 = pickle.loads(pickle.dumps(T))
    assert T32.core.dtype == T.core.dtype
    # An unpickled float32 array (an equal dtype, not NumPy's cached object) is still float32.
    X = pickle.loads(pickle.dumps(rng.random((6, 5)).astype(dtype)))
    assert facto.svd(X, 2).U.dtype == dtype
    m = facto.mf_model(rng.random((5, 2)), rng.random((6, 2)), rng.random(5), rng.random(6), 3.0, reg=0.7,
                       alpha=4.0)
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(back.predict(np.arange(5), 1), m.predict(np.arange(5), 1))
    assert (back.reg, back.bias_reg, back.alpha, back.implicit) == (0.7, m.bias_reg, 4.0, False)


def test_kruskal_setters_validate(rng):
    K = facto.kruskal_tensor([rng.random((3, 2)), rng.random((4, 2))])
    K.weights = [2.0, 1.0]
    np.testing.assert_array_equal(K.weights, [2.0, 1.0])
    with pytest.raises(ValueError):
        K.weights = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        facto.kruskal_tensor([rng.random((3, 2)), rng.random((4, 3))])
    with pytest.raises(ValueError):
        facto.kruskal_tensor([rng.random(3)])


def test_factor_match_score(rng):
    factors = [rng.random((d, 3)) for d in (5, 6, 7)]
    truth = facto.kruskal_tensor(factors)
    permuted = facto.kruskal_tensor([f[:, ::-1] * 2 for f in factors])
    assert facto.factor_match_score(permuted, truth, weight_penalty=False) == pytest.approx(1.0, abs=1e-12)
    other = facto.kruskal_tensor([rng.random((d, 3)) for d in (5, 6, 7)])
    assert facto.factor_match_score(other, truth) < 0.99


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_mttkrp_matches_numpy(rng, dtype, order):
    X = np.asarray(rng.standard_normal((5, 6, 7)), dtype=dtype, order=order)
    factors = [np.asarray(rng.standard_normal((d, 4)), dtype=dtype) for d in X.shape]
    Xd = X.astype(np.float64)
    fd = [f.astype(np.float64) for f in factors]
    for mode in range(3):
        got = facto.mttkrp(X, factors, mode)
        assert got.dtype == dtype and got.shape == (X.shape[mode], 4)
        ref = mttkrp_ref(Xd, fd, mode)
        tol = 100 * X.size * np.finfo(dtype).eps * np.abs(ref).max()
        np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
    with pytest.raises(IndexError):
        facto.mttkrp(X, factors, 3)


def test_sparse_mttkrp_matches_numpy(rng):
    X = rng.standard_normal((5, 6, 7)) * (rng.random((5, 6, 7)) < 0.2)
    factors = [rng.standard_normal((d, 3)) for d in X.shape]
    C = facto.to_coo(X)
    S = facto.make_csf_set(C, facto.csf_policy.one)
    assert S.nnz == C.nnz and S.shape == X.shape and S.bytes() > 0
    assert S.norm_sq == pytest.approx(np.sum(X**2), rel=1e-12)
    for mode in range(3):
        ref = mttkrp_ref(X, factors, mode)
        np.testing.assert_allclose(facto.mttkrp(C, factors, mode), ref, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_allclose(facto.mttkrp(S, factors, mode), ref, atol=1e-12 * np.abs(ref).max())


def test_cpp_exceptions_arrive_as_python_ones(tmp_path):
    # facto::invalid_argument and parse_error -> ValueError, out_of_range -> IndexError,
    # io_error -> OSError, std::bad_alloc -> MemoryError, each with the C++ message.
    with pytest.raises(ValueError, match=r"^cp_als: rank must be >= 1, got 0$"):
        facto.cp_als(np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match=r"^x\.tns:1: "):
        facto.parse_tns("1 1 nan?\n", "x.tns")
    with pytest.raises(IndexError, match=r"^coo_tensor: "):
        facto.coo_tensor([[3]], [1.0], shape=(2,))
    missing = tmp_path / "missing.npy"
    with pytest.raises(OSError, match=f"^read_file: cannot open '{missing}'"):
        facto.read_npy(str(missing))
    huge = facto.kruskal_tensor([np.ones((2**19, 1))] * 3)  # 2^57 entries: no allocator gives that
    with pytest.raises(MemoryError):
        huge.full()
