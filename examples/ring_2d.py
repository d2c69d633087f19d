"""Mode collapse, seen: a 2-D GAN on a ring of 8 Gaussians.

Each panel shows real points (black), generated points G(z) (green) and D's
decision surface D(x) as a heat map (red: D thinks "real", blue: "fake"), at
several moments of Algorithm 1. A generator that collapses puts all its points
on one or a few modes and then hops between them as D learns to reject each;
the title counts the modes holding at least 1% of the samples.

With --model wgan or wgan-gp, D is a critic: the heat map is its score f(x), which is
no probability and means something only up to a constant, so each panel shows f minus
its mean over the plot, with red and blue at ± its largest deviation (red: high f,
where the critic says "more like the data").

    python examples/ring_2d.py                            # runs/examples/ring_2d.png
    python examples/ring_2d.py --k 5 --objective minimax  # try other settings
    python examples/ring_2d.py --model wgan               # runs/examples/ring_2d_wgan.png
    python examples/ring_2d.py --seed 1 --out DIR --name s1   # DIR/s1.png
    python examples/ring_2d.py --compare                  # gan, wgan, wgan-gp over seeds 0–4: a table
                                                          # and runs/examples/ring_models.png
    python examples/ring_2d.py --fast                     # a few steps, to check that it runs

The committed figures are regenerated with
    python examples/ring_2d.py --figures                  # docs/figures/ring_2d.png
    python examples/ring_2d.py --figures --lr-g 1e-2 --name ring_collapse
    python examples/ring_2d.py --figures --compare        # docs/figures/ring_models.png
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
N_JSD = 20000             # samples of p_data and of p_g for the JSD histograms (as examples/game_2d.py)


def panel(ax, gan, title):
    grid = numpy.linspace(-LIM, LIM, 121)
    gx, gy = numpy.meshgrid(grid, grid)
    d, low, high = toy.heat_map(gan, numpy.stack([gx.ravel(), gy.ravel()], axis=1))
    ax.imshow(d.reshape(gx.shape), extent=(-LIM, LIM, -LIM, LIM), origin="lower", cmap="coolwarm",
              vmin=low, vmax=high, alpha=0.8)
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
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                epilog="Defaults of the critics' games (k, η, c, λ): toy.TOY_DEFAULTS, "
                                       "with the reasons beside them in minigan/gans/toy.py.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for the PNG (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate a committed figure: write into this checkout's docs/figures")
    p.add_argument("--name", help="file name without .png (default ring_2d for --model gan, ring_2d_MODEL "
                                  "for the others, ring_models with --compare)")
    p.add_argument("--model", choices=toy.MODELS, default="gan",
                   help="the game: the original GAN (default), the WGAN (weight clipping) or WGAN-GP")
    p.add_argument("--compare", action="store_true",
                   help="train all three models for --seeds seeds at these settings; print a table "
                        "(modes covered, samples on a mode, JSD) and draw ring_models.png, one row per model")
    p.add_argument("--seeds", type=int, default=5, help="with --compare: seeds 0 … N−1 (default 5)")
    p.add_argument("--steps", type=int, default=4000, help="G steps of Algorithm 1 (default 4000)")
    p.add_argument("--k", type=int,
                   help="D (critic) steps per G step (default 1 for gan, n_critic = 5 for the critics)")
    p.add_argument("--lr-d", type=float, help="D's learning rate (default 1e-3 for all three: Adam, RMSProp, Adam)")
    p.add_argument("--lr-g", type=float, help="G's learning rate (default 1e-3 for all three)")
    p.add_argument("--objective", choices=["nonsaturating", "minimax"],
                   help="the GAN's generator loss (default nonsaturating; --model gan only)")
    p.add_argument("--clip", type=float,
                   help="c: the WGAN critic's weights stay in [−c, c] (default 0.1; --model wgan only)")
    p.add_argument("--lam", type=float, help="λ of WGAN-GP's gradient penalty (default 10; --model wgan-gp only)")
    p.add_argument("--seed", type=int, default=0, help="the run's seed (default 0; --compare runs seeds 0 … N−1)")
    p.add_argument("--fast", action="store_true",
                   help="a few steps only (and two seeds with --compare), to check that it runs")
    args = p.parse_args(argv)
    for flag, only in (("objective", "gan"), ("clip", "wgan"), ("lam", "wgan-gp")):
        if getattr(args, flag) is not None and (args.compare or args.model != only):
            why = "--compare trains all three models, so it takes no option of one" if args.compare \
                else f"got --model {args.model}"
            p.error(f"--{flag} is an option of --model {only} alone; {why}")
    if args.compare and args.seeds < 1:
        p.error(f"--seeds must be at least 1, got {args.seeds}")
    if args.name is None:
        args.name = "ring_models" if args.compare else "ring_2d" if args.model == "gan" else f"ring_2d_{args.model}"
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def make_gan(args, model, seed):
    """A ToyGAN for the ring with these arguments; options left unset take the model's defaults."""
    options = {name: getattr(args, name) for name in ("objective", "clip", "lam") if getattr(args, name) is not None}
    return toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, g_sizes=(64, 64), d_sizes=(64, 64), k=args.k,
                      lr_d=args.lr_d, lr_g=args.lr_g, batch=256, seed=seed, model=model, **options)


