"""Command line: ``minigan train | sample | evaluate | classifier`` (also ``python -m minigan``).

``minigan train --model NAME`` trains the GAN variant of that name (minigan/gans/; default
``gan``, the original). Every field of that variant's ``Config`` is a flag (``--g-hidden 1200``);
the help written beside the field (its ``metadata["help"]``) is the flag's help.
Errors are one line, never a traceback: the parser refuses malformed values (exit
status 2), ``main`` turns the errors a user can cause into ``minigan CMD: error: …``
(exit status 1). Programming errors (a KeyError, an AttributeError) still show their
traceback, because hiding them would hide a bug in minigan.
"""
import argparse
import math
import os
import sys
import tempfile
import time
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy

from .. import __version__

# The errors a user can cause: bad values and files (ValueError, TypeError, OSError, and
# RuntimeError, which minigan's own errors derive from: DataError, BackendError,
# CheckpointError, DivergedError), plus the two that numpy lets escape from a damaged
# .npz file (zipfile.BadZipFile, EOFError), in case a reader does not translate them.
USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError, zipfile.BadZipFile, EOFError)


def _one_line(err):
    """The message of ``err`` on one line: a message with line breaks would read as several
    errors, and one with no text at all would say nothing."""
    text = " ".join(part.strip() for part in str(err).splitlines() if part.strip())
    if isinstance(err, (zipfile.BadZipFile, EOFError)):
        text = f"{text or type(err).__name__} (a file being read is damaged or truncated)"
    return text or type(err).__name__


def _int_at_least(minimum):
    """An argparse ``type=`` for whole numbers ≥ ``minimum``, with a message that says so."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {minimum}, got {value}")
        return value
    return parse


def _positive_float(text):
    """An argparse ``type=`` for finite numbers > 0 (a width σ, for instance)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not 0 < value < math.inf:            # also refuses nan, which compares false
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line and exit status 2, and no flag may be abbreviated
    (argparse would take --epoch for --epochs silently, and a later flag could change its meaning)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _flag_hint(unknown, flags):
    """'; did you mean --lr?' for a flag like one the command has (spelt alike, or its initials:
    --learning-rate → --lr), or '; --lam is a flag of --model wgan-gp' for another model's flag."""
    import difflib
    from .. import gans
    field = unknown[2:].replace("-", "_")
    owners = [m for m, v in gans.VARIANTS.items() if field in {f.name for f in fields(v.Config)}]
    if owners:
        return f"; {unknown} is a flag of --model {' and '.join(owners)}"
    words = unknown[2:].split("-")
    initials = "--" + "".join(w[:1] for w in words) if len(words) > 1 else None
    # 0.85: --epoch/--epochs scores 0.93 and --row/--rows 0.89, while unrelated flags of the same
    # length that share the leading "--" and a letter or two (--clip/--help: 0.83) stay below it
    close = difflib.get_close_matches(unknown, flags, n=1, cutoff=0.85) or [f for f in flags if f == initials]
    return f"; did you mean {close[0]}?" if close else ""


def _parse(parser, argv):
    """parser.parse_args(argv), but a flag the command does not have is refused by the command's own
    parser, so the line names its help (minigan train --help) and the closest flag it does have."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
        flags = [o for action in sub._actions for o in action.option_strings if o.startswith("--")]
        unknown = next((e.split("=", 1)[0] for e in extra if e.startswith("--")), None)
        sub.error(f"unrecognized arguments: {' '.join(extra)}{_flag_hint(unknown, flags) if unknown else ''}")
    return args


def _add_config_flags(p, cls, title, skip=("seed", "epochs")):
    """One flag per field of the dataclass ``cls`` but those in ``skip`` (added with the
    general flags), typed and documented by the field itself."""
    g = p.add_argument_group(title)
    choices = getattr(cls, "CHOICES", {})
    for f in fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if f.name in skip:
            continue
        kw = {"choices": choices[f.name]} if f.name in choices else {}
        if not kw:
            kw["metavar"] = f.type.__name__.upper()
        elif any("," in str(c) for c in kw["choices"]):
            # argparse joins choices with commas: {parzen,parzen,is,fid} would read as four
            kw["metavar"] = "{" + " | ".join(map(str, kw["choices"])) + "}"
        g.add_argument(flag, type=f.type, default=None,
                       help=f"{f.metadata['help']} (default: {f.default})", **kw)


def peek_model(argv):
    """The value of ``--model`` in ``argv`` (``--model cgan`` or ``--model=cgan``), else the default.

    The flags of ``minigan train`` are the fields of the chosen variant's Config, so the parser
    is built after this look; an unknown name is refused by the parser itself, in one line.
    """
    from .. import gans
    argv = list(argv)
    given = _flag_value(argv, "--model")
    if given is not None:
        return given
    if argv[:1] == ["train"] and "--resume" in argv:      # the run's own model, so its flags parse
        return _model_of_run(Path(_flag_value(argv, "--out") or "runs/mnist") / "checkpoint.npz")
    return gans.DEFAULT


def _flag_value(argv, flag):
    """The value given to ``flag`` in argv (``--flag V`` or ``--flag=V``), else None."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _model_of_run(ckpt):
    """The model a checkpoint names; the default when it cannot be read (the command then says why)."""
    from .. import gans
    from ..files import checkpoint
    try:
        return checkpoint.load_meta(ckpt).get("model", gans.DEFAULT)
    except (OSError, RuntimeError, ValueError, AttributeError):
        return gans.DEFAULT


