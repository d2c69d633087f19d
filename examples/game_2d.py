"""See the game: a 2-D GAN on a ring of 8 Gaussians, drawn as GAN Lab draws it.

Each game panel shows
  real points (black) and generated points G(z) (green);
  D(x) as a heat map (red: D thinks "real", blue: "fake");
  G's manifold: a 21 × 21 grid over the noise square [−1, 1]² mapped through G, drawn as a
    warped mesh (grey lines of constant z1 and of constant z2);
  arrows (violet) on 64 generated points: −∂g_obj/∂G(z), the direction G's update pushes each sample,
    from the hand-derived backward pass (``toy.generator_push``). Scale: every arrow of a panel
    is divided by the longest arrow of that panel, then drawn ARROW = 12% of the plot width long
    at most: directions and relative lengths are true within a panel, not across panels.
Beside them, over training: the players' objectives d_obj and g_obj (on a fixed evaluation
batch of 2,048 real points and 2,048 noise vectors), V(D, G) = −2·d_obj, and
C(G) = −log 4 + 2·JSD(p_data ‖ p_g), the criterion Theorem 1 says G minimises (V(D, G) reaches
it when D = D*). JSD is estimated from 2-D histograms (60 × 60 cells on [−3, 3]², 20,000
samples each of p_data and p_g, no smoothing: ``toy.jsd_estimate``); the JSD of two
independent 20,000-sample histograms of p_data itself (true value 0) is printed as the
estimator's bias and drawn as a dotted line.

With --model wgan or wgan-gp, D is a critic f with no sigmoid: the heat map is f(x) minus its
mean over the plot, red and blue at ± its largest deviation (f is no probability, and only its
differences matter); the arrows are −∂g_obj/∂G(z) for g_obj = −mean f(G(z)), i.e. uphill on f;
the curves are the critic's estimate Ŵ = mean f(x) − mean f(G(z)) = −d_obj and g_obj (V(D, G)
and C(G) belong to the original game). The JSD panel is the same for every model.

    python examples/game_2d.py                 # runs/examples/game_2d.png and game_2d.gif
    python examples/game_2d.py --model wgan    # runs/examples/game_2d_wgan.png and .gif
    python examples/game_2d.py --out DIR       # the same, into DIR
    python examples/game_2d.py --figures       # regenerate docs/figures/game_2d.png and .gif
    python examples/game_2d.py --figures --model wgan-gp   # docs/figures/game_2d_wgan-gp.png and .gif
    python examples/game_2d.py --fast          # a few steps, to check that it runs
"""
import argparse
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

from minigan.gans import toy  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
LIM = 3.0                 # the plots and the JSD histograms cover [−LIM, LIM]²
ARROW = 0.12              # the longest arrow of a panel is this fraction of the plot width (2·LIM)
BINS, N_JSD = 60, 20000   # JSD estimator: BINS × BINS histogram cells, N_JSD samples per distribution
MESH = 21                 # G's manifold: a MESH × MESH grid over z ∈ [−1, 1]²
N_ARROWS, N_EVAL = 64, 2048


class Fixed:
    """Samples drawn once, from generators of their own (training's random stream is untouched)."""

    def __init__(self, seed):
        rng = numpy.random.default_rng([seed, 10])
        ring = toy.ring_2d()
        self.real_shown = ring(rng, 500)                                     # (500, 2)
        self.z_shown = rng.uniform(-1, 1, (2000, 2))                         # (2000, 2)
        self.z_arrows = self.z_shown[:N_ARROWS]                              # (64, 2)
        self.x_eval = ring(rng, N_EVAL)                                      # (N_EVAL, 2)
        self.z_eval = rng.uniform(-1, 1, (N_EVAL, 2)).astype(numpy.float32)  # (N_EVAL, 2)
        self.real_jsd = ring(rng, N_JSD)                                     # (N_JSD, 2)
        self.z_jsd = rng.uniform(-1, 1, (N_JSD, 2))                          # (N_JSD, 2)
        # The estimator's bias: the JSD of p_data with itself, from a second, independent sample.
        self.bias = toy.jsd_estimate(self.real_jsd, ring(rng, N_JSD), BINS, LIM)


def measure(gan, fixed):
    """One row of the log: iteration, d_obj, g_obj, JSD estimate."""
    d_obj, g_obj = toy.objectives(gan, fixed.x_eval, fixed.z_eval)
    jsd = toy.jsd_estimate(fixed.real_jsd, gan.generate(fixed.z_jsd), BINS, LIM)
    return gan.steps, d_obj, g_obj, jsd


