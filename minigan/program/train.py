"""The one training loop: data order, schedules, metrics, figures, checkpoints and resume.

It serves every GAN variant. The step itself lives in the variant's module in minigan/gans/
(``gan.released_step``, ``cgan.conditional_step``: each reads like its paper's algorithm);
this module is the bookkeeping around it (docs/variants.md). What it writes into the output folder:

    checkpoint.npz       latest state (parameters, optimizer, counters, RNG states)
    best.npz             the state with the best validation Parzen score so far
    metrics.csv          one row per epoch: objectives, D's accuracy, η, μ, Parzen
                         (and IS and FID with cfg.scores = 'parzen,is,fid')
    curves.png           the same as plots
    samples/epoch_N.png  a 10×10 grid of G(z) for fixed z, every epoch (row r: digit r for a
                         conditional variant)
    report.txt           a short report, written whenever train() ends (also on Ctrl-C),
                         but for a run that diverged

Resume reproduces the uninterrupted run bit for bit on the CPU: the checkpoint
holds the host generator (data order) and the device generator (noise, dropout)
states, the epoch's permutation and the position in it. (CuPy generators cannot
export their state; on the GPU a resumed run re-seeds them from (seed, step) and
is statistically, not bitwise, identical.)

Divergence: a learning rate that is too large drives the objectives and then the
parameters to inf and NaN. ``train`` checks that they are finite at the end of
every epoch and before every checkpoint it writes, and raises ``DivergedError``
instead of writing anything non-finite, so checkpoint.npz, best.npz and
metrics.csv keep their last finite contents.
"""
import csv
import json
import math
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy

from .. import backend
from .. import gans
from ..files import checkpoint
from ..evaluation import parzen
from . import plots
from ..files.atomic import atomic_write, remove_stale_temporaries
from ..optim import SGD, Adam, RMSProp

METRICS = ["epoch", "step", "d_obj", "g_obj", "d_acc_real", "d_acc_fake", "lr", "momentum",
           "seconds", "parzen_sigma", "parzen_valid", "parzen_test", "parzen_se", "is_mean", "is_std", "fid",
           "penalty", "w_valid"]   # the last two: WGAN-GP's mean penalty, the critics' held-out Ŵ
TRAINER_KEEP = ("G", "D", "opt_g", "opt_d", "sums", "perm")   # the arrays a trainer reads back; no other member is read
META_KEYS = ("config", "step", "batches", "sums_n", "sums_seen", "host_rng", "rng", "rows", "best_valid")


class DivergedError(RuntimeError):
    """Training went non-finite (inf or NaN); nothing non-finite was written."""


def _generator_state(gen):
    """JSON-able state of a NumPy generator; None for CuPy's (which cannot export it)."""
    return gen.bit_generator.state if isinstance(gen, numpy.random.Generator) else None


def _restore_generator(state, fallback_seed):
    if state is not None and backend.name == "numpy":
        gen = numpy.random.default_rng()
        gen.bit_generator.state = state
        return gen
    return backend.rng(fallback_seed)