def build_parser(model=None):
    """The parser; ``minigan train`` gets the flags of the variant ``model`` (default: the original GAN)."""
    from .. import gans
    variant = gans.VARIANTS.get(model or gans.DEFAULT, gans.VARIANTS[gans.DEFAULT])
    p = _Parser(prog="minigan", description="GANs on MNIST with hand-derived gradients in NumPy/CuPy: "
                "the original GAN (Goodfellow et al., 2014) and its family (--model).")
    p.add_argument("--version", action="version", version=f"minigan {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def common(q):
        q.add_argument("--data", metavar="DIR", help="folder with the four MNIST .gz files "
                       "(default: $MINIGAN_DATA, else the folder a checkpoint's run was trained on, "
                       "else the user cache, downloading if needed)")
        q.add_argument("--backend", choices=["numpy", "cupy"], default=None,
                       help="array backend (default: $MINIGAN_BACKEND or numpy)")

    t = sub.add_parser("train", help="train G and D on MNIST",
                       description="Train a GAN on MNIST as its paper did, writing checkpoints, metrics, "
                       "sample grids and curves into --out. The flags below are those of --model "
                       f"{variant.MODEL}; minigan train --model NAME --help lists another model's.")
    common(t)
    t.add_argument("--model", choices=list(gans.VARIANTS), default=None,
                   help="the GAN variant: " + "; ".join(f"{m} ({v.PAPER})" for m, v in gans.VARIANTS.items())
                   + f" (default: {gans.DEFAULT}; with --resume, the checkpoint's)")
    t.add_argument("--out", metavar="DIR", default="runs/mnist", help="output folder (default: runs/mnist)")
    t.add_argument("--seed", type=_int_at_least(0), default=None, help=f"random seed (default: {variant.Config.seed})")
    t.add_argument("--epochs", type=_int_at_least(0), default=None,
                   help=f"train until this many epochs are complete (default: {variant.Config.epochs})")
    t.add_argument("--max-steps", type=_int_at_least(0), default=None, metavar="N",
                   help="stop after N more steps, e.g. for a smoke test or a benchmark")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint: on NumPy bit for bit "
                   "the uninterrupted run; on CuPy, whose generators cannot save their state, noise and "
                   "dropout are re-seeded from (seed, step), so only statistically the same")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--classifier", metavar="FILE", default=None,
                   help="with --scores parzen,is,fid: a classifier written by minigan classifier --out FILE, "
                   "instead of the cached one")
    _add_config_flags(t, variant.Config, f"configuration of --model {variant.MODEL} "
                      f"(defaults: {variant.PAPER}, its MNIST setup)")

    s = sub.add_parser("sample", help="draw a grid of samples from a checkpoint (paper's Figure 2)",
                       description="Save a grid of G(z); the last column shows, for each sample "
                       "beside it, its nearest training image, as in the paper's Figure 2.")
    common(s)
    s.add_argument("checkpoint", help="a checkpoint.npz written by minigan train")
    s.add_argument("--out", default="samples.png", help="PNG to write (default: samples.png)")
    s.add_argument("--rows", type=_int_at_least(1), default=None,
                   help="rows of the grid (default: 6; 10 for the class grid of a conditional model)")
    s.add_argument("--cols", type=_int_at_least(1), default=5, help="columns of samples (default: 5)")
    s.add_argument("--seed", type=_int_at_least(0), default=0, help="seed of the noise z (default: 0)")
    s.add_argument("--no-nearest", action="store_true", help="leave out the nearest-training-image column")
    s.add_argument("--interpolate", action="store_true",
                   help="the paper's Figure 3: each row walks in a straight line through z space between "
                   "two random points, in --cols steps (no nearest-image column)")
    s.add_argument("--digit", type=_digit, default=None,
                   help="a conditional model (cgan) only: every sample is asked to be this digit 0–9 "
                   "(default for a conditional model: the class grid, row r asking for digit r, "
                   "the CGAN paper's Figure 2)")

    e = sub.add_parser("evaluate", help="score a checkpoint: Parzen (paper's Table 1), IS, FID, precision/recall",
                       description="By default the paper's protocol: 10,000 samples, σ chosen on 1,000 "
                       "validation images from logspace(−1, 0, 10), mean ± std/√N on the 10,000 test images. "
                       "--metrics adds the later scores of the same samples (docs/metrics.md).")
    common(e)
    e.add_argument("checkpoint", help="a checkpoint.npz written by minigan train")
    e.add_argument("--samples", type=_int_at_least(1), default=10000, help="samples from G (default: 10000)")
    e.add_argument("--sigma", type=_positive_float, default=None, help="use this σ instead of searching for it")
    e.add_argument("--seed", type=_int_at_least(0), default=0, help="seed of the noise z (default: 0)")
    e.add_argument("--metrics", default="parzen", metavar="LIST",
                   help="comma-separated scores: parzen (the paper's), is (Inception Score), fid "
                   "(Fréchet distance to the training images), pr (precision and recall), or all; "
                   "is, fid and pr use minigan's MNIST classifier, trained on first use "
                   "(see minigan classifier); with any of them a conditional model also gets its class accuracy, "
                   "the share of samples the classifier calls the digit they were asked for (default: parzen)")
    e.add_argument("--classifier", metavar="FILE", default=None,
                   help="a classifier written by minigan classifier --out FILE, instead of the cached one")
    e.add_argument("--no-progress", action="store_true", help="no progress bar if the classifier is trained")

    from ..evaluation import classifier
    c = sub.add_parser("classifier", help="train (or check) the MNIST classifier behind IS, FID and precision/recall",
                       description="Train minigan's MNIST classifier (an MLP of minigan layers) on training "
                       "images 0–49,999, or find it already trained in the cache, and print its accuracy "
                       "on the 10,000 test images. A file trained with another configuration or on other "
                       "data is retrained, never trusted.")
    common(c)
    c.add_argument("--out", metavar="FILE", default=None,
                   help=f"where to keep it (default: the user cache, {classifier.cache_file()})")
    c.add_argument("--retrain", action="store_true", help="train again even if the file matches")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--no-reference", action="store_true",
                   help="skip scoring the test images as if they were samples (IS, FID, precision/recall; "
                   "about 15 s): the reference row for a generator's scores")
    _add_config_flags(c, classifier.ClassifierConfig, "training (defaults: the cached classifier's)", skip=())
    return p


