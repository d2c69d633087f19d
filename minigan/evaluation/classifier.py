"""An MNIST classifier built from minigan's own layers, for sample-quality scores (FID, IS).

Architecture (``build_classifier``), an MLP:

    x (B, 784) → Dense 784→H → ReLU → Dropout → Dense H→H → ReLU → Dropout → Dense H→10 → logits

with H = 1200 by default and trained with ``losses.SoftmaxCrossEntropy`` and ``optim.Adam``.
Why this one:
  * it uses only the layers this project derives by hand (Dense, ReLU, Dropout), so a
    learner can follow every gradient of the scoring network too; no convolution is needed;
  * two hidden ReLU layers of 1200 are the width of the paper's generator, and with dropout
    such an MLP is known to reach about 98.5–99% test accuracy on MNIST (Hinton et al. 2012;
    Srivastava et al. 2014), the level a scoring network needs;
  * dropout after each hidden layer, with include probability 0.75 rather than the classic
    0.5: the budget is 15 epochs (under 3 minutes on one CPU core), not hundreds, and the
    lighter dropout converges faster while still regularising;
  * Adam (η = 1e-3, β1 = 0.9, multiplied by 0.8 after each epoch, batches of 128) trains it
    in few epochs; plain SGD would need more to reach the same accuracy;
  * the second hidden layer's ReLU output (H = 1200 numbers per image) is the feature vector
    ``features`` returns for FID, and the softmax of the logits is what ``probabilities``
    returns for the Inception Score.

Data: training images 0–49,999 with their labels (``cfg.n_train`` of them, from the start).
``data.mnist_splits`` returns images only, so ``mnist_with_labels`` reads the two label
files here with ``data.find_file`` and ``data.read_idx``, the loader's own verified path.

Measured (the defaults, seed 0, NumPy, a 2-core Intel Xeon with nothing else running):
98.58% on the 10,000 test images after 155.6 s of training with ``OPENBLAS_NUM_THREADS=1``,
98.63% after 133.6 s with OpenBLAS's two threads (BENCHMARKS.md, session 8). When another
process kept one core busy, the two threads ran about 10× slower; set
``OPENBLAS_NUM_THREADS=1`` on a shared machine.

Reproducibility: ``cfg.seed`` seeds the weights, the dropout masks and the shuffling, so the
same configuration on the same data gives the same network (on the same backend, BLAS and
number of BLAS threads: threads change the order of a product's sums).

Cache: ``load_or_train`` keeps the trained classifier in ``$XDG_CACHE_HOME/minigan/classifier/``
(default ``~/.cache/minigan/classifier/``) as a minigan checkpoint (written atomically) whose
meta holds the configuration and the SHA-256 of the training images and labels it saw. A
cached file whose configuration or checksum differs from the current one is retrained and
overwritten, never trusted.
"""
import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy

from .. import backend
from ..files import checkpoint, data
from ..files.atomic import ORPHAN_AGE, remove_stale_temporaries
from ..config import param, require_field
from ..layers import Dense, Dropout, ReLU
from ..losses import SoftmaxCrossEntropy
from ..network import Sequential
from ..optim import Adam

FILE = "classifier.npz"


@dataclass
class ClassifierConfig:
    """How the MNIST classifier is built and trained (defaults: the cached classifier)."""
    hidden: int = param(1200, "width of each of the two hidden ReLU layers")
    irange: float = param(0.05, "weights start uniform in ±irange, biases at 0")
    hidden_keep: float = param(0.75, "dropout include probability after each hidden layer")
    epochs: int = param(15, "passes over the training images")
    batch_size: int = param(128, "images per Adam step")
    lr: float = param(1e-3, "Adam's learning rate η in the first epoch")
    lr_decay: float = param(0.8, "η is multiplied by this after every epoch")
    beta1: float = param(0.9, "Adam's β1 (moving average of the gradient)")
    n_train: int = param(50000, "train on training images 0 … n_train − 1 (at most 50,000)")
    seed: int = param(0, "seeds the weights, the dropout masks and the shuffling")

    def validate(self):
        """Raise ValueError naming the field, what it must be and the value given (NaN fails every test)."""
        for name in ("hidden", "epochs", "batch_size"):
            require_field(self, name, getattr(self, name) >= 1, "at least 1")
        require_field(self, "n_train", 1 <= self.n_train <= 50000, "in 1…50000",
                 "images 50,000–59,999 are the validation split, never trained on")
        require_field(self, "irange", 0 <= self.irange < math.inf, "a finite number ≥ 0")
        require_field(self, "hidden_keep", 0 < self.hidden_keep <= 1, "in (0, 1]",
                 "the probability that dropout keeps a unit; 0 would keep none")
        require_field(self, "lr", 0 < self.lr < math.inf, "a finite number > 0")
        require_field(self, "lr_decay", 0 < self.lr_decay <= 1, "in (0, 1]", "η is multiplied by it every epoch")
        require_field(self, "beta1", 0 <= self.beta1 < 1, "in [0, 1)")
        require_field(self, "seed", self.seed >= 0, "≥ 0")
        return self


