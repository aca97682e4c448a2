"""Recommendation from Python: ratings tables (arrays, files, string ids), splits, explicit ALS and
SGD, implicit ALS and BPR on planted data, predictions, top-k, similar items and fold-in against
NumPy references, the metrics against naive code, the CLI, and errors."""
import json
import os
import re
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import facto


def planted_ratings(nu=60, ni=40, k=3, frac=0.5, seed=0):
    """Ratings 3 + P Q^T of an exact rank-k model, observed at a random fraction of the pairs."""
    rng = np.random.default_rng(seed)
    full = 3 + rng.standard_normal((nu, k)) @ rng.standard_normal((ni, k)).T
    u, i = np.nonzero(rng.random((nu, ni)) < frac)
    return facto.ratings_table(u, i, full[u, i], num_users=nu, num_items=ni), full


def planted_groups(nu=40, ni=30, frac=1.0, seed=0):
    """Implicit feedback: users of group g interact with (a fraction of) the items of group g only."""
    rng = np.random.default_rng(seed)
    ug, ig = np.arange(nu) % 2, np.arange(ni) % 2
    like = (ug[:, None] == ig[None, :]) & (rng.random((nu, ni)) < frac)
    u, i = np.nonzero(like)
    return facto.ratings_table(u, i, num_users=nu, num_items=ni)


def dense_scores(model):
    return np.array([[model.predict(u, i) for i in range(model.num_items)] for u in range(model.num_users)])


# ---------------------------------------------------------------------------------------------
# Ratings tables and splits


def test_table_from_integer_arrays_keeps_indices():
    T = facto.ratings_table([0, 2, 2], [1, 0, 3], [4.0, 5.0, 1.0], num_users=4)
    assert (len(T), T.size, T.num_users, T.num_items, T.has_time) == (3, 3, 4, 4, False)
    np.testing.assert_array_equal(T.user, [0, 2, 2])
    np.testing.assert_array_equal(T.item, [1, 0, 3])
    assert T.users == ["0", "1", "2", "3"] and T.user_index("2") == 2 and T.user_index("9") == -1
    assert T.item_id(3) == "3"
    implicit = facto.ratings_table([0, 1], [1, 1])
    np.testing.assert_array_equal(implicit.value, [1.0, 1.0])


def test_table_from_string_ids_in_order_of_first_appearance():
    T = facto.ratings_table(["u9", "u1", "u9"], ["0104257", "x", "x"], [5, 3, 4], time=[30, 10, 20])
    assert T.users == ["u9", "u1"] and T.items == ["0104257", "x"]
    np.testing.assert_array_equal(T.user, [0, 1, 0])
    np.testing.assert_array_equal(T.time, [30, 10, 20])
    assert T.has_time and T.item_index("0104257") == 0


def test_to_csr_combines_duplicates(rng):
    T = facto.ratings_table([0, 0, 1, 0], [1, 1, 0, 2], [2.0, 4.0, 5.0, 1.0])
    np.testing.assert_array_equal(T.to_csr().toarray(), [[0, 3, 1], [5, 0, 0]])
    np.testing.assert_array_equal(T.to_csr(duplicates="sum").toarray(), [[0, 6, 1], [5, 0, 0]])
    np.testing.assert_array_equal(T.to_csr(duplicates="last").toarray(), [[0, 4, 1], [5, 0, 0]])
    np.testing.assert_array_equal(T.to_csr(transpose=True).toarray(), [[0, 5], [3, 0], [1, 0]])
    assert sp.issparse(T.to_csr())


def test_read_and_parse_ratings_keep_string_ids(tmp_path):
    text = "0104257::7::5::100\n0104257::8::3::300\n12::7::4::200\n"
    (tmp_path / "r.dat").write_text(text)
    for T in (facto.read_ratings(str(tmp_path / "r.dat")), facto.parse_ratings(text)):
        assert T.users == ["0104257", "12"] and T.items == ["7", "8"]
        np.testing.assert_array_equal(T.value, [5, 3, 4])
        np.testing.assert_array_equal(T.time, [100, 300, 200])
    csv = facto.parse_ratings("userId,movieId,rating\na,m1,2.5\nb,m1,4\n", format="csv")
    assert csv.users == ["a", "b"] and list(csv.value) == [2.5, 4.0] and not csv.has_time
    with pytest.raises(ValueError, match="bad.dat:2"):
        facto.parse_ratings("1::2::3\n1::x::y\n", "bad.dat")
    with pytest.raises(OSError, match="missing.dat"):
        facto.read_ratings(str(tmp_path / "missing.dat"))


