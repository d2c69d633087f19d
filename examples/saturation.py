"""Why the paper trains G to maximise log D(G(z)) instead of minimising log(1 − D(G(z))).

Left: the two generator objectives as functions of D(G(z)).
Middle: their derivatives with respect to D's logit a (D = σ(a)), which is what
reaches θ_g after the chain rule through D and G:
    ∂/∂a log(1 − σ(a)) = −σ(a)       = −D(G(z))        → 0 when D rejects samples (D ≈ 0)
    ∂/∂a (−log σ(a))   = −(1 − σ(a)) = −(1 − D(G(z)))  → −1 there: a strong signal
Right: the measured norm ‖∇θ_g‖ in the first steps of real MNIST training with
the paper's setup, once with each objective (same seed, same data).

Needs MNIST (the four *-ubyte.gz files), found as `minigan train` finds it:
--data DIR, else $MINIGAN_DATA, else the user cache, downloading into the cache
when it is missing there. Without it the example stops with a one-line error.

    python examples/saturation.py --data DIR          # ~1.5 min: runs/examples/saturation.png
    python examples/saturation.py --data DIR --out OUT    # the same, into OUT
    python examples/saturation.py --data DIR --figures    # regenerate docs/figures/saturation.png
    python examples/saturation.py --data DIR --fast   # a few steps on 1,000 images
"""
import argparse
import math
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from tqdm import tqdm  # noqa: E402

from minigan.gans import gan
from minigan.files import data
from minigan.program import train  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures


def generator_gradient_norms(splits, objective, steps, seed=0, progress=True):
    """‖∇θ_g g_obj‖ at each of the first ``steps`` steps of the released-code update."""
    cfg = gan.Config(g_objective=objective, seed=seed, parzen_every=0, n_train=len(splits["train"]))
    trainer = train.Trainer(cfg, splits)
    norms = []
    for _ in tqdm(range(steps), desc=f"{objective:>13} objective", unit="step", disable=not progress):
        trainer.train_step()
        norms.append(math.sqrt(sum(float((g * g).sum()) for _, g in trainer.G.params_and_grads())))
    return numpy.array(norms)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0] + " Trains on MNIST: give its folder with --data DIR "
        "or $MINIGAN_DATA (the four *-ubyte.gz files); if neither is set, the user cache is used, "
        "downloading into it when the files are missing.")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST .gz files "
                   "(default: $MINIGAN_DATA, else the user cache, downloading if needed)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for saturation.png (default: runs/examples, in the current folder)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--steps", type=int, default=1500, help="training steps per objective (default 1500: "
                   "D starts near ½ and needs a few hundred steps to reject G(z) confidently)")
    p.add_argument("--fast", action="store_true", help="a few steps on 1,000 images, to check that it runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def load_mnist(folder, n_train):
    """The paper's splits, or exit with one line that says what is missing and how to provide it."""
    try:
        return data.mnist_splits(folder, n_train=n_train)
    except data.DataError as err:
        sys.exit(f"saturation.py: error: this example trains on MNIST. {data.one_line(err)}")


def main(argv=None):
    args = parse_args(argv)
    steps = 5 if args.fast else args.steps
    splits = load_mnist(args.data, n_train=1000 if args.fast else 50000)   # before anything is written
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    d = numpy.linspace(1e-3, 1 - 1e-3, 500)
    axes[0].plot(d, numpy.log(1 - d), label="minimax: log(1 − D(G(z)))  (G minimises)")
    axes[0].plot(d, -numpy.log(d), label="non-saturating: −log D(G(z))  (G minimises)")
    axes[0].set_xlabel("D(G(z))"), axes[0].set_title("generator objectives", fontsize=9)
    axes[1].plot(d, -d, label="minimax: −D(G(z))")
    axes[1].plot(d, -(1 - d), label="non-saturating: −(1 − D(G(z)))")
    axes[1].axvspan(0, 0.1, color="gray", alpha=0.15)
    axes[1].text(0.01, -0.5, "early training:\nD rejects G(z)", fontsize=8)
    axes[1].set_xlabel("D(G(z))"), axes[1].set_title("∂ objective / ∂ D's logit", fontsize=9)
    print(f"{'step':>5} | {'‖∇θ_g‖ minimax':>15} | {'‖∇θ_g‖ non-saturating':>22}")
    results = {}
    for objective in ("minimax", "nonsaturating"):
        norms = generator_gradient_norms(splits, objective, steps, progress=not args.no_progress)
        results[objective] = norms
        axes[2].semilogy(numpy.arange(1, steps + 1), norms, label=objective)
    for i in sorted({0, steps // 10, steps // 2, steps - 1}):
        print(f"{i + 1:>5} | {results['minimax'][i]:15.3e} | {results['nonsaturating'][i]:22.3e}")
    axes[2].set_xlabel("training step (paper's MNIST setup)")
    axes[2].set_title("measured ‖∇θ_g‖ on MNIST", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "saturation.png", dpi=70)
    plt.close(fig)
    ratio = numpy.median(results["nonsaturating"]) / numpy.median(results["minimax"])
    print(f"wrote {out / 'saturation.png'} in {time.perf_counter() - start:.1f} s; median gradient norm "
          f"ratio non-saturating / minimax over {steps} steps: {ratio:.1f}×")


if __name__ == "__main__":
    main()