@contextmanager
def _deferred_interrupt():
    """Hold Ctrl-C (SIGINT) until the current step is complete.

    A step updates θ_d, then θ_g: an interrupt between the two, saved as it is, would
    make a checkpoint that no uninterrupted run ever passes through. Instead the
    handler only raises a flag; the loop finishes the step, saves, then stops.
    """
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag                       # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGINT, lambda *_: flag.update(stop=True))
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class Trainer:
    """Owns G, D, their optimizers and all state needed to stop and resume, for any GAN variant.

    What is particular to a variant (its networks, optimizers, schedules, noise and step) comes
    from its module in minigan/gans/, found from the type of ``cfg`` (``gans.of``); this class
    is the same for all of them. To the variant's ``train_step`` it is ``t``: the players
    G, D, opt_g, opt_d, the config, and the two draws ``next_batch()`` and ``noise()``.
    """

    def __init__(self, cfg, data, out=None, scorer=None):
        """``scorer``: a ``scores.Scorer`` (with the MNIST classifier), needed for cfg.scores = 'parzen,is,fid'."""
        self.cfg = cfg.validate()
        if "fid" in cfg.scores and scorer is None:
            raise ValueError("scores = 'parzen,is,fid' needs the MNIST classifier: pass "
                             "scorer=scores.Scorer(splits, classifier.load_or_train())")
        self.scorer = scorer
        self.out = Path(out) if out else None
        self.variant = variant = gans.of(cfg)
        self.train_x = backend.asarray(data["train"][:cfg.n_train])       # (N, 784) on the device
        if variant.CONDITIONAL:                                            # (N, C) one-hot labels
            if "train_labels" not in data:
                raise ValueError(f"--model {variant.MODEL} is conditional: its data needs 'train_labels'")
            self.train_y = variant.one_hot(data["train_labels"][:cfg.n_train])
        self.valid, self.test = data.get("valid"), data.get("test")
        self.G, self.D = variant.networks(cfg, data["train"][:cfg.n_train])
        self.opt_g, self.opt_d = variant.optimizers(cfg, self.G, self.D)
        self.lr_at, self.mu_at = variant.schedules(cfg)                       # η(step), μ(epoch) or None
        self.host_rng = numpy.random.default_rng([cfg.seed, 3])                  # data order
        self.rng = backend.rng(cfg.seed * 1000 + 4)                              # z and dropout masks
        self.G.set_rng(self.rng)                                                 # (the original G has no dropout)
        self.D.set_rng(self.rng)
        self.n_batches = cfg.n_train // cfg.batch_size                           # minibatches per epoch
        self.step = self.batches = 0
        self.perm = None
        self.rows, self.best_valid = [], -math.inf
        self.report = None                                                       # text of report.txt
        self.data_dir = None        # the MNIST folder given (--data, $MINIGAN_DATA), kept in the meta
        self._classifier_fingerprint = None       # of scorer.net, computed at the first save
        self._reset_epoch_stats()
        self.epoch_started = time.perf_counter()
        self.removed_temporaries = []   # orphans of writes killed mid-way (SIGKILL, power cut) earlier
        if self.out:
            self.removed_temporaries = [p for folder in (self.out, self.out / "samples")
                                        for p in remove_stale_temporaries(folder)]

    # ----- data and schedules -------------------------------------------------
    @property
    def epoch(self):
        """Completed epochs."""
        return self.batches // self.n_batches

    def next_batch(self):
        """The next minibatch x (B, 784) of the epoch's shuffled order; (x, y) with y (B, C) one-hot
        labels for a conditional variant."""
        pos = self.batches % self.n_batches
        if pos == 0 or self.perm is None:
            self.perm = self.host_rng.permutation(self.cfg.n_train)
        B = self.cfg.batch_size
        idx = backend.asarray(self.perm[pos * B:(pos + 1) * B])
        self.batches += 1
        if self.variant.CONDITIONAL:
            return self.train_x[idx], self.train_y[idx]
        return self.train_x[idx]

    def noise(self):
        return self.variant.sample_noise(self.rng, self.cfg.batch_size, self.cfg)

    def _set_schedules(self):
        lr = self.lr_at(self.step)
        mu = self.mu_at(self.epoch + 1) if self.mu_at else None       # epochs counted from 1, as pylearn2
        for opt in (self.opt_g, self.opt_d):
            opt.lr = lr
            if isinstance(opt, SGD):
                opt.momentum = mu
        return lr, mu

    # ----- one step -------------------------------------------------------------
    def train_step(self):
        self._set_schedules()
        cfg = self.cfg
        stats = self.variant.train_step(self)          # the variant's algorithm, on this trainer's draws
        self.step += 1
        for key in self.variant.STATISTICS:          # stays on the device: no sync per step
            # The epoch's first statistic starts its sum, so the sum keeps the statistic's own
            # dtype (float32) whether or not the run was resumed: 0.0 + x would be float64 after
            # a resume, where 0.0 was reloaded as a float64 array, and round differently.
            self.sums[key] = stats[key] if key not in self.sums else self.sums[key] + stats[key]
        self.sums_n += 1
        self.sums_seen += cfg.batch_size * self.variant.batches_per_step(cfg, self.step - 1)
        return stats

    def _reset_epoch_stats(self):
        self.sums = {}                       # {statistic: its sum over this epoch's steps so far}
        self.sums_n = self.sums_seen = 0

    def _sum(self, key):
        return float(self.sums[key]) if key in self.sums else 0.0

    # ----- divergence -----------------------------------------------------------
    def non_finite(self):
        """What is not finite, e.g. "d_obj is nan" or "the array G.4.W has inf", or None.

        Checked at the end of every epoch and before every checkpoint, not every step:
        the epoch's sums are read at its end anyway (for metrics.csv), and a NaN or inf in
        any step stays in the sum (nan + x = nan, inf + x = inf or nan), so no step escapes.
        Reading them every step would make the GPU wait once per step. The parameter check
        is one pass over 7.5M numbers (the paper's G has 2.5M parameters and D 1.2M, and
        SGD keeps a velocity for each): 3.5 ms on a CPU, against seconds for an epoch.
        The price: the error can name the epoch and its steps, not the first bad step.
        """
        for key in ("d_obj", "g_obj"):
            value = self._sum(key)
            if not math.isfinite(value):
                return f"{key} is {value}"
        xp = backend.xp
        for name, a in self.arrays().items():
            if numpy.issubdtype(a.dtype, numpy.floating) and not bool(xp.isfinite(a).all()):
                return f"the array {name} has {'nan' if bool(xp.isnan(a).any()) else 'inf'}"
        return None

    def check_finite(self):
        """Raise DivergedError if training has gone non-finite (before anything is written)."""
        what = self.non_finite()
        if what is None:
            return
        epoch = -(-self.batches // self.n_batches)              # the epoch of the last minibatch (⌈·⌉)
        first = self.step - self.sums_n + 1                     # this epoch's first step
        steps = f"step {self.step}" if first >= self.step else f"steps {first}-{self.step}"
        kept = [n for n in ("checkpoint.npz", "best.npz") if self.out and (self.out / n).is_file()]
        if not self.out:
            files = ""
        elif kept:
            files = f" The last finite {' and '.join(kept)} {'are' if len(kept) > 1 else 'is'} unchanged."
        else:
            files = " No checkpoint had been written yet."
        # Weight ranges and dropout scales raised far above their defaults diverge too, at the
        # first step, whatever the learning rate: name those the user changed before blaming η.
        default = type(self.cfg)()
        raised = [f"--{k.replace('_', '-')} {v:g}" for k, v in self.cfg.as_dict().items()
                  if (k.endswith("_irange") or k.endswith("_scale")) and isinstance(v, (int, float))
                  and isinstance(getattr(default, k), (int, float)) and v > 10 * getattr(default, k)]
        cause = (f"the raised {', '.join(raised)} (more than 10× the default) or the learning rate "
                 f"(--lr {self.cfg.lr:g}) is probably too large: start again with smaller values"
                 if raised else
                 f"the learning rate (--lr {self.cfg.lr:g}, η = {self.opt_d.lr:g} at the last step) is probably "
                 f"too large: start again with a smaller one")
        raise DivergedError(f"training diverged in epoch {epoch} ({steps}): {what}; {cause}.{files}")

    # ----- epochs -------------------------------------------------------------
    def evaluate_parzen(self, n_samples=None, seed=None):
        return parzen.evaluate(self.evaluation_samples(n_samples, seed), self.valid, self.test)

    def evaluation_samples(self, n_samples=None, seed=None):
        """The samples an evaluation scores (its own seed per epoch: 10⁶ + epoch, far from the run's)."""
        return self.variant.sample_images(self.G, self.cfg, n_samples or self.cfg.parzen_samples,
                                          seed if seed is not None else 10**6 + self.epoch)

    def grid_samples(self):
        """The 10×10 grid of samples/epoch_N.png: the same noise every epoch (seed·1000 + 5, apart
        from the run's own streams) and, for a conditional variant, row r asking for digit r."""
        labels = numpy.arange(100) // 10 if self.variant.CONDITIONAL else None
        return self.variant.sample_images(self.G, self.cfg, 100, self.cfg.seed * 1000 + 5, labels)

    def evaluate(self, samples=None):
        """Parzen (and, if cfg.scores asks, IS and FID) of one set of samples (default: this epoch's
        ``evaluation_samples``): the row's entries."""
        samples = self.evaluation_samples() if samples is None else samples
        res = parzen.evaluate(samples, self.valid, self.test)
        row = dict(parzen_sigma=res.sigma, parzen_valid=res.valid_mean, parzen_test=res.mean, parzen_se=res.se)
        if "fid" in self.cfg.scores:
            got = self.scorer.score(samples, ("is", "fid"))
            row.update(is_mean=got.inception[0], is_std=got.inception[1], fid=got.fid)
        return row

    def end_epoch(self):
        self.check_finite()                  # before the row, the figures and the checkpoints
        cfg, n = self.cfg, max(self.sums_n, 1)
        row = {"epoch": self.epoch, "step": self.step,
               "lr": self.lr_at(self.step), "momentum": self.mu_at(self.epoch) if self.mu_at else "",
               "seconds": time.perf_counter() - self.epoch_started}
        for key in self.variant.STATISTICS:     # means per step; D's counts of right answers per image
            if key.startswith("d_right_"):
                row["d_acc_" + key[len("d_right_"):]] = self._sum(key) / max(self.sums_seen, 1)
            else:
                row[key] = self._sum(key) / n
        evaluating = bool(cfg.parzen_every) and self.epoch % cfg.parzen_every == 0 and self.valid is not None
        extra = getattr(self.variant, "epoch_statistics", None)            # e.g. the WGAN's w_valid
        # The epoch's evaluation samples, drawn once for every statistic that reads them.
        samples = self.evaluation_samples() if self.valid is not None and (evaluating or extra) else None
        if extra:
            row.update(extra(self, samples))
        is_best = False
        if evaluating:
            row.update(self.evaluate(samples))
            is_best = row["parzen_valid"] > self.best_valid
            self.best_valid = max(self.best_valid, row["parzen_valid"])
        self.rows.append(row)
        self._reset_epoch_stats()
        if self.out:
            plots.save_grid(self.grid_samples(), self.out / "samples" / f"epoch_{self.epoch:04d}.png")
            self.write_metrics()
            plots.save_curves(self.rows, self.out / "curves.png", paper=paper_figure(self.variant))
            # Order rule: best.npz before checkpoint.npz. Killed between the two, the run resumes
            # from the older checkpoint, retrains this epoch to the same state and, finding it
            # better than that checkpoint's best score, writes best.npz again, identically. The
            # other order would leave a checkpoint that already counts this best with no best.npz
            # holding it, and no resume would ever write it (issue 23, item 1).
            if is_best:
                self.save(self.out / "best.npz")
            if self.epoch % max(cfg.checkpoint_every, 1) == 0:
                self.save(self.out / "checkpoint.npz")
        self.epoch_started = time.perf_counter()
        return row

    def write_metrics(self):
        """Rewrite metrics.csv atomically (it is small), so it is never half-written."""
        with atomic_write(self.out / "metrics.csv") as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=METRICS)
            w.writeheader()
            for row in self.rows:
                w.writerow({k: row.get(k, "") for k in METRICS})

    def train(self, max_steps=None, epochs=None, progress=True):
        """Train until ``epochs`` epochs are complete or ``max_steps`` more steps were taken.

        On the way out at a step boundary (done, or Ctrl-C) a run stopped mid-epoch saves its
        place in checkpoint.npz, and report.txt is written; a run that diverged (DivergedError)
        or failed inside a step (any other error) writes neither, so its last checkpoint stays
        as it was. No work: no writes.
        """
        from tqdm import tqdm
        todo, end = _plan(self.cfg, self.batches, max_steps, epochs, self.step)   # end: minibatches by then
        if todo == 0:
            return self.rows
        started = time.perf_counter()
        # The bar shows the epoch being trained, in minibatches (a WGAN step draws several), and
        # beside it the run's steps: "epoch 3/1000: 45% 225/500 [..., steps=1225/2500]".
        last = math.ceil(end / self.n_batches)                          # the epoch the run ends in
        bar = tqdm(total=self.n_batches, initial=self.batches % self.n_batches, disable=not progress,
                   unit="batch", dynamic_ncols=True, desc=f"epoch {self.epoch + 1}/{last}")
        whole = False       # True once the loop has ended at a step boundary (done, or Ctrl-C)
        # Overflow in a diverging run makes NumPy warn once per operation that meets it (a dozen
        # lines); check_finite reports it in one, so those warnings are silenced here.
        with _deferred_interrupt() as interrupt, numpy.errstate(over="ignore", invalid="ignore",
                                                                  divide="ignore"):
            try:
                for done in range(1, todo + 1):
                    epoch_before, batches_before = self.epoch, self.batches
                    self.train_step()
                    if self.epoch == epoch_before:
                        bar.update(self.batches - batches_before)
                    else:
                        bar.update(self.n_batches - bar.n)                      # the epoch's last batch
                        row = self.end_epoch()
                        bar.set_postfix(d_obj=f"{row['d_obj']:.3f}", g_obj=f"{row['g_obj']:.3f}",
                                        **({"parzen": f"{row['parzen_test']:.1f}"} if "parzen_test" in row else {}),
                                        steps=f"{done}/{todo}")
                        if done < todo:              # steps remain: the bar moves on to the next epoch
                            bar.reset(total=self.n_batches)
                            bar.update(self.batches % self.n_batches)
                            bar.set_description(f"epoch {self.epoch + 1}/{last}")
                    if interrupt["stop"]:
                        break
                whole = True
            finally:
                bar.close()
                # Only a run that stopped at a step boundary is saved. An error inside a step (a
                # MemoryError, a bad resume state) leaves θ, the counters and the generators out of
                # step with each other, a state no uninterrupted run passes through; a diverged run
                # is not finite. Either way the last checkpoint written stays as it was.
                if self.out and whole:
                    if self.batches % self.n_batches:          # stopped mid-epoch: keep the place
                        self.save(self.out / "checkpoint.npz")    # (checks that θ is finite first)
                    self.report = write_report(self, self.out / "report.txt", time.perf_counter() - started)
        if interrupt["stop"]:
            raise KeyboardInterrupt
        return self.rows

    # ----- checkpoints ----------------------------------------------------------
    def arrays(self):
        out = {f"G.{k}": v for k, v in self.G.state_dict().items()}
        out.update({f"D.{k}": v for k, v in self.D.state_dict().items()})
        out.update({f"opt_g.{k}": v for k, v in self.opt_g.state().items()})
        out.update({f"opt_d.{k}": v for k, v in self.opt_d.state().items()})
        out.update({f"sums.{k}": backend.xp.asarray(v) for k, v in self.sums.items()})   # none at an epoch's start
        if self.perm is not None:
            out["perm"] = self.perm
        return out

    def save(self, path):
        """Write the whole state to ``path`` atomically; DivergedError (and no write) if not finite."""
        self.check_finite()
        meta = {"model": self.variant.MODEL, "config": self.cfg.as_dict(), "backend": backend.name, "step": self.step,
                "batches": self.batches, "sums_n": self.sums_n, "sums_seen": self.sums_seen,
                "host_rng": _generator_state(self.host_rng), "rng": _generator_state(self.rng),
                "rows": self.rows, "best_valid": None if self.best_valid == -math.inf else self.best_valid}
        if self.data_dir:
            meta["data"] = self.data_dir
        if self.scorer is not None and self.scorer.net is not None:       # which classifier scored IS/FID
            if self._classifier_fingerprint is None:       # a hash of its weights, which never change: once
                from ..evaluation import classifier
                self._classifier_fingerprint = classifier.fingerprint(self.scorer.net)
            meta["classifier"] = self._classifier_fingerprint
        return checkpoint.save(path, self.arrays(), meta)

    def load(self, path):
        """Continue from the checkpoint at ``path``; CheckpointError if it is damaged.

        Everything is checked before anything is changed, so a damaged file leaves this
        Trainer as it was.
        """
        arrays, meta = checkpoint.load(path, keep=TRAINER_KEEP)
        checkpoint.require(path, meta, *META_KEYS)
        for prefix, net in (("G", self.G), ("D", self.D)):
            _check_shapes(path, prefix, checkpoint.split(arrays, prefix), net.state_dict())
        for prefix, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            _check_optimizer_state(path, prefix, checkpoint.split(arrays, prefix), opt)
        perm = arrays.get("perm")
        if perm is not None and (perm.shape != (self.cfg.n_train,) or not numpy.issubdtype(perm.dtype, numpy.integer)):
            raise checkpoint.damaged(path, f"the array perm is {perm.dtype} {perm.shape}, expected int ({self.cfg.n_train},)")
        try:
            step, batches, sums_n, sums_seen = (int(meta[k]) for k in ("step", "batches", "sums_n", "sums_seen"))
            host_rng = numpy.random.default_rng()
            host_rng.bit_generator.state = meta["host_rng"]
            rng = _restore_generator(meta["rng"], self.cfg.seed * 1000 + 4 + 7919 * step)
            rows, best_valid = list(meta["rows"]), meta["best_valid"]
            best_valid = -math.inf if best_valid is None else float(best_valid)
        except (TypeError, ValueError, KeyError) as err:
            raise checkpoint.damaged(path, f"a bad value in its 'meta' entry: {err}") from None
        _check_rows(path, rows)
        sums = checkpoint.split(arrays, "sums")
        expected = sorted(self.variant.STATISTICS)
        if sums_n and sorted(sums) != expected:                 # mid-epoch: every running sum is needed
            raise checkpoint.damaged(path, f"mid-epoch, but its running sums are {sorted(sums)}, "
                                           f"expected {expected}")
        # Checked: now change the Trainer.
        self.G.load_state_dict(checkpoint.split(arrays, "G"))
        self.D.load_state_dict(checkpoint.split(arrays, "D"))
        self.opt_g.load_state(checkpoint.split(arrays, "opt_g"))
        self.opt_d.load_state(checkpoint.split(arrays, "opt_d"))
        self.step, self.batches, self.sums_n, self.sums_seen = step, batches, sums_n, sums_seen
        # At an epoch's start there is nothing to sum yet (older checkpoints hold float64 zeros there).
        self.sums = {k: backend.asarray(v) for k, v in sums.items()} if sums_n else {}
        self.perm = perm
        self.host_rng, self.rng = host_rng, rng
        self.G.set_rng(self.rng)
        self.D.set_rng(self.rng)
        self.rows, self.best_valid = rows, best_valid
        return meta


