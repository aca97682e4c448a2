#!/usr/bin/env python3
"""Low-rank compression from Python: truncated SVD, Tucker and tensor train of real images.

The Olivetti faces (400 images of 64 x 64 pixels) are compressed three ways to the same relative
error tolerance: as a 400 x 4096 matrix by the truncated SVD, and as a 400 x 64 x 64 tensor by
Tucker (ST-HOSVD) and by a tensor train (TT-SVD). Each line gives the ranks chosen, how many
numbers the model stores against the 1,638,400 pixels, and the relative error measured here
with NumPy (always within the tolerance).

Run it from the repository after building (the module is in build/python), or after
`pip install .`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/compress_faces.py [--tol 0.2 0.1]

The data come from ../shared/data/olivetti-faces (or --data FOLDER). Without them the example
falls back to the handwritten digits that Debian's python3-sklearn ships (1797 x 8 x 8).
"""
import argparse
import lzma
import time
from pathlib import Path

import numpy as np

import facto

REPO = Path(__file__).resolve().parents[2]


def load_faces(folder):
    with lzma.open(folder / "olivetti_faces_u8.npy.xz") as f:
        pixels = np.load(f)  # uint8, 400 x 4096, one row-major 64 x 64 image per row
    return "olivetti faces", pixels.reshape(-1, 64, 64) / 242.0  # [0, 1], as scikit-learn scales them


def load_digits():
    from sklearn.datasets import load_digits  # Debian's python3-sklearn, no download

    return "handwritten digits", load_digits().images


def relative_error(model, X):
    return np.linalg.norm(model - X) / np.linalg.norm(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "olivetti-faces")
    parser.add_argument("--tol", type=float, nargs="+", default=[0.2, 0.1, 0.05])
    args = parser.parse_args()

    name, X = load_faces(args.data) if (args.data / "olivetti_faces_u8.npy.xz").is_file() else load_digits()
    X = np.ascontiguousarray(X, dtype=np.float64)
    A = X.reshape(X.shape[0], -1)  # one image per row
    print(f"{name}: {X.shape[0]} images of {X.shape[1]} x {X.shape[2]} pixels, {X.size:,} numbers")
    print(f"{'method':<8} {'tol':>6}  {'ranks':<22} {'stored':>9} {'ratio':>6} {'error':>8} {'seconds':>8}")

    for tol in args.tol:
        t = time.perf_counter()
        s = facto.svd(A, tol=tol)
        seconds = time.perf_counter() - t
        stored = s.U.size + s.s.size + s.V.size
        err = relative_error((s.U * s.s) @ s.V.T, A)
        print(f"{'svd':<8} {tol:>6.3f}  {str(s.rank):<22} {stored:>9,} {A.size / stored:>6.1f} {err:>8.5f} {seconds:>8.3f}")

        t = time.perf_counter()
        k = facto.tucker(X, tol=tol)
        seconds = time.perf_counter() - t
        stored = k.core.size + sum(F.size for F in k.factors)
        err = relative_error(k.full(), X)
        print(f"{'tucker':<8} {tol:>6.3f}  {str(k.model.ranks):<22} {stored:>9,} {X.size / stored:>6.1f} {err:>8.5f} "
              f"{seconds:>8.3f}")

        t = time.perf_counter()
        tt = facto.tt(X, tol=tol)
        seconds = time.perf_counter() - t
        err = relative_error(tt.full(), X)
        print(f"{'tt':<8} {tol:>6.3f}  {str(tt.ranks):<22} {tt.storage_size:>9,} {tt.compression_ratio:>6.1f} "
              f"{err:>8.5f} {seconds:>8.3f}")


if __name__ == "__main__":
    main()