def build_classifier(cfg):
    """The untrained network for ``cfg`` (float32, on the active backend)."""
    rng = numpy.random.default_rng(cfg.seed)
    h = cfg.hidden
    return Sequential([
        Dense(784, h, cfg.irange, rng=rng), ReLU(), Dropout(cfg.hidden_keep),
        Dense(h, h, cfg.irange, rng=rng), ReLU(), Dropout(cfg.hidden_keep),
        Dense(h, 10, cfg.irange, rng=rng),
    ])


KEEP = ("0", "3", "6")     # the layers of build_classifier that hold parameters: the only arrays read


def shapes(cfg):
    """{'0.W': (784, H), …}: the parameter shapes of build_classifier(cfg), without allocating them."""
    with backend.dry_run():
        return {k: tuple(v.shape) for k, v in build_classifier(cfg).state_dict().items()}


def mnist_with_labels(folder=None, download=True):
    """``data.mnist_splits`` plus the labels of each split.

    {'train', 'valid', 'test'}: images, float32 (N, 784) in [0, 1] (training images
    0–49,999, 50,000–59,999 and the 10,000 test images); 'train_labels', 'valid_labels',
    'test_labels': their digits, int64 (N,).
    """
    splits = data.mnist_splits(folder, download)
    train, test = (data.read_idx(data.find_file(key, folder, download)).astype(numpy.int64)
                   for key in ("train_labels", "test_labels"))
    return {**splits, "train_labels": train[:50000], "valid_labels": train[50000:60000],
            "test_labels": test}


def _training_data(splits_or_data, cfg):
    """(images, labels) on the host: the first cfg.n_train training images and labels."""
    if isinstance(splits_or_data, dict):
        images, labels = splits_or_data["train"], splits_or_data["train_labels"]
    else:
        images, labels = splits_or_data
    images = numpy.asarray(backend.to_numpy(images), dtype=numpy.float32)
    labels = numpy.asarray(backend.to_numpy(labels))
    if images.ndim != 2 or images.shape[1] != 784 or labels.shape != (images.shape[0],):
        raise ValueError(f"expected images (N, 784) and labels (N,), got {images.shape} and {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers 0–9, got {labels.dtype}")
    if not 1 <= cfg.n_train <= images.shape[0]:
        raise ValueError(f"n_train must be between 1 and {images.shape[0]} (the images given), got {cfg.n_train}")
    return images[:cfg.n_train], labels[:cfg.n_train].astype(numpy.int64)


def data_checksum(images, labels):
    """SHA-256 of the training images (as float32) and labels (as int64) a classifier saw."""
    h = hashlib.sha256()
    h.update(numpy.ascontiguousarray(images, dtype=numpy.float32).tobytes())
    h.update(numpy.ascontiguousarray(labels, dtype=numpy.int64).tobytes())
    return h.hexdigest()


