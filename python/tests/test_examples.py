"""examples/python runs and does what it says."""
import os
import subprocess
import sys
from pathlib import Path

import facto
from conftest import REPO, SHARED_DATA

EXAMPLE = REPO / "examples" / "python" / "cp_amino_acids.py"


def test_cp_amino_acids_example(tmp_path):
    data = SHARED_DATA / "amino-acids-claus"
    out = tmp_path / "factors.png"
    env = {**os.environ, "PYTHONPATH": str(Path(facto.__file__).resolve().parents[1])}  # the facto under test
    done = subprocess.run([sys.executable, str(EXAMPLE), "--data", str(data), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    if (data / "claus.npy").is_file():
        # Rank 3 finds the three amino acids, one per component.
        found = {line.split(": ")[1].split(" ")[0] for line in done.stdout.splitlines() if line.startswith("component")}
        assert found == {"tryptophan", "tyrosine", "phenylalanine"}
    else:
        assert done.stdout.startswith("handwritten digits")
    if "matplotlib is not installed" not in done.stdout:
        assert out.is_file() and out.stat().st_size > 10000


def test_compress_faces_example(tmp_path):
    example = REPO / "examples" / "python" / "compress_faces.py"
    env = {**os.environ, "PYTHONPATH": str(Path(facto.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, str(example), "--data", str(SHARED_DATA / "olivetti-faces"), "--tol", "0.2"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[0] in ("svd", "tucker", "tt")]
    assert [r[0] for r in rows] == ["svd", "tucker", "tt"]
    for r in rows:
        ratio, error = float(r[-3]), float(r[-2])
        assert error <= 0.2 and ratio > 1, r


def test_recommend_movies_example(tmp_path):
    example = REPO / "examples" / "python" / "recommend_movies.py"
    env = {**os.environ, "PYTHONPATH": str(Path(facto.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, str(example), "--data", str(SHARED_DATA / "movietweetings-100k")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rmse = {line.split(": ")[1].rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in lines if line.startswith("test RMSE")}
    als = rmse[next(k for k in rmse if k.startswith("ALS"))]
    assert als < rmse["biases only"] and als < rmse["global mean"], rmse
    top = lines.index(next(line for line in lines if line.startswith("top 5 for user")))
    assert len([line for line in lines[top + 1: top + 6] if line.startswith("  ")]) == 5
