"""Property tests for hand-written layers and losses: the kit minigan's own tests use.

A backward pass is right when it is the chain rule for its forward pass. Finite
differences check that entry by entry; the other properties check identities that every
right backward pass satisfies, and each failure says which identity broke:

    assert_contracts           shapes, dtypes and array types; grads match params; arguments untouched
    assert_layer_gradients     ∂L/∂x and ∂L/∂θ agree with central differences
    assert_backward_linear     backward(a·dy1 + b·dy2) = a·backward(dy1) + b·backward(dy2)
    assert_vjp_identity        ⟨dy, J v⟩ = ⟨Jᵀ dy, v⟩: backward is the transpose of forward's Jacobian
    assert_rows_independent    output row b depends on input row b only, and so does ∂L/∂x
    assert_eval_deterministic  forward(x, train=False) gives the same answer twice
    check_layer_properties     all of the above
    assert_loss_gradients      a loss's ∂L/∂pred agrees with central differences
    assert_double_backward     the third pass (for a gradient penalty) agrees with central differences

Usage, in a test of your own layer (hypothesis draws x, kept away from the kink at 0)::

    from hypothesis import given
    from minigan.testing import SETTINGS, smooth_batches, check_layer_properties

    @SETTINGS
    @given(x=smooth_batches())
    def test_leaky_relu(x):
        check_layer_properties(LeakyReLU(alpha=0.01), x)

The kit calls nothing but ``layer.forward(x, train=...)``, ``layer.backward(dy)`` and the
dicts ``layer.params`` and ``layer.grads`` (empty for a layer without parameters), so a
layer of your own needs only those; a ``Sequential`` of layers is checked the same way.

Beyond minigan's own (B, I) layers:
  * inputs of any rank: ``batches(example_shape=(3, 8, 8))`` draws x (B, 3, 8, 8) for a
    convolution or pooling layer, and every check takes it;
  * integer inputs (an embedding's indices, ``index_batches``): an index has no derivative,
    so the checks compare ∂L/∂θ only and expect backward to return None;
  * losses of several inputs: ``assert_loss_gradients(loss, (mu, log_var), t)``, with
    backward returning a tuple of gradients;
  * class targets: ``logits_and_targets(targets="onehot")`` or ``"simplex"`` (rows sum to 1);
  * kinks that move with the data (a ReLU after a Dense): ``assume_away_from_kinks(net, x)``.
Inputs may be NumPy arrays: they are moved to the active backend (``backend.asarray``).
Random layers (anything with an ``rng`` attribute, like Dropout) are reseeded before every
forward pass inside a check, so that every evaluation sees the same mask.

hypothesis is a test extra, not a dependency of minigan: ``pip install hypothesis``
(or ``pip install "minigan[test]"``) before importing this module.
"""
import numpy

try:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays
except ImportError:
    raise ImportError("minigan.testing needs hypothesis: pip install hypothesis (or minigan[test])") from None

from . import backend, gradcheck

# The one tolerance. In float64, a central difference with h = 1e-6 agrees with a right
# gradient to ~1e-9 (truncation ~h², round-off ~ε/h, see gradcheck); a wrong formula (a
# missing factor, a flipped sign, a transposed matrix) is off by O(1). The exact identities
# below (linearity, independent rows) hold to round-off, ~1e-15, so TOL is generous there.
TOL = 1e-6

# The hypothesis settings the project's tests share: 25 examples each, no deadline (a full
# finite-difference check of a 32×192 maxout takes a while), and no complaint about the
# ``xp`` fixture, which is function-scoped but only switches the backend.
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

H = 1e-6   # the step of every central difference here, as in gradcheck
# A failure with x nearer than this to a kink says so: a ±h step (1e-6) times weights of up to
# ~1e3 can cross a kink that close, and the distance helps tell a false alarm from a bug.
KINK_WARNING = 1e-3
TINY = numpy.finfo(numpy.float64).tiny   # 2.2e-308, the smallest normal float64: the comparisons' absolute floor


# ----------------------------------------------------------------------------- strategies

def _floats(low, high):
    # No subnormals (|v| < 2.2e-308): they carry a few bits of precision, and GPUs may flush
    # them to zero, so a check on them would compare noise. Exact zeros are still drawn.
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def batches(draw, min_rows=1, max_rows=16, min_width=1, max_width=32, low=-2.0, high=2.0, width=None,
            example_shape=None):
    """A float64 NumPy input x (B, I): B in min_rows..max_rows, I in min_width..max_width
    (or exactly ``width``), every value in [low, high] and chosen by hypothesis.

    ``example_shape`` (a tuple) gives each example that shape instead, for layers whose input
    has more axes: example_shape=(3, 8, 8) draws x (B, 3, 8, 8), a batch of 3-channel 8×8
    images for a convolution or a pooling layer. Every check below takes such an x."""
    rows = draw(st.integers(min_rows, max_rows))
    if example_shape is None:
        example_shape = (width if width is not None else draw(st.integers(min_width, max_width)),)
    return draw(arrays(numpy.float64, (rows, *example_shape), elements=_floats(low, high)))


@st.composite
def index_batches(draw, n_values, example_shape=(1,), min_rows=1, max_rows=16):
    """An int64 NumPy input x (B, *example_shape) of indices in 0..n_values − 1, repeats
    included (a repeated index is where an embedding's ∂L/∂W must add, not overwrite). For
    layers whose input is integer (an embedding): the checks then differentiate only with
    respect to the parameters, since an index has no derivative (see ``assert_layer_gradients``)."""
    rows = draw(st.integers(min_rows, max_rows))
    return draw(arrays(numpy.int64, (rows, *example_shape), elements=st.integers(0, n_values - 1)))