def test_splits_partition_the_rows():
    T, _ = planted_ratings(seed=1)
    n = len(T)
    for train, test in (facto.split_random(T, 0.2, seed=3), facto.split_per_user(T, 0.2, seed=3)):
        assert train.dtype == np.int64
        assert len(np.intersect1d(train, test)) == 0 and np.array_equal(np.sort(np.r_[train, test]), np.arange(n))
        assert abs(len(test) - 0.2 * n) <= T.num_users  # per user rounding
    train, test = facto.split_random(T, 0.2, seed=3)
    assert len(test) == round(0.2 * n)
    np.testing.assert_array_equal(facto.split_random(T, 0.2, seed=3)[1], test)  # seeded
    assert not np.array_equal(facto.split_random(T, 0.2, seed=4)[1], test)
    train, _ = facto.split_per_user(T, 0.5, seed=3)
    assert set(T.user[train]) == set(T.user)  # every user keeps a training rating
    folds = facto.k_fold(T, 4, seed=1)
    assert len(folds) == 4
    np.testing.assert_array_equal(np.sort(np.concatenate([f[1] for f in folds])), np.arange(n))


def test_split_by_time_holds_out_the_latest():
    T = facto.ratings_table([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [1, 2, 3, 4, 5], time=[50, 10, 40, 20, 30])
    train, test = facto.split_by_time(T, 0.4)
    assert sorted(test) == [0, 2] and sorted(train) == [1, 3, 4]
    sub = T.subset(test)
    assert list(sub.time) == [50, 40] and sub.users == T.users


# ---------------------------------------------------------------------------------------------
# Explicit models


def test_explicit_als_completes_a_planted_low_rank_model():
    T, full = planted_ratings(seed=0)
    train, test = facto.split_random(T, 0.2, seed=1)
    r = facto.als_explicit(T.subset(train), 3, reg=1e-4, bias_reg=1e-4, reg_exponent=0, max_iters=30,
                           validation=T.subset(test))
    m = r.model
    assert (m.num_users, m.num_items, m.rank) == (60, 40, 3) and not m.implicit
    assert m.user_factors.shape == (60, 3) and m.user_bias.shape == (60,) and m.item_bias.shape == (40,)
    e = facto.evaluate_ratings(m, T.subset(test))
    assert e.count == len(test) and e.rmse < 1e-2 and e.mae <= e.rmse
    assert r.history[-1].test_rmse == pytest.approx(e.rmse, rel=1e-12)
    # The model predicts every pair, including the 50% never observed.
    assert np.sqrt(np.mean((dense_scores(m) - full) ** 2)) < 2e-2
    objective = np.array([h.objective for h in r.history])
    assert (np.diff(objective) <= 1e-12 * objective[0]).all()  # ALS never increases its objective


def test_predict_is_the_model_formula():
    T, _ = planted_ratings(seed=2)
    m = facto.als_explicit(T, 2, max_iters=3).model
    ref = m.global_mean + m.user_bias[:, None] + m.item_bias[None, :] + m.user_factors @ m.item_factors.T
    u, i = np.array([0, 5, 59]), np.array([3, 0, 39])
    np.testing.assert_allclose(m.predict(u, i), ref[u, i], rtol=1e-13)
    assert isinstance(m.predict(1, 2), float) and m.predict(1, 2) == pytest.approx(ref[1, 2], rel=1e-13)
    np.testing.assert_allclose(m.predict([[0], [1]], [0, 1, 2]), ref[:2, :3], rtol=1e-13)  # broadcast
    built = facto.mf_model(m.user_factors, m.item_factors, m.user_bias, m.item_bias, m.global_mean)
    assert built.predict(5, 0) == m.predict(5, 0)


def test_sgd_is_deterministic_and_learns():
    T, _ = planted_ratings(seed=3)
    a = facto.sgd_explicit(T, 3, max_iters=20, learning_rate=0.02, seed=5)
    b = facto.sgd_explicit(T, 3, max_iters=20, learning_rate=0.02, seed=5)
    np.testing.assert_array_equal(a.model.user_factors, b.model.user_factors)
    rmse = [h.train_rmse for h in a.history]
    assert rmse[-1] < 0.5 * rmse[0]


def test_sparse_matrix_input_same_as_table():
    T, _ = planted_ratings(seed=4)
    a = facto.als_explicit(T, 2, max_iters=4, seed=1)
    b = facto.als_explicit(T.to_csr(), 2, max_iters=4, seed=1)
    np.testing.assert_array_equal(a.model.item_factors, b.model.item_factors)


def test_callback_stops_training():
    T, _ = planted_ratings(seed=5)
    seen = []
    r = facto.als_explicit(T, 2, max_iters=10, on_iteration=lambda it: seen.append(it.iter) or it.iter < 3)
    assert r.interrupted and r.iters == 3 and seen == [1, 2, 3]


def test_fold_in_explicit_user_is_the_ridge_solution():
    T, full = planted_ratings(seed=6)
    opts = dict(reg=0.3, bias_reg=0.7, reg_exponent=0.5)
    m = facto.als_explicit(T, 3, max_iters=5, **opts).model
    items = np.array([1, 4, 7, 20, 33])
    values = full[0, items]
    assert (m.reg, m.bias_reg, m.reg_exponent) == (0.3, 0.7, 0.5)  # kept for fold-in
    f = facto.fold_in_user(m, items, values)
    Q = m.item_factors[items]
    A = np.c_[Q, np.ones(len(items))]
    lam = np.diag([opts["reg"] * len(items) ** opts["reg_exponent"]] * 3 + [opts["bias_reg"]])
    x = np.linalg.solve(A.T @ A + lam, A.T @ (values - m.global_mean - m.item_bias[items]))
    np.testing.assert_allclose(f.factors, x[:3], rtol=0, atol=1e-12)
    assert f.bias == pytest.approx(x[3], abs=1e-12)
    # recommend_new_user: the folded user's top k among the items not given.
    top = facto.recommend_new_user(m, items, values, 4)
    scores = m.global_mean + f.bias + m.item_bias + m.item_factors @ f.factors
    scores[items] = -np.inf
    np.testing.assert_array_equal(top.items[0], np.argsort(-scores, kind="stable")[:4])
    # Weights given override the model's.
    g = facto.fold_in_user(m, items, values, reg=3.0)
    assert not np.allclose(g.factors, f.factors)
    m2 = facto.mf_model(m.user_factors, m.item_factors, m.user_bias, m.item_bias, m.global_mean, reg=3.0,
                        bias_reg=0.7, reg_exponent=0.5)
    np.testing.assert_array_equal(facto.fold_in_user(m2, items, values).factors, g.factors)


# ---------------------------------------------------------------------------------------------
# Implicit models


@pytest.mark.parametrize("method", ["cg", "cholesky", "bpr"])
def test_implicit_models_rank_the_planted_groups(method):
    T = planted_groups(seed=1)
    train, test = facto.split_per_user(T, 0.25, seed=2)
    if method == "bpr":
        r = facto.bpr(T.subset(train), 4, max_iters=40, learning_rate=0.05, seed=3)
    else:
        r = facto.als_implicit(T.subset(train), 4, solver=method, max_iters=10, seed=3)
    assert r.model.implicit
    metrics = facto.evaluate_ranking(r.model, T.subset(train), T.subset(test), 5)
    assert metrics.users == T.num_users and metrics.auc > 0.95 and metrics.precision > 0.6
    # Popularity alone cannot tell the groups apart.
    popularity = np.asarray(T.subset(train).to_csr().sum(axis=0)).ravel()
    assert facto.evaluate_ranking(popularity, T.subset(train), T.subset(test), 5).auc < metrics.auc


def test_implicit_als_objective_non_increasing_with_cholesky():
    T = planted_groups(seed=2)
    r = facto.als_implicit(T, 3, solver="cholesky", max_iters=8)
    objective = np.array([h.objective for h in r.history])
    assert (np.diff(objective) <= 1e-12 * objective[0]).all()
    assert np.isnan(r.history[0].train_rmse)


def test_fold_in_implicit_user_is_the_hkv_solution():
    T = planted_groups(seed=3)
    reg, alpha = 0.1, 5.0
    m = facto.als_implicit(T, 3, reg=reg, alpha=alpha, max_iters=4).model
    items, values = np.array([0, 2, 6]), np.array([1.0, 2.0, 1.0])
    f = facto.fold_in_user(m, items, values)  # the model's reg and alpha
    Y = m.item_factors
    c = np.ones(m.num_items)
    c[items] += alpha * values
    p = np.zeros(m.num_items)
    p[items] = 1
    x = np.linalg.solve(Y.T @ (c[:, None] * Y) + reg * np.eye(3), Y.T @ (c * p))
    np.testing.assert_allclose(f.factors, x, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# Top-k, similar items, metrics


def test_recommend_top_k_is_the_numpy_ranking():
    T, _ = planted_ratings(seed=7)
    m = facto.als_explicit(T, 3, max_iters=3).model
    seen = T.to_csr().toarray() != 0
    scores = np.where(seen, -np.inf, dense_scores(m))
    top = facto.recommend_top_k(m, 5, exclude=T)
    assert top.k == 5 and top.items.shape == (60, 5) and top.scores.shape == (60, 5)
    ref = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(top.items, ref)
    np.testing.assert_allclose(top.scores, np.take_along_axis(scores, ref, 1), rtol=1e-12)
    some = facto.recommend_top_k(m, 3, exclude=T.to_csr(), users=[7, 2])
    np.testing.assert_array_equal(some.items, ref[[7, 2], :3])
    everything = facto.recommend_top_k(m, 50)  # more than the 40 items: padded
    assert (everything.items[:, 40:] == -1).all() and np.isneginf(everything.scores[:, 40:]).all()


def test_similar_items_by_cosine():
    T, _ = planted_ratings(seed=8)
    m = facto.als_explicit(T, 3, max_iters=3).model
    Y = m.item_factors / np.linalg.norm(m.item_factors, axis=1, keepdims=True)
    cos = Y @ Y.T
    np.fill_diagonal(cos, -np.inf)
    top = facto.similar_items(m, [0, 11], 4)
    np.testing.assert_array_equal(top.items, np.argsort(-cos[[0, 11]], axis=1, kind="stable")[:, :4])
    np.testing.assert_allclose(top.scores, np.sort(cos[[0, 11]], axis=1)[:, ::-1][:, :4], rtol=1e-12)


def naive_metrics(ranked, relevant, k):
    hits = [p for p, x in enumerate(ranked[:k]) if x in relevant]
    if not relevant:
        return 0.0, 0.0, 0.0, 0.0
    dcg = sum(1 / np.log2(p + 2) for p in hits)
    ideal = sum(1 / np.log2(p + 2) for p in range(min(k, len(relevant))))
    ap = sum((j + 1) / (p + 1) for j, p in enumerate(hits)) / min(k, len(relevant))
    return len(hits) / k, len(hits) / len(relevant), dcg / ideal, ap


def naive_auc(candidates, scores, relevant):
    pos = [s for c, s in zip(candidates, scores) if c in relevant]
    neg = [s for c, s in zip(candidates, scores) if c not in relevant]
    if not pos or not neg:
        return 0.5
    return np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg])


