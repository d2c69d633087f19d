"""Does the loss mean something? The critic's estimate of the distance, against FID, over training.

The WGAN paper's first claim: the critic's estimate of the Wasserstein distance,
Ŵ = E f(x) − E f(G(z)), falls as the samples get better, so its curve tells a learner how
training goes; the original GAN's discriminator loss does not. This example reads the
metrics.csv of runs of `minigan train --scores parzen,is,fid` and sets the two side by side:

    WGAN, WGAN-GP   Ŵ on the 10,000 validation images and the epoch's samples (column w_valid)
    the original    log 2 − d_obj, D's own estimate of the Jensen–Shannon divergence (for an optimal
                    D, d_obj = log 2 − JSD; docs/derivations.md#the-gan-step), on training minibatches

For each run it prints Spearman's rank correlation ρ between the estimate and the FID of the
same epoch's samples (ρ near 1: the estimate falls whenever FID falls), and draws both curves.
The runs of docs/wgan.md:

    python examples/loss_meaning.py runs/wgan runs/wgan-gp runs/gan      # the table and loss_meaning.png
    python examples/loss_meaning.py --figures runs/wgan runs/wgan-gp runs/gan
    python examples/loss_meaning.py --fast --data DIR   # seconds: three tiny runs in a temporary folder,
                                                        # a tiny classifier: checks that it runs
"""
import argparse
import csv
import math
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from minigan import gans  # noqa: E402
from minigan.evaluation import classifier, scores  # noqa: E402
from minigan.evaluation.metrics import rank_correlation  # noqa: E402
from minigan.files import data  # noqa: E402
from minigan.files.atomic import atomic_write  # noqa: E402
from minigan.program import train  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures


def number(text):
    """A metrics.csv entry as a float, or None where nothing was recorded ('')."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def read_run(folder):
    """(label, kind, [(epoch, estimate, fid)]) of a run folder's metrics.csv; kind 'critic' or 'gan'."""
    path = Path(folder) / "metrics.csv"
    if not path.is_file():
        sys.exit(f"loss_meaning.py: error: no metrics.csv in {folder}; give folders of runs of "
                 f"minigan train --scores parzen,is,fid")
    rows = list(csv.DictReader(open(path, newline="")))
    critic = any(number(r.get("w_valid")) is not None for r in rows)
    points = []
    for r in rows:
        estimate = number(r.get("w_valid")) if critic else (
            None if number(r.get("d_obj")) is None else math.log(2) - number(r["d_obj"]))
        if estimate is not None and number(r.get("fid")) is not None:
            points.append((int(r["epoch"]), estimate, number(r["fid"])))
    if len(points) < 3:
        sys.exit(f"loss_meaning.py: error: {path} has {len(points)} epochs with an FID; at least 3 are "
                 f"needed (train with --scores parzen,is,fid and a --parzen-every that evaluates often)")
    return Path(folder).name, "critic" if critic else "gan", points


