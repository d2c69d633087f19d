"""Why sample-quality scores disagree: every score, for sets of images whose flaws we know.

Theis, van den Oord and Bethge ("A note on the evaluation of generative models", 2016)
showed that a good number on one score says little about another, and that the Parzen
window of the GAN paper can rank a poor model above a good one. This example scores
eight sets of MNIST-sized images on the paper's Parzen window and on the later Inception
Score, FID and precision/recall (``minigan.evaluation.scores``), each set with one known flaw:

    real          held-out real images: training-file images 51,000–59,999, which no score
                  uses as its reference (Parzen picks σ on 50,000–50,999 and scores the test
                  images; FID and precision/recall compare with training images 0–49,999)
    memorizer     training images 0–9,999 themselves: a "generator" that copies its data
    digits 0–4    held-out real images of the digits 0–4 only: half the modes dropped
    blurred       the held-out real images, each blurred (Gaussian, σ = 1 pixel)
    noise         uniform random pixels
    mean image    the mean training image, every time
    G early       a minigan generator after 1 epoch of the paper's setup
    G late        the same run after --epochs epochs (or --late CHECKPOINT)

Needs MNIST (the four *-ubyte.gz files), found as `minigan train` finds it: --data DIR,
else $MINIGAN_DATA, else the user cache. IS, FID and precision/recall need minigan's MNIST
classifier: the cached one (trained on first use, about 3 minutes; see `minigan classifier`)
or --classifier FILE.

    python examples/metrics_disagree.py --data DIR            # a few minutes: table and figure
    python examples/metrics_disagree.py --data DIR --late runs/mnist/best.npz
    python examples/metrics_disagree.py --data DIR --figures  # regenerate docs/figures/metrics_disagree.png
    python examples/metrics_disagree.py --data DIR --fast     # seconds: tiny sets, a tiny classifier
"""
import argparse
import csv
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from minigan import backend
from minigan.gans import gan
from minigan.files import checkpoint, data
from minigan.evaluation import classifier, scores
from minigan.program import plots, train  # noqa: E402
from minigan.files.atomic import atomic_write  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
HELD_OUT = slice(1000, 10000)     # of the validation split (images 50,000–59,999): 51,000–59,999,
#                                   since Parzen chooses σ on the first 1,000 of them
MEMORIZED = 10000                 # the memorizer copies training images 0–9,999, precision/recall's real set


def blur(images, sigma=1.0):
    """Each 28×28 image convolved with a Gaussian of ``sigma`` pixels (5 taps, zero outside).

    The 2-D Gaussian is separable, g(u, v) = g(u) g(v), so it is one 1-D pass along rows and
    one along columns; the taps are normalised to sum to 1, so a flat image stays flat.
    """
    taps = numpy.exp(-numpy.arange(-2, 3) ** 2 / (2 * sigma ** 2))   # u = −2…2: ±2σ at σ = 1 px, 95% of it
    taps /= taps.sum()
    x = numpy.pad(images.reshape(-1, 28, 28), ((0, 0), (2, 2), (2, 2)))     # (N, 32, 32)
    x = sum(w * x[:, i:i + 28, :] for i, w in enumerate(taps))             # along rows: (N, 28, 32)
    x = sum(w * x[:, :, i:i + 28] for i, w in enumerate(taps))             # along columns: (N, 28, 28)
    return x.reshape(-1, 784).astype(numpy.float32)


def known_sets(splits, n, seed):
    """The six sets that need no generator: {label: (n, 784) float32 in [0, 1]}."""
    rng = numpy.random.default_rng(seed)
    pool, pool_labels = splits["valid"][HELD_OUT], splits["valid_labels"][HELD_OUT]
    real = pool[:n]
    low = pool[pool_labels <= 4][:n]
    memorized = splits["train"][:MEMORIZED]
    return {"real": real,
            "memorizer": memorized[rng.choice(len(memorized), size=n, replace=False)],
            "digits 0–4": low,
            "blurred": blur(real),
            "noise": rng.random((n, 784), dtype=numpy.float32),
            "mean image": numpy.repeat(splits["train"].mean(axis=0, keepdims=True), n, axis=0)}


def late_generator(path):
    """(G, its Config, label) from a checkpoint, or exit with one line saying what is wrong."""
    try:
        G, cfg = train.load_generator(path)
        batches = int(checkpoint.load(path)[1]["batches"])
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        sys.exit(f"metrics_disagree.py: error: --late {path}: {' '.join(str(err).split())}")
    return G, cfg, f"G late ({Path(path).name}, epoch {batches // (cfg.n_train // cfg.batch_size)})"


