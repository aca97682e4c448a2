"""Shared helpers of the facto pytest suite: NumPy references and paths."""
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
# The real data sets (absent outside the workspace: tests that use them fall back or skip).
SHARED_DATA = Path(os.environ.get("FACTO_SHARED_DATA", REPO.parent / "shared" / "data"))
EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def cli():
    """The facto program (FACTO_CLI, set by ctest), the reference of the CLI agreement tests."""
    path = os.environ.get("FACTO_CLI")
    if not path or not Path(path).is_file():
        pytest.skip("FACTO_CLI (the facto program) is not set: run through ctest, or set it to build/facto")
    return path


def khatri_rao(mats):
    """Column-wise Kronecker product, first matrix varying slowest (matches C-order unfolding)."""
    out = mats[0]
    for m in mats[1:]:
        out = np.einsum("ir,jr->ijr", out, m).reshape(-1, m.shape[1])
    return out


def unfold(X, mode):
    """Mode-n unfolding whose columns run over the other modes in C order."""
    return np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1)


def mttkrp_ref(X, factors, mode):
    others = [f for n, f in enumerate(factors) if n != mode]
    return unfold(X, mode) @ khatri_rao(others)


def cp_full(weights, factors):
    """Dense tensor of a CP model, by NumPy."""
    letters = "abcdefgh"[: len(factors)]
    spec = ",".join(f"{c}z" for c in letters) + ",z->" + letters
    return np.einsum(spec, *factors, weights)


def cp_als_ref(X, factors, iters):
    """Plain CP-ALS by NumPy (pseudo-inverse of the Hadamard product of Grams), modes in order."""
    A = [np.array(f, dtype=np.float64) for f in factors]
    for _ in range(iters):
        for n in range(X.ndim):
            V = np.ones((A[0].shape[1],) * 2)
            for m in range(X.ndim):
                if m != n:
                    V *= A[m].T @ A[m]
            A[n] = mttkrp_ref(X, A, n) @ np.linalg.pinv(V)
    return A


def low_rank(shape, rank, seed, nonneg=False):
    rng = np.random.default_rng(seed)
    factors = [rng.random((d, rank)) if nonneg else rng.standard_normal((d, rank)) for d in shape]
    return cp_full(np.ones(rank), factors), factors


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