def _check_kinks(kinks, margin):
    kinks = sorted(float(k) for k in kinks)
    if margin <= 0:
        raise ValueError(f"away_from_kinks: margin must be > 0, got {margin}")
    for a, b in zip(kinks, kinks[1:]):
        if b - a <= 2 * margin:
            raise ValueError(f"away_from_kinks: kinks {a} and {b} are within 2·margin = {2 * margin} "
                             f"of each other; moving away from one could land next to the other")
    return kinks


def away_from_kinks(x, kinks=(0.0,), margin=0.01):
    """A copy of x in which every entry within ``margin`` of a kink is moved out to kink ± margin.

    At a kink (ReLU's 0, a LeakyReLU's 0, |x| at 0) a central difference that straddles it
    measures the average of the two one-sided slopes, which is not what backward returns, so
    gradient checks keep their inputs away: margin = 0.01 is far more than h = 1e-6. An entry
    above a kink moves up, one below moves down, one exactly on it moves up. Kinks must be
    more than 2·margin apart. Works on NumPy and CuPy arrays; keeps a floating dtype.
    """
    kinks = _check_kinks(kinks, margin)
    xp = numpy if isinstance(x, (numpy.ndarray, list, tuple, float, int)) else backend.xp
    out = xp.array(x, copy=True)
    if not numpy.issubdtype(out.dtype, numpy.floating):
        out = out.astype(numpy.float64)
    for k in kinks:
        side = xp.where(out >= k, margin, -margin).astype(out.dtype)    # which way is "out"
        moved = (k + side).astype(out.dtype)
        # k ± margin may round to a hair inside the margin: one step further out fixes that.
        moved = xp.where(xp.abs(moved - k) < margin, xp.nextafter(moved, moved + side), moved)
        out = xp.where(xp.abs(out - k) < margin, moved, out)
    return out


def smooth_batches(kinks=(0.0,), margin=0.01, **batch_kwargs):
    """``batches(**batch_kwargs)`` with every entry at least ``margin`` from each kink
    (``away_from_kinks``): inputs where a piecewise-linear layer is differentiable."""
    _check_kinks(kinks, margin)
    return batches(**batch_kwargs).map(lambda x: away_from_kinks(x, kinks, margin))


TARGET_KINDS = ("entries", "onehot", "simplex")


def assume_away_from_kinks(net, x, margin=1e-3, seed=0):
    """Inside a hypothesis test: discard x (``hypothesis.assume``) unless every kink in ``net``
    is further than ``margin`` from where x puts it, and return x.

    ``smooth_batches`` keeps x itself away from 0, which is enough for a ReLU that reads x.
    A ReLU after a Dense reads x W + b, whose zeros depend on the weights as well; so does a
    maxout tie. ``gradcheck.network_kink_distance`` follows x through the layers (ReLU and
    Maxout, and any layer of your own with a ``kink_distance(x)`` method) and this keeps the
    examples where no ±h step (times the weights) can cross one:

        @given(x=batches(), seed=st.integers(0, 2**16))
        def test_dense_relu(x, seed):
            net = Sequential([Dense(x.shape[1], 8, rng=seed, dtype="float64"), ReLU()])
            check_layer_properties(net, assume_away_from_kinks(net, x))
    """
    from hypothesis import assume
    assume(gradcheck.network_kink_distance(net, x, seed) > margin)
    return x


def logits_and_targets(min_rows=1, max_rows=16, min_width=1, max_width=32, low=-8.0, high=8.0,
                       targets="entries"):
    """(a, t) for a loss: float64 logits a (B, W) in [low, high], and targets t of the same shape.

    ``targets`` says what a target row is:
      "entries"  each entry by itself exactly 0, exactly 1 or anywhere in [0, 1]: one soft label
                 per output, as binary cross-entropy takes (rows need not sum to anything);
      "onehot"   one 1 per row, the rest 0: a class label, as a softmax cross-entropy takes;
      "simplex"  probabilities that sum to 1 in each row (to round-off, ~1e-16), some entries
                 exactly 0: soft class targets (label smoothing, a teacher's outputs).
    """
    if targets not in TARGET_KINDS:    # refused here, when the test is defined, not when it draws
        raise ValueError(f"logits_and_targets: targets must be one of {', '.join(TARGET_KINDS)}, got {targets!r}")
    return _logits_and_targets(min_rows, max_rows, min_width, max_width, low, high, targets)


@st.composite
def _logits_and_targets(draw, min_rows, max_rows, min_width, max_width, low, high, targets):
    shape = (draw(st.integers(min_rows, max_rows)), draw(st.integers(min_width, max_width)))
    a = draw(arrays(numpy.float64, shape, elements=_floats(low, high)))
    if targets == "entries":
        return a, draw(arrays(numpy.float64, shape, elements=st.sampled_from([0.0, 1.0]) | _floats(0.0, 1.0)))
    if targets == "onehot":
        labels = draw(arrays(numpy.int64, shape[0], elements=st.integers(0, shape[1] - 1)))
        return a, numpy.eye(shape[1])[labels]
    weights = draw(arrays(numpy.float64, shape, elements=st.sampled_from([0.0]) | _floats(0.01, 1.0)))
    weights[numpy.arange(shape[0]), weights.argmax(axis=1)] += 0.01    # no all-zero row
    return a, weights / weights.sum(axis=1, keepdims=True)