# The fields every metrics row holds, and those that come with a Parzen score or with IS and FID:
# the report, the curves and time_to_nats read them, so a row without them is damage, named at
# load time instead of a KeyError after the next epoch (issue 23, item 7).
ROW_FIELDS = ("epoch", "step", "seconds", "d_obj", "g_obj")
ROW_FIELDS_WITH = {"parzen_test": ("parzen_sigma", "parzen_valid", "parzen_se"), "fid": ("is_mean", "is_std")}


def _check_rows(path, rows):
    """Raise the damaged-file error unless every metrics row is an object holding its fields as numbers."""
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise checkpoint.damaged(path, "its 'meta' entry has metrics rows that are not objects")
        needed = ROW_FIELDS + sum((ROW_FIELDS_WITH[k] + (k,) for k in ROW_FIELDS_WITH
                                   if row.get(k) not in (None, "")), ())
        for name in needed:
            value = row.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                got = "missing" if name not in row else f"{value!r}"
                raise checkpoint.damaged(path, f"metrics row {i + 1} of its 'meta' entry has no number "
                                               f"for '{name}' ({got})")


def _check_shapes(path, prefix, got, expected):
    """Raise the damaged-file error unless ``got`` has exactly the names and shapes of the arrays ``expected``."""
    checkpoint.require_shapes(path, got, {k: a.shape for k, a in expected.items()}, prefix, from_config=False)


