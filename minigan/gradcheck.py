"""Finite-difference checks of hand-derived gradients.

For a scalar function f(θ), the central difference

    ∂f/∂θ_i ≈ (f(θ + h e_i) − f(θ − h e_i)) / 2h

has error O(h²) from truncation plus O(ε_machine · |f| / h) from round-off.
In float64 with h = 1e-6 both are far below 1e-6 of the gradient's scale, so a
hand-derived gradient that is right agrees to about 1e-8; one that is wrong
(a missing factor, a transposed matrix) is off by O(1). Always check in float64:
in float32 round-off alone is ~1e-2 at this h.

Two checks:
  * ``mode="full"``   every entry, one pair of evaluations each (exact, slow);
  * ``mode="random"`` directional derivatives along a few random directions u:
    (f(θ + hu) − f(θ − hu)) / 2h against Σ ∇f · u  (cheap, catches most bugs).

Error measure: the worst entry's error relative to the largest gradient entry,
    max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|),
so a tiny entry is judged against the gradient's scale, not against itself
(the latter would mistake round-off in a near-zero entry for a bug). A check
passes when that error is within tol plus the round-off allowance
r = C · ε · |f| / h on the same scale: what round-off alone can do to a central
difference. Without it a gradient that is near zero everywhere (a loss at its
minimum: BCE with p ≈ t) would fail on round-off, with nothing wrong.

Non-differentiable points. ReLU at 0 and a maxout tie (two pieces equal) are
kinks: there the backward pass returns one valid subgradient (0 for ReLU, the
first maximal piece for maxout) but a central difference straddling the kink
measures the average of the two one-sided slopes. Such points are not judged:
keep inputs further from kinks than a perturbation can move them: h for ReLU's
input, about h·Σ_i |W_im| for a maxout piece m (the tests do, with
``hypothesis.assume`` and ``kink_distance``).

Dropout. A random layer must draw the same mask at every evaluation: the checks
below re-seed every layer that has an ``rng`` before each forward pass.
"""
import math
from dataclasses import dataclass

import numpy

from . import backend

ROUNDOFF_ULPS = 64   # C above: each evaluation of f may be off by up to ~C·ε·|f| (a sum of many terms)


@dataclass
class Report:
    """Outcome of a check: the worst relative error and where it occurred."""
    max_rel_error: float      # max |analytic − numeric| / scale, see the module docstring
    where: str                # the array name and index (or direction) of the worst entry
    analytic: float           # the analytic value there
    numeric: float            # the finite-difference value there
    n_checked: int            # entries (full) or directions (random) compared
    roundoff: float = 0.0     # the round-off allowance r on the same scale as max_rel_error

    def passed(self, tol=1e-6):
        if not tol >= 0 or tol == math.inf:           # NaN fails this too
            raise ValueError(f"tol must be a finite number ≥ 0 (the relative error allowed), got {tol}")
        return self.max_rel_error <= tol + self.roundoff

    def __str__(self):
        return (f"max relative error {self.max_rel_error:.2e} at {self.where} "
                f"(analytic {self.analytic:.6g}, numeric {self.numeric:.6g}; {self.n_checked} compared; "
                f"round-off allowance {self.roundoff:.1e})")


def _scalar(v):
    return float(backend.to_numpy(v))


