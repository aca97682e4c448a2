#!/usr/bin/env python3
"""CP of a real tensor from Python: the amino-acid fluorescence data (Bro 1997), with a plot.

Five mixtures of tryptophan, tyrosine and phenylalanine, each measured as an excitation-emission
matrix: a 5 x 201 x 61 tensor (samples x emission x excitation) whose true CP rank is 3. A
nonnegative rank-3 model (cp_hals) recovers, per component, the emission spectrum, the
excitation spectrum and the concentration of one amino acid in each sample.

Run it from the repository after building (the module is in build/python), or after
`pip install .`:

    PYTHONPATH=build/python /usr/bin/python3 examples/python/cp_amino_acids.py [--out factors.png]

The data come from ../shared/data/amino-acids-claus (or --data FOLDER). Without them the example
falls back to the handwritten digits that Debian's python3-sklearn ships (1797 x 8 x 8).
The plot needs matplotlib: `sudo apt-get install python3-matplotlib` (Debian); without it the
example prints the model and says so.
"""
import argparse
from pathlib import Path

import numpy as np

import facto

REPO = Path(__file__).resolve().parents[2]


def load_amino_acids(folder):
    X = np.load(folder / "claus.npy")  # samples x emission x excitation
    axes = [np.arange(1, X.shape[0] + 1), np.loadtxt(folder / "emission_nm.txt"),
            np.loadtxt(folder / "excitation_nm.txt")]
    names = ["sample", "emission (nm)", "excitation (nm)"]
    truth = np.loadtxt(folder / "concentrations.csv", delimiter=",", skiprows=1)  # 5 x 3
    return "amino acids (claus)", X, axes, names, 3, truth


def load_digits():
    from sklearn.datasets import load_digits  # Debian's python3-sklearn, no download

    X = load_digits().images  # 1797 x 8 x 8
    axes = [np.arange(X.shape[0]), np.arange(8), np.arange(8)]
    return "handwritten digits", X, axes, ["image", "pixel row", "pixel column"], 10, None


def plot(path, title, result, axes, names, labels):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (Debian: sudo apt-get install python3-matplotlib); no plot written")
        return False
    model = result.model
    fig, panels = plt.subplots(1, model.order, figsize=(4.5 * model.order, 3.6))
    for n, (ax, F) in enumerate(zip(panels, model.factors)):
        for r in range(model.rank):
            if len(axes[n]) <= 10:
                ax.plot(axes[n], F[:, r], marker="o", label=labels[r])
            else:
                ax.plot(axes[n], F[:, r], label=labels[r])
        ax.set_xlabel(names[n])
        ax.set_title(f"mode {n} factors")
    panels[0].legend(fontsize="small")
    fig.suptitle(f"{title}: nonnegative CP, rank {model.rank}, fit {result.fit:.4f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "amino-acids-claus")
    parser.add_argument("--out", type=Path, default=Path("cp_factors.png"), help="plot file (PNG)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    title, X, axes, names, rank, truth = (load_amino_acids(args.data) if (args.data / "claus.npy").is_file()
                                          else load_digits())
    print(f"{title}: shape {X.shape}, rank {rank}")
    result = facto.cp_hals(X, rank, init="svd", seed=args.seed, max_iters=500, tol=1e-9)
    print(f"fit {result.fit:.5f} after {result.iters} iterations ({result.seconds:.3f} s), "
          f"converged: {result.converged}")
    print("weights:", np.array2string(result.model.weights, precision=4))
    labels = [f"component {r + 1}" for r in range(rank)]
    if truth is not None:
        # Each component's sample loadings should follow one amino acid's concentration.
        samples = result.model.factors[0]
        corr = np.corrcoef(samples.T, truth.T)[:rank, rank:]
        acids = ["tryptophan", "tyrosine", "phenylalanine"]
        for r in range(rank):
            best = int(np.argmax(corr[r]))
            print(f"component {r + 1}: {acids[best]} (correlation with its concentrations {corr[r, best]:.4f})")
            labels[r] += f" ({acids[best]})"
    plot(args.out, title, result, axes, names, labels)


if __name__ == "__main__":
    main()
