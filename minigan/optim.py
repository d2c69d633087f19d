"""Optimizers and the paper's schedules.

The paper's released code trains both players with SGD and classic momentum:

    v ← μ v − η ∇θ          θ ← θ + v

with η decayed exponentially per step and μ raised linearly over epochs.
Adam is here as the modern default learners will want to compare against; RMSProp and
weight clipping are the Wasserstein GAN's (Arjovsky et al., 2017), Adam with β1 = 0 its
gradient-penalty form's (Gulrajani et al., 2017).

Optimizers update parameters *in place* (the arrays the layers hold), so no
layer ever needs to be told that its weights changed.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import backend


class SGD:
    """Stochastic gradient descent with classic (heavy-ball) momentum.  Derivation: docs/derivations.md#momentum-sgd"""

    def __init__(self, params_and_grads, lr=0.1, momentum=0.0):
        self.pairs = params_and_grads            # callable returning (param, grad) pairs
        self.lr, self.momentum = lr, momentum
        self.velocity = None

    def step(self):
        """v ← μ v − η g;  θ ← θ + v  (one update of every parameter).  (docs/derivations.md#momentum-sgd)"""
        pairs = list(self.pairs())
        if self.velocity is None:
            self.velocity = [backend.xp.zeros_like(p) for p, _ in pairs]
        if not self.lr > 0:
            raise ValueError(f"SGD: the learning rate η must be > 0, got {self.lr}; "
                             f"to freeze a network, do not call its optimizer's step()")
        jobs = [(param, grad, v) for (param, grad), v in zip(pairs, self.velocity)]
        # Textbook:  for param, grad, v in jobs: self._update(param, grad, v)
        # The same updates, each large array cut in two halves that two threads update at once.
        # Elementwise NumPy runs on one core, and this update streams the parameters, gradients and
        # velocities (45 MB in the paper's G and D) four times a step: 4.9 of the paper's 25 ms
        # step on the project's 2-core machine; with two threads the step is 6% shorter
        # (BENCHMARKS.md). Halves give bit for bit the whole's result; test_optim.py checks it.
        in_two_threads(self._update, jobs)

    def _update(self, param, grad, v):
        """v ← μ v − η g;  θ ← θ + v  for one parameter array (or one half of it)."""
        # Textbook:  v[...] = self.momentum * v - self.lr * grad
        # The same as −η (g − (μ/η) v), in three in-place passes: the textbook line makes two
        # temporaries the size of θ (μv and ηg, 15 MB each in the paper's G), which cost 11%
        # of the paper's step (BENCHMARKS.md). test_optim.py checks that both agree.
        v *= -self.momentum / self.lr
        v += grad
        v *= -self.lr
        param += v

    def state(self):
        """Arrays to checkpoint (the velocities)."""
        return {f"v{i}": v for i, v in enumerate(self.velocity or [])}

    def load_state(self, state):
        pairs = list(self.pairs())
        if not state:
            self.velocity = None
            return
        self.velocity = [backend.asarray(state[f"v{i}"], dtype=p.dtype).copy()
                         for i, (p, _) in enumerate(pairs)]


class Adam:
    """Adam (Kingma & Ba, 2015):

        m ← β1 m + (1 − β1) g        v ← β2 v + (1 − β2) g²
        θ ← θ − η m̂ / (√v̂ + ε),      m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)

    Derivation of the bias corrections: docs/derivations.md#adam
    """

    def __init__(self, params_and_grads, lr=2e-4, beta1=0.5, beta2=0.999, eps=1e-8):
        self.pairs = params_and_grads
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, None, None

    def step(self):
        """One Adam update of every parameter (formulas in the class docstring)."""
        xp = backend.xp
        pairs = list(self.pairs())
        if self.m is None:
            self.m = [xp.zeros_like(p) for p, _ in pairs]
            self.v = [xp.zeros_like(p) for p, _ in pairs]
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        for (param, grad), m, v in zip(pairs, self.m, self.v):
            m[...] = b1 * m + (1 - b1) * grad                # moving average of g
            v[...] = b2 * v + (1 - b2) * grad * grad         # moving average of g²
            m_hat = m / (1 - b1 ** t)                        # bias corrections: m and v start at 0
            v_hat = v / (1 - b2 ** t)
            param -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)

    def state(self):
        out = {"t": backend.xp.asarray(self.t)}
        for i, (m, v) in enumerate(zip(self.m or [], self.v or [])):
            out[f"m{i}"], out[f"v{i}"] = m, v
        return out

    def load_state(self, state):
        pairs = list(self.pairs())
        self.t = int(state.get("t", 0))
        if self.t == 0:
            self.m = self.v = None
            return
        self.m = [backend.asarray(state[f"m{i}"], dtype=p.dtype).copy() for i, (p, _) in enumerate(pairs)]
        self.v = [backend.asarray(state[f"v{i}"], dtype=p.dtype).copy() for i, (p, _) in enumerate(pairs)]