def _digit(text):
    """An argparse ``type=`` for a digit 0–9."""
    if text.strip() not in tuple("0123456789"):
        raise argparse.ArgumentTypeError(f"expected a digit 0–9, got {text!r}")
    return int(text)


def _config(args, base):
    """base Config (of any variant) updated with every flag that was given."""
    cls = type(base)
    given = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    return cls(**{**base.as_dict(), **given}).validate(), given


def check_out_folder(out):
    """Refuse an --out that cannot hold a run, before any data is loaded or any file written.

    Walks up from ``out`` to the first part of the path that exists: that part must be a
    folder (not a file) in which a file can be created. Nothing is left behind: the probe
    is a temporary file that is removed at once, and missing folders are not created here.
    """
    if not str(out).strip():
        raise ValueError("--out is empty, which would mean the current folder; give a folder for the run, "
                         "e.g. --out runs/mnist")
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise ValueError(f"--out {out} is a symbolic link to {os.readlink(out)}, which does not exist; create that "
                         "folder, or give another --out")
    place = out
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        given = "is a file" if place == out else f"is inside {place}, which is a file"
        raise ValueError(f"--out {out} {given}; give a folder")
    try:
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as err:
        raise ValueError(f"--out {out}: cannot write in {place}: {err.strerror or err}; "
                         "choose another --out") from None