def numerical_gradient(f, x, h=1e-6):
    """Central-difference gradient of the scalar function f() with respect to the array x.

    x is perturbed in place, one entry at a time, and restored exactly. Entries are
    addressed by their index, so x may have any memory layout (x.reshape(-1) of a
    transposed array would be a copy, and perturbing it would leave x unchanged).
    """
    grad = numpy.zeros(x.shape)
    for i in numpy.ndindex(*x.shape):
        old = x[i].copy()
        x[i] = old + h
        f_plus = _scalar(f())
        x[i] = old - h
        f_minus = _scalar(f())
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def compare(f, arrays, grads, mode="full", h=1e-6, n_directions=4, seed=0):
    """Check analytic gradients ``grads[name]`` of f() with respect to ``arrays[name]``.

    f is a function of no arguments that reads the arrays (perturbed in place).
    """
    if not 0 < h < math.inf:
        raise ValueError(f"h must be a finite step > 0 for the central difference (f(x + h) − f(x − h)) / 2h, got {h}")
    for name, a in arrays.items():
        if a.dtype != numpy.float64:
            raise TypeError(f"gradient checks need float64 arrays; {name} is {a.dtype}")
    value = _scalar(f())
    if not math.isfinite(value):           # nothing to compare: say so rather than report error 0
        return Report(math.inf, f"the function itself (f() = {value})", math.nan, math.nan, 0, 0.0)
    roundoff = ROUNDOFF_ULPS * numpy.finfo(numpy.float64).eps * abs(value) / h
    if mode == "full":
        worst = (0.0, "", 0.0, 0.0)
        scale, pairs, n = 0.0, [], 0
        for name, a in arrays.items():
            num = numerical_gradient(f, a, h)
            ana = backend.to_numpy(grads[name]).astype(numpy.float64).reshape(num.shape)
            pairs.append((name, ana, num))
            bad = _first_non_finite(name, ana, num)
            if bad:    # a NaN never exceeds a worst error, and an inf scale would hide every other
                return Report(*bad, num.size, 0.0)
            scale = max(scale, numpy.abs(ana).max(initial=0), numpy.abs(num).max(initial=0))
            n += num.size
        for name, ana, num in pairs:
            if num.size == 0:
                continue
            diff = numpy.abs(ana - num)
            i = int(diff.argmax())
            err = diff.reshape(-1)[i] / scale if scale > 0 else 0.0
            if err >= worst[0]:
                idx = numpy.unravel_index(i, num.shape)
                worst = (err, f"{name}{list(map(int, idx))}", ana.reshape(-1)[i], num.reshape(-1)[i])
        return Report(*worst, n, roundoff / scale if scale > 0 else 0.0)
    if mode == "random":
        rng = numpy.random.default_rng(seed)
        reports = []
        for d in range(n_directions):
            u = {name: backend.asarray(rng.standard_normal(a.shape)) for name, a in arrays.items()}
            ana = sum(float((backend.to_numpy(grads[k]).reshape(a.shape) * backend.to_numpy(u[k])).sum())
                      for k, a in arrays.items())
            for k, a in arrays.items():
                a += h * u[k]
            f_plus = _scalar(f())
            for k, a in arrays.items():
                a -= 2 * h * u[k]
            f_minus = _scalar(f())
            for k, a in arrays.items():
                a += h * u[k]
            num = (f_plus - f_minus) / (2 * h)
            if not (math.isfinite(ana) and math.isfinite(num)):
                return Report(math.inf, f"direction {d} (not finite)", ana, num, n_directions, 0.0)
            scale = max(abs(ana), abs(num), 1e-300)
            reports.append(Report(abs(ana - num) / scale, f"direction {d}", ana, num, n_directions,
                                  roundoff / scale))
        return max(reports, key=lambda r: r.max_rel_error - r.roundoff)   # furthest beyond its allowance
    raise ValueError(f"mode must be 'full' or 'random', got {mode!r}")


def _first_non_finite(name, ana, num):
    """(inf, where, analytic, numeric) at the first entry where either gradient is NaN or ±inf,
    or None: a non-finite entry fails a check, whatever the other entries say."""
    bad = ~(numpy.isfinite(ana) & numpy.isfinite(num))
    if not bad.any():
        return None
    i = int(numpy.flatnonzero(bad)[0])
    idx = list(map(int, numpy.unravel_index(i, num.shape)))
    return math.inf, f"{name}{idx} (not finite)", float(ana.reshape(-1)[i]), float(num.reshape(-1)[i])


def _reseed(layers, seed):
    for layer in layers:
        if hasattr(layer, "set_rng"):              # a container (Sequential, Branches): its Dropouts too
            layer.set_rng(backend.rng(seed))
        elif hasattr(layer, "rng"):
            layer.rng = backend.rng(seed)


def reseed(layers, seed):
    """Give every layer in ``layers`` that has an ``rng`` (Dropout) a fresh generator seeded
    with ``seed``, so that the next forward pass draws the same masks as the last reseeded one."""
    _reseed(layers, seed)


def check_network(net, x, mode="full", wrt=("input", "params"), h=1e-6, seed=0, loss=None, target=None):
    """Check ∂L/∂x and ∂L/∂θ of a layer or Sequential ``net`` at input x (float64, any rank).

    An integer x (indices into an embedding) has no derivative: pass wrt=("params",).

    L = loss(net(x), target) when a loss is given, else L = Σ net(x) · r for a
    fixed random r, which makes ∂L/∂y = r: every output entry is exercised.
    """
    layers = getattr(net, "layers", [net])

    def forward():
        _reseed(layers, seed)                      # the same dropout masks at every evaluation
        return net.forward(x, train=True)

    y = forward()                                  # also the cache that backward reads below
    _check_output(net, x, y)
    r = None if loss is not None else backend.asarray(numpy.random.default_rng(seed).standard_normal(y.shape))

    def f():
        return loss.forward(forward(), target) if loss is not None else (forward() * r).sum()

    if loss is not None:
        loss.forward(y, target)                    # the loss's cache for its backward
    dy = loss.backward() if loss is not None else r
    dx = net.backward(dy)
    arrays, grads = {}, {}
    if "input" in wrt:
        _check_shape(net, "backward(dy), ∂L/∂x,", dx, x.shape)
        arrays["x"], grads["x"] = x, dx
    if "params" in wrt:
        for i, layer in enumerate(layers):
            missing = sorted(set(layer.params) - set(getattr(layer, "grads", {})))
            if missing:
                raise ValueError(f"{layer_name(layer)}: backward left no grads[{missing[0]!r}] for params[{missing[0]!r}]; "
                                 "backward must set grads[k] = ∂L/∂params[k] for every parameter")
            for key, p in layer.params.items():
                _check_shape(layer, f"grads[{key!r}]", layer.grads[key], p.shape)
                arrays[f"{i}.{key}"], grads[f"{i}.{key}"] = p, layer.grads[key].copy()
    return compare(f, arrays, grads, mode, h, seed=seed)


