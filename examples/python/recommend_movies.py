#!/usr/bin/env python3
"""Movie recommendation from Python: explicit ALS on MovieTweetings ratings (0-10 stars).

Reads the ratings with facto's reader (ids stay strings, "0104257" keeps its zero), holds out
20% of each user's ratings, and fits the bias-only baseline (rank 0) and biased ALS of rank 10.
It prints their test RMSE next to the global mean's, then the top 5 unseen movies, with titles,
for the user with the most ratings, and the movies most similar to that user's favourite.

Run it from the repository after building (the module is in build/python), or after
`pip install .`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/recommend_movies.py

The data come from ../shared/data/movietweetings-100k (or --data FOLDER). Without them the
example makes up ratings of a planted rank-3 model (titles are then the item ids).
"""
import argparse
import lzma
from pathlib import Path

import numpy as np

import facto

REPO = Path(__file__).resolve().parents[2]


def load(folder):
    ratings = folder / "ratings.dat.xz"
    if not ratings.is_file():
        rng = np.random.default_rng(0)
        full = np.clip(6 + 2 * rng.standard_normal((300, 3)) @ rng.standard_normal((200, 3)).T / 3, 0, 10)
        u, i = np.nonzero(rng.random(full.shape) < 0.2)
        users = np.array([f"user{x}" for x in u])
        items = np.array([f"movie{x}" for x in i])
        return "planted rank-3 ratings", facto.ratings_table(users, items, np.round(full[u, i])), {}
    titles = {}
    with lzma.open(folder / "movies.dat.xz", "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("::")
            titles[parts[0]] = parts[1]
    return "MovieTweetings", facto.read_ratings(str(ratings)), titles


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "movietweetings-100k")
    ap.add_argument("--rank", type=int, default=10)
    args = ap.parse_args()

    name, T, titles = load(args.data)
    print(f"{name}: {len(T)} ratings, {T.num_users} users, {T.num_items} movies")
    train_rows, test_rows = facto.split_per_user(T, 0.2, seed=1)
    train, test = T.subset(train_rows), T.subset(test_rows)

    # MovieTweetings has ~6 ratings per user: the square-root weighting and strong regularization
    # of docs/recommend.md; the planted ratings (40 per user) need much less.
    opts = dict(reg=4.0 if titles else 0.3, bias_reg=1.5 if titles else 0.3, reg_exponent=0.5, max_iters=15, seed=1)
    mean_rmse = np.sqrt(np.mean((test.value - train.value.mean()) ** 2))
    bias = facto.als_explicit(train, 0, **opts)
    als = facto.als_explicit(train, args.rank, **opts)
    print(f"test RMSE: global mean {mean_rmse:.4f}")
    print(f"test RMSE: biases only {facto.evaluate_ratings(bias.model, test).rmse:.4f}")
    print(f"test RMSE: ALS rank {args.rank} {facto.evaluate_ratings(als.model, test).rmse:.4f}")

    m = als.model
    u = int(np.bincount(T.user).argmax())
    top = facto.recommend_top_k(m, 5, exclude=train, users=[u])
    print(f"top 5 for user {T.user_id(u)} ({np.sum(T.user == u)} ratings):")
    for i, s in zip(top.items[0], top.scores[0]):
        print(f"  {s:5.2f}  {titles.get(T.item_id(i), T.item_id(i))}")
    rated = train.item[train.user == u]
    favourite = int(rated[np.argmax(train.value[train.user == u])])
    similar = facto.similar_items(m, [favourite], 5)
    print(f"similar to {titles.get(T.item_id(favourite), T.item_id(favourite))}:")
    for i in similar.items[0]:
        print(f"  {titles.get(T.item_id(i), T.item_id(i))}")


if __name__ == "__main__":
    main()
