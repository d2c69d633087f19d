"""Mode collapse, seen: a 2-D GAN on a ring of 8 Gaussians.

Each panel shows real points (black), generated points G(z) (green) and D's
decision surface D(x) as a heat map (red: D thinks "real", blue: "fake"), at
several moments of Algorithm 1. A generator that collapses puts all its points
on one or a few modes and then hops between them as D learns to reject each;
the title counts the modes holding at least 1% of the samples.

    python examples/ring_2d.py                            # runs/examples/ring_2d.png
    python examples/ring_2d.py --k 5 --objective minimax  # try other settings
    python examples/ring_2d.py --seed 1 --out DIR --name s1   # DIR/s1.png
    python examples/ring_2d.py --fast                     # a few steps, to check that it runs

The two committed figures are regenerated with
    python examples/ring_2d.py --figures                  # docs/figures/ring_2d.png
    python examples/ring_2d.py --figures --lr-g 1e-2 --name ring_collapse
"""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from minigan.gans import toy  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
LIM = 3.0


def panel(ax, gan, title):
    grid = numpy.linspace(-LIM, LIM, 121)
    gx, gy = numpy.meshgrid(grid, grid)
    d = gan.d_of(numpy.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ax.imshow(d, extent=(-LIM, LIM, -LIM, LIM), origin="lower", cmap="coolwarm", vmin=0, vmax=1, alpha=0.8)
    real = toy.ring_2d()(numpy.random.default_rng(0), 500)
    fake = gan.generate(numpy.random.default_rng(1).uniform(-1, 1, (2000, gan.noise_dim)))
    ax.scatter(real[:, 0], real[:, 1], s=2, c="k")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="limegreen", alpha=0.5)
    modes, near = toy.modes_covered(fake)
    ax.set_title(f"{title}\nmodes {modes}/8, on a mode {near:.0%}", fontsize=8)
    ax.set_xlim(-LIM, LIM), ax.set_ylim(-LIM, LIM)
    ax.set_xticks([]), ax.set_yticks([])
    return modes, near


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for the PNG (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate a committed figure: write into this checkout's docs/figures")
    p.add_argument("--name", default="ring_2d", help="file name without .png (default ring_2d)")
    p.add_argument("--steps", type=int, default=4000, help="Algorithm 1 iterations (default 4000)")
    p.add_argument("--k", type=int, default=1, help="D steps per G step (default 1)")
    p.add_argument("--lr-d", type=float, default=1e-3, help="D's Adam learning rate (default 1e-3)")
    p.add_argument("--lr-g", type=float, default=1e-3, help="G's Adam learning rate (default 1e-3)")
    p.add_argument("--objective", choices=["nonsaturating", "minimax"], default="nonsaturating")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="a few steps only, to check that it runs")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def main(argv=None):
    args = parse_args(argv)
    steps = 12 if args.fast else args.steps
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    gan = toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, g_sizes=(64, 64), d_sizes=(64, 64), k=args.k,
                     lr_d=args.lr_d, lr_g=args.lr_g, objective=args.objective, batch=256, seed=args.seed)
    moments = sorted({0, steps // 8, steps // 4, steps // 2, steps})
    fig, axes = plt.subplots(1, len(moments), figsize=(2.6 * len(moments), 2.9))
    for ax, (i, moment) in zip(axes, enumerate(moments)):
        while gan.steps < moment:
            gan.step()
        modes, near = panel(ax, gan, f"iteration {moment}")
    fig.suptitle(f"k = {args.k}, η_D = {args.lr_d:g}, η_G = {args.lr_g:g}, {args.objective} objective",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out / f"{args.name}.png", dpi=65)
    plt.close(fig)
    print(f"wrote {out / (args.name + '.png')} in {time.perf_counter() - start:.1f} s; at the end "
          f"{modes}/8 modes covered, {near:.0%} of samples on a mode")


if __name__ == "__main__":
    main()