def nothing_to_train(cfg, batches_done, max_steps, step=0):
    """Why this command would take no step at all (a one-line reason), or None.

    ``batches_done`` and ``step`` are the minibatches the run has already drawn and the steps it
    has taken (0 for a new run); the count is the trainer's own (``train.steps_to_do``), asked
    before any data is loaded.
    """
    from . import train
    if train.steps_to_do(cfg, batches_done, max_steps, step=step):
        return None
    if max_steps == 0:
        return "--max-steps 0 takes no step"
    if cfg.epochs == 0:
        return "--epochs 0 asks for no epoch; give --epochs 1 or more"
    done = batches_done // (cfg.n_train // cfg.batch_size)              # complete epochs
    return (f"the run is already at epoch {done}, and --epochs is {cfg.epochs}; "
            "give a larger --epochs to continue it")


def _resume_config(args, ckpt):
    """The checkpoint's Config (with the flags that may change on resume) and the minibatches it has done."""
    from . import train
    if not ckpt.is_file():
        raise ValueError(f"--resume: no checkpoint at {ckpt}; start a run there without --resume")
    base, batches_done, step = train.resume_point(ckpt)
    if args.model and args.model != base.MODEL:
        raise ValueError(f"--resume: {ckpt} is a run of --model {base.MODEL}, not {args.model}; "
                         f"drop --model or give --model {base.MODEL}")
    cfg, given = _config(args, base)
    changed = sorted(k for k in given if k not in ("epochs", "parzen_every", "checkpoint_every", "scores")
                     and given[k] != getattr(base, k))
    if changed:
        raise ValueError(f"--resume continues the run as it was configured; cannot change {', '.join(changed)}")
    return cfg, batches_done, step


def _data_folder(args, ckpt):
    """The MNIST folder to read: --data, else (leaving $MINIGAN_DATA to files/data.py) the folder
    the checkpoint's run was trained on when it still holds the files, else None (the cache).
    So `train --resume`, `sample` and `evaluate` of a run trained with --data DIR need not repeat it."""
    from ..files import checkpoint, data
    if args.data or os.environ.get("MINIGAN_DATA") or ckpt is None:
        return args.data
    remembered = checkpoint.load_meta(ckpt).get("data")
    if isinstance(remembered, str) and all((Path(remembered) / name).is_file() for name, _ in data.FILES.values()):
        return remembered
    return None


def _remembered(args):
    """The folder to remember in the checkpoints: --data or $MINIGAN_DATA, absolute; None for the cache."""
    folder = args.data or os.environ.get("MINIGAN_DATA")
    return str(Path(folder).resolve()) if folder else None


def cmd_train(args):
    from .. import gans
    from ..files import data
    from . import train
    check_out_folder(args.out)                     # before anything slow: a typo should cost nothing
    out = Path(args.out)
    ckpt = out / "checkpoint.npz"
    if args.resume:
        cfg, batches_done, step = _resume_config(args, ckpt)
    else:
        if ckpt.exists():
            raise ValueError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
        others = [name for name in ("metrics.csv", "report.txt", "best.npz") if (out / name).exists()]
        if others:
            # A run's files without its checkpoint: another run's, or those of a run killed before its
            # first checkpoint (best.npz is written just before it), which the same command restarts.
            # Refusing would break that restart, so the overwrite is announced before anything is written.
            print(f"note: {out} holds {', '.join(others)} but no checkpoint.npz to resume; this new run will "
                  "replace them (Ctrl-C now and choose another --out to keep them)", file=sys.stderr)
        cfg, _ = _config(args, gans.variant(args.model or gans.DEFAULT).Config())
        batches_done = step = 0
    if args.classifier and "fid" not in cfg.scores:
        raise ValueError(f"--classifier {args.classifier} is read only for IS and FID: add --scores parzen,is,fid, "
                         f"or drop --classifier")
    if args.resume:
        args.data = _data_folder(args, ckpt)
    why = nothing_to_train(cfg, batches_done, args.max_steps, step)
    if why:
        print(f"nothing to train: {why} (no file was written)")
        return 0
    from ..evaluation import classifier, scores
    if "fid" in cfg.scores:
        scores.check_sample_count(cfg.parzen_samples, ("is", "fid"), flag="--parzen-samples")
        splits = classifier.mnist_with_labels(args.data)
        scorer = scores.Scorer(splits, _scoring_classifier(args, splits))
        if args.resume:
            _same_classifier(ckpt, scorer.net, args)
    elif gans.of(cfg).CONDITIONAL:                       # a conditional G and D learn from the labels
        splits, scorer = classifier.mnist_with_labels(args.data), None
    else:
        splits, scorer = data.mnist_splits(args.data, n_train=cfg.n_train), None
    from ..files import lock
    with lock.exclusive(out):                      # one writer per run folder (files/lock.py)
        trainer = train.Trainer(cfg, splits, out, scorer)
        if args.resume:
            trainer.load(ckpt)
            print(f"resumed {out} at epoch {trainer.epoch}, step {trainer.step}")
        trainer.data_dir = _remembered(args)              # saved in its checkpoints (_data_folder)
        # The trainer writes report.txt on every exit that leaves a checkpoint (done or Ctrl-C),
        # and none after a divergence, whose last finite checkpoint is left as it was.
        trainer.train(max_steps=args.max_steps, progress=not args.no_progress)
    print(trainer.report or "")
    return 0