def layer_name(obj):
    """A layer as messages name it: its repr if it has its own, else ClassName() (as minigan.testing).
    A subclass that inherits its parent's repr is named by its own class: a SlippedDense(Dense) is
    'SlippedDense(3→2)', not 'Dense(3→2)', which would blame the parent's correct code."""
    cls = type(obj)
    if cls.__repr__ is object.__repr__:
        return cls.__name__ + "()"
    text = repr(obj)
    owner = next(c for c in cls.__mro__ if "__repr__" in vars(c))     # the class whose repr this is
    if owner is not cls and text.startswith(owner.__name__ + "("):
        return cls.__name__ + text[len(owner.__name__):]
    return text


def _check_output(net, x, y):
    """forward must return an array (B, O), or (B, ...) with more axes (an image batch), with
    x's B rows: a (B,) output would be compared entry by entry all the same, and pass while
    breaking every network it is put in."""
    shape = getattr(y, "shape", None)
    if shape is None or len(shape) < 2 or shape[0] != x.shape[0]:
        got = f"shape {tuple(shape)}" if shape is not None else f"{type(y).__name__}"
        raise ValueError(f"{layer_name(net)}: forward must return a 2-D array (B, O) (or (B, ...) with more axes) "
                         f"with B = {x.shape[0]} input rows; got {got}")


def _check_shape(layer, what, a, shape):
    if getattr(a, "shape", None) != tuple(shape):
        got = f"shape {tuple(a.shape)}" if hasattr(a, "shape") else type(a).__name__
        raise ValueError(f"{layer_name(layer)}: {what} must have shape {tuple(shape)}; got {got}")


check_layer = check_network     # a layer is checked exactly like a one-layer network


def check_loss(loss, pred, target, mode="full", h=1e-6):
    """Check loss.backward() = ∂L/∂pred at pred (float64).

    A loss of several inputs takes pred as a tuple of arrays, (mean, log_var) say, and its
    backward returns a tuple of their gradients in the same order; each is checked."""
    loss.forward(pred, target)
    grad = loss.backward()
    if not isinstance(pred, tuple):
        return compare(lambda: loss.forward(pred, target), {"pred": pred}, {"pred": grad}, mode, h)
    if not isinstance(grad, (tuple, list)) or len(grad) != len(pred):
        raise ValueError(f"{layer_name(loss)}: forward took {len(pred)} inputs (a tuple), so backward must return "
                         f"a tuple of {len(pred)} gradients in the same order; got {type(grad).__name__}"
                         + (f" of {len(grad)}" if isinstance(grad, (tuple, list)) else ""))
    for i, (p, g) in enumerate(zip(pred, grad)):
        _check_shape(loss, f"backward()[{i}], ∂L/∂pred[{i}],", g, p.shape)
    return compare(lambda: loss.forward(pred, target), {f"pred{i}": p for i, p in enumerate(pred)},
                   {f"pred{i}": g for i, g in enumerate(grad)}, mode, h)


def kink_distance(layer, x):
    """How far x is from a kink of ``layer`` (inf for smooth layers).

    ReLU: min |x|. Maxout: the smallest gap between a unit's best and second-best
    piece. A layer of your own with kinks may define ``kink_distance(x)`` and is asked.
    A finite-difference check is meaningful when this exceeds h·‖W‖-ish.
    """
    xp = backend.xp
    x = backend.asarray(x)            # a NumPy x is welcome on either backend
    if hasattr(layer, "kink_distance"):   # a layer of your own can say where its kinks are
        return float(layer.kink_distance(x))
    name = type(layer).__name__
    if name == "ReLU":
        return float(xp.abs(x).min())
    if name == "Maxout":
        if layer.pieces == 1:
            return float("inf")
        z = (x @ layer.params["W"] + layer.params["b"]).reshape(x.shape[0], layer.units, layer.pieces)
        top2 = xp.sort(z, axis=2)[:, :, -2:]
        return float((top2[:, :, 1] - top2[:, :, 0]).min())
    return float("inf")


def network_kink_distance(net, x, seed=0):
    """The smallest ``kink_distance`` over the layers of ``net`` on input x (dropout masks
    seeded as in ``check_network``): how far this input is from any non-differentiable point."""
    layers = getattr(net, "layers", [net])
    x = backend.asarray(x)            # a NumPy x is welcome on either backend
    _reseed(layers, seed)
    nearest = float("inf")
    for layer in layers:
        nearest = min(nearest, kink_distance(layer, x))
        x = layer.forward(x, train=True)
    return nearest