def train_classifier(splits_or_data, cfg, progress=True):
    """Train a classifier on the first cfg.n_train training images; return the network.

    ``splits_or_data``: the dict ``mnist_with_labels`` returns, or a pair (images, labels).
    """
    from tqdm import tqdm
    images, labels = _training_data(splits_or_data, cfg)
    net = build_classifier(cfg)
    net.set_rng(backend.rng(cfg.seed))                      # dropout masks
    shuffle = numpy.random.default_rng(cfg.seed + 1)
    loss = SoftmaxCrossEntropy()
    opt = Adam(net.params_and_grads, lr=cfg.lr, beta1=cfg.beta1)
    x_all, y_all = backend.asarray(images), backend.asarray(labels)
    n, steps = len(images), -(-len(images) // cfg.batch_size)
    # A diverging run overflows, and NumPy would warn at every operation that meets it; the
    # guard at each epoch's end says it in one line instead (as the GAN trainer does).
    with tqdm(total=cfg.epochs * steps, disable=not progress, unit="step", desc="classifier") as bar, \
            numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(cfg.epochs):
            opt.lr = cfg.lr * cfg.lr_decay ** epoch
            order = backend.asarray(shuffle.permutation(n))
            for i in range(steps):
                rows = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                loss.forward(net.forward(x_all[rows], train=True), y_all[rows])
                net.backward(loss.backward(), input_grad=False)
                opt.step()
                bar.update()
            # The trainer's divergence guard, here too: a too-large learning rate drives the weights
            # to inf and NaN, and a NaN classifier, written and trusted, would make every IS and
            # FID NaN and seem to blame the samples. Nothing is returned, so nothing is written.
            bad = [name for name, p in net.state_dict().items() if not bool(backend.xp.isfinite(p).all())]
            if bad:
                raise ValueError(f"the classifier diverged in epoch {epoch + 1} ({bad[0]} is not finite); "
                                 f"lower --lr (it was {cfg.lr:g}; default {ClassifierConfig().lr:g}); nothing was written")
    return net


def _batched(layers, x, batch=1000):
    """``layers`` applied in turn at train=False to the rows of x (N, ·), ``batch`` rows at a
    time, as one host array."""
    x = numpy.asarray(backend.to_numpy(x), dtype=numpy.float32)
    out = []
    for start in range(0, max(len(x), 1), batch):              # one empty batch for no rows
        y = backend.asarray(x[start:start + batch])
        for layer in layers:
            y = layer.forward(y, train=False)
        out.append(backend.to_numpy(y))
    return numpy.concatenate(out)


def _images(images):
    return numpy.asarray(backend.to_numpy(images), dtype=numpy.float32).reshape(-1, 784)


def logits(net, images):
    """The classifier's logits (N, 10) for images (N, 784) in [0, 1]."""
    return _batched(net.layers, _images(images))


def features(net, images):
    """The penultimate activations (N, H): the last hidden ReLU's output, for FID."""
    return _batched(net.layers[:-1], _images(images))       # stops before the output Dense


def probabilities(net, images):
    """Class probabilities (N, 10), the softmax of the logits (rows sum to 1), for IS."""
    return probabilities_of_features(net, features(net, images))


def probabilities_of_features(net, feats):
    """p(y|x) (N, 10) from the features (N, H) ``features`` returned: the output Dense, then
    the softmax. For a caller that needs both (IS beside FID), the hidden layers run once.
    Batched as ``logits`` is, so the result is the same to the last bit."""
    a = _batched(net.layers[-1:], feats).astype(numpy.float64)
    e = numpy.exp(a - a.max(axis=1, keepdims=True))        # max subtracted: no overflow
    return e / e.sum(axis=1, keepdims=True)


def accuracy(net, images, labels):
    """Fraction of images whose largest logit is at their label."""
    labels = numpy.asarray(backend.to_numpy(labels))
    return float((logits(net, images).argmax(axis=1) == labels).mean())


def class_accuracy(net, images, labels):
    """(the share of ``images`` the classifier assigns to their ``labels``, that share per digit 0–9).

    For a conditional generator: labels are the digits G was asked for, so this is how often it
    drew what it was told. A digit with no image gets nan."""
    labels = numpy.asarray(labels)
    right = backend.to_numpy(logits(net, images)).argmax(axis=1) == labels
    per_digit = [float(right[labels == d].mean()) if (labels == d).any() else float("nan") for d in range(10)]
    return float(right.mean()), per_digit


def default_cache_dir():
    """``$XDG_CACHE_HOME/minigan/classifier`` (default ``~/.cache/minigan/classifier``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigan" / "classifier"


def _cached(path, cfg, checksum):
    """The cached network if ``path`` holds one trained with ``cfg`` on data with ``checksum``; else None."""
    try:
        arrays, meta = checkpoint.load(path, keep=KEEP)
    except checkpoint.CheckpointError:
        return None                                         # missing or damaged: retrain
    if meta.get("config") != asdict(cfg) or meta.get("data_sha256") != checksum:
        return None                                         # trained otherwise: never trusted
    net = build_classifier(cfg)
    try:
        net.load_state_dict(arrays)
    except ValueError:
        return None
    return net


def default_config():
    """The configuration of the cached classifier that IS, FID and precision/recall use."""
    return ClassifierConfig()


def cache_file(cache_dir=None):
    """Where the default classifier is cached: ``cache_dir/classifier.npz``."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / FILE


def obtain(path, cfg, splits, progress=True, retrain=False, announce=None):
    """The classifier for ``cfg`` from ``path`` if it was trained with ``cfg`` on these data,
    else trained now and written there (atomically). Returns (net, seconds of training,
    or None if it came from the file). ``announce()``, if given, is called before training."""
    images, labels = _training_data(splits, cfg.validate())
    checksum = data_checksum(images, labels)
    net = None if retrain else _cached(path, cfg, checksum)
    if net is not None:
        return net, None
    check_writable(path)              # before minutes of training, not after
    remove_stale_temporaries(Path(path).parent, older_than=time.time() - ORPHAN_AGE)   # of killed writes
    if announce:
        announce()
    start = time.perf_counter()
    net = train_classifier((images, labels), cfg, progress)
    seconds = time.perf_counter() - start
    checkpoint.save(path, net.state_dict(), {"config": asdict(cfg), "data_sha256": checksum,
                                             "train_seconds": seconds})
    return net, seconds


def check_writable(path):
    """Create ``path``'s folder and a file in it, then remove the file: ValueError in one line,
    naming the folder and how to fix it, when a classifier could not be written there (a
    read-only folder, XDG_CACHE_HOME naming a file, no space for even a small file)."""
    import tempfile
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".minigan-write-test-"):
            pass
    except OSError as err:
        raise ValueError(f"cannot write the classifier into {folder} ({err.strerror or err}); make it writable, "
                         "choose another file with --out FILE, or set XDG_CACHE_HOME to a writable folder") from None