def draw_game(ax, gan, fixed, title):
    """D(x) (or f(x)) heat map, real and generated points, G's warped z-mesh and the push arrows."""
    ax.clear()
    grid = numpy.linspace(-LIM, LIM, 121)
    gx, gy = numpy.meshgrid(grid, grid)
    d, low, high = toy.heat_map(gan, numpy.stack([gx.ravel(), gy.ravel()], axis=1))
    ax.imshow(d.reshape(gx.shape), extent=(-LIM, LIM, -LIM, LIM), origin="lower", cmap="coolwarm",
              vmin=low, vmax=high, alpha=0.8)
    u = numpy.linspace(-1, 1, MESH)
    mesh = gan.generate(numpy.stack(numpy.meshgrid(u, u), axis=-1).reshape(-1, 2)).reshape(MESH, MESH, 2)
    for line in [*mesh, *mesh.transpose(1, 0, 2)]:           # rows: constant z2; columns: constant z1
        ax.plot(line[:, 0], line[:, 1], color="0.35", lw=0.4)
    fake = gan.generate(fixed.z_shown)
    ax.scatter(fixed.real_shown[:, 0], fixed.real_shown[:, 1], s=2, c="k")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="limegreen", alpha=0.5)
    s, push = toy.generator_push(gan, fixed.z_arrows)                  # (64, 2) each
    push = push / max(numpy.linalg.norm(push, axis=1).max(), 1e-30) * ARROW * 2 * LIM
    ax.quiver(s[:, 0], s[:, 1], push[:, 0], push[:, 1], angles="xy", scale_units="xy", scale=1,
              color="darkviolet", width=0.006, zorder=3)
    ax.set_title(title, fontsize=8)
    ax.set_xlim(-LIM, LIM), ax.set_ylim(-LIM, LIM)
    ax.set_xticks([]), ax.set_yticks([])


def draw_objectives(ax, log, upto, steps, critic=False):
    """d_obj, g_obj, V = −2·d_obj and C(G) = −log 4 + 2·JSD over the logged iterations
    (for a critic: Ŵ = −d_obj and g_obj, on axes that fit the whole run)."""
    ax.clear()
    if critic:
        return draw_critic_objectives(ax, log, upto, steps)
    it, d_obj, g_obj, jsd = numpy.array(log[:upto]).T
    ax.plot(it, d_obj, label="d_obj", lw=1)
    ax.plot(it, g_obj, label="g_obj", lw=1)
    ax.plot(it, -2 * d_obj, label="V(D,G) = −2·d_obj", lw=1)
    ax.plot(it, -math.log(4) + 2 * jsd, "k", label="C(G) = −log 4 + 2·JSD", lw=1.5)
    ax.axhline(-math.log(4), color="k", ls=":", lw=0.8)
    ax.set_xlim(0, max(steps, 1)), ax.set_ylim(-1.6, 2.0)
    ax.set_xlabel("iteration", fontsize=8), ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="upper right")
    ax.set_title("objectives; C(G) from the histogram JSD", fontsize=8)


def draw_critic_objectives(ax, log, upto, steps):
    """Ŵ = mean f(x) − mean f(G(z)) = −d_obj, the critic's estimate of W(p_data, p_g) (times the
    critic's Lipschitz constant, which clipping leaves unknown), and g_obj = −mean f(G(z))."""
    it, d_obj, g_obj, _ = numpy.array(log[:upto]).T
    whole = numpy.array(log)                                                 # the full run, for fixed axes
    shown = numpy.concatenate([-whole[:, 1], whole[:, 2], [0.0]])            # Ŵ, g_obj and the zero line
    margin = 0.05 * (shown.max() - shown.min()) + 1e-6                       # 5% above and below
    ax.plot(it, -d_obj, "k", label="Ŵ = −d_obj", lw=1.5)
    ax.plot(it, g_obj, label="g_obj = −mean f(G(z))", lw=1)
    ax.axhline(0, color="k", ls=":", lw=0.8)
    ax.set_xlim(0, max(steps, 1)), ax.set_ylim(shown.min() - margin, shown.max() + margin)
    ax.set_xlabel("iteration", fontsize=8), ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="upper right")
    ax.set_title("the critic's objectives", fontsize=8)