def _check_optimizer_state(path, prefix, got, opt):
    """An optimizer's saved state is empty (before its first step) or one array per parameter
    of its shape: SGD's velocities v0 … vN−1, Adam's step count t and moments m0 …, v0 …,
    RMSProp's running averages r0 …."""
    params = [p for p, _ in opt.pairs()]
    slots = {SGD: ("v",), Adam: ("m", "v"), RMSProp: ("r",)}[type(opt)]
    got, steps_taken = dict(got), None
    if isinstance(opt, Adam):
        if "t" not in got:
            raise checkpoint.damaged(path, f"missing key '{prefix}.t'")
        t = got.pop("t")
        if t.shape != () or not numpy.issubdtype(t.dtype, numpy.integer):
            raise checkpoint.damaged(path, f"the array {prefix}.t is not a step count")
        steps_taken = int(t)
    if not got and not steps_taken:
        return                                    # saved before the optimizer's first step
    _check_shapes(path, prefix, got, {f"{s}{i}": p for s in slots for i, p in enumerate(params)})


def _config_of(path, meta):
    """The Config stored in a checkpoint's meta, of the variant it names (the original GAN for a
    checkpoint written before there were variants); the damaged-file error if it is not one."""
    checkpoint.require(path, meta, "config")
    model = meta.get("model", gans.DEFAULT)
    if model not in gans.VARIANTS:
        raise checkpoint.damaged(path, f"it names the model {model!r}, which this minigan does not have "
                                       f"({', '.join(gans.VARIANTS)})")
    try:
        return gans.variant(model).Config(**meta["config"]).validate()
    except (TypeError, ValueError) as err:
        raise checkpoint.damaged(path, f"its configuration is not valid: {err}") from None


