"""One set of images, every score: the paper's Parzen window and the later IS, FID and precision/recall.

``minigan.evaluation.parzen`` and ``minigan.evaluation.metrics`` hold the formulas; this module decides what
they are applied to, so that ``minigan evaluate``, ``minigan train`` and
``examples/metrics_disagree.py`` score in the same way:

    metric   computed from                                  against
    parzen   the images themselves (784 pixels)             σ on validation images 50,000–50,999,
                                                            the mean on the 10,000 test images
    is       the classifier's p(y|x) of each image          (nothing: IS looks at the samples only)
    fid      the classifier's features (its last hidden     the 50,000 training images' features
             ReLU layer, 1,200 numbers per image)
    pr       the same features                              training images 0–9,999 (k = 3)

The classifier is ``minigan.evaluation.classifier`` (trained by minigan on training images
0–49,999). Scores from another classifier are not comparable with these, nor with
published FIDs, which use an ImageNet Inception network.
"""
from dataclasses import dataclass

import numpy

from .. import backend
from . import classifier, metrics, parzen
from .parzen import ParzenResult

NAMES = ("parzen", "is", "fid", "pr")
TITLES = {"parzen": "Parzen (nats) ↑", "is": "IS ↑", "fid": "FID ↓", "pr": "precision ↑ · recall ↑"}
PR_REAL = 10000      # real images whose k-NN balls define the real manifold (Kynkäänniemi et al. use 50k
#                      for ImageNet; 10,000 keeps the 10,000 × 10,000 distance blocks within seconds)
PR_K = 3             # Kynkäänniemi et al.'s choice of k
# The fewest samples each score can be computed from: IS cuts them into 10 parts (its paper's
# splits), FID needs two for a covariance, precision/recall k + 1 for a k-th neighbour.
MIN_SAMPLES = {"is": 10, "fid": 2, "pr": PR_K + 1}


def check_sample_count(n, names, flag="--samples"):
    """ValueError (one line, naming ``flag``) when n samples are too few for a score in ``names``:
    said before any work, in the command line's words rather than a metric function's."""
    for name in names:
        if n < MIN_SAMPLES.get(name, 1):
            why = {"is": "the Inception Score cuts them into 10 parts", "fid": "FID needs a covariance",
                   "pr": f"precision/recall needs each sample's {PR_K}rd nearest neighbour"}[name]
            raise ValueError(f"{flag} {n} is too few for {name}: {why}, so it needs at least "
                             f"{MIN_SAMPLES[name]} (10,000 is the standard)")
AGAINST = ("IS, FID and precision/recall from minigan's MNIST classifier; FID against the 50,000 "
           "training images, precision/recall against training images 0–9,999 with k = 3")


def parse(text):
    """``"parzen,is"`` or ``"all"`` → the metric names, in NAMES order; ValueError on anything else."""
    asked = [t.strip().lower() for t in str(text).split(",") if t.strip()]
    if asked == ["all"]:
        return NAMES
    unknown = [t for t in asked if t not in NAMES]
    if unknown or not asked:
        raise ValueError(f"--metrics: expected a comma-separated list of {', '.join(NAMES)} (or 'all'), "
                         f"got {text!r}; e.g. --metrics parzen,fid")
    return tuple(n for n in NAMES if n in asked)


@dataclass
class Scores:
    """What ``Scorer.score`` found; a metric that was not asked for stays None."""
    parzen: ParzenResult = None
    inception: tuple = None          # (mean, std) over 10 splits
    fid: float = None
    precision: float = None
    recall: float = None

    def cells(self, names):
        """The table cells for ``names``, e.g. ['225.1 ± 2.2', '9.31 ± 0.04', '3.20', '0.81 · 0.77']."""
        out = []
        for n in names:
            if n == "parzen":
                out.append(f"{self.parzen.mean:.1f} ± {self.parzen.se:.1f}")
            elif n == "is":
                out.append(f"{self.inception[0]:.2f} ± {self.inception[1]:.2f}")
            elif n == "fid":
                out.append(f"{self.fid:.2f}")
            else:
                out.append(f"{self.precision:.3f} · {self.recall:.3f}")
        return out


class Scorer:
    """Scores sets of images (N, 784) in [0, 1] against MNIST.

    ``splits``: the dict of ``classifier.mnist_with_labels`` (or ``data.mnist_splits``:
    only 'train', 'valid' and 'test' are read). ``net``: the classifier, needed for is,
    fid and pr (``classifier.load_or_train()`` gives the default one).

    What the real images give is computed once, on first need, and kept: the training
    images' feature mean and covariance (for FID) and features of training images
    0–9,999 (for precision/recall).
    """

    def __init__(self, splits, net=None):
        self.splits, self.net = splits, net
        self._train_stats = self._real_features = None

    def _classifier(self):
        if self.net is None:
            raise ValueError("is, fid and pr need the MNIST classifier; pass net=classifier.load_or_train()")
        return self.net

    def _features(self, images):
        return classifier.features(self._classifier(), images)                   # (N, H)

    def train_stats(self):
        """(μ, Σ) of the training images' features: FID's reference Gaussian."""
        if self._train_stats is None:
            self._train_stats = metrics.mean_cov(self._features(self.splits["train"]))
        return self._train_stats

    def real_features(self):
        if self._real_features is None:
            self._real_features = self._features(self.splits["train"][:PR_REAL])
        return self._real_features

    def score(self, images, names=NAMES):
        """Scores of ``images`` (N, 784) for the metric names asked; a Scores."""
        images = numpy.asarray(backend.to_numpy(images), dtype=numpy.float32).reshape(-1, 784)
        out = Scores()
        if "parzen" in names:
            out.parzen = parzen.evaluate(images, self.splits["valid"], self.splits["test"])
        if any(n in names for n in ("is", "fid", "pr")):
            feats = self._features(images)                   # (N, H): one pass serves all three
        if "is" in names:
            out.inception = metrics.inception_score(classifier.probabilities_of_features(self.net, feats))
        if "fid" in names:
            out.fid = metrics.frechet_distance(*metrics.mean_cov(feats), *self.train_stats())
        if "pr" in names:
            out.precision, out.recall = metrics.precision_recall(self.real_features(), feats, k=PR_K)
        return out


def table(rows, names):
    """A Markdown table: one row per (label, Scores), one column per metric name."""
    head = ["images"] + [TITLES[n] for n in names]
    body = [[label] + s.cells(names) for label, s in rows]
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule] + [line(r) for r in body])