def require_classifier_file(path):
    """ValueError (one line) unless ``path`` is a file minigan classifier wrote, so that
    `minigan classifier --out FILE` never overwrites a GAN checkpoint or a file of the user's."""
    try:
        meta = checkpoint.load(path)[1]
        why = None if {"config", "data_sha256"} <= set(meta) else "a minigan checkpoint, but not a classifier's"
    except checkpoint.CheckpointError as err:
        why = err.reason or str(err)
    if why:
        raise ValueError(f"--out {path} exists and is not a minigan classifier ({why}); minigan classifier "
                         "overwrites only its own files: choose another name, or remove it yourself")


def load(path, splits):
    """A classifier written by ``minigan classifier --out PATH``: (net, its ClassifierConfig).

    Its stored checksum must match the training images and labels in ``splits`` that its
    configuration names; a classifier trained on other data is refused, not trusted.
    """
    arrays, meta = checkpoint.load(path, keep=KEEP)
    if "step" in meta and "data_sha256" not in meta:      # "damaged, use best.npz" would be wrong advice
        raise ValueError(f"{path} is a GAN checkpoint (a run of --model {meta.get('model', 'gan')}), not a classifier; "
                         "pass a file written by minigan classifier --out FILE, or leave --classifier out "
                         "for the cached default")
    checkpoint.require(path, meta, "config", "data_sha256")
    try:
        cfg = ClassifierConfig(**meta["config"]).validate()
    except (TypeError, ValueError) as err:
        raise checkpoint.damaged(path, f"its configuration is not a classifier's: {err}") from None
    if meta["data_sha256"] != data_checksum(*_training_data(splits, cfg)):
        raise ValueError(f"the classifier {path} was trained on other data than the MNIST files given "
                         f"(training-data checksum differs); retrain it: minigan classifier --out {path}")
    checkpoint.require_shapes(path, arrays, shapes(cfg))          # before the network is built
    net = build_classifier(cfg)
    try:
        net.load_state_dict(arrays)
    except ValueError as err:
        raise checkpoint.damaged(path, str(err)) from None
    return net, cfg


def load_or_train(data_dir=None, cache_dir=None, progress=True, cfg=None, splits=None):
    """The classifier for ``cfg`` (default ``ClassifierConfig()``), from the cache or trained now.

    The cache file ``cache_dir/classifier.npz`` is used only if its stored configuration and
    training-data SHA-256 both equal the current ones; otherwise the classifier is trained
    and the file overwritten (atomically). ``splits``: the data (as ``mnist_with_labels``
    returns it), to avoid reading MNIST from ``data_dir`` again.
    """
    cfg = default_config() if cfg is None else cfg
    splits = mnist_with_labels(data_dir) if splits is None else splits
    return obtain(cache_file(cache_dir), cfg, splits, progress)[0]


def fingerprint(net):
    """A short digest of the classifier's weights (16 hex digits of SHA-256): two classifiers
    score IS and FID on different scales, so a run records which one scored its column."""
    import hashlib
    digest = hashlib.sha256()
    for name, p in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(numpy.ascontiguousarray(backend.to_numpy(p)).tobytes())
    return digest.hexdigest()[:16]