def dense_configs(max_out=32):
    """{"n_out": 1..max_out, "seed": …}: build ``Dense(x.shape[1], n_out, rng=seed, …)``."""
    return st.fixed_dictionaries({"n_out": st.integers(1, max_out), "seed": st.integers(0, 2**16)})


def maxout_configs(max_units=32, max_pieces=6):
    """{"units": 1..max_units, "pieces": 1..max_pieces, "seed": …}: build
    ``Maxout(x.shape[1], units, pieces, rng=seed, …)``."""
    return st.fixed_dictionaries({"units": st.integers(1, max_units), "pieces": st.integers(1, max_pieces),
                                  "seed": st.integers(0, 2**16)})


# ----------------------------------------------------------------------------- helpers

_name = gradcheck.layer_name   # how messages name a layer or loss: its repr if it has its own, else ClassName()


def _input(x, check, need_float64=True):
    """x on the active backend, as our own contiguous copy: checks perturb their input in place.
    An integer x (indices) is taken as it is: the checks then leave ∂L/∂x out."""
    x = backend.asarray(x)
    if not check.startswith("assert_loss") and getattr(x, "ndim", 0) < 2:
        raise ValueError(f"{check} needs a batch x of shape (B, I) or (B, ...), got shape {tuple(x.shape)}: "
                         f"a single example is x[None]")
    if need_float64 and x.dtype != numpy.float64 and not _integer(x):
        raise TypeError(f"{check} needs float64 arrays, got {x.dtype}: in float32, round-off alone is "
                        f"~1e-2 at h = 1e-6, far above TOL = {TOL:g}. Pass x.astype('float64') and build "
                        f"layers that have parameters with dtype='float64'.")
    return x.copy()


def _integer(x):
    """True for an input of indices (an embedding's): it has no derivative, so only ∂L/∂θ is checked."""
    return numpy.issubdtype(x.dtype, numpy.integer)


def _layers(net):
    return list(getattr(net, "layers", [net]))


def _named_params(net):
    """(name, layer, key) for every parameter: 'W' for a layer, '1.W' for layer 1 of a Sequential."""
    if hasattr(net, "layers"):
        return [(f"{i}.{key}", layer, key) for i, layer in enumerate(net.layers) for key in layer.params]
    return [(key, net, key) for key in net.params]


def _require_float64_params(net, check):
    for name, layer, key in _named_params(net):
        if layer.params[key].dtype != numpy.float64:
            raise TypeError(f"{check} needs float64 parameters; {_name(net)} holds {name} in "
                            f"{layer.params[key].dtype}: build it with dtype='float64'")


def _forward(net, x, seed, train=True):
    """forward(x), with every random layer reseeded first: the same dropout mask every time."""
    gradcheck.reseed(_layers(net), seed)
    return net.forward(x, train=train)


def _require_repeatable(net, x, seed, check):
    """Two forward passes with the same seeds must agree: every check compares several passes,
    and randomness the kit cannot reseed (a generator the layer does not keep as ``rng``) would
    otherwise show as a wrong-looking gradient or as rows that are not independent."""
    y1, y2 = _host(_forward(net, x, seed)), _host(_forward(net, x, seed))
    if y1.shape != y2.shape or not numpy.array_equal(y1, y2, equal_nan=True):
        raise AssertionError(
            f"{_name(net)}: {check} cannot check it: two forward passes on the same x, with every "
            "`rng` attribute reseeded, gave different outputs. The layer draws randomness the kit "
            "cannot reseed (numpy.random.* at module level, or a generator kept under another name): "
            "keep it as `self.rng`, a generator of the active backend, and draw from that")


def _host(a):
    """Our own NumPy copy of a (a layer may overwrite its arrays on the next call)."""
    return numpy.array(backend.to_numpy(a), copy=True)


def _backward(net, dy, with_x=True):
    """backward(dy), collected as {'x': ∂L/∂x, 'W': ∂L/∂W, …} (NumPy copies; no 'x' if not with_x)."""
    dx = net.backward(dy)
    out = {"x": _host(dx)} if with_x else {}
    for name, layer, key in _named_params(net):
        out[name] = _host(layer.grads[key])
    return out


def _on_backend(values, like):
    """Host values as an array of the active backend with the dtype of ``like``."""
    return backend.asarray(numpy.asarray(values), dtype=like.dtype)


def _worst(actual, expected, *others):
    """(error, index): the largest |actual − expected|, relative to the largest magnitude in
    all the arrays (so a tiny entry is judged against the gradient's scale), and where it is."""
    if not (numpy.isfinite(actual).all() and numpy.isfinite(expected).all()):
        bad = ~(numpy.isfinite(actual) & numpy.isfinite(expected))
        return float("inf"), tuple(int(i) for i in numpy.argwhere(bad)[0])
    diff = numpy.abs(actual - expected)
    if diff.size == 0:
        return 0.0, ()
    # An absolute floor (TINY): entries that are all subnormal (an input x = 1e-320) carry no
    # precision to compare, and relative to their own size their round-off would look like a bug.
    scale = max([TINY] + [float(numpy.abs(a).max(initial=0)) for a in (actual, expected, *others)])
    i = numpy.unravel_index(int(diff.argmax()), diff.shape)
    return float(diff[i] / scale), tuple(int(j) for j in i)