def test_ranking_metrics_against_naive_code(rng):
    for _ in range(20):
        ranked = list(rng.permutation(15)[:8])
        relevant = set(rng.choice(15, rng.integers(0, 6), replace=False).tolist())
        k = int(rng.integers(1, 9))
        p, r, n, ap = naive_metrics(ranked, relevant, k)
        rel = list(relevant)  # any order: the binding sorts
        assert facto.precision_at_k(ranked, rel, k) == pytest.approx(p, abs=1e-15)
        assert facto.recall_at_k(ranked, rel, k) == pytest.approx(r, abs=1e-15)
        assert facto.ndcg_at_k(ranked, rel, k) == pytest.approx(n, abs=1e-14)
        assert facto.average_precision_at_k(ranked, rel, k) == pytest.approx(ap, abs=1e-14)
        scores = rng.integers(0, 4, 15).astype(float)  # ties count one half
        assert facto.auc(np.arange(15), scores, rel) == pytest.approx(naive_auc(range(15), scores, relevant), abs=1e-15)


def test_evaluate_ranking_against_naive_code():
    T = planted_groups(seed=4)
    train, test = facto.split_per_user(T, 0.3, seed=5)
    m = facto.als_implicit(T.subset(train), 2, max_iters=3).model
    tr, te = T.subset(train).to_csr().toarray() != 0, T.subset(test).to_csr().toarray() != 0
    S = dense_scores(m)
    rows = []
    for u in range(T.num_users):
        relevant = set(np.nonzero(te[u])[0].tolist())
        if not relevant:
            continue
        candidates = np.nonzero(~tr[u])[0]
        ranked = list(candidates[np.argsort(-S[u, candidates], kind="stable")])
        rows.append(naive_metrics(ranked, relevant, 5) + (naive_auc(candidates, S[u, candidates], relevant),))
    ref = np.mean(rows, axis=0)
    got = facto.evaluate_ranking(m, T.subset(train), T.subset(test), 5)
    assert got.k == 5 and got.users == len(rows)
    np.testing.assert_allclose([got.precision, got.recall, got.ndcg, got.map, got.auc], ref, rtol=1e-12)