def generator_sets(splits, n, late_epochs, late, fast, seed, progress):
    """{'G early (epoch 1)': samples, 'G late (…)': samples}: one run of the paper's setup
    (on 1,000 images with --fast), sampled after its first epoch and after ``late_epochs``;
    or, with ``late`` = (G, cfg, label) from ``late_generator``, the late samples from it."""
    cfg = gan.Config(parzen_every=0, seed=seed, n_train=1000 if fast else 50000)
    trainer = train.Trainer(cfg, splits)
    trainer.train(epochs=1, progress=progress)
    # the same z (seeded with seed + 1) for the early and the late G, so they differ only in θ_g
    sample = lambda G, c: backend.to_numpy(gan.sample_images(G, c, n, seed + 1))
    out = {"G early (epoch 1)": sample(trainer.G, cfg)}
    if late:
        G, late_cfg, label = late
        out[label] = sample(G, late_cfg)
    else:
        trainer.train(epochs=late_epochs, progress=progress)
        out[f"G late (epoch {trainer.epoch})"] = sample(trainer.G, cfg)
    return out


def rankings(rows):
    """For each score, the sets from best to worst (higher is better but for FID)."""
    keys = {"Parzen": lambda s: -s.parzen.mean, "IS": lambda s: -s.inception[0], "FID": lambda s: s.fid,
            "precision": lambda s: -s.precision, "recall": lambda s: -s.recall}
    return {name: [label for label, s in sorted(rows, key=lambda r: key(r[1]))] for name, key in keys.items()}