def _index(i):
    return "[" + ", ".join(map(str, i)) + "]"


# ----------------------------------------------------------------------------- finite differences

_HINT = ("hint: a wrong factor shows as a ratio such as 0.5, 2 or −1, round-off as an error "
         "below ~1e-8; check the derivation of {array} in {where}")
_HINT_NON_FINITE = ("hint: a NaN or inf gradient entry fails whatever the others say; look in {where} "
                    "for a division by zero (by a mask, by an output that can be 0), a log of 0, or an overflow")


def _gradient_message(what, report, tol, array, where_to_look):
    """The readable failure of a finite-difference check (gradcheck.Report → text)."""
    if report.where.startswith("direction"):
        entry = f"  worst direction: {report.where} (every array perturbed at once; mode='full' names the entry)\n"
        head, scale = "its hand-derived gradient disagrees with finite differences", "to the larger of the two"
    else:
        entry = f"  worst entry:     ∂L/∂{report.where}\n"
        head, scale = f"the hand-derived ∂L/∂{array} disagrees with finite differences", "to the largest gradient entry"
    ratio = (f"  ratio:           {report.analytic / report.numeric:.4g}   (analytic / numeric)\n"
             if report.numeric and numpy.isfinite(report.numeric) and numpy.isfinite(report.analytic) else "")
    return (f"{what}: {head}\n{entry}"
            f"  analytic:        {report.analytic:.6g}   (from backward)\n"
            f"  numeric:         {report.numeric:.6g}   (central difference, h = {H:g})\n{ratio}"
            f"  relative error:  {report.max_rel_error:.2e}   ({scale}; allowed: "
            f"tol {tol:g} + round-off allowance {report.roundoff:.1e})\n"
            "  " + (_HINT_NON_FINITE.format(where=where_to_look) if "not finite" in report.where else
                    _HINT.format(array=f"∂L/∂{array}" if array else "the gradients", where=where_to_look)))


def _where_to_look(net, where):
    """Which backward pass to read, for a gradcheck location such as 'x[0, 1]' or '1.W[2, 0]'."""
    array = where.split("[")[0]
    if not hasattr(net, "layers"):
        return array, f"{type(net).__name__}.backward"
    # In a network a wrong ∂L/∂θ of layer i comes from layer i or from a layer above it: the dy
    # that layer i receives is their ∂L/∂x. Checking the layers one at a time tells which.
    if array[:1].isdigit():
        i = int(array.split(".")[0])
        return array, (f"{type(net.layers[i]).__name__}.backward of layer {i} or in a layer above it "
                       f"(check the layers one at a time to tell which)")
    return array, "the layers' backward passes (∂L/∂x runs through every one; check them one at a time)"


def assert_layer_gradients(layer, x, tol=TOL, mode="full", seed=0):
    """∂L/∂x and every ∂L/∂θ from backward agree with central differences of forward.

    L = Σ forward(x) · r for a fixed random r, so ∂L/∂y = r exercises every output entry
    (``gradcheck.check_layer``). mode="full" checks every entry, mode="random" a few random
    directions (cheaper). Keep x away from kinks (``smooth_batches``; for kinks that move with
    the data, a ReLU after a Dense, ``assume_away_from_kinks``). x may have any rank, (B, I)
    or (B, C, H, W). An integer x (``index_batches``, an embedding's input) has no derivative:
    then only ∂L/∂θ is checked, and the report's ``where`` never names x. Returns the
    gradcheck.Report; raises AssertionError naming the worst entry.
    """
    x = _input(x, "assert_layer_gradients")
    _require_float64_params(layer, "assert_layer_gradients")
    _require_repeatable(layer, x, seed, "assert_layer_gradients")
    wrt = ("params",) if _integer(x) else ("input", "params")
    if not _named_params(layer) and _integer(x):
        raise TypeError(f"{_name(layer)}: an integer x has no derivative and the layer has no parameters: "
                        f"there is no gradient to check")
    report = gradcheck.check_layer(layer, x, mode=mode, wrt=wrt, seed=seed)
    if not hasattr(layer, "layers") and report.where.startswith("0."):
        report.where = report.where[2:]                  # a single layer: 'W[1, 2]', not '0.W[1, 2]'
    if not report.passed(tol):
        array, look = _where_to_look(layer, report.where)
        raise AssertionError(_gradient_message(_name(layer), report, tol,
                                               None if mode == "random" else array, look)
                             + _kink_note(layer, x, seed))
    return report


def _kink_note(net, x, seed):
    """A failure's last line when x lies near a kink (gradcheck.network_kink_distance): there a
    central difference straddles it and measures neither one-sided slope, a false alarm."""
    if _integer(x):
        return ""
    try:
        near = gradcheck.network_kink_distance(net, x, seed)
    except Exception:          # a layer kink_distance cannot read (no params['W'] of that shape)
        return ""
    if not near < KINK_WARNING:
        return ""
    return (f"\n  note: x lies {near:.2g} from a kink (a ReLU's input at 0, a maxout tie), within "
            f"{KINK_WARNING:g}; a central difference there measures neither slope. If the kink moves with "
            f"the data (a ReLU after a Dense), draw x with assume_away_from_kinks(net, x)")


