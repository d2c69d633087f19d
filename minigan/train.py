"""The training loop: data order, schedules, metrics, figures, checkpoints and resume.

The step itself lives in ``gan`` (it reads like the algorithm); this module is
the bookkeeping around it. What it writes into the output folder:

    checkpoint.npz       latest state (parameters, optimizer, counters, RNG states)
    best.npz             the state with the best validation Parzen score so far
    metrics.csv          one row per epoch: objectives, D's accuracy, η, μ, Parzen
    curves.png           the same as plots
    samples/epoch_N.png  a 10×10 grid of G(z) for fixed z, every epoch
    report.txt           a short final report

Resume reproduces the uninterrupted run bit for bit on the CPU: the checkpoint
holds the host generator (data order) and the device generator (noise, dropout)
states, the epoch's permutation and the position in it. (CuPy generators cannot
export their state; on the GPU a resumed run re-seeds them from (seed, step) and
is statistically, not bitwise, identical.)
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

from . import backend, checkpoint, gan, parzen, plots
from .atomic import atomic_write
from .optim import SGD, Adam, ExponentialDecay, LinearMomentum

METRICS = ["epoch", "step", "d_obj", "g_obj", "d_acc_real", "d_acc_fake", "lr", "momentum",
           "seconds", "parzen_sigma", "parzen_valid", "parzen_test", "parzen_se"]


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
    """Owns G, D, their optimizers and all state needed to stop and resume."""

    def __init__(self, cfg, data, out=None):
        self.cfg = cfg.validate()
        self.out = Path(out) if out else None
        self.train_x = backend.asarray(data["train"][:cfg.n_train])       # (N, 784) on the device
        self.valid, self.test = data.get("valid"), data.get("test")
        bias = gan.sigmoid_bias_from_marginals(data["train"][:cfg.n_train], cfg.g_bias_clip)
        self.G = gan.paper_generator(cfg, rng=[cfg.seed, 1], output_bias=bias)
        self.D = gan.paper_discriminator(cfg, rng=[cfg.seed, 2])
        make = (lambda net: SGD(net.params_and_grads, cfg.lr, cfg.momentum)) if cfg.optimizer == "sgd" \
            else (lambda net: Adam(net.params_and_grads, cfg.lr))
        self.opt_g, self.opt_d = make(self.G), make(self.D)
        self.g_loss = gan.generator_loss(cfg.g_objective)                       # G's objective
        self.lr_at = ExponentialDecay(cfg.lr, cfg.lr_decay, cfg.min_lr)
        self.mu_at = LinearMomentum(cfg.momentum, cfg.final_momentum, cfg.momentum_start, cfg.momentum_saturate)
        self.host_rng = numpy.random.default_rng([cfg.seed, 3])                  # data order
        self.rng = backend.rng(cfg.seed * 1000 + 4)                              # z and dropout masks
        self.D.set_rng(self.rng)
        self.fixed_z = gan.sample_noise(backend.rng(cfg.seed * 1000 + 5), 100, cfg)   # for sample grids
        self.n_batches = cfg.n_train // cfg.batch_size                           # minibatches per epoch
        self.step = self.batches = 0
        self.perm = None
        self.rows, self.best_valid = [], -math.inf
        self._reset_epoch_stats()
        self.epoch_started = time.perf_counter()

    # ----- data and schedules -------------------------------------------------
    @property
    def epoch(self):
        """Completed epochs."""
        return self.batches // self.n_batches

    def next_batch(self):
        """The next minibatch x (B, 784) of the epoch's shuffled order."""
        pos = self.batches % self.n_batches
        if pos == 0 or self.perm is None:
            self.perm = self.host_rng.permutation(self.cfg.n_train)
        B = self.cfg.batch_size
        idx = backend.asarray(self.perm[pos * B:(pos + 1) * B])
        self.batches += 1
        return self.train_x[idx]

    def noise(self):
        return gan.sample_noise(self.rng, self.cfg.batch_size, self.cfg)

    def _set_schedules(self):
        lr, mu = self.lr_at(self.step), self.mu_at(self.epoch + 1)   # epochs counted from 1, as pylearn2
        for opt in (self.opt_g, self.opt_d):
            opt.lr = lr
            if isinstance(opt, SGD):
                opt.momentum = mu
        return lr, mu

    # ----- one step -------------------------------------------------------------
    def train_step(self):
        self._set_schedules()
        cfg = self.cfg
        if cfg.update == "released":
            stats = gan.released_step(self.G, self.D, self.next_batch(), self.noise(),
                                      self.opt_g, self.opt_d, self.g_loss)
        else:
            xs, zs = zip(*[(self.next_batch(), self.noise()) for _ in range(cfg.k)])
            stats = gan.algorithm1_step(self.G, self.D, xs, zs, self.noise(), self.opt_g, self.opt_d,
                                        self.g_loss)
        self.step += 1
        for key in self.sums:
            self.sums[key] = self.sums[key] + stats[key]      # stays on the device: no sync per step
        self.sums_n += 1
        self.sums_seen += cfg.batch_size * (cfg.k if cfg.update == "algorithm1" else 1)
        return stats

    def _reset_epoch_stats(self):
        self.sums = {"d_obj": 0.0, "g_obj": 0.0, "d_right_real": 0, "d_right_fake": 0}
        self.sums_n = self.sums_seen = 0

    # ----- epochs -------------------------------------------------------------
    def evaluate_parzen(self, n_samples=None, seed=None):
        samples = gan.sample_images(self.G, self.cfg, n_samples or self.cfg.parzen_samples,
                                    seed if seed is not None else 10**6 + self.epoch)
        return parzen.evaluate(samples, self.valid, self.test)

    def end_epoch(self):
        cfg, n = self.cfg, max(self.sums_n, 1)
        row = {"epoch": self.epoch, "step": self.step,
               "d_obj": float(self.sums["d_obj"]) / n, "g_obj": float(self.sums["g_obj"]) / n,
               "d_acc_real": float(self.sums["d_right_real"]) / max(self.sums_seen, 1),
               "d_acc_fake": float(self.sums["d_right_fake"]) / max(self.sums_seen, 1),
               "lr": self.lr_at(self.step), "momentum": self.mu_at(self.epoch),
               "seconds": time.perf_counter() - self.epoch_started}
        is_best = False
        if cfg.parzen_every and self.epoch % cfg.parzen_every == 0 and self.valid is not None:
            res = self.evaluate_parzen()
            row.update(parzen_sigma=res.sigma, parzen_valid=res.valid_mean, parzen_test=res.mean, parzen_se=res.se)
            is_best = res.valid_mean > self.best_valid
            self.best_valid = max(self.best_valid, res.valid_mean)
        self.rows.append(row)
        self._reset_epoch_stats()
        if self.out:
            plots.save_grid(backend.to_numpy(self.G.forward(self.fixed_z, train=False)),
                            self.out / "samples" / f"epoch_{self.epoch:04d}.png")
            self.write_metrics()
            plots.save_curves(self.rows, self.out / "curves.png")
            if self.epoch % max(cfg.checkpoint_every, 1) == 0:
                self.save(self.out / "checkpoint.npz")
            if is_best:
                self.save(self.out / "best.npz")
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
        """Train until ``epochs`` epochs are complete or ``max_steps`` more steps were taken."""
        from tqdm import tqdm
        epochs = self.cfg.epochs if epochs is None else epochs
        batches_per_step = self.cfg.k if self.cfg.update == "algorithm1" else 1
        todo = max(0, -(-(epochs * self.n_batches - self.batches) // batches_per_step))
        if max_steps is not None:
            todo = min(todo, max_steps)
        bar = tqdm(total=todo, disable=not progress, unit="step", dynamic_ncols=True,
                   desc=f"epoch {self.epoch + 1}")
        with _deferred_interrupt() as interrupt:
            try:
                for _ in range(todo):
                    epoch_before = self.epoch
                    self.train_step()
                    bar.update(1)
                    if self.epoch != epoch_before:
                        row = self.end_epoch()
                        bar.set_description(f"epoch {self.epoch + 1}")
                        bar.set_postfix(d_obj=f"{row['d_obj']:.3f}", g_obj=f"{row['g_obj']:.3f}",
                                        **({"parzen": f"{row['parzen_test']:.1f}"} if "parzen_test" in row else {}))
                    if interrupt["stop"]:
                        break
            finally:
                bar.close()
                if self.out and self.batches % self.n_batches:    # stopped mid-epoch: keep the place
                    self.save(self.out / "checkpoint.npz")
        if interrupt["stop"]:
            raise KeyboardInterrupt
        return self.rows

    # ----- checkpoints ----------------------------------------------------------
    def arrays(self):
        out = {f"G.{k}": v for k, v in self.G.state_dict().items()}
        out.update({f"D.{k}": v for k, v in self.D.state_dict().items()})
        out.update({f"opt_g.{k}": v for k, v in self.opt_g.state().items()})
        out.update({f"opt_d.{k}": v for k, v in self.opt_d.state().items()})
        out.update({f"sums.{k}": backend.xp.asarray(v) for k, v in self.sums.items()})
        if self.perm is not None:
            out["perm"] = self.perm
        return out

    def save(self, path):
        meta = {"config": self.cfg.as_dict(), "backend": backend.name, "step": self.step,
                "batches": self.batches, "sums_n": self.sums_n, "sums_seen": self.sums_seen,
                "host_rng": _generator_state(self.host_rng), "rng": _generator_state(self.rng),
                "rows": self.rows, "best_valid": None if self.best_valid == -math.inf else self.best_valid}
        return checkpoint.save(path, self.arrays(), meta)

    def load(self, path):
        arrays, meta = checkpoint.load(path)
        self.G.load_state_dict(checkpoint.split(arrays, "G"))
        self.D.load_state_dict(checkpoint.split(arrays, "D"))
        self.opt_g.load_state(checkpoint.split(arrays, "opt_g"))
        self.opt_d.load_state(checkpoint.split(arrays, "opt_d"))
        self.step, self.batches = meta["step"], meta["batches"]
        self.sums = {k: backend.asarray(v) for k, v in checkpoint.split(arrays, "sums").items()}
        self.sums_n, self.sums_seen = meta["sums_n"], meta["sums_seen"]
        self.perm = arrays.get("perm")
        self.host_rng = numpy.random.default_rng()
        self.host_rng.bit_generator.state = meta["host_rng"]
        self.rng = _restore_generator(meta["rng"], self.cfg.seed * 1000 + 4 + 7919 * self.step)
        self.D.set_rng(self.rng)
        self.rows = meta["rows"]
        self.best_valid = -math.inf if meta["best_valid"] is None else meta["best_valid"]
        return meta


def config_from_checkpoint(path):
    """The Config a checkpoint was trained with."""
    _, meta = checkpoint.load(path)
    return gan.Config(**meta["config"])


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
        lines.append(f"last epoch: d_obj {last['d_obj']:.4f}, g_obj {last['g_obj']:.4f}, "
                     f"D right on x {last['d_acc_real']:.3f}, on G(z) {last['d_acc_fake']:.3f}")
    pz = [r for r in rows if parzen.scored(r)]
    if pz:
        best = max(pz, key=lambda r: r["parzen_valid"])
        lines.append(f"latest Parzen (epoch {pz[-1]['epoch']}): {pz[-1]['parzen_test']:.1f} ± "
                     f"{pz[-1]['parzen_se']:.1f} nats, σ = {pz[-1]['parzen_sigma']:.4f}")
        lines.append(f"best-on-validation Parzen (epoch {best['epoch']}): {best['parzen_test']:.1f} ± "
                     f"{best['parzen_se']:.1f} nats, σ = {best['parzen_sigma']:.4f}")
        reached = time_to_nats(rows, parzen.PAPER_NATS)
        lines.append(f"time to the paper's {parzen.PAPER_NATS:g} nats: " + (
            f"epoch {reached[0]}, {reached[1] / 3600:.2f} h of training" if reached else "not reached yet"))
    Path(path).write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def load_generator(path):
    """G with the parameters of a checkpoint, and the Config it was trained with."""
    arrays, meta = checkpoint.load(path)
    cfg = gan.Config(**meta["config"])
    G = gan.paper_generator(cfg)
    G.load_state_dict(checkpoint.split(arrays, "G"))
    return G, cfg