def draw_jsd(ax, log, bias, steps):
    it, jsd = numpy.array(log).T[[0, 3]]
    ax.plot(it, jsd, "k", lw=1.2, label="JSD(p_data ‖ p_g)")
    ax.axhline(bias, color="k", ls=":", lw=0.8, label=f"estimator bias {bias:.4f}")
    ax.axhline(math.log(2), color="0.5", ls="--", lw=0.8, label="log 2 (disjoint)")
    ax.set_xlim(0, max(steps, 1)), ax.set_ylim(0, 0.75)
    ax.set_xlabel("iteration", fontsize=8), ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="upper right")
    ax.set_title(f"JSD: {BINS}×{BINS} histograms, {N_JSD} samples each", fontsize=8)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for game_2d.png and game_2d.gif, game_2d_MODEL.png and .gif for the "
                            "critics (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figures: write into this checkout's docs/figures")
    p.add_argument("--model", choices=toy.MODELS, default="gan",
                   help="the game: the original GAN (default), the WGAN (weight clipping) or WGAN-GP")
    p.add_argument("--steps", type=int, default=4000, help="G steps of Algorithm 1 (default 4000)")
    p.add_argument("--k", type=int,
                   help="D (critic) steps per G step (default 1 for gan, n_critic = 5 for the critics)")
    p.add_argument("--lr-d", type=float, help="D's learning rate (default 1e-3 for all three: Adam, RMSProp, Adam)")
    p.add_argument("--lr-g", type=float, help="G's learning rate (default 1e-3 for all three)")
    p.add_argument("--objective", choices=["nonsaturating", "minimax"],
                   help="the GAN's generator loss (default nonsaturating; --model gan only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="a few steps only, to check that it runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.objective is not None and args.model != "gan":
        p.error(f"--objective is an option of --model gan alone; got --model {args.model}")
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def settings(gan):
    """The figure's line of settings (the GAN's is the one this figure always had)."""
    steps = f"k = {gan.k}, η_D = {gan.opt_d.lr:g}, η_G = {gan.opt_g.lr:g}"
    if gan.model == "gan":
        return f"{steps}, {gan.objective} objective"
    return (f"WGAN, clip c = {gan.clip:g}" if gan.model == "wgan" else f"WGAN-GP, λ = {gan.lam:g}") + f", {steps}"


def summary(gan, d_obj, g_obj, jsd, bias):
    """The last line's numbers at the end of the run."""
    quality = f"JSD ≈ {jsd:.3f} (estimator bias {bias:.4f})"
    if gan.critic:
        return f"{quality}, Ŵ = −d_obj = {-d_obj:.3f}, g_obj = {g_obj:.3f}"
    return (f"{quality}, C(G) ≈ {-math.log(4) + 2 * jsd:.3f}, V(D, G) = −2·d_obj = {-2 * d_obj:.3f}, "
            f"g_obj = {g_obj:.3f}")


def main(argv=None):
    args = parse_args(argv)
    steps, log_every = (12, 4) if args.fast else (args.steps, max(1, args.steps // 50))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    gan = toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, g_sizes=(64, 64), d_sizes=(64, 64), k=args.k,
                     lr_d=args.lr_d, lr_g=args.lr_g, objective=args.objective, batch=256, seed=args.seed,
                     model=args.model)
    name = "game_2d" if args.model == "gan" else f"game_2d_{args.model}"     # the GAN's names are unchanged
    fixed = Fixed(args.seed)
    params = [p for _, p, _, _ in [*gan.G.named_params(), *gan.D.named_params()]]
    moments = sorted({0, steps // 8, steps // 2, steps})                 # the PNG's snapshots
    log, frames = [measure(gan, fixed)], [[p.copy() for p in params]]     # frames: parameters to replay
    from tqdm import tqdm
    with tqdm(total=steps, disable=args.no_progress, unit="step", desc=name) as bar:
        while gan.steps < steps:
            gan.step()
            bar.update()
            if gan.steps % log_every == 0 or gan.steps in moments:
                log.append(measure(gan, fixed))
                frames.append([p.copy() for p in params])

    def restore(i):
        for p, v in zip(params, frames[i]):
            p[...] = v

    fig, axes = plt.subplots(1, len(moments) + 2, figsize=(2.6 * (len(moments) + 2), 2.9))
    for ax, moment in zip(axes, moments):
        i = next(j for j, row in enumerate(log) if row[0] == moment)
        restore(i)
        draw_game(ax, gan, fixed, f"iteration {log[i][0]}, JSD ≈ {log[i][3]:.3f}")
    draw_objectives(axes[-2], log, len(log), steps, gan.critic)
    draw_jsd(axes[-1], log, fixed.bias, steps)
    fig.suptitle(f"{settings(gan)}; arrows −∂g_obj/∂G(z), longest = {ARROW:.0%} of the width", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.92))        # room for the suptitle above the panel titles
    fig.savefig(out / f"{name}.png", dpi=100)     # at 65 dpi the curve panels' labels were unreadable
    plt.close(fig)

    fig, (game, curves) = plt.subplots(1, 2, figsize=(6.4, 3.1))

    def show(i):
        restore(i)
        draw_game(game, gan, fixed, f"iteration {log[i][0]}")
        draw_objectives(curves, log, i + 1, steps, gan.critic)
        fig.tight_layout()

    FuncAnimation(fig, show, frames=len(frames)).save(out / f"{name}.gif", writer=PillowWriter(fps=8), dpi=60)
    plt.close(fig)
    _, d_obj, g_obj, jsd = log[-1]
    print(f"wrote {out / (name + '.png')} and {out / (name + '.gif')} ({len(frames)} frames) in "
          f"{time.perf_counter() - start:.1f} s; at iteration {steps}: {summary(gan, d_obj, g_obj, jsd, fixed.bias)}")


if __name__ == "__main__":
    main()
