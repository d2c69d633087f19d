"""The WGAN paper's Figure 2: a trained discriminator's gradient vanishes, a critic's does not.

Two 1-D distributions that do not overlap: p_data = N(2, 0.25²) and p_g = N(−2, 0.25²), with
G held fixed (p_g is 256 fixed samples). On them we train, each to (near) its optimum,
  (a) the original GAN's D (sigmoid output), by descending ½[BCE(D(x), 1) + BCE(D(s), 0)]
      (gan.discriminator_update): D(x) → 1 on the data and → 0 on the samples, so σ saturates;
  (b) a WGAN critic f (no sigmoid), by descending E f(s) − E f(x) and clipping every weight
      to [−c, c] after each step (wgan.critic_update), with RMSProp;
  (c) a WGAN-GP critic, by descending E f(s) − E f(x) + λ E(‖∇f(x̂)‖ − 1)² (wgan_gp.critic_update),
      with Adam (β1 = 0, β2 = 0.9).
The figure draws, over x in [−4, 4], D(x) and each f(x) scaled to [0, 1] (left) and |∂D/∂x|,
|∂f/∂x| (right, log scale), the densities shaded. Every gradient comes from the hand-derived backward pass,
``net.input_gradient(1)`` (docs/derivations.md#sequential); for D, times σ'(a) = D(1 − D), the
chain rule through the sigmoid (docs/derivations.md#sigmoid). Where G's samples lie, ∂D/∂x is ~0,
and so is what the minimax G follows there, ∂ log(1 − D)/∂x = −∂D/∂x / (1 − D); the critics'
slopes there are within a factor ~2 of their steepest. The critics: minigan/gans/wgan.py, wgan_gp.py;
docs/derivations.md#the-wasserstein-critic, #weight-clipping, #the-gradient-penalty.
A check for (c): for an f linear with slope K between the samples, its objective is
−K (x̄ − s̄) + λ (K − 1)², least at K = 1 + (x̄ − s̄)/(2λ) ≈ 1 + 4/20 = 1.2, which it prints.

    python examples/critic_gradients.py             # ~10 s: runs/examples/critic_gradients.png and the numbers
    python examples/critic_gradients.py --out DIR   # the same, into DIR
    python examples/critic_gradients.py --figures   # regenerate the committed docs/figures/critic_gradients.png
    python examples/critic_gradients.py --clip 0.01 # the paper's c: the same shape, slopes ~600× smaller
    python examples/critic_gradients.py --fast      # a few steps, to check that it runs
"""
import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.files.atomic import atomic_write  # noqa: E402
from minigan.gans import gan, theory, toy, wgan, wgan_gp  # noqa: E402
from minigan.layers import sigmoid  # noqa: E402
from minigan.optim import Adam, RMSProp  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
REAL, FAKE, STD = 2.0, -2.0, 0.25       # p_data = N(2, 0.25²), p_g = N(−2, 0.25²): 16 std apart, no overlap
N = 256                                 # fixed samples of each; every step sees all of them
SIZES = [1, 32, 32, 1]                  # the same Dense+ReLU net for D and both critics
# c = 0.1: |f'(x)| ≤ Σ over the 32·32 input-to-output paths of |w1 w2 w3| ≤ 32·32·c³ ≈ 1.02, so
# the clipped family is (at most) 1-Lipschitz, like WGAN-GP's. The paper's c = 0.01 suits its
# wide nets; here it bounds the slope by ~10⁻³ (try --clip 0.01: the same shape, scaled down).
CLIP = 0.1
LAM = 10.0                              # λ, the WGAN-GP paper's
X = numpy.linspace(-4, 4, 801, dtype=numpy.float32)[:, None]   # (801, 1) where the curves are drawn


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="critic_gradients.py", description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for critic_gradients.png (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--steps", type=int, default=3000, help="training steps of each network (default 3000)")
    p.add_argument("--clip", type=float, default=CLIP, help=f"c, the WGAN critic's weight clip (default {CLIP}; "
                   "its RMSProp learning rate is c/100)")
    p.add_argument("--seed", type=int, default=0, help="seeds the samples and the networks (default 0)")
    p.add_argument("--fast", action="store_true", help="a few steps only, to check that it runs")
    args = p.parse_args(argv)
    if args.steps < 1:
        sys.exit(f"critic_gradients.py: error: --steps must be at least 1, got {args.steps}")
    if not 0 < args.clip < float("inf"):
        sys.exit(f"critic_gradients.py: error: --clip must be a number > 0 (weights are clipped to [−c, c]), "
                 f"got {args.clip}")
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def slope(net, x, probability=False):
    """(value, ∂value/∂x) at points x (n, 1), NumPy, from the hand-derived backward pass.
    probability=True: the value is D(x) = σ(a) of the net's logit a, and ∂D/∂x = σ'(a) ∂a/∂x."""
    a = net.forward(backend.asarray(x), train=False)              # (n, 1) the logit a(x), or f(x)
    da = net.input_gradient(backend.xp.ones_like(a))              # (n, 1) row b: ∂a/∂x at x_b
    if not probability:
        return backend.to_numpy(a), backend.to_numpy(da)
    d = sigmoid(a)                                                # (n, 1) D(x)
    # σ'(a) = σ(a) σ(−a): it is D(1 − D), but float32 would round 1 − D to 0 where D ≈ 1.
    return backend.to_numpy(d), backend.to_numpy(d * sigmoid(-a) * da)


def train(steps, seed=0, clip=CLIP):
    """D, the clipped critic and the WGAN-GP critic, trained on the same fixed samples: (x, s, nets)."""
    host = numpy.random.default_rng([seed, 0])
    x = (REAL + STD * host.standard_normal((N, 1))).astype(numpy.float32)    # (N, 1) p_data
    s = (FAKE + STD * host.standard_normal((N, 1))).astype(numpy.float32)    # (N, 1) p_g, G fixed
    xb, sb = backend.asarray(x), backend.asarray(s)
    nets = {name: toy.mlp(SIZES, rng=[seed, i]) for i, name in enumerate(("D", "clip", "gp"), start=1)}
    opt_d = Adam(nets["D"].params_and_grads, 2e-3, beta1=0.5)           # toy.train_discriminator_alone's
    opt_c = RMSProp(nets["clip"].params_and_grads, clip / 100)          # steps of ~lr: 200 cross [−c, c]
    opt_gp = Adam(nets["gp"].params_and_grads, 1e-3, beta1=0, beta2=0.9)   # the paper's β; 10× its α, for few steps
    for _ in range(steps):
        gan.discriminator_update(nets["D"], xb, sb, opt_d)
        wgan.critic_update(nets["clip"], xb, sb, opt_c, clip)
        eps = backend.asarray(host.random((N, 1), dtype=numpy.float32))  # (N, 1) x̂ = ε x + (1 − ε) s
        wgan_gp.critic_update(nets["gp"], xb, sb, eps, opt_gp, LAM)
    return x, s, nets


def measure(s, nets):
    """Mean |∂/∂x| over G's samples s (N, 1), and that as a share of the net's steepest slope on X:
    {name: (mean, share)} for D (of D = σ(a)), its logit a, and both critics."""
    out = {}
    for name, net, prob in [("D", nets["D"], True), ("logit", nets["D"], False),
                            ("clip", nets["clip"], False), ("gp", nets["gp"], False)]:
        at_s = numpy.abs(slope(net, s, prob)[1]).mean()
        out[name] = (float(at_s), float(at_s / numpy.abs(slope(net, X, prob)[1]).max()))
    return out


def main(argv=None):
    args = parse_args(argv)
    steps = 300 if args.fast else args.steps
    start = time.perf_counter()
    x, s, nets = train(steps, args.seed, args.clip)
    m = measure(s, nets)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9))
    grid = X[:, 0]
    for ax in (left, right):                                     # densities, scaled to 90% of the panel height
        for mean, color, label in [(REAL, "k", "p_data = N(2, 0.25²)"), (FAKE, "g", "p_g = N(−2, 0.25²), fixed")]:
            p = theory.gaussian(grid, mean, STD)
            ax.fill_between(grid, 0, 0.9 * p / p.max(), color=color, alpha=0.15, lw=0, label=label,
                            transform=ax.get_xaxis_transform())   # y in axes units
        ax.set_xlim(grid[0], grid[-1])
        ax.set_xlabel("x")
    left.plot(grid, slope(nets["D"], X, True)[0][:, 0], "b-", label="GAN discriminator D")
    # A critic's scale is set by c (or λ), not by the data: each f is drawn min–max scaled to [0, 1].
    for name, style, label in [("clip", "r-", f"WGAN critic f, clip c = {args.clip:g}"),
                               ("gp", "m--", f"WGAN-GP critic f, λ = {LAM:g}")]:
        f = slope(nets[name], X)[0][:, 0]                        # (801,)
        left.plot(grid, (f - f.min()) / (f.max() - f.min()), style, label=label)
    left.set_ylabel("D(x);  critics: (f − min f) / (max f − min f)", fontsize=8)
    left.set_ylim(-0.05, 1.05)
    left.set_title(f"(a) trained {steps} steps on fixed samples: values", fontsize=9)
    right.semilogy(grid, numpy.abs(slope(nets["D"], X, True)[1][:, 0]), "b-")
    right.semilogy(grid, numpy.abs(slope(nets["clip"], X)[1][:, 0]), "r-")
    right.semilogy(grid, numpy.abs(slope(nets["gp"], X)[1][:, 0]), "m--")
    right.set_ylim(1e-9, 10)
    right.set_ylabel("|∂D/∂x|, |∂f/∂x|  (log scale)", fontsize=8)
    right.set_title(f"(b) at G's samples: |∂D/∂x| = {m['D'][0]:.1e}, WGAN |∂f/∂x| = {m['clip'][0]:.2f}",
                    fontsize=9)
    fig.legend(*left.get_legend_handles_labels(), loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))                       # room for the legend below the panels
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / "critic_gradients.png") as tmp:   # never a half-written figure
        fig.savefig(tmp, dpi=70)
    plt.close(fig)

    print(f"wrote {args.out / 'critic_gradients.png'} ({steps} steps, {time.perf_counter() - start:.1f} s)")
    print(f"mean |gradient| over G's {N} samples (its share of the net's steepest slope on [−4, 4]):")
    print(f"  GAN D:          |∂D/∂x| = {m['D'][0]:.2e} ({m['D'][1]:.1e}); "
          f"its logit |∂a/∂x| = {m['logit'][0]:.2f}")
    print(f"  WGAN critic:    |∂f/∂x| = {m['clip'][0]:.3g} ({m['clip'][1]:.2f}); c = {args.clip:g}")
    print(f"  WGAN-GP critic: |∂f/∂x| = {m['gp'][0]:.3g} ({m['gp'][1]:.2f}); "
          f"optimum 1 + (mean x − mean s)/(2λ) = {1 + float(x.mean() - s.mean()) / (2 * LAM):.3f}")
    print(f"  WGAN critic / GAN D = {m['clip'][0] / m['D'][0]:.3g}")
    return m


if __name__ == "__main__":
    main()