def assert_loss_gradients(loss, pred, target, tol=TOL, mode="full"):
    """loss.backward() = ∂L/∂pred, against central differences of loss.forward(pred, target).

    ``target`` may be None (the generator objectives ignore it), a number or an array.
    A loss of several inputs takes ``pred`` as a tuple of arrays, (mean, log_var) say; its
    backward then returns a tuple of their gradients, each checked (named pred0, pred1, …).
    Returns the gradcheck.Report; raises AssertionError naming the worst entry.
    """
    if isinstance(pred, (tuple, list)):
        pred = tuple(_input(p, "assert_loss_gradients") for p in pred)
        if target is not None and not numpy.isscalar(target):
            target = backend.asarray(target)
        report = gradcheck.check_loss(loss, pred, target, mode=mode)
        if not report.passed(tol):
            raise AssertionError(_gradient_message(_name(loss), report, tol, None if mode == "random" else
                                                   report.where.split("[")[0], f"{type(loss).__name__}.backward"))
        return report
    pred = _input(pred, "assert_loss_gradients")
    if target is not None and not numpy.isscalar(target):
        target = backend.asarray(target)
    report = gradcheck.check_loss(loss, pred, target, mode=mode)
    if not report.passed(tol):
        raise AssertionError(_gradient_message(_name(loss), report, tol, None if mode == "random" else "pred",
                                               f"{type(loss).__name__}.backward"))
    return report


def assert_double_backward(layer, x, tol=TOL, mode="full", seed=0):
    """The third pass, double_backward, agrees with central differences of the backward pass.

    For a layer: dx = backward(dy) for a fixed random dy, and P = Σ r · dx for a fixed random r,
    so that ∂P/∂dx = r. ``layer.double_backward(r, dy)`` must return ∂P/∂dy and fill grads with
    ∂P/∂θ; both are compared with central differences of P, recomputed by forward(x) and
    backward(dy) with each entry of θ and dy moved by ±h. For a ``Sequential`` (anything with
    ``input_gradient``), dx = input_gradient(dy) and the third pass is ``double_backward(r)``.
    This is exactly the gradient penalty's use (docs/derivations.md#double-backprop): a penalty
    computed from ∇ₓ f has some ∂P/∂(∇ₓ f), and r stands for it.

    The forward caches (ReLU's mask, maxout's winners) must not move under ±h: keep x away from
    kinks (``smooth_batches``). A layer whose backward depends smoothly on x (a sigmoid) needs a
    third pass that also differentiates its caches; the check then fails, rightly, for one that
    does not. Returns the gradcheck.Report; raises AssertionError naming the worst entry.
    """
    x = _input(x, "assert_double_backward")
    _require_float64_params(layer, "assert_double_backward")
    whole = hasattr(layer, "input_gradient")
    if not hasattr(layer, "double_backward"):
        raise TypeError(f"{_name(layer)} has no double_backward(r, dy): see minigan/layers.py's Dense "
                        f"for the interface and docs/derivations.md#double-backprop for the formulas")
    rng = numpy.random.default_rng(seed)
    y = _forward(layer, x, seed)
    dy = _on_backend(rng.standard_normal(y.shape), y)              # (B, O), fixed
    dx = layer.input_gradient(dy) if whole else layer.backward(dy)
    r = _on_backend(rng.standard_normal(dx.shape), dx)             # (B, I) = ∂P/∂dx

    def P():
        _forward(layer, x, seed)
        return (r * (layer.input_gradient(dy) if whole else layer.backward(dy))).sum()

    P()
    d_dy = layer.double_backward(r) if whole else layer.double_backward(r, dy)
    grads = {"dy": _host(d_dy), **{name: _host(lay.grads[key]) for name, lay, key in _named_params(layer)}}
    arrays = {"dy": dy, **{name: lay.params[key] for name, lay, key in _named_params(layer)}}
    report = gradcheck.compare(P, arrays, grads, mode=mode, seed=seed)
    if not report.passed(tol):
        raise AssertionError(_gradient_message(_name(layer) + " (double_backward)", report, tol, None,
                                               f"{type(layer).__name__}.double_backward"))
    return report


# ----------------------------------------------------------------------------- identities

def assert_backward_linear(layer, x, seed=0, tol=TOL):
    """backward(a·dy1 + b·dy2) = a·backward(dy1) + b·backward(dy2), for ∂L/∂x and every ∂L/∂θ.

    Why it must hold: after forward(x), backward(dy) computes Jᵀ dy, a product with the
    transposed Jacobian J = ∂y/∂x (and J_θ = ∂y/∂θ for ∂L/∂θ), and J depends on x alone,
    never on dy. A product with a fixed matrix is linear. A backward that squares dy, takes
    its absolute value, tests its sign or keeps state from its previous call is not.
    All three calls read the cache of one forward pass (so one dropout mask).
    """
    x = _input(x, "assert_backward_linear")
    rng, with_x = numpy.random.default_rng(seed), not _integer(x)
    y = _forward(layer, x, seed)                                   # (B, O)
    dy1, dy2 = (rng.standard_normal(y.shape) for _ in range(2))    # host (B, O)
    a, b = rng.uniform(0.5, 2.0), -rng.uniform(0.5, 2.0)           # b < 0 catches abs(dy)
    g1 = _backward(layer, _on_backend(dy1, y), with_x)
    g2 = _backward(layer, _on_backend(dy2, y), with_x)
    g = _backward(layer, _on_backend(a * dy1 + b * dy2, y), with_x)
    for name in g:
        combined = a * g1[name] + b * g2[name]
        err, i = _worst(g[name], combined, a * g1[name], b * g2[name])
        if not err <= tol:
            raise AssertionError(
                f"{_name(layer)}: backward is not linear in dy, for ∂L/∂{name}:\n"
                f"  backward(a·dy1 + b·dy2) ≠ a·backward(dy1) + b·backward(dy2)  (a = {a:.3g}, b = {b:.3g})\n"
                f"  worst entry:     ∂L/∂{name}{_index(i)}: {g[name][i]:.6g} against {combined[i]:.6g}\n"
                f"  relative error:  {err:.2e}   (tolerance {tol:g})\n"
                f"  why it must hold: backward computes Jᵀ dy with J = ∂y/∂{'x' if name == 'x' else 'θ'} "
                f"fixed by the forward pass, a linear map of dy; look for dy used nonlinearly (dy**2, "
                f"abs(dy), a test on its sign) or for state kept from the previous backward call")