def _image_out(path):
    """Refuse, in one line and before any work, an --out that cannot become an image file."""
    from . import plots
    if not path:
        raise ValueError("--out: expected an image file name such as samples.png, got ''")
    if Path(path).is_dir():
        raise ValueError(f"--out {path} is a folder; name a file in it, e.g. {Path(path) / 'samples.png'}")
    known = plots.image_formats()
    if Path(path).suffix.lstrip(".").lower() not in known:
        raise ValueError(f"--out {path}: expected an image file name ending in one of .{', .'.join(known)} "
                         f"(the extension chooses the format), e.g. {Path(path).with_suffix('.png').name}")


def cmd_sample(args):
    from .. import backend, gans
    from ..files import data
    from . import plots, train
    _image_out(args.out)
    from ..files.atomic import ORPHAN_AGE, remove_stale_temporaries
    remove_stale_temporaries(Path(args.out).parent, older_than=time.time() - ORPHAN_AGE)   # of killed writes
    G, cfg = train.load_generator(args.checkpoint)
    args.data = _data_folder(args, args.checkpoint)
    variant = gans.of(cfg)
    if args.digit is not None and not variant.CONDITIONAL:
        raise ValueError(f"--digit needs a conditional model; {args.checkpoint} is a run of --model "
                         f"{variant.MODEL}, whose G is not told which digit to draw")
    rows = args.rows or (variant.CLASSES if variant.CONDITIONAL and args.digit is None else 6)
    # A conditional G is asked for a digit per row: --digit for all, else row r for digit r (the class grid).
    digits = None if not variant.CONDITIONAL else numpy.array(
        [args.digit if args.digit is not None else r % variant.CLASSES for r in range(rows)])
    if args.interpolate:
        z = interpolation_noise(variant, cfg, rows, args.cols, args.seed)              # (rows·cols, Z)
        x = z if digits is None else variant.generator_input(z, variant.one_hot(numpy.repeat(digits, args.cols)))
        plots.save_grid(backend.to_numpy(variant.generate(G, x, backend.rng(args.seed + 1))), args.out, ncol=args.cols)
        print(f"wrote {args.out}: {rows} rows, each G(z) along a line from z_0 to z_1 in {args.cols} steps")
        return 0
    n = rows * args.cols
    labels = None if digits is None else numpy.repeat(digits, args.cols)      # sample i sits in row i // cols
    samples = variant.sample_images(G, cfg, n, args.seed, labels)              # (n, 784)
    cols = [samples[c::args.cols] for c in range(args.cols)]          # column c holds rows' c-th samples
    if not args.no_nearest:
        train_x = data.mnist_splits(args.data)["train"]
        cols.append(nearest(cols[-1], train_x))
    grid = numpy.stack(cols, axis=1).reshape(-1, 784)                 # row-major again
    plots.save_grid(grid, args.out, ncol=len(cols), mark_last_col=not args.no_nearest)
    what = "" if digits is None else (f", every one asked to be a {args.digit}" if args.digit is not None
                                      else ", row r asked to be digit r")
    print(f"wrote {args.out}: {rows}×{args.cols} samples{what}"
          + ("" if args.no_nearest else " and, in the last column, each sample's nearest training image"))
    return 0


