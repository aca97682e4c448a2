"""facto file formats from Python: .tns, .npy/.npz, .mtx, CSV, read_tensor, check, and errors."""
import gzip

import numpy as np
import pytest
import scipy.sparse as sp

import facto
from conftest import TEST_DATA


def sparse_tensor(rng, shape=(4, 5, 6), density=0.3):
    X = rng.standard_normal(shape) * (rng.random(shape) < density)
    return X, facto.to_coo(X)


def test_tns_round_trip(tmp_path, rng):
    X, C = sparse_tensor(rng)
    for base in (0, 1):
        path = str(tmp_path / f"x{base}.tns")
        facto.write_tns(path, C, index_base=base)
        back = facto.read_tns(path, index_base=base, shape=X.shape)
        np.testing.assert_array_equal(back.to_dense(), X)


def test_tns_text_and_gzip(tmp_path):
    text = "# comment\n1 1 1 2.5\n2 3 1 -1\n2 3 1 0.5\n"
    C = facto.parse_tns(text)
    assert C.shape == (2, 3, 1) and C.nnz == 2
    np.testing.assert_array_equal(C.values, [2.5, -0.5])
    raw = facto.parse_tns(text, sum_duplicates=False)
    assert raw.nnz == 3
    path = tmp_path / "x.tns.gz"
    path.write_bytes(gzip.compress(text.encode()))
    np.testing.assert_array_equal(facto.read_tns(str(path)).to_dense(), C.to_dense())


def test_tns_errors_name_file_and_line(tmp_path):
    with pytest.raises(ValueError, match=r"bad\.tns:2: .*not a number: 'abc'"):
        facto.parse_tns("1 1 1.0\n1 2 abc\n", "bad.tns")
    with pytest.raises(ValueError, match=r":2: "):
        facto.parse_tns("1 1 1.0\n1 2\n")
    with pytest.raises(OSError, match="no-such-file.tns"):
        facto.read_tns(str(tmp_path / "no-such-file.tns"))
    with pytest.raises(OSError):
        facto.write_tns(str(tmp_path / "no-such-dir" / "x.tns"), facto.coo_tensor([[0]], [1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_npy_round_trip(tmp_path, rng, dtype):
    X = np.asarray(rng.standard_normal((3, 4, 5)), dtype=dtype)
    path = str(tmp_path / "x.npy")
    facto.write_npy(path, np.asfortranarray(X))
    np.testing.assert_array_equal(np.load(path), X)  # written in C order whatever the input order
    got = facto.read_npy(path, dtype=dtype)
    assert got.dtype == dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, X)


def test_npy_reads_what_numpy_writes(tmp_path, rng):
    X = rng.integers(-100, 100, size=(4, 3)).astype(np.int16)
    np.save(tmp_path / "i.npy", np.asfortranarray(X))
    np.testing.assert_array_equal(facto.read_npy(str(tmp_path / "i.npy")), X.astype(np.float64))
    np.testing.assert_array_equal(facto.read_npy(str(TEST_DATA / "npy" / "f4_fortran.npy")),
                                  np.load(TEST_DATA / "npy" / "f4_fortran.npy").astype(np.float64))
    with pytest.raises(ValueError, match="complex|c16|<c"):
        facto.read_npy(str(TEST_DATA / "npy" / "complex.npy"))
    with pytest.raises(ValueError, match="dtype"):
        facto.read_npy(str(TEST_DATA / "npy" / "f8_c.npy"), dtype="int32")


def test_npz_round_trip(tmp_path, rng):
    arrays = {"a": rng.standard_normal((2, 3)), "b": np.arange(5.0)}
    for compress in (False, True):
        path = str(tmp_path / f"x{compress}.npz")
        facto.write_npz(path, arrays, compress=compress)
        with np.load(path) as z:
            np.testing.assert_array_equal(z["a"], arrays["a"])
        back = facto.read_npz(path)
        assert sorted(back) == ["a", "b"]
        np.testing.assert_array_equal(back["b"], arrays["b"])


def test_mtx_round_trip(tmp_path, rng):
    M = sp.random(6, 5, density=0.4, random_state=7)
    path = str(tmp_path / "m.mtx")
    facto.write_mtx(path, M)
    np.testing.assert_array_equal(facto.read_mtx(path).to_dense(), M.toarray())
    dense = rng.standard_normal((3, 4))
    facto.write_mtx(str(tmp_path / "d.mtx"), dense)
    np.testing.assert_array_equal(facto.read_mtx_dense(str(tmp_path / "d.mtx")), dense)


def test_csv(tmp_path, rng):
    X, C = sparse_tensor(rng, (3, 4))
    path = str(tmp_path / "c.csv")
    facto.write_csv_coo(path, C)
    back = facto.read_csv_coo(path)
    np.testing.assert_array_equal(back.values, C.values)
    np.testing.assert_array_equal(back.indices, C.indices)
    (tmp_path / "t.tsv").write_text("1\t2\t3\n4\t5\t6\n")
    np.testing.assert_array_equal(facto.read_csv_dense(str(tmp_path / "t.tsv")), [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="one character"):
        facto.read_csv_dense(str(tmp_path / "t.tsv"), delimiter=";;")


def test_read_and_write_tensor_by_extension(tmp_path, rng):
    X, C = sparse_tensor(rng)
    facto.write_tensor(str(tmp_path / "x.npy"), X)
    dense = facto.read_tensor(str(tmp_path / "x.npy"))
    assert isinstance(dense, np.ndarray)
    np.testing.assert_array_equal(dense, X)
    facto.write_tensor(str(tmp_path / "x.tns"), C)
    sparse = facto.read_tensor(str(tmp_path / "x.tns"))
    assert isinstance(sparse, facto.coo_tensor)
    np.testing.assert_array_equal(sparse.to_dense(), X[: sparse.shape[0], : sparse.shape[1], : sparse.shape[2]])
    # The file holds no trace of empty trailing slices: shape= restores the dimensions.
    full = facto.read_tensor(str(tmp_path / "x.tns"), shape=[d + 1 for d in X.shape])
    assert tuple(full.shape) == tuple(d + 1 for d in X.shape)
    with pytest.raises(ValueError, match="shape"):
        facto.read_tensor(str(tmp_path / "x.tns"), shape=[1, 1, 1])
    with pytest.raises(ValueError):
        facto.write_tensor(str(tmp_path / "x.tns.gz"), C)
    assert "tns" in facto.supported_formats()


def test_check_tensor_file(tmp_path):
    path = tmp_path / "bad.tns"
    path.write_text("1 1 1 1.0\n1 1 1 2.0\n2 x 1 1.0\n2 2\n")
    report = facto.check_tensor_file(str(path))
    assert report.format == "tns"
    lines = [p.line for p in report.errors]
    assert 3 in lines and 4 in lines
    assert any("duplicate" in w.message for w in report.warnings)