def _directional_difference(net, x, array, v, seed, h):
    """(f(θ + h v) − f(θ − h v)) / 2h ≈ J v, for f = forward(x) as a function of ``array`` (x
    itself or a parameter), which is perturbed in place and then restored exactly."""
    old = array.copy()
    v = _on_backend(v, array)
    array[...] = old + h * v
    y_plus = _host(_forward(net, x, seed))
    array[...] = old - h * v
    y_minus = _host(_forward(net, x, seed))
    array[...] = old
    return (y_plus - y_minus) / (2 * h)


def assert_vjp_identity(layer, x, seed=0, h=H, tol=TOL):
    """⟨dy, J v⟩ = ⟨Jᵀ dy, v⟩ for random dy and v: backward is the transpose of forward's Jacobian.

    The left side needs the forward pass only: J v, how the output moves along a direction v
    of the input, is the central difference (f(x + h v) − f(x − h v)) / 2h. The right side is
    ⟨backward(dy), v⟩. They are equal for every dy and v exactly when backward(dy) = Jᵀ dy,
    which is what "backward pass" means. The same is checked for each parameter θ, with a
    direction u of θ and ∂L/∂θ from grads. Keep x away from kinks (``smooth_batches``).
    """
    x = _input(x, "assert_vjp_identity")
    _require_float64_params(layer, "assert_vjp_identity")
    _require_repeatable(layer, x, seed, "assert_vjp_identity")
    rng = numpy.random.default_rng(seed)
    y = _forward(layer, x, seed)
    dy = rng.standard_normal(y.shape)                              # host (B, O)
    grads = _backward(layer, _on_backend(dy, y), not _integer(x))   # Jᵀ dy for x and every θ
    y = _host(y)
    arrays = {} if _integer(x) else {"x": x}                       # an index has no direction
    arrays.update({name: lay.params[key] for name, lay, key in _named_params(layer)})
    for name, array in arrays.items():
        # v in [−1, 1] moves each output by at most h·Σ|W|: far less than the tests' distance to a kink.
        v = rng.uniform(-1, 1, array.shape)
        # ⟨dy, J v⟩ by Richardson's extrapolation of two central differences: each is J v plus
        # (h²/6)·f⁽³⁾[v, v, v] plus O(h⁴), so (4 D(h) − D(2h)) / 3 cancels the h² term. Without it
        # a correct layer with curvature (a batch normalisation on a batch of small variance)
        # failed by that term alone (2.9e-6 measured, against TOL = 1e-6).
        d_h, d_2h = (_directional_difference(layer, x, array, v, seed, step) for step in (h, 2 * h))
        lhs = float((dy * (4 * d_h - d_2h) / 3).sum())                               # ⟨dy, J v⟩
        rhs = float((grads[name] * v).sum())                                         # ⟨Jᵀ dy, v⟩
        # An absolute floor: gradients that are all subnormal (x = 1e-320) carry no precision,
        # so errors are judged against the smallest normal float at least.
        scale = max(abs(lhs), abs(rhs), TINY)
        # What round-off alone can do to ⟨dy, J v⟩: each output entry is off by ~C·ε·|y| in
        # f(x ± h v), divided by 2h (the same allowance as gradcheck's); the extrapolation takes
        # 4/3 of D(h)'s and 1/3 of D(2h)'s (half as large): 1.5 times one difference's.
        allowance = 1.5 * gradcheck.ROUNDOFF_ULPS * numpy.finfo(numpy.float64).eps * float(numpy.abs(dy * y).sum()) / h
        err = abs(lhs - rhs) / scale
        allowance = allowance / scale
        if not err <= tol + allowance:
            raise AssertionError(
                f"{_name(layer)}: backward is not the transpose of forward's Jacobian, for ∂L/∂{name}:\n"
                f"  ⟨dy, J v⟩ from the forward pass, (f({name} + h v) − f({name} − h v)) / 2h:  {lhs:.6g}\n"
                f"  ⟨backward(dy), v⟩, with ∂L/∂{name} from backward:{' ' * max(1, 21 - len(name))}{rhs:.6g}\n"
                f"  relative error:  {err:.2e}   (tolerance {tol:g} + round-off allowance {allowance:.1e})\n"
                "  " + _HINT.format(array=f"∂L/∂{name}", where=f"{type(layer).__name__}.backward"))