def nearest(queries, images):
    """For each query (Q, 784), the training image (N, 784) nearest in Euclidean distance."""
    d2 = (images ** 2).sum(1)[None, :] - 2 * queries @ images.T     # (Q, N); ‖q‖² is the same per row
    return images[d2.argmin(axis=1)]


def interpolation_noise(variant, cfg, rows, cols, seed):
    """z_t = (1 − t) z_0 + t z_1 for t = 0 … 1 in ``cols`` steps, one random pair (z_0, z_1) per row."""
    from .. import backend
    ends = variant.sample_noise(backend.rng(seed), 2 * rows, cfg).reshape(rows, 2, cfg.noise_dim)   # (R, 2, Z)
    t = backend.xp.linspace(0, 1, cols, dtype=ends.dtype)[None, :, None]            # (1, C, 1)
    return ((1 - t) * ends[:, :1] + t * ends[:, 1:]).reshape(rows * cols, cfg.noise_dim)


def cmd_evaluate(args):
    from .. import gans
    from ..files import data
    from ..evaluation import classifier, parzen, scores
    from . import train
    names = scores.parse(args.metrics)                 # before anything slow: a typo should cost nothing
    scores.check_sample_count(args.samples, names)
    G, cfg = train.load_generator(args.checkpoint)
    args.data = _data_folder(args, args.checkpoint)
    variant = gans.of(cfg)
    need_net = any(n != "parzen" for n in names)
    splits = classifier.mnist_with_labels(args.data) if need_net else data.mnist_splits(args.data)
    net = _scoring_classifier(args, splits) if need_net else None
    samples = variant.sample_images(G, cfg, args.samples, args.seed)                # (samples, 784)
    start = time.perf_counter()
    fixed_sigma = "parzen" in names and args.sigma is not None          # the protocol, but σ given
    found = scores.Scorer(splits, net).score(samples, [n for n in names if n != "parzen" or not fixed_sigma])
    if fixed_sigma:
        ll = parzen.log_likelihood(samples, splits["test"], args.sigma)
        found.parzen = parzen.ParzenResult(float(ll.mean()), float(ll.std() / len(ll) ** 0.5), args.sigma,
                                           float("nan"), len(samples), len(ll))
    res = found.parzen
    seconds = time.perf_counter() - start
    if names == ("parzen",):
        print(f"{res.row()}  [{res.n_samples} samples, {res.n_test} test images, {seconds:.1f} s]")
    else:
        print(scores.table([(f"{Path(args.checkpoint).name} ({len(samples):,} samples)", found)], names))
        print(f"[{seconds:.1f} s; {scores.AGAINST}]")
    if variant.CONDITIONAL and net is not None:
        print(class_accuracy_line(net, samples, variant.evaluation_labels(len(samples))))
    if "parzen" in names:
        print(f"Table 1 row: | {variant.MODEL.upper()} (minigan, {Path(args.checkpoint).name}) | "
              f"{res.mean:.0f} ± {res.se:.0f} |")
    return 0


def class_accuracy_line(net, samples, labels):
    """'class accuracy: …': the share of samples asked to be digit d that the classifier calls d,
    over all samples and per digit (a conditional G's own score; its paper has no such number)."""
    from ..evaluation import classifier
    acc, per_digit = classifier.class_accuracy(net, samples, labels)
    digits = ", ".join(f"{d}: {100 * a:.0f}%" for d, a in enumerate(per_digit))
    return f"class accuracy: {100 * acc:.1f}% of the samples are the digit they were asked for ({digits})"


def _same_classifier(ckpt, net, args):
    """Refuse to resume a run whose IS and FID so far came from another classifier: one column
    would hold numbers of two scales (issue 23, item 5)."""
    from ..evaluation import classifier
    from ..files import checkpoint
    before = checkpoint.load_meta(ckpt).get("classifier")
    now = classifier.fingerprint(net)
    if before and before != now:
        which = f"--classifier {args.classifier}" if args.classifier else "the cached default classifier"
        raise ValueError(f"--resume: this run's IS and FID so far were scored by classifier {before}, and {which} "
                         f"is another ({now}); resume with the classifier it was scored with, or start a new --out")


