"""Ask a conditional GAN for each digit, and see what breaks when D cannot see the digit.

Mirza & Osindero's G draws G(z | y) for a label y, and their D judges pairs (x, y). This
example takes a run of `minigan train --model cgan` and

  1. draws its class grid: row d holds samples asked to be digit d (the CGAN paper's Figure 2);
  2. measures the conditioning: the share of samples asked to be d that minigan's MNIST
     classifier calls d (the class accuracy), digit by digit;
  3. shows what D checks: for each test image, which of the 10 labels D finds most real.
     A D that uses y prefers the image's own digit.

With --blind CHECKPOINT (a run of `minigan train --model cgan --d-label none`, where D is shown
zeros instead of y) it does 1 and 2 for that run too, beside the first. Such a D cannot tell
"a good 3 asked to be a 7" from "a good 7": nothing in V(D, G) rewards G for drawing the digit it
was asked for, so G has no reason to use y, and its class accuracy stays near chance (10%).

Needs MNIST (--data DIR, else $MINIGAN_DATA, else the user cache) and minigan's MNIST classifier
(the cached one, trained on first use in about 3 minutes, or --classifier FILE).

    python examples/conditional.py runs/cgan/best.npz --blind runs/cgan-blind/checkpoint.npz
    python examples/conditional.py --fast      # seconds: two tiny runs and a tiny classifier, made here
"""
import argparse
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.evaluation import classifier  # noqa: E402
from minigan.files import checkpoint, data  # noqa: E402
from minigan.gans import cgan  # noqa: E402
from minigan.program import plots, train  # noqa: E402
from minigan.files.atomic import atomic_write  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"   # the committed figures
PER_DIGIT = 100          # samples asked of each digit for the class accuracy (1,000 in all)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="conditional.py", description=__doc__.split("\n")[0] + " Needs MNIST: "
                                "give its folder with --data DIR or $MINIGAN_DATA (the four *-ubyte.gz files), "
                                "and minigan's MNIST classifier (cached, or --classifier FILE).")
    p.add_argument("checkpoint", nargs="?", help="a checkpoint of minigan train --model cgan")
    p.add_argument("--blind", metavar="CHECKPOINT", help="a run of --model cgan --d-label none, shown beside it")
    p.add_argument("--data", metavar="DIR", help="folder with the four MNIST .gz files")
    p.add_argument("--classifier", metavar="FILE", help="a classifier written by minigan classifier --out FILE")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default="runs/examples",
                       help="folder for conditional.png (default: runs/examples)")
    where.add_argument("--figures", action="store_true",
                       help="regenerate the committed figure: write into this checkout's docs/figures")
    p.add_argument("--fast", action="store_true", help="train two tiny runs (D sees y; D blind) and a tiny "
                   "classifier here instead of reading checkpoints: checks that it runs")
    args = p.parse_args(argv)
    args.out = FIGURES if args.figures else Path(args.out)
    return args


def generator_of(path):
    """(G, cfg) of a CGAN checkpoint, or exit with one line."""
    try:
        G, cfg = train.load_generator(path)
    except (OSError, checkpoint.CheckpointError) as err:
        sys.exit(f"conditional.py: error: {err}")
    if cfg.MODEL != "cgan":
        sys.exit(f"conditional.py: error: {path} is a run of --model {cfg.MODEL}; give a run of --model cgan")
    return G, cfg


def tiny_runs(splits, folder):
    """Two tiny CGAN runs of 100 steps on 1,000 images, D shown y and D shown zeros: (checkpoint, checkpoint)."""
    paths = []
    for label in ("y", "none"):
        cfg = cgan.Config(g_z_hidden=16, g_y_hidden=16, g_hidden=32, d_x_units=16, d_y_units=8, d_units=16,
                          n_train=1000, parzen_every=0, d_label=label)
        t = train.Trainer(cfg, splits, Path(folder) / label)
        t.train(max_steps=100, progress=False)
        paths.append(Path(folder) / label / "checkpoint.npz")
    return paths


def class_grid(G, cfg, cols=8):
    """Samples (10·cols, 784): row d asked to be digit d."""
    return cgan.sample_images(G, cfg, 10 * cols, seed=0, labels=numpy.arange(10 * cols) // cols)


def label_preference(path, splits, n=1000):
    """(share of test images whose own digit D finds most real, the (10, 10) mean D(x|y') of images of digit d).

    D's dropout is off here: it judges with all its units, as at the end of training."""
    arrays, _ = checkpoint.load(path)
    _, cfg = train.load_generator(path)
    D = cgan.discriminator(cfg)
    D.load_state_dict(checkpoint.split(arrays, "D"))
    x, digits = splits["test"][:n], splits["test_labels"][:n]
    logits = numpy.stack([backend.to_numpy(D.forward(backend.xp.concatenate(
        [backend.asarray(x), cgan.one_hot(numpy.full(n, label))], axis=1), train=False))[:, 0]
        for label in range(10)], axis=1)                                      # (n, 10): a(x, y') per label
    mean = numpy.stack([1 / (1 + numpy.exp(-logits[digits == d])).mean(axis=0) for d in range(10)])
    return float((logits.argmax(axis=1) == digits).mean()), mean


def main(argv=None):
    args = parse_args(argv)
    if not args.fast and not args.checkpoint:
        sys.exit("conditional.py: error: give a checkpoint of minigan train --model cgan (or --fast)")
    try:
        splits = classifier.mnist_with_labels(args.data)
    except data.DataError as err:
        sys.exit(f"conditional.py: error: this example needs MNIST. {data.one_line(err)}")
    with tempfile.TemporaryDirectory() as scratch:
        if args.fast:
            net = classifier.train_classifier(splits, classifier.ClassifierConfig(hidden=32, epochs=1, n_train=1000),
                                              progress=False)
            runs = dict(zip(("D sees y", "D blind to y"), tiny_runs(splits, scratch)))
        else:
            runs = {"D sees y": Path(args.checkpoint)}
            if args.blind:
                runs["D blind to y"] = Path(args.blind)
        models = {name: generator_of(path) for name, path in runs.items()}          # checked before the classifier
        if not args.fast:
            net = classifier.load(args.classifier, splits)[0] if args.classifier else \
                classifier.load_or_train(splits=splits)
        asked = numpy.arange(10 * PER_DIGIT) % 10
        fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 5), squeeze=False)
        print("| run | class accuracy | " + " | ".join(map(str, range(10))) + " |")
        print("|---|---|" + "---|" * 10)
        for ax, (name, (G, cfg)) in zip(axes[0], models.items()):
            acc, per = classifier.class_accuracy(net, cgan.sample_images(G, cfg, len(asked), 1, asked), asked)
            print(f"| {name} | {100 * acc:.1f}% | " + " | ".join(f"{100 * a:.0f}" for a in per) + " |")
            ax.imshow(plots.tile(class_grid(G, cfg), ncol=8), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{name}: row d asked for digit d\nclass accuracy {100 * acc:.0f}%", fontsize=9)
            ax.axis("off")
        share, _ = label_preference(runs["D sees y"], splits)
        print(f"\nD (sees y) finds the image's own digit the most real of the 10 labels for {100 * share:.0f}% "
              "of 1,000 test images (10% would be chance).")
        fig.tight_layout()
        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "conditional.png") as tmp:
            fig.savefig(tmp, dpi=80, format="png")
        plt.close(fig)
    print(f"wrote {out / 'conditional.png'}")


if __name__ == "__main__":
    main()