def assert_rows_independent(layer, x, seed=0, tol=TOL):
    """Row b of the output depends on row b of the input only, and so does ∂L/∂x.

    Forward: changing input row b changes output row b and no other. Backward: a dy that is
    zero outside row b gives a ∂L/∂x that is zero outside row b. Both hold for a layer that
    treats each example by itself, as all of minigan's do (Dropout with its mask fixed); the
    GAN relies on it when D scores [x; G(z)] as one batch and G reads its gradient from the
    generated rows only. A layer that mixes examples (batch normalisation, subtracting the
    batch mean) breaks it: for such a layer skip this check (``rowwise=False`` in
    ``check_layer_properties``). A batch of one row has nothing to mix and passes.
    """
    x = _input(x, "assert_rows_independent", need_float64=False)
    _require_repeatable(layer, x, seed, "assert_rows_independent")
    B, rng, what = x.shape[0], numpy.random.default_rng(seed), _name(layer)
    y_dev = _forward(layer, x, seed)
    y = _host(y_dev)                                               # (B, O)
    if y.ndim < 1 or y.shape[0] != B:
        raise AssertionError(f"{what}: forward returned shape {y.shape} for {B} input rows (see assert_contracts)")
    values = numpy.unique(_host(x)) if _integer(x) else None      # indices: swap in other valid ones
    for b in range(B if B > 1 else 0):
        x2 = x.copy()
        if values is None:
            x2[b] += _on_backend(rng.uniform(-1, 1, x.shape[1:]), x)
        else:
            x2[b] = _on_backend(rng.choice(values, x.shape[1:]), x)
        change = numpy.abs(_host(_forward(layer, x2, seed)) - y).reshape(B, -1)   # (B, O)
        leak = change.max(axis=1)
        leak[b] = 0
        if not leak.max() <= tol * max(float(numpy.abs(y).max(initial=0)), 1e-300):
            c = int(leak.argmax())
            raise AssertionError(
                f"{what}: rows are not independent in forward: changing input row {b} changed output "
                f"row {c} by up to {leak[c]:.3g} (row {b} itself by {change[b].max():.3g}); each example "
                f"must be processed by itself (if this layer mixes rows on purpose, use rowwise=False)")
    _forward(layer, x, seed)
    for b in range(B if B > 1 and not _integer(x) else 0):         # an index has no ∂L/∂x
        dy = numpy.zeros(y.shape)
        dy[b] = rng.standard_normal(y.shape[1:])
        dx = numpy.abs(_host(layer.backward(_on_backend(dy, y_dev)))).reshape(B, -1)  # (B, I)
        leak = dx.max(axis=1)
        leak[b] = 0
        if not leak.max() <= tol * max(float(dx.max(initial=0)), 1e-300):
            c = int(leak.argmax())
            raise AssertionError(
                f"{what}: rows are not independent in backward: a dy that is zero outside row {b} gave "
                f"∂L/∂x up to {leak[c]:.3g} in row {c} (row {b}: {dx[b].max():.3g}); ∂L/∂x of one example "
                f"must come from that example's dy only")


def assert_eval_deterministic(layer, x):
    """forward(x, train=False) twice gives identical outputs.

    Evaluation (sampling G, the Parzen score, D's accuracy) must not depend on chance: a
    random layer switches its randomness off at train=False. Deliberately *not* reseeded
    here, unlike the other checks: reseeding would hide a layer that draws a mask anyway.
    """
    x = _input(x, "assert_eval_deterministic", need_float64=False)
    y1 = _host(layer.forward(x, train=False))
    y2 = _host(layer.forward(x, train=False))
    if y1.shape != y2.shape or not numpy.array_equal(y1, y2, equal_nan=True):
        raise AssertionError(
            f"{_name(layer)}: forward(x, train=False) is not deterministic: two calls on the same x "
            f"differ by up to {numpy.abs(y1 - y2).max() if y1.shape == y2.shape else 'a shape'} "
            f"(does a random layer ignore train=False?)")