def _scoring_classifier(args, splits):
    """The classifier for IS, FID and PR: --classifier FILE, else the cached default (trained if needed)."""
    from ..evaluation import classifier
    if args.classifier:
        return classifier.load(args.classifier, splits)[0]
    path = classifier.cache_file()
    say = lambda: print(f"training the MNIST classifier for IS, FID and precision/recall (once; cached in {path})",
                        file=sys.stderr)
    return classifier.obtain(path, classifier.default_config(), splits, not args.no_progress, announce=say)[0]


def cmd_classifier(args):
    from ..evaluation import classifier
    given = {f.name: getattr(args, f.name) for f in fields(classifier.ClassifierConfig)
             if getattr(args, f.name, None) is not None}
    cfg = classifier.ClassifierConfig(**given).validate()
    path = Path(args.out) if args.out else classifier.cache_file()
    if given and not args.out and cfg != classifier.default_config():
        raise ValueError("a classifier with another configuration needs its own --out FILE (the cache holds "
                         "the default one, which evaluate would train again); then pass evaluate --classifier FILE")
    if path.exists() and not path.is_file():
        raise ValueError(f"--out {path} is a folder; give a file name, e.g. {path / classifier.FILE}")
    if args.out and path.is_file():
        classifier.require_classifier_file(path)     # overwrite only a classifier, never another file
    splits = classifier.mnist_with_labels(args.data)
    net, seconds = classifier.obtain(path, cfg, splits, progress=not args.no_progress, retrain=args.retrain)
    acc = classifier.accuracy(net, splits["test"], splits["test_labels"])
    how = f"trained in {seconds:.1f} s, written to" if seconds is not None else "already trained, read from"
    print(f"classifier: {100 * acc:.2f}% right on the 10,000 test images ({how} {path})")
    if not args.no_reference:
        # What real digits score: the row a generator's scores are read against.
        from ..evaluation import scores
        start = time.perf_counter()
        found = scores.Scorer(splits, net).score(splits["test"], ("is", "fid", "pr"))
        print(scores.table([("the 10,000 test images, as if they were samples", found)], ("is", "fid", "pr")))
        print(f"[{time.perf_counter() - start:.1f} s; {scores.AGAINST}]")
    return 0


def _choose_backend(flag):
    """Switch to the backend asked for by --backend, else by $MINIGAN_BACKEND (else keep NumPy)."""
    from .. import backend
    name = backend.requested(flag)
    if name is None:
        return
    try:
        backend.use(name)
    except backend.BackendError as err:
        if flag:
            raise
        raise backend.BackendError(f"{_one_line(err)} ({backend.ENV}={name} asked for it; unset it "
                                   "or pass --backend numpy)") from None


def main(argv=None):
    # Parsing comes first and needs no backend, so --help works whatever the environment says.
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parse(build_parser(peek_model(argv)), argv)
    except KeyboardInterrupt:            # Ctrl-C while the parser is built (the variants load)
        print("minigan: interrupted while starting; nothing was done", file=sys.stderr)
        return 130
    try:
        _choose_backend(args.backend)
        return {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate,
                "classifier": cmd_classifier}[args.command](args)
    except KeyboardInterrupt:
        saved = args.command == "train" and (Path(args.out) / "checkpoint.npz").is_file()
        # The trainer saves at the step boundary it stops at (Trainer.train), so checkpoint.npz
        # holds every completed step; interrupted before the first one, it is the resumed run's.
        hint = (f"; {Path(args.out) / 'checkpoint.npz'} holds the run up to its last completed step "
                "(continue with --resume)") if saved else ""
        print(f"minigan {args.command}: interrupted{hint}", file=sys.stderr)
        return 130         # 128 + SIGINT (2), the shell's convention for a command stopped by Ctrl-C
    except MemoryError as err:
        # NumPy says what it could not allocate ("Unable to allocate 149. GiB for an array with
        # shape (200000, 200000) ..."): a size the user asked for, so a user error, in one line.
        what = _one_line(err) or "an allocation failed"
        print(f"minigan {args.command}: error: out of memory: {what}; ask for smaller sizes (the network widths, "
              f"--batch-size, --samples, --rows/--cols) or free memory; nothing was written", file=sys.stderr)
        return 1
    except USER_ERRORS as err:
        print(f"minigan {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
