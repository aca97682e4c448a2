"""The module and the facto program give the same model for the same input, seed and threads."""
import json
import os
import subprocess

import numpy as np
import pytest

import facto


def run_cli(cli, *args):
    done = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    return done


def assert_same_model(out_dir, r):
    report = json.loads((out_dir / "report.json").read_text())
    np.testing.assert_array_equal(np.load(out_dir / "weights.npy"), r.model.weights)
    for n, F in enumerate(r.model.factors):
        np.testing.assert_array_equal(np.load(out_dir / f"factor_{n}.npy"), F)
    result = report["result"]
    assert (result["fit"], result["iters"], result["converged"]) == (r.fit, r.iters, r.converged)
    assert [h["fit"] for h in report["history"]] == [h.fit for h in r.history]


@pytest.mark.parametrize("method", ["als", "hals"])
def test_sparse_tns_same_as_cli(cli, tmp_path, method):
    rng = np.random.default_rng(21)
    X = rng.random((9, 8, 7)) * (rng.random((9, 8, 7)) < 0.3)
    path = tmp_path / "x.tns"
    facto.write_tns(str(path), facto.to_coo(X))
    run_cli(cli, "cp", path, "--rank", 3, "--method", method, "--seed", 7, "--iters", 15, "--tol", 0,
            "--threads", 2, "--out", tmp_path / "out")
    fn = facto.cp_hals if method == "hals" else facto.cp_als
    r = fn(facto.read_tns(str(path)), 3, seed=7, max_iters=15, tol=0, threads=2)
    assert_same_model(tmp_path / "out", r)


@pytest.mark.parametrize("init", ["random", "svd"])
def test_dense_npy_same_as_cli(cli, tmp_path, init):
    rng = np.random.default_rng(22)
    X = rng.random((10, 6, 5))
    np.save(tmp_path / "x.npy", X)
    run_cli(cli, "cp", tmp_path / "x.npy", "--rank", 4, "--init", init, "--seed", 3, "--iters", 20,
            "--threads", 2, "--out", tmp_path / "out")
    r = facto.cp_als(np.load(tmp_path / "x.npy"), 4, init=init, seed=3, max_iters=20, threads=2)
    assert_same_model(tmp_path / "out", r)