def assert_contracts(layer, x, seed=0):
    """The interface that Sequential, the optimizers and these checks rely on:

    forward(x) returns an array (B, O), or (B, ...) with more axes, with x's row count, dtype
    and array type (NumPy or CuPy); backward(dy) returns ∂L/∂x with x's shape, dtype and array
    type (None for an integer x: an index has no derivative, and the output's dtype is the
    parameters'); grads has
    exactly the keys of params, each with its parameter's shape and dtype (an optimizer
    updates θ in place from them); neither pass writes into its argument (the caller still
    needs x and dy); backward may be called again after the same forward and then gives the
    same ∂L/∂x and overwrites grads (never accumulates). Any floating dtype may be checked: a
    float32 x catches silent upcasts.
    """
    x = _input(x, "assert_contracts", need_float64=False)
    x_before, what, problems = _host(x), _name(layer), []
    y = _forward(layer, x, seed)
    shape, dtype = getattr(y, "shape", None), getattr(y, "dtype", None)
    if shape is None or len(shape) < 2 or shape[0] != x.shape[0]:
        raise AssertionError(f"{what}: forward must return a 2-D array (B, O) (or (B, ...) with more axes) with "
                             f"B = {x.shape[0]} input rows; got {'shape ' + str(shape) if shape is not None else type(y).__name__}")
    if _integer(x):
        floats = {p.dtype for _, lay, key in _named_params(layer) for p in [lay.params[key]]}
        if dtype not in floats:
            problems.append(f"forward returned {dtype} for an integer input; expected its parameters' dtype "
                            f"{', '.join(sorted(map(str, floats))) or '(it has none)'}")
    elif dtype != x.dtype:
        problems.append(f"forward returned {dtype} for a {x.dtype} input (keep the input's dtype)")
    if type(y) is not type(x):
        problems.append(f"forward returned {type(y).__module__}.{type(y).__name__} for a "
                        f"{type(x).__module__}.{type(x).__name__} input (use backend.xp, not numpy)")
    if not numpy.array_equal(_host(x), x_before, equal_nan=True):
        problems.append("forward wrote into its input x")
    # dy in x's dtype, which y should have: a layer that upcast y is reported above, and its
    # backward (if it checks dy's dtype against its cache, as minigan's layers do) still runs.
    dy = _on_backend(numpy.random.default_rng(seed).standard_normal(shape), y if _integer(x) else x)
    dy_before = _host(dy)
    dx = layer.backward(dy)
    if _integer(x):
        if dx is not None:
            problems.append(f"backward returned {type(dx).__name__} for an integer input; return None "
                            f"(an index has no derivative: ∂L/∂x does not exist)")
    elif getattr(dx, "shape", None) != x.shape or getattr(dx, "dtype", None) != x.dtype:
        problems.append(f"backward returned {getattr(dx, 'dtype', type(dx).__name__)} "
                        f"{getattr(dx, 'shape', '')}; ∂L/∂x must have x's shape {tuple(x.shape)} "
                        f"and dtype {x.dtype}")
    elif type(dx) is not type(x):
        problems.append(f"backward returned {type(dx).__name__} for a {type(x).__name__} input")
    if not numpy.array_equal(_host(dy), dy_before, equal_nan=True):
        problems.append("backward wrote into its argument dy")
    # backward may be called several times after one forward (the GAN step backs through D twice
    # on one cache) and sets grads anew each time: a second call with the same dy must give the
    # same ∂L/∂x and grads, not grads accumulated twice.
    first = {(i, k): _host(g) for i, lay in enumerate(_layers(layer)) for k, g in lay.grads.items()}
    dx_again = layer.backward(dy)
    again = {(i, k): _host(g) for i, lay in enumerate(_layers(layer)) for k, g in lay.grads.items()}
    if dx is not None and hasattr(dx, "shape") and getattr(dx_again, "shape", None) == dx.shape and not numpy.array_equal(
            _host(dx_again), _host(dx), equal_nan=True):
        problems.append("a second backward(dy) after the same forward gave another ∂L/∂x (backward must "
                        "depend only on dy and forward's cache)")
    changed = sorted(k for k in first if k in again and not numpy.array_equal(first[k], again[k], equal_nan=True))
    if changed:
        i, k = changed[0]
        problems.append(f"a second backward(dy) changed grads[{k!r}] of {_name(_layers(layer)[i])} (it accumulates "
                        "into grads?): backward must overwrite grads[k] = ∂L/∂θ_k, not add to it")
    for lay in _layers(layer):
        if set(lay.grads) != set(lay.params):
            problems.append(f"{_name(lay)}: grads has keys {sorted(lay.grads)}, params {sorted(lay.params)}")
            continue
        for key, p in lay.params.items():
            g = lay.grads[key]
            if getattr(g, "shape", None) != p.shape or getattr(g, "dtype", None) != p.dtype:
                problems.append(f"{_name(lay)}: grads[{key!r}] is {getattr(g, 'dtype', type(g).__name__)} "
                                f"{getattr(g, 'shape', '')}, params[{key!r}] is {p.dtype} {p.shape}")
    if problems:
        raise AssertionError(f"{what} breaks the layer interface:\n  - " + "\n  - ".join(problems))


def check_layer_properties(layer, x, seed=0, tol=TOL, mode="full", rowwise=True, every=False):
    """Every check above on one layer (or Sequential) and input x (float64, away from kinks).

    Runs assert_contracts first (a wrong shape would confuse everything after it), then
    assert_layer_gradients, assert_backward_linear, assert_vjp_identity,
    assert_rows_independent (unless rowwise=False) and assert_eval_deterministic.
    Raises the first failure's AssertionError; returns the names of the checks it ran.

    ``every=True`` runs every check after the contracts whatever the others say, and raises one
    AssertionError listing each check's outcome (passed, or its message): which properties a
    buggy layer breaks is itself a diagnosis (a wrong factor breaks the gradients and the VJP
    identity but not linearity; a backward that squares dy breaks linearity too).
    """
    checks = [("contracts", lambda: assert_contracts(layer, x, seed)),
              ("gradients", lambda: assert_layer_gradients(layer, x, tol, mode, seed)),
              ("linear backward", lambda: assert_backward_linear(layer, x, seed, tol)),
              ("vjp identity", lambda: assert_vjp_identity(layer, x, seed, tol=tol)),
              ("rows independent", lambda: assert_rows_independent(layer, x, seed, tol)),
              ("eval deterministic", lambda: assert_eval_deterministic(layer, x))]
    ran, outcomes = [], []
    for name, check in checks:
        if name == "rows independent" and not rowwise:
            continue
        if not every or name == "contracts":          # the contracts stop the rest: shapes must hold
            check()
            ran.append(name)
            continue
        try:
            check()
            outcomes.append((name, None))
        except AssertionError as err:
            outcomes.append((name, str(err)))
        ran.append(name)
    failed = [(name, why) for name, why in outcomes if why is not None]
    if failed:
        lines = [f"{_name(layer)}: {len(failed)} of {len(outcomes) + 1} checks failed"]
        lines += [f"  {name}: passed" if why is None else f"  {name}: FAILED\n    " + why.replace("\n", "\n    ")
                  for name, why in [("contracts", None), *outcomes]]
        raise AssertionError("\n".join(lines))
    return ran
