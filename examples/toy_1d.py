"""The paper's Figure 1, live: a 1-D GAN learning a Gaussian.

Each panel shows, in the paper's style,
  p_data (black, dotted)   the data distribution, N(1, 0.6²);
  p_g    (green, solid)    the distribution of x = G(z), estimated from samples;
  D(x)   (blue, dashed)    the discriminator's probability that x is real;
  lines from the lower horizontal line (the z domain, z ~ U(−1, 1)) up to the
  x = G(z) they are mapped to: where they bunch together, p_g is dense;
  red arrows on those x = G(z): −∂g_obj/∂G(z), where D's gradient pushes each
  sample (the longest arrow of a panel is drawn 0.4 long).
Moments shown: (a) at the start; (b) after D alone was trained for a while
(it approaches D* = p_data / (p_data + p_g)); (c), (d) as G follows D's
gradient; at the end p_g ≈ p_data and D(x) ≈ ½.

    python examples/toy_1d.py                 # ~20 s: runs/examples/toy_1d.png and .gif
    python examples/toy_1d.py --out DIR       # the same, into DIR
    python examples/toy_1d.py --figures       # regenerate the committed docs/figures/toy_1d.*
    python examples/toy_1d.py --fast          # a few steps, to check that it runs
"""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402
from tqdm import tqdm  # noqa: E402

from minigan.gans import theory, toy  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
X = numpy.linspace(-3, 4, 701)          # where densities and D are drawn
MEAN, STD = 1.0, 0.6
PUSH_LENGTH = 0.4                       # the longest push arrow of a panel, in units of x


def density_of_samples(samples, bandwidth=0.08):
    """p_g on the grid X: a Gaussian kernel density estimate of G(z) samples."""
    return theory.gaussian(X[:, None], samples[None, :], bandwidth).mean(axis=1)


def draw(ax, gan, title):
    """One panel in the style of the paper's Figure 1."""
    ax.clear()
    z_dense = numpy.linspace(-1, 1, 4000)[:, None]
    p_g = density_of_samples(gan.generate(z_dense)[:, 0])
    ax.plot(X, theory.gaussian(X, MEAN, STD), "k:", lw=2, label="p_data")
    ax.plot(X, p_g, "g-", lw=1.5, label="p_g")
    ax.plot(X, gan.d_of(X[:, None])[:, 0], "b--", lw=1.5, label="D(x)")
    z = numpy.linspace(-1, 1, 21)[:, None]
    x_of_z = gan.generate(z)[:, 0]
    ax.hlines([-0.35, -0.08], X[0], X[-1], color="gray", lw=0.8)
    for zi, xi in zip(z[:, 0] * 1.5 + MEAN, x_of_z):   # the z line is drawn over [−1.5, 1.5] + mean
        ax.annotate("", xy=(xi, -0.08), xytext=(zi, -0.35),
                    arrowprops=dict(arrowstyle="->", lw=0.6, color="gray"))
    # Where D's gradient pushes each of these samples: −∂g_obj/∂G(z), from the same hand-derived
    # backward pass that G's update uses (toy.generator_push). Drawn just above the x line, and
    # scaled in each panel so that the longest arrow is 0.4 long in x: directions and relative
    # lengths within a panel are true, lengths across panels are not.
    _, push = toy.generator_push(gan, z)                                    # (21, 1)
    push = push[:, 0] * (PUSH_LENGTH / max(float(numpy.abs(push).max()), 1e-12))
    for xi, pi in zip(x_of_z, push):
        ax.annotate("", xy=(xi + pi, -0.02), xytext=(xi, -0.02),
                    arrowprops=dict(arrowstyle="->", lw=0.8, color="red"))
    ax.text(X[0] + 0.05, -0.33, "z", fontsize=9)
    ax.text(X[0] + 0.05, -0.06, "x", fontsize=9)
    ax.set_ylim(-0.4, max(1.05, float(p_g.max()) * 1.05 if p_g.max() < 3 else 3))
    ax.set_xlim(X[0], X[-1])
    ax.set_title(title, fontsize=9)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for toy_1d.png and toy_1d.gif (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figures: write into this checkout's docs/figures")
    p.add_argument("--steps", type=int, default=4000, help="Algorithm 1 iterations (default 4000)")
    p.add_argument("--k", type=int, default=1, help="D steps per G step (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="a few steps only, to check that it runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def main(argv=None):
    args = parse_args(argv)
    steps, d_first, frame_every = (20, 10, 10) if args.fast else (args.steps, 300, max(1, args.steps // 50))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    gan = toy.ToyGAN(toy.gaussian_1d(MEAN, STD), data_dim=1, noise_dim=1, k=args.k, seed=args.seed,
                     g_sizes=(16, 16), d_sizes=(32, 32), lr_d=2e-3, lr_g=1e-3)
    frames = []            # (title, G's and D's parameters) to replay for the GIF

    def snapshot(title):
        frames.append((title, [p.copy() for _, p, _, _ in [*gan.G.named_params(), *gan.D.named_params()]]))

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), sharey=True)
    draw(axes[0], gan, "(a) start")
    snapshot("start")
    gan.train_discriminator(d_first)
    draw(axes[1], gan, f"(b) D trained alone ({d_first} steps): D → D*")
    snapshot("D trained alone")
    moments = {steps // 8: "(c)", steps: "(d)"}
    for i in tqdm(range(1, steps + 1), desc="Algorithm 1", unit="step", disable=args.no_progress):
        gan.step()
        if i % frame_every == 0:
            snapshot(f"Algorithm 1, iteration {i}")
        if i in moments:
            draw(axes[2 if moments[i] == "(c)" else 3], gan, f"{moments[i]} after {i} iterations of Algorithm 1")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "toy_1d.png", dpi=70)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    params = [p for _, p, _, _ in [*gan.G.named_params(), *gan.D.named_params()]]

    def show(i):
        title, values = frames[i]
        for p, v in zip(params, values):
            p[...] = v
        draw(ax, gan, title)

    FuncAnimation(fig, show, frames=len(frames)).save(out / "toy_1d.gif", writer=PillowWriter(fps=8), dpi=60)
    plt.close(fig)
    print(f"wrote {out / 'toy_1d.png'} and {out / 'toy_1d.gif'} ({len(frames)} frames) "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
