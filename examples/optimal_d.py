"""Proposition 1 and Theorem 1 of the paper, checked numerically.

1. Hold p_g fixed (here N(−0.5, 1)) and train D alone on p_data = N(1, 0.6²):
   D(x) approaches D*(x) = p_data(x) / (p_data(x) + p_g(x)). The figure overlays both.
2. For several p_g, compute by quadrature C(G) = max_D V(D, G) and −log 4 + 2·JSD(p_data ‖ p_g):
   they agree, and the minimum −log 4 ≈ −1.3863 is reached at p_g = p_data.

    python examples/optimal_d.py              # ~15 s: runs/examples/optimal_d.png and the table
    python examples/optimal_d.py --out DIR    # the same, into DIR
    python examples/optimal_d.py --figures    # regenerate the committed docs/figures/optimal_d.png
    python examples/optimal_d.py --fast       # a few steps, to check that it runs
"""
import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from minigan.gans import theory, toy  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
X = numpy.linspace(-8, 8, 16001)        # wide enough to hold every density's mass
DX = X[1] - X[0]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for optimal_d.png (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--steps", type=int, default=3000, help="steps of D's training (default 3000)")
    p.add_argument("--fast", action="store_true", help="a few steps only, to check that it runs")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def main(argv=None):
    args = parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    p_data, p_g = theory.gaussian(X, 1.0, 0.6), theory.gaussian(X, -0.5, 1.0)
    d_star = theory.optimal_discriminator(p_data, p_g)
    D = toy.train_discriminator_alone(toy.gaussian_1d(1.0, 0.6), toy.gaussian_1d(-0.5, 1.0),
                                      steps=30 if args.fast else args.steps)
    d_learned = D(X[:, None])[:, 0]
    bulk = (X > -2) & (X < 2.5)                 # where either density is above ~1% of its peak
    gap = numpy.abs(d_learned - d_star)[bulk].max()

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(X, p_data, "k:", lw=2, label="p_data = N(1, 0.6²)")
    ax.plot(X, p_g, "g-", label="p_g = N(−0.5, 1), held fixed")
    ax.plot(X, d_star, "r-", lw=3, alpha=0.4, label="D* = p_data / (p_data + p_g)")
    ax.plot(X, d_learned, "b--", label="D trained alone")
    ax.axvspan(-2, 2.5, color="gray", alpha=0.07)
    ax.set_xlim(-4, 4.5)                        # beyond, neither density has mass and D is unconstrained
    ax.set_title(f"Proposition 1: max |D − D*| = {gap:.3f} on the shaded bulk", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "optimal_d.png", dpi=70)
    plt.close(fig)
    print(f"wrote {out / 'optimal_d.png'}; max |D − D*| on [−2, 2.5] = {gap:.4f}")

    print(f"\nTheorem 1: C(G) = −log 4 + 2·JSD(p_data ‖ p_g)   (−log 4 = {-math.log(4):.6f})")
    print(f"{'p_g':>16} | {'C(G)':>10} | {'−log4 + 2 JSD':>14}")
    for mean, std in [(1.0, 0.6), (1.0, 0.8), (0.0, 0.6), (-0.5, 1.0), (3.0, 0.3)]:
        q = theory.gaussian(X, mean, std)
        c = theory.virtual_criterion(p_data, q, DX)
        print(f"  N({mean:4.1f}, {std:.1f}²) | {c:10.6f} | {-math.log(4) + 2 * theory.jsd(p_data, q, DX):14.6f}")


if __name__ == "__main__":
    main()