class RMSProp:
    """RMSProp (Tieleman & Hinton, 2012), as the WGAN paper's code runs it (PyTorch's RMSprop):

        r ← ρ r + (1 − ρ) g²          θ ← θ − η g / (√r + ε)

    r is a running average of g², started at 0 and *not* bias-corrected (Adam divides its
    averages by 1 − β^t; RMSProp does not). So the first step divides g by √((1 − ρ) g²) = 0.1 |g|
    at ρ = 0.99, a step of 10 η per coordinate, shrinking to η as r fills over ~1/(1 − ρ) = 100
    steps. Derivation: docs/derivations.md#rmsprop
    """

    def __init__(self, params_and_grads, lr=5e-5, rho=0.99, eps=1e-8):
        self.pairs = params_and_grads
        self.lr, self.rho, self.eps = lr, rho, eps
        self.r = None

    def step(self):
        """r ← ρ r + (1 − ρ) g²;  θ ← θ − η g / (√r + ε).  (docs/derivations.md#rmsprop)"""
        xp = backend.xp
        pairs = list(self.pairs())
        if self.r is None:
            self.r = [xp.zeros_like(p) for p, _ in pairs]
        for (param, grad), r in zip(pairs, self.r):
            r[...] = self.rho * r + (1 - self.rho) * grad * grad      # running average of g²
            param -= self.lr * grad / (xp.sqrt(r) + self.eps)

    def state(self):
        """Arrays to checkpoint (the running averages r)."""
        return {f"r{i}": r for i, r in enumerate(self.r or [])}

    def load_state(self, state):
        pairs = list(self.pairs())
        self.r = None if not state else [backend.asarray(state[f"r{i}"], dtype=p.dtype).copy()
                                         for i, (p, _) in enumerate(pairs)]


# Arrays below this many entries (256 KB of float32) are updated whole: handing half of one to the
# other thread costs tens of µs, more than updating it (one pass over 64k entries takes ~10 µs).
SPLIT_ABOVE = 1 << 16
_POOL = None, None       # (the second thread, the process that started it), started on first use


def _cores():
    """Cores this process may run on (its affinity mask, where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def in_two_threads(update, jobs):
    """Run ``update(*arrays)`` for every tuple of same-shaped arrays in ``jobs``; each large
    C-contiguous tuple is cut into two halves (flat views), and the halves are shared between
    this thread and one other. NumPy releases the GIL inside its loops, so both run at once.
    On one core it is the plain loop. (The second core is free only when OpenBLAS's idle
    threads stop spinning: see OPENBLAS_THREAD_TIMEOUT in minigan/__init__.py.)"""
    global _POOL
    halves = []
    for arrays in jobs:
        size = arrays[0].size
        if size < SPLIT_ABOVE or not all(a.flags.c_contiguous for a in arrays):
            halves.append(arrays)
            continue
        flat = [a.reshape(-1) for a in arrays]                  # views: the arrays are contiguous
        halves += [tuple(f[:size // 2] for f in flat), tuple(f[size // 2:] for f in flat)]
    if _cores() < 2 or len(halves) < 2:
        for arrays in halves:
            update(*arrays)
        return
    if _POOL[1] != os.getpid():          # none yet, or inherited through fork() without its thread
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minigan-update"), os.getpid()
    theirs = _POOL[0].submit(lambda: [update(*arrays) for arrays in halves[1::2]])
    for arrays in halves[0::2]:          # a half and its twin are neighbours: one goes to each thread
        update(*arrays)
    theirs.result()


def clip_(params, c):
    """Weight clipping, in place: θ ← max(−c, min(c, θ)) for every entry of every array.

    This is the Euclidean projection onto the box [−c, c]^n: the nearest point of the box to θ
    is found coordinate by coordinate, and for one coordinate it is θ itself if |θ| ≤ c, else
    the nearer end. The WGAN applies it after each critic step to keep the critic in a family
    of K-Lipschitz functions (K set by c and the architecture). docs/derivations.md#weight-clipping
    """
    for p in params:
        backend.xp.clip(p, -c, c, out=p)


@dataclass
class Constant:
    """η_t = η for every step t (the WGAN papers' schedule: none)."""
    lr: float = 5e-5

    def __call__(self, step):
        return self.lr


@dataclass
class ExponentialDecay:
    """η_t = max(η_min, η_0 / d^t) after t steps (pylearn2's ExponentialDecay; docs/derivations.md#schedules)."""
    lr0: float = 0.1          # η_0, the initial learning rate
    decay: float = 1.000004   # d, the divisor applied after every step
    min_lr: float = 1e-6      # η_min, the floor

    def __call__(self, step):
        try:
            lr = self.lr0 / self.decay ** step
        except OverflowError:   # d^t beyond the float range: η_0 / d^t is 0 and the floor applies
            lr = 0.0
        return max(self.min_lr, lr)


@dataclass
class LinearMomentum:
    """μ rises linearly from μ0 at epoch ``start`` to μ1 at epoch ``saturate``
    (pylearn2's MomentumAdjustor; docs/derivations.md#schedules)."""
    mu0: float = 0.5          # μ before ``start``
    mu1: float = 0.7          # μ from ``saturate`` on
    start: int = 1            # first epoch of the ramp
    saturate: int = 250       # epoch at which μ reaches μ1

    def __call__(self, epoch):
        if self.saturate <= self.start:
            return self.mu1 if epoch >= self.start else self.mu0
        alpha = min(1.0, max(0.0, (epoch - self.start) / (self.saturate - self.start)))
        return self.mu0 + alpha * (self.mu1 - self.mu0)