def settings(gan, sep=", "):
    """The settings of a run: the game, then k and the learning rates, joined by ``sep``. (The GAN's
    title keeps the words and order this figure always had.)"""
    steps = f"k = {gan.k}, η_D = {gan.opt_d.lr:g}, η_G = {gan.opt_g.lr:g}"
    if gan.model == "gan" and sep == ", ":
        return f"{steps}, {gan.objective} objective"
    game = {"gan": f"GAN, {gan.objective} objective", "wgan": f"WGAN, clip c = {gan.clip}",
            "wgan-gp": f"WGAN-GP, λ = {gan.lam}"}[gan.model]
    return f"{game}{sep}{steps}"


def one_run(args, steps):
    """The snapshots of one model at iterations 0, steps/8, steps/4, steps/2 and steps."""
    gan = make_gan(args, args.model, args.seed)
    moments = sorted({0, steps // 8, steps // 4, steps // 2, steps})
    fig, axes = plt.subplots(1, len(moments), figsize=(2.6 * len(moments), 2.9))
    for ax, moment in zip(axes, moments):
        while gan.steps < moment:
            gan.step()
        modes, near = panel(ax, gan, f"iteration {moment}")
    fig.suptitle(settings(gan), fontsize=9)
    return fig, f"at the end {modes}/8 modes covered, {near:.0%} of samples on a mode"


def train_and_measure(args, model, seed, steps, real):
    """Train one model; return it and its numbers at the end: modes covered and the share on a mode
    (``panel``'s 2,000 samples), the JSD estimate against ``real`` (N_JSD samples each), and the
    fewest modes covered at the checkpoints steps/2, 5/8, 6/8, 7/8 of the way and the end."""
    gan = make_gan(args, model, seed)
    z_check = numpy.random.default_rng(1).uniform(-1, 1, (2000, 2))              # panel's z
    fewest = 8
    for moment in sorted({steps // 2, 5 * steps // 8, 3 * steps // 4, 7 * steps // 8, steps}):
        while gan.steps < moment:
            gan.step()
        fewest = min(fewest, toy.modes_covered(gan.generate(z_check))[0])
    modes, near = toy.modes_covered(gan.generate(z_check))
    z_jsd = numpy.random.default_rng(2).uniform(-1, 1, (N_JSD, 2))              # (N_JSD, 2)
    return gan, {"modes": modes, "near": near, "jsd": toy.jsd_estimate(real, gan.generate(z_jsd)), "fewest": fewest}


def table(results, seeds, steps, bias):
    """The comparison as a Markdown table, one row per model."""
    lines = [f"| model | modes, seeds 0–{seeds - 1} | fewest modes in the last half | samples on a mode | "
             f"JSD (bias {bias:.4f}) |", "|---|---|---|---|---|"]
    for model, rows in results.items():
        near, jsd = [r["near"] for r in rows], [r["jsd"] for r in rows]
        lines.append(f"| {model} | {', '.join(str(r['modes']) for r in rows)} | "
                     f"{', '.join(str(r['fewest']) for r in rows)} | {min(near):.0%}–{max(near):.0%} | "
                     f"{min(jsd):.3f}–{max(jsd):.3f} (mean {numpy.mean(jsd):.3f}) |")
    return "\n".join(lines) + f"\n({steps} G steps; each model's defaults, toy.TOY_DEFAULTS)"


def compare(args, steps):
    """All three models over seeds 0 … seeds − 1: the table, and one row of end panels per model."""
    seeds = min(args.seeds, 2) if args.fast else args.seeds
    rng = numpy.random.default_rng(3)
    real = toy.ring_2d()(rng, N_JSD)                                            # (N_JSD, 2)
    bias = toy.jsd_estimate(real, toy.ring_2d()(rng, N_JSD))                    # JSD of p_data with itself
    fig, axes = plt.subplots(len(toy.MODELS), seeds, figsize=(2.6 * seeds, 3.2 * len(toy.MODELS)), squeeze=False)
    results = {}
    for row, model in zip(axes, toy.MODELS):
        results[model] = []
        for seed, ax in enumerate(row):
            gan, numbers = train_and_measure(args, model, seed, steps, real)
            results[model].append(numbers)
            panel(ax, gan, f"{model}, seed {seed}, JSD {numbers['jsd']:.3f}")
            if seed == 0:
                ax.set_ylabel(settings(gan, sep="\n"), fontsize=7)                # the row's settings
            print(f"{model} seed {seed}: {numbers['modes']}/8 modes, {numbers['near']:.0%} on a mode, "
                  f"JSD {numbers['jsd']:.3f}", flush=True)
    fig.suptitle(f"ring of 8 Gaussians after {steps} G steps: one row per model, one column per seed", fontsize=9)
    return fig, "\n" + table(results, seeds, steps, bias)


def main(argv=None):
    args = parse_args(argv)
    steps = 12 if args.fast else args.steps
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    fig, summary = (compare if args.compare else one_run)(args, steps)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / fig.get_figheight()))   # a quarter inch on top for the suptitle
    fig.savefig(out / f"{args.name}.png", dpi=90)
    plt.close(fig)
    print(f"wrote {out / (args.name + '.png')} in {time.perf_counter() - start:.1f} s; {summary}")


if __name__ == "__main__":
    main()