def correlations(runs, later_half=False):
    """{label: ρ between the estimate and FID} for runs read by ``read_run``; over the later half of
    each run's evaluations only with ``later_half`` (early on, almost anything falls with FID)."""
    def rho(pts):
        pts = pts[len(pts) // 2:] if later_half else pts
        return rank_correlation([p[1] for p in pts], [p[2] for p in pts])
    return {label: rho(pts) for label, _, pts in runs}


def figure(runs, rhos, path):
    """Top: the estimate and FID against epoch, per run. Bottom: estimate against FID."""
    fig, axes = plt.subplots(2, len(runs), figsize=(4.6 * len(runs), 6.4), squeeze=False)
    for i, (label, kind, pts) in enumerate(runs):
        epoch, estimate, fid = zip(*pts)
        name = "Ŵ = E f(x) − E f(G(z)), validation" if kind == "critic" else "log 2 − d_obj (D's JSD estimate)"
        top = axes[0, i]
        top.plot(epoch, estimate, color="C0", marker="o", ms=2)
        top.set_ylabel(name, color="C0", fontsize=8)
        right = top.twinx()
        right.plot(epoch, fid, color="C3", marker="s", ms=2)
        right.set_ylabel("FID (minigan classifier)", color="C3", fontsize=8)
        right.set_yscale("log")
        top.set_title(f"{label}: ρ(estimate, FID) = {rhos[label]:+.2f}", fontsize=10)
        top.set_xlabel("epoch")
        bottom = axes[1, i]
        bottom.scatter(fid, estimate, c=epoch, cmap="viridis", s=10)
        bottom.set_xlabel("FID (colour: epoch, dark to light)")
        bottom.set_ylabel(name, fontsize=8)
    fig.tight_layout()
    with atomic_write(path) as tmp:                 # never a half-written figure
        fig.savefig(tmp, dpi=80)
    plt.close(fig)


def tiny_runs(folder, data_dir):
    """--fast: three runs of tiny networks (4 epochs of 320 images each, FID every epoch from a tiny
    classifier trained on the spot; the cache is not touched) in ``folder``, as a check that all runs."""
    try:
        splits = classifier.mnist_with_labels(data_dir)
    except data.DataError as err:
        sys.exit(f"loss_meaning.py: error: this example needs MNIST for --fast (it trains tiny runs). "
                 f"{data.one_line(err)}")
    tiny = classifier.ClassifierConfig(hidden=32, epochs=1, n_train=1000)
    scorer = scores.Scorer(splits, classifier.train_classifier(splits, tiny, progress=False))
    small = {"gan": dict(g_hidden=16, d_units=8, d_pieces=2, batch_size=32),
             "wgan": dict(g_hidden=16, d_units=8, d_pieces=2, batch_size=32, critic_boost="off"),
             "wgan-gp": dict(g_hidden=16, d_units=8, d_pieces=2, batch_size=32)}
    out = []
    for model, sizes in small.items():
        cfg = gans.variant(model).Config(**sizes, n_train=320, epochs=4, parzen_every=1, parzen_samples=200,
                                         scores="parzen,is,fid")
        train.Trainer(cfg, splits, Path(folder) / model, scorer).train(progress=False)
        out.append(Path(folder) / model)
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="*", metavar="RUN", help="folders of runs of minigan train --scores "
                   "parzen,is,fid (each with its metrics.csv)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for loss_meaning.png (default: runs/examples)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--data", metavar="DIR", help="with --fast: folder with the four MNIST .gz files "
                   "(default: $MINIGAN_DATA, else the user cache)")
    p.add_argument("--fast", action="store_true", help="train three tiny runs in a temporary folder and "
                   "read those (seconds; a check that it runs, not a result)")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def main(argv=None):
    args = parse_args(argv)
    if bool(args.runs) == args.fast:
        sys.exit("loss_meaning.py: error: give the run folders to read (e.g. runs/wgan runs/wgan-gp "
                 "runs/gan), or --fast, not both")
    with tempfile.TemporaryDirectory(prefix="minigan-loss-meaning-") as scratch:
        folders = tiny_runs(scratch, args.data) if args.fast else args.runs
        runs = [read_run(f) for f in folders]
    rhos, later = correlations(runs), correlations(runs, later_half=True)
    print("run        estimate                          evaluations  ρ(estimate, FID)  later half: from epoch, ρ")
    for label, kind, pts in runs:
        name = "Ŵ on validation images" if kind == "critic" else "log 2 − d_obj (training batches)"
        print(f"{label:<10} {name:<33} {len(pts):>11}  {rhos[label]:>+16.3f}  {pts[len(pts) // 2][0]:>16}, "
              f"{later[label]:+.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    figure(runs, rhos, args.out / "loss_meaning.png")
    print(f"wrote {args.out / 'loss_meaning.png'}")
    return rhos


if __name__ == "__main__":
    main()