def test_evaluate_ratings_is_rmse_and_mae():
    T, full = planted_ratings(seed=9)
    m = facto.als_explicit(T, 1, max_iters=2).model
    err = m.predict(T.user, T.item) - T.value
    e = facto.evaluate_ratings(m, T)
    assert e.count == len(T)
    assert e.rmse == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-12)
    assert e.mae == pytest.approx(np.mean(np.abs(err)), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("call, exc, match", [
    (lambda: facto.ratings_table([0, -1], [0, 1]), ValueError, r"user\[1\] = -1 is negative"),
    (lambda: facto.ratings_table([0, 5], [0, 1], num_users=3), ValueError, r"user\[1\] = 5 is out of range for 3"),
    (lambda: facto.ratings_table([0, 1], [0]), ValueError, "2 users but 1 items"),
    (lambda: facto.ratings_table([0], [0], num_items=-1), ValueError, "num_items must be >= 0, found -1"),
    (lambda: facto.ratings_table([0, 1], [0, 1], [1.0]), ValueError, "1 values for 2 ratings"),
    (lambda: facto.ratings_table([0, 1], [0, 1], [1.0, np.nan]), ValueError, r"value\[1\] is not finite"),
    (lambda: facto.ratings_table([0.5], [1]), TypeError, "user must be integers, found dtype float64"),
    (lambda: facto.ratings_table([0, 1], [0, 1]).to_csr(duplicates="max"), ValueError, "duplicates must be"),
    (lambda: facto.split_by_time(facto.ratings_table([0], [0]), 0.5), ValueError, "no timestamps"),
    (lambda: facto.read_ratings("x", format="json"), ValueError, "format must be"),
    (lambda: facto.als_explicit(np.ones((3, 3))), TypeError, "expected a ratings_table or a scipy.sparse matrix"),
    (lambda: facto.als_implicit(facto.ratings_table([0], [0]), solver="lu"), ValueError, "solver must be"),
    (lambda: facto.als_implicit(facto.ratings_table([0], [0]), validation=facto.ratings_table([0], [0])),
     ValueError, "validation"),
])
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_out_of_range_indices_against_a_model():
    T, _ = planted_ratings(seed=10)
    m = facto.als_explicit(T, 2, max_iters=1).model
    with pytest.raises(IndexError, match=r"user\[0\] = 60 outside 0..59"):
        m.predict(60, 0)
    with pytest.raises(IndexError, match=r"item\[1\] = -1 outside 0..39"):
        m.predict([0, 0], [0, -1])
    with pytest.raises(IndexError, match="users"):
        facto.recommend_top_k(m, 3, users=[100])
    with pytest.raises(IndexError, match="items"):
        facto.similar_items(m, [40], 3)
    with pytest.raises(ValueError, match="k must be"):
        facto.recommend_top_k(m, 0)
    with pytest.raises(ValueError, match="item index 40 outside 0..39"):
        facto.fold_in_user(m, [40], [1.0])
    with pytest.raises(ValueError, match="given twice"):
        facto.fold_in_user(m, [1, 1], [1.0, 2.0])
    with pytest.raises(ValueError):
        facto.evaluate_ratings(m, sp.csr_matrix((61, 40)))
    with pytest.raises(ValueError, match="rank 2 but item_factors 3"):
        facto.mf_model(np.ones((2, 2)), np.ones((3, 3)))


# ---------------------------------------------------------------------------------------------
# The CLI gives the same model


def test_explicit_als_same_as_cli(cli, tmp_path):
    T, full = planted_ratings(nu=15, ni=12, seed=11)
    lines = [f"u{T.user[t]:03d}::{T.item[t]}::{T.value[t]:.3f}::{t}" for t in range(len(T))]
    (tmp_path / "r.dat").write_text("\n".join(lines) + "\n")
    done = subprocess.run([cli, "recommend", "fit", str(tmp_path / "r.dat"), "--rank", "2", "--iters", "5",
                           "--seed", "3", "--threads", "2", "--reg", "0.1", "--bias-reg", "0.5",
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    R = facto.read_ratings(str(tmp_path / "r.dat"))
    r = facto.als_explicit(R, 2, max_iters=5, seed=3, threads=2, reg=0.1, bias_reg=0.5)
    out = tmp_path / "out"
    assert (out / "users.txt").read_text().split() == R.users
    for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
        np.testing.assert_array_equal(np.load(out / f"{name}.npy"), getattr(r.model, name))
    report = json.loads((out / "report.json").read_text())
    assert [h["objective"] for h in report["history"]] == [h.objective for h in r.history]


def doc_defaults(fn):
    """Keyword defaults from pybind11's signature line, e.g. {'reg': 0.05, 'solver': 'cg', ...}."""
    line = fn.__doc__.splitlines()[0]
    found = {k: float(v) for k, v in re.findall(r"(\w+): (?:int|float) = ([-\d.e]+)", line)}
    return found | dict(re.findall(r"(\w+): str = '(\w+)'", line))


@pytest.mark.parametrize("fn,args", [(facto.als_explicit, []), (facto.sgd_explicit, ["--method", "sgd"]),
                                     (facto.als_implicit, ["--implicit"]), (facto.bpr, ["--method", "bpr"])])
def test_defaults_same_as_cli(cli, tmp_path, fn, args):
    # Both interfaces fit the same model when the user gives no options.
    T, _ = planted_ratings(nu=8, ni=6, seed=2)
    lines = [f"{T.user[t]}\t{T.item[t]}\t{T.value[t]:.3f}" for t in range(len(T))]
    (tmp_path / "r.tsv").write_text("\n".join(lines) + "\n")
    done = subprocess.run([cli, "recommend", "fit", str(tmp_path / "r.tsv"), *args, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cli_params = json.loads((tmp_path / "out" / "report.json").read_text())["parameters"]
    py = doc_defaults(fn)
    assert py["max_iters"] == cli_params["iters"]
    assert py["rank"] == cli_params["rank"]
    assert py["reg"] == cli_params["reg"]
    for key in ("bias_reg", "reg_exponent", "alpha", "solver", "cg_steps", "learning_rate", "lr_decay"):
        if key in cli_params:
            assert py[key] == cli_params[key], key