def steps_to_do(cfg, batches_done, max_steps=None, epochs=None, step=0):
    """Steps a run that has taken ``step`` steps and drawn ``batches_done`` minibatches takes until
    ``epochs`` epochs (default ``cfg.epochs``) of n_train // batch_size minibatches are complete,
    at most ``max_steps``. A step draws the variant's ``batches_per_step(cfg, step)`` minibatches:
    one for the released step, k for Algorithm 1, n_critic (or 100, boosted) for a WGAN."""
    return _plan(cfg, batches_done, max_steps, epochs, step)[0]


def _plan(cfg, batches_done, max_steps=None, epochs=None, step=0):
    """(the steps ``steps_to_do`` counts, the minibatches drawn once they are taken)."""
    epochs = cfg.epochs if epochs is None else epochs
    target = epochs * (cfg.n_train // cfg.batch_size)                        # minibatches in all
    per_step = gans.of(cfg).batches_per_step
    todo = 0
    while batches_done < target and (max_steps is None or todo < max_steps):
        batches_done += per_step(cfg, step + todo)
        todo += 1
    return todo, batches_done


def config_from_checkpoint(path):
    """The Config a checkpoint was trained with."""
    _, meta = checkpoint.load(path, keep=TRAINER_KEEP)
    return _config_of(path, meta)


def resume_point(path):
    """(the Config, the minibatches drawn so far, the steps taken) of the checkpoint at ``path``, from one read."""
    arrays, meta = checkpoint.load(path, keep=TRAINER_KEEP)
    for key in ("batches", "step"):
        if not isinstance(meta.get(key), int):
            raise checkpoint.damaged(path, f"no count of {'minibatches' if key == 'batches' else 'steps'} "
                                           f"in its 'meta' entry")
    cfg = _config_of(path, meta)
    players = {k: a for k, a in arrays.items() if k.split(".")[0] in ("G", "D")}
    checkpoint.require_shapes(path, players, network_shapes(cfg))    # before a trainer builds them
    return cfg, meta["batches"], meta["step"]


def network_shapes(cfg, players=("G", "D")):
    """{'G.0.W': (Z, H), …}: the parameter shapes the variant of ``cfg`` builds, found by building
    its networks in ``backend.dry_run()`` (placeholders that take no memory), so that a file's
    shapes are compared with its configuration before anything is allocated from it."""
    with backend.dry_run():
        G, D = gans.of(cfg).networks(cfg, None)
    nets = {"G": G, "D": D}
    return {f"{p}.{k}": tuple(v.shape) for p in players for k, v in nets[p].state_dict().items()}


def time_to_nats(rows, nats):
    """(epoch, seconds) of the first in-loop test Parzen score ≥ nats, or None.

    seconds is the sum of the epoch times up to and including that epoch, i.e. the
    training time to reach the score (the epochs' own Parzen evaluations included).
    """
    seconds = 0.0
    for row in rows:
        seconds += float(row["seconds"])
        if parzen.scored(row) and float(row["parzen_test"]) >= nats:
            return int(row["epoch"]), seconds
    return None


def write_report(trainer, path, wall):
    rows = trainer.rows
    lines = ["minigan training report", f"epochs completed: {trainer.epoch}, steps: {trainer.step}",
             f"wall time this run: {wall:.0f} s, backend: {backend.name}",
             f"config: {json.dumps(trainer.cfg.as_dict())}"]
    if rows:
        last = rows[-1]
        line = f"last epoch: d_obj {last['d_obj']:.4f}, g_obj {last['g_obj']:.4f}"
        if "d_acc_real" in last:
            line += f", D right on x {last['d_acc_real']:.3f}, on G(z) {last['d_acc_fake']:.3f}"
        if isinstance(last.get("w_valid"), float):
            line += f", critic's Ŵ on validation images {last['w_valid']:.4f}"
        lines.append(line)
    pz = [r for r in rows if parzen.scored(r)]
    if pz:
        best = max(pz, key=lambda r: r["parzen_valid"])
        lines.append(f"latest Parzen (epoch {pz[-1]['epoch']}): {pz[-1]['parzen_test']:.1f} ± "
                     f"{pz[-1]['parzen_se']:.1f} nats, σ = {pz[-1]['parzen_sigma']:.4f}")
        lines.append(f"best-on-validation Parzen (epoch {best['epoch']}): {best['parzen_test']:.1f} ± "
                     f"{best['parzen_se']:.1f} nats, σ = {best['parzen_sigma']:.4f}")
        paper = paper_figure(trainer.variant)
        if paper:
            reached = time_to_nats(rows, paper[0])
            lines.append(f"time to the paper's {paper[0]:g} nats: " + (
                f"epoch {reached[0]}, {reached[1] / 3600:.2f} h of training" if reached else "not reached yet"))
    with atomic_write(path) as tmp:            # makes the folder if no epoch has made it yet
        Path(tmp).write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def paper_figure(variant):
    """(the paper's Parzen nats, its ±) for the variant, or None where its paper gives none."""
    nats = getattr(variant, "PAPER_NATS", None)
    return None if nats is None else (nats, variant.PAPER_SE)


def load_generator(path):
    """G with the parameters of a checkpoint, and the Config it was trained with."""
    arrays, meta = checkpoint.load(path, keep=("G",))
    cfg = _config_of(path, meta)
    checkpoint.require_shapes(path, arrays, network_shapes(cfg, ("G",)))   # before G is built
    G, _ = gans.of(cfg).networks(cfg, None)          # the shapes just checked: nothing to check again
    G.load_state_dict(checkpoint.split(arrays, "G"))
    return G, cfg