def figure(sets, rows, path, smoke=None):
    """Top: a few images of each set. Bottom: each score as bars, one bar per set. ``smoke``: a
    banner saying the numbers come from a smoke test (--fast), so nobody reads them as results."""
    labels = [label for label, _ in rows]
    fig = plt.figure(figsize=(16, 6.4))
    if smoke:
        fig.suptitle(smoke, color="red", fontsize=11)
    grid = fig.add_gridspec(2, len(sets) * 2, height_ratios=[1, 1.3])
    for i, (label, images) in enumerate(sets.items()):
        ax = fig.add_subplot(grid[0, 2 * i:2 * i + 2])
        ax.imshow(plots.tile(images[:16], ncol=4), cmap="gray", vmin=0, vmax=1)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    panels = [("Parzen log-likelihood (nats) ↑", [s.parzen.mean for _, s in rows]),
              ("Inception Score ↑", [s.inception[0] for _, s in rows]),
              ("FID to training images ↓ (log scale)", [max(s.fid, 1e-3) for _, s in rows]),
              ("precision ↑", [s.precision for _, s in rows]), ("recall ↑", [s.recall for _, s in rows])]
    width = len(sets) * 2 // len(panels)
    colours = [f"C{i}" for i in range(len(labels))]
    for j, (title, values) in enumerate(panels):
        ax = fig.add_subplot(grid[1, j * width:(j + 1) * width])
        shown = values
        if title.startswith("Parzen"):
            # noise sits near −630 nats, which would squeeze every other bar into a sliver:
            # bars stop at −300 and the number beside each bar is the true one
            shown = [max(v, -300) for v in values]
            ax.set_xlim(-330, max(max(values) * 1.6, 120))
        ax.barh(range(len(labels)), shown, color=colours)
        for y, (v, w) in enumerate(zip(values, shown)):
            ax.text(max(w, 0), y, f" {v:.3g}", va="center", ha="left", fontsize=7)   # right of 0 if negative
        ax.set_yticks(range(len(labels)), labels if j == 0 else [""] * len(labels), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        if title.startswith("FID"):
            ax.set_xscale("log")
            ax.set_xlim(right=max(values) * 8)                  # room for the numbers
        elif not title.startswith("Parzen"):
            ax.set_xlim(0, max(values) * 1.3)
    fig.tight_layout()
    with atomic_write(path) as tmp:                 # never a half-written figure
        fig.savefig(tmp, dpi=70)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] + " Needs MNIST: give its folder "
                                "with --data DIR or $MINIGAN_DATA (the four *-ubyte.gz files).")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST .gz files "
                   "(default: $MINIGAN_DATA, else the user cache, downloading if needed)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for metrics_disagree.png and .csv (default: runs/examples)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--samples", type=int, default=4000,
                   help="images in each set (default 4000: the digits 0–4 among the 9,000 held-out "
                   "images number about 4,600, and every set should be the same size)")
    p.add_argument("--epochs", type=int, default=10, help="epochs of the late generator (default 10)")
    p.add_argument("--late", metavar="CHECKPOINT", help="take the late generator from this checkpoint "
                   "(e.g. runs/mnist/best.npz) instead of training --epochs epochs")
    p.add_argument("--classifier", metavar="FILE", help="a classifier written by minigan classifier "
                   "--out FILE, instead of the cached one")
    p.add_argument("--seed", type=int, default=0, help="seed of the sets' draws and of the run (default 0)")
    p.add_argument("--fast", action="store_true", help="200 images a set, a tiny classifier trained on the "
                   "spot (the cache is not touched) and a 1,000-image run: checks that it runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    for flag, value, low in (("--samples", args.samples, 11), ("--epochs", args.epochs, 2)):
        if value < low:
            p.error(f"{flag} must be at least {low}, got {value}")
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def load(folder):
    """MNIST with labels, or exit with one line that says what is missing and how to provide it."""
    try:
        return classifier.mnist_with_labels(folder)
    except data.DataError as err:
        sys.exit(f"metrics_disagree.py: error: this example needs MNIST. {data.one_line(err)}")


def scoring_network(args, splits):
    """The classifier behind IS, FID and precision/recall (a tiny one, not cached, with --fast)."""
    if args.fast:
        tiny = classifier.ClassifierConfig(hidden=32, epochs=1, n_train=1000)
        return classifier.train_classifier(splits, tiny, progress=False)
    try:
        if args.classifier:
            return classifier.load(args.classifier, splits)[0]
        return classifier.load_or_train(splits=splits, progress=not args.no_progress)
    except (ValueError, checkpoint.CheckpointError) as err:
        sys.exit(f"metrics_disagree.py: error: {err}")


def main(argv=None):
    args = parse_args(argv)
    n = 200 if args.fast else args.samples
    splits = load(args.data)                                   # before anything is written
    late = late_generator(args.late) if args.late else None    # a bad checkpoint should cost nothing
    fewest = int((splits["valid_labels"][HELD_OUT] <= 4).sum())
    if n > fewest:
        sys.exit(f"metrics_disagree.py: error: --samples {n} is more than the {fewest:,} held-out images "
                 f"of the digits 0–4, and every set must have the same size; give --samples {fewest} or fewer")
    start = time.perf_counter()
    net = scoring_network(args, splits)
    sets = known_sets(splits, n, args.seed)
    sets.update(generator_sets(splits, n, 2 if args.fast else args.epochs, late, args.fast,
                               args.seed, not args.no_progress))
    scorer, rows = scores.Scorer(splits, net), []
    for label, images in sets.items():
        print(f"scoring {label} ({len(images)} images) …", file=sys.stderr)
        rows.append((label, scorer.score(images)))
    smoke = ("SMOKE TEST (--fast): 200 images a set and a classifier trained for seconds; these numbers "
             "only show that the script runs, and say nothing about the metrics") if args.fast else None
    if smoke:
        print(smoke)
    print(scores.table(rows, scores.NAMES))
    print(f"[{scores.AGAINST}; Parzen with σ chosen on validation images 50,000–50,999 and "
          f"scored on the 10,000 test images]")
    print("\nbest to worst:")
    for name, order in rankings(rows).items():
        print(f"  {name:>9}: {' > '.join(order)}")
    args.out.mkdir(parents=True, exist_ok=True)
    figure(sets, rows, args.out / "metrics_disagree.png", smoke)
    with atomic_write(args.out / "metrics_disagree.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["images", "n", "parzen", "parzen_se", "parzen_sigma", "is_mean", "is_std", "fid",
                    "precision", "recall"])
        for (label, s), images in zip(rows, sets.values()):
            w.writerow([label, len(images), s.parzen.mean, s.parzen.se, s.parzen.sigma, *s.inception,
                        s.fid, s.precision, s.recall])
    print(f"\nwrote {args.out / 'metrics_disagree.png'} and metrics_disagree.csv in "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:              # Ctrl-C: one line, not a traceback; files come at the end only
        sys.exit("metrics_disagree.py: interrupted; its figure and table are written only at the end, "
                 "so nothing new was written")
