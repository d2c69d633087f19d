"""minigan.testing: every property passes on minigan's layers and losses, and each one
catches the planted bug it is meant to catch, with a message that names what went wrong."""
import importlib
import sys

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.layers import Dense, Dropout, Maxout, ReLU, Sigmoid
from minigan.losses import BCE, BCEWithLogits, MinimaxGeneratorLoss, NonSaturatingGeneratorLoss
from minigan.network import Sequential
from minigan.testing import (
    SETTINGS, TOL, assert_backward_linear, assert_contracts, assert_eval_deterministic,
    assert_layer_gradients, assert_loss_gradients, assert_rows_independent, assert_vjp_identity,
    away_from_kinks, batches, check_layer_properties, dense_configs, logits_and_targets,
    maxout_configs, smooth_batches)


def randomize_bias(layer, seed):
    """Non-zero biases, so that ∂L/∂b is exercised and maxout ties at x = 0 are broken."""
    rng = numpy.random.default_rng(seed)
    layer.params["b"][...] = backend.asarray(rng.uniform(-1, 1, layer.params["b"].shape))


def uniform(shape, seed=0, low=-2.0, high=2.0):
    """A fixed float64 NumPy input, away from 0 (the kink of ReLU and LeakyReLU)."""
    return away_from_kinks(numpy.random.default_rng(seed).uniform(low, high, shape))


# ----------------------------------------------------------------------------- every property passes

@SETTINGS
@given(x=batches(), cfg=dense_configs())
def test_dense_has_every_property(xp, x, cfg):
    layer = Dense(x.shape[1], cfg["n_out"], irange=1.0, rng=cfg["seed"], dtype="float64")
    randomize_bias(layer, cfg["seed"])
    check_layer_properties(layer, x, seed=cfg["seed"])


@SETTINGS
@given(x=smooth_batches(), seed=st.integers(0, 2**16))
def test_relu_has_every_property(xp, x, seed):
    check_layer_properties(ReLU(), x, seed=seed)


@SETTINGS
@given(x=batches(low=-6, high=6), seed=st.integers(0, 2**16))
def test_sigmoid_has_every_property(xp, x, seed):
    check_layer_properties(Sigmoid(), x, seed=seed)


@SETTINGS
@given(x=batches(), cfg=maxout_configs())
def test_maxout_has_every_property(xp, x, cfg):
    layer = Maxout(x.shape[1], cfg["units"], cfg["pieces"], irange=1.0, rng=cfg["seed"], dtype="float64")
    randomize_bias(layer, cfg["seed"])
    # A direction in [−1, 1] moves a piece by at most h·(Σ|x| + 1) ≲ 7e-5 (vjp on W) and
    # h·Σ|W| ≲ 3e-5 (on x): a gap of 1e-3 between the best two pieces is never crossed.
    assume(gradcheck.kink_distance(layer, xp.asarray(x)) > 1e-3)
    check_layer_properties(layer, x, seed=cfg["seed"])


@SETTINGS
@given(x=batches(), p=st.sampled_from([0.2, 0.5, 0.8, 1.0]), seed=st.integers(0, 2**16))
def test_dropout_has_every_property(xp, x, p, seed):
    check_layer_properties(Dropout(p), x, seed=seed)


@SETTINGS
@given(data=logits_and_targets())
def test_bce_with_logits_gradient(xp, data):
    assert_loss_gradients(BCEWithLogits(), *data)


@SETTINGS
@given(data=logits_and_targets(low=-4, high=4))
def test_bce_on_probabilities_gradient(xp, data):
    a, t = data
    assert_loss_gradients(BCE(), 1 / (1 + numpy.exp(-a)), t)   # p in [0.018, 0.982], inside the clip


@SETTINGS
@given(data=logits_and_targets(), loss=st.sampled_from([MinimaxGeneratorLoss, NonSaturatingGeneratorLoss]))
def test_generator_objective_gradients(xp, data, loss):
    assert_loss_gradients(loss(), data[0], None)


def test_a_sequential_has_every_property(xp):
    net = Sequential([Dense(4, 5, 1.0, 0, "float64"), ReLU(), Dropout(0.5), Dense(5, 3, 1.0, 1, "float64")])
    for layer in (net.layers[0], net.layers[3]):
        randomize_bias(layer, 2)
    x = xp.asarray(uniform((6, 4)))
    assert gradcheck.network_kink_distance(net, x) > 1e-3       # no ReLU input near its kink
    assert check_layer_properties(net, x) == ["contracts", "gradients", "linear backward", "vjp identity",
                                              "rows independent", "eval deterministic"]


def test_contracts_accept_float32(xp):
    """Contracts, rows and eval need no finite differences, so they run in float32 too:
    the dtype check is what catches a layer that silently computes in float64."""
    x = uniform((3, 4)).astype(numpy.float32)
    for layer in (Dense(4, 2), ReLU(), Sigmoid(), Maxout(4, 2, 3), Dropout(0.5)):
        assert_contracts(layer, x)
        assert_rows_independent(layer, x)
        assert_eval_deterministic(layer, x)


# ----------------------------------------------------------------------------- planted bugs are caught

class NegatedReLU(ReLU):
    """Wrong sign: ∂L/∂x = −dy · 1[x > 0]."""

    def backward(self, dy):
        return -super().backward(dy)


class NegatedSigmoid(Sigmoid):
    """Wrong sign: ∂L/∂x = −dy · y (1 − y)."""

    def backward(self, dy):
        return -super().backward(dy)


class SigmoidWithoutOneMinusY(Sigmoid):
    """Missing factor: σ'(x) = y (1 − y), written as y."""

    def backward(self, dy):
        return dy * self.y


class BCEWithLogitsWithoutMean(BCEWithLogits):
    """Missing factor: ∂L/∂a = (σ(a) − t) / N, written without the 1/N of the mean."""

    def backward(self):
        return super().backward() * self.pred.size


class TransposedDense(Dense):
    """Transposed weight: ∂L/∂x = dy W instead of dy Wᵀ (same shape only when I = O)."""

    def backward(self, dy):
        super().backward(dy)                       # ∂L/∂W, ∂L/∂b are right
        return dy @ self.params["W"]


class MaskIgnoringDropout(Dropout):
    """Forgets the mask: ∂L/∂x = dy, as if nothing had been dropped or scaled."""

    def backward(self, dy):
        return dy


class SquaringSigmoid(Sigmoid):
    """Not linear in dy: uses dy·|dy| where dy belongs."""

    def backward(self, dy):
        return super().backward(dy * abs(dy))


class SquaringBiasDense(Dense):
    """Not linear in dy, in a parameter gradient only: ∂L/∂b = Σ_b dy², not Σ_b dy."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"] = (dy * dy).sum(axis=0)
        return dx


class CentredReLU(ReLU):
    """Mixes rows: y = r − mean_b r with r = max(0, x). Its gradient is right,
    ∂L/∂r = dy − mean_b dy, then through the ReLU; but row b of y depends on every row of x."""

    def forward(self, x, train=True):
        r = super().forward(x, train)
        return r - r.mean(axis=0)

    def backward(self, dy):
        return super().backward(dy - dy.mean(axis=0))


@pytest.mark.parametrize("layer", [NegatedReLU(), NegatedSigmoid()], ids=lambda layer: type(layer).__name__)
def test_a_wrong_sign_is_caught(xp, layer):
    x = uniform((4, 5))
    with pytest.raises(AssertionError,
                       match=r"(?s)∂L/∂x disagrees.*worst entry: +∂L/∂x\[.*relative error: +2\.00e"):
        assert_layer_gradients(layer, x)
    with pytest.raises(AssertionError, match=r"(?s)not the transpose.*for ∂L/∂x.*relative error: +2\.00e"):
        assert_vjp_identity(layer, x)


def test_a_missing_sigmoid_factor_is_caught(xp):
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x disagrees.*relative error.*Sigmoid.*\.backward"):
        assert_layer_gradients(SigmoidWithoutOneMinusY(), uniform((4, 5)))


def test_a_missing_mean_in_a_loss_is_caught(xp):
    """With N = 12 entries the analytic gradient is 12× too large: error 1 − 1/12 ≈ 0.92."""
    a, t = numpy.random.default_rng(0).normal(size=(4, 3)), numpy.random.default_rng(1).uniform(size=(4, 3))
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂pred disagrees.*∂L/∂pred\[.*relative error: +9\.17e-01"
                                             r".*BCEWithLogitsWithoutMean\.backward"):
        assert_loss_gradients(BCEWithLogitsWithoutMean(), a, t)
    assert_loss_gradients(BCEWithLogits(), a, t)


def test_a_transposed_weight_is_caught(xp):
    layer = TransposedDense(5, 5, irange=1.0, rng=0, dtype="float64")
    W = backend.to_numpy(layer.params["W"])
    assert numpy.abs(W - W.T).max() > 0.5                                  # far from symmetric
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x disagrees.*worst entry: +∂L/∂x\[.*relative error"):
        assert_layer_gradients(layer, uniform((3, 5)))
    with pytest.raises(AssertionError, match=r"not the transpose of forward's Jacobian, for ∂L/∂x"):
        assert_vjp_identity(layer, uniform((3, 5)))


def test_a_dropout_backward_that_ignores_its_mask_is_caught(xp):
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x disagrees.*relative error.*MaskIgnoringDropout\.backward"):
        assert_layer_gradients(MaskIgnoringDropout(0.5), uniform((4, 6)))
    with pytest.raises(AssertionError, match=r"not the transpose of forward's Jacobian, for ∂L/∂x"):
        assert_vjp_identity(MaskIgnoringDropout(0.5), uniform((4, 6)))


def test_a_nonlinear_backward_is_caught(xp):
    with pytest.raises(AssertionError,
                       match=r"(?s)not linear in dy, for ∂L/∂x:.*worst entry: +∂L/∂x\[.*relative error"):
        assert_backward_linear(SquaringSigmoid(), uniform((4, 5)))
    layer = SquaringBiasDense(5, 3, irange=1.0, rng=0, dtype="float64")
    with pytest.raises(AssertionError, match=r"(?s)not linear in dy, for ∂L/∂b:.*∂L/∂b\[\d\]"):
        assert_backward_linear(layer, uniform((4, 5)))


def test_a_layer_that_mixes_rows_is_caught(xp):
    """Its gradient is right, so only the row property can see what is wrong with it."""
    x = uniform((4, 5))
    assert_layer_gradients(CentredReLU(), x)
    assert_backward_linear(CentredReLU(), x)
    with pytest.raises(AssertionError, match=r"rows are not independent in forward: changing input row 0 "
                                             r"changed output row \d"):
        assert_rows_independent(CentredReLU(), x)
    with pytest.raises(AssertionError, match="rows are not independent"):
        check_layer_properties(CentredReLU(), x)
    check_layer_properties(CentredReLU(), x, rowwise=False)


def test_rows_independent_also_watches_backward(xp):
    class LeakyRowsReLU(ReLU):                     # right forward, backward adds the batch mean
        def backward(self, dy):
            return super().backward(dy) + dy.mean()
    with pytest.raises(AssertionError, match=r"rows are not independent in backward: a dy that is zero outside row 0"):
        assert_rows_independent(LeakyRowsReLU(), uniform((3, 2)))


def test_a_random_eval_and_broken_contracts_are_caught(xp):
    class AlwaysDropout(Dropout):                  # ignores train=False
        def forward(self, x, train=True):
            return super().forward(x, train=True)

    class Upcasting(ReLU):                         # returns float64 whatever comes in
        def forward(self, x, train=True):
            return super().forward(x, train).astype("float64")

    class InPlace(ReLU):                           # overwrites the caller's x
        def forward(self, x, train=True):
            y = super().forward(x, train)
            x[...] = 0
            return y

    with pytest.raises(AssertionError, match=r"train=False\) is not deterministic"):
        assert_eval_deterministic(AlwaysDropout(0.5, rng=0), uniform((4, 6)))
    with pytest.raises(AssertionError, match=r"Upcasting\(\) breaks the layer interface:\n  - forward returned float64 "
                                             r"for a float32 input"):
        assert_contracts(Upcasting(), uniform((2, 3)).astype(numpy.float32))
    with pytest.raises(AssertionError, match="forward wrote into its input x"):
        assert_contracts(InPlace(), uniform((2, 3)))


def test_reports_in_a_network_and_in_random_mode(xp):
    net = Sequential([Dense(4, 3, 1.0, 0, "float64"), NegatedReLU(), Dense(3, 2, 1.0, 1, "float64")])
    for layer in (net.layers[0], net.layers[2]):
        randomize_bias(layer, 3)
    x = uniform((5, 4))
    assert gradcheck.network_kink_distance(net, x) > 1e-3
    with pytest.raises(AssertionError, match=r"(?s)Sequential\(Dense\(4→3\), NegatedReLU\(\), Dense\(3→2\)\): "
                                             r".*relative error.*layer.* one at a time"):
        assert_layer_gradients(net, x)
    with pytest.raises(AssertionError, match=r"(?s)worst direction: direction \d.*mode='full' names the entry"):
        assert_layer_gradients(NegatedReLU(), x, mode="random")
    assert assert_layer_gradients(ReLU(), x, mode="random").n_checked == 4


def test_inputs_are_copied_so_any_memory_layout_works(xp):
    """gradcheck perturbs x in place through x.reshape(-1), which is a copy, not a view, for a
    Fortran-ordered or transposed x; the kit checks its own contiguous copy, and leaves x alone."""
    x = numpy.asfortranarray(uniform((3, 4)))
    before = x.copy()
    assert_layer_gradients(Dense(4, 2, 1.0, 0, "float64"), x)
    assert_vjp_identity(Dense(3, 2, 1.0, 0, "float64"), x.T)
    assert numpy.array_equal(x, before)


def test_float32_is_refused_with_a_reason(xp):
    with pytest.raises(TypeError, match="assert_layer_gradients needs float64 arrays, got float32"):
        assert_layer_gradients(ReLU(), uniform((2, 2)).astype(numpy.float32))
    with pytest.raises(TypeError, match=r"needs float64 parameters; Dense\(2→2\) holds W in float32"):
        assert_layer_gradients(Dense(2, 2), uniform((2, 2)))


# ----------------------------------------------------------------------------- a user's LeakyReLU

class LeakyReLU:
    """y = x for x > 0, αx otherwise; ∂L/∂x = dy for x > 0, α·dy otherwise (α at 0)."""

    def __init__(self, alpha=0.01):
        self.alpha, self.params, self.grads = alpha, {}, {}

    def forward(self, x, train=True):
        self.positive = x > 0                                     # (B, I), all backward needs
        return backend.xp.where(self.positive, x, self.alpha * x)

    def backward(self, dy):
        return backend.xp.where(self.positive, dy, self.alpha * dy)


class WrongSlopeLeakyReLU(LeakyReLU):
    """The bug: slope 1 for negative inputs too (α forgotten in backward)."""

    def backward(self, dy):
        return dy


def test_assert_layer_gradients_on_a_users_leaky_relu(xp):
    x = uniform((4, 5))
    assert_layer_gradients(LeakyReLU(), x)
    with pytest.raises(AssertionError, match=r"relative error"):
        assert_layer_gradients(WrongSlopeLeakyReLU(), x)


# ----------------------------------------------------------------------------- the strategies

@SETTINGS
@given(x=batches(min_rows=2, max_rows=5, min_width=3, max_width=4, low=-1, high=0.5),
       y=batches(max_rows=2, width=7))
def test_batches_stay_in_their_ranges(x, y):
    assert x.dtype == numpy.float64 and 2 <= x.shape[0] <= 5 and 3 <= x.shape[1] <= 4
    assert numpy.isfinite(x).all() and x.min() >= -1 and x.max() <= 0.5
    assert 1 <= y.shape[0] <= 2 and y.shape[1] == 7


@SETTINGS
@given(x=batches(low=-3, high=3), kinks=st.lists(st.floats(-3, 3), max_size=3), margin=st.floats(1e-4, 0.1))
def test_away_from_kinks_keeps_its_distance(x, kinks, margin):
    kinks = sorted(kinks)
    assume(all(b - a > 2 * margin for a, b in zip(kinks, kinks[1:])))
    y = away_from_kinks(x, kinks, margin)
    for k in kinks:
        assert numpy.abs(y - k).min(initial=numpy.inf) >= margin
    far = numpy.all([numpy.abs(x - k) >= margin for k in kinks], axis=0) if kinks else numpy.ones(x.shape, bool)
    assert numpy.array_equal(y[far], x[far])                    # entries already far away stay put
    assert numpy.abs(y - x).max(initial=0) <= margin + 1e-12    # and none moves further (than an ulp more)


@SETTINGS
@given(x=smooth_batches(kinks=(-1.0, 0.0, 1.0), margin=0.05, max_width=4))
def test_smooth_batches_are_away_from_kinks(x):
    assert all(numpy.abs(x - k).min() >= 0.05 for k in (-1.0, 0.0, 1.0))


def test_away_from_kinks_refuses_crowded_kinks():
    with pytest.raises(ValueError, match="within 2·margin"):
        away_from_kinks(numpy.zeros((1, 1)), kinks=(0.0, 0.01), margin=0.01)


@SETTINGS
@given(data=logits_and_targets(max_rows=3, low=-1, high=1), dense=dense_configs(max_out=4),
       maxout=maxout_configs(max_units=3, max_pieces=2))
def test_loss_and_config_strategies(data, dense, maxout):
    a, t = data
    assert a.shape == t.shape and 1 <= a.shape[0] <= 3 and 1 <= a.shape[1] <= 32
    assert a.min() >= -1 and a.max() <= 1 and t.min() >= 0 and t.max() <= 1
    assert 1 <= dense["n_out"] <= 4 and isinstance(dense["seed"], int)
    assert 1 <= maxout["units"] <= 3 and 1 <= maxout["pieces"] <= 2


def test_tolerance_is_the_projects():
    assert TOL == 1e-6 and SETTINGS.max_examples == 25 and SETTINGS.deadline is None


def test_import_without_hypothesis_says_how_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "minigan.testing")
    for name in [m for m in sys.modules if m == "hypothesis" or m.startswith("hypothesis.")]:
        monkeypatch.setitem(sys.modules, name, None)      # None in sys.modules: "import fails"
    with pytest.raises(ImportError, match=r"minigan.testing needs hypothesis: pip install hypothesis "
                                          r"\(or minigan\[test\]\)"):
        importlib.import_module("minigan.testing")


# ----- issue 23, item 10: no false alarm on a correct layer ------------------------------------

class BatchNorm:
    """A correct layer of another library with curvature: y = (x − μ) / √(σ² + ε) per column,
    μ and σ² over the batch; ∂L/∂x = (1/(B s)) (B dy − Σ_b dy − ŷ Σ_b dy ŷ), s = √(σ² + ε)."""

    def __init__(self, eps=1e-5):
        self.eps, self.params, self.grads = eps, {}, {}

    def forward(self, x, train=True):
        xp = backend.xp
        self.inv = 1 / xp.sqrt(x.var(axis=0) + self.eps)            # (I,) 1/s
        self.xhat = (x - x.mean(axis=0)) * self.inv                    # (B, I)
        return self.xhat

    def backward(self, dy):
        B = dy.shape[0]
        return self.inv / B * (B * dy - dy.sum(axis=0) - self.xhat * (dy * self.xhat).sum(axis=0))


@pytest.mark.parametrize("seed", [73, 104])
def test_a_correct_layer_with_curvature_passes_the_vjp_identity(xp, seed):
    """Batches of small variance (σ = 1e-3) make BatchNorm's third derivative large: the central
    difference's h² term alone was 2.9e-6 (seed 73) and 1.1e-6 (seed 104), above TOL, before
    assert_vjp_identity extrapolated it away (Richardson). The finite-difference check agrees."""
    rng = numpy.random.default_rng(seed)
    x = rng.normal(0, 1e-3, (int(rng.integers(2, 9)), int(rng.integers(1, 6))))
    assert_vjp_identity(BatchNorm(), x, seed=seed)
    assert_layer_gradients(BatchNorm(), x, seed=seed)


def test_subnormal_inputs_raise_no_false_alarm(xp):
    """x = [[1e-320, 0]]: Dense's ∂L/∂W is all subnormal (or 0), with a few bits of precision;
    judged against its own size, round-off looked like a bug. Judged against the smallest normal
    float (the absolute floor), minigan's correct Dense passes, and a planted bug still fails."""
    x = numpy.array([[1e-320, 0.0], [0.0, 1e-320]])
    assert_backward_linear(Dense(2, 3, 1.0, 0, "float64"), x)
    assert_vjp_identity(Dense(2, 3, 1.0, 0, "float64"), x)
    with pytest.raises(AssertionError, match="not the transpose"):
        assert_vjp_identity(TransposedDense(2, 2, 1.0, 0, "float64"), x)


def test_the_strategies_draw_no_subnormals():
    from hypothesis import find, settings
    from minigan.testing import batches
    tiny = numpy.finfo(numpy.float64).tiny
    with pytest.raises(Exception, match="(?i)no examples found"):
        find(batches(low=-1e-300, high=1e-300), lambda x: bool(((x != 0) & (abs(x) < tiny)).any()),
         settings=settings(max_examples=300, database=None))


def test_check_layer_properties_can_report_every_outcome(xp):
    """issue 23, item 11: it stopped at the first failure. every=True lists each check's outcome:
    NegatedReLU (a flipped sign) breaks the gradients and the VJP identity, not linearity."""
    x = away_from_kinks(numpy.random.default_rng(0).uniform(-1, 1, (4, 3)))
    with pytest.raises(AssertionError) as err:
        check_layer_properties(NegatedReLU(), x, every=True)
    text = str(err.value)
    assert text.startswith("NegatedReLU(): 2 of 6 checks failed")
    assert "  contracts: passed" in text and "  gradients: FAILED" in text and "  vjp identity: FAILED" in text
    assert "  linear backward: passed" in text and "  rows independent: passed" in text
    assert check_layer_properties(ReLU(), x, every=True) == ["contracts", "gradients", "linear backward",
                                                              "vjp identity", "rows independent", "eval deterministic"]


class UnseededDropout:
    """A correct dropout of another library, but its mask comes from numpy.random's global state,
    which the kit cannot reseed (it reseeds ``rng`` attributes)."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, train=True):
        self.mask = backend.asarray((numpy.random.random_sample(x.shape) < 0.5) * 2.0)
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


@pytest.mark.parametrize("check", [assert_layer_gradients, assert_vjp_identity, assert_rows_independent])
def test_unseeded_randomness_is_diagnosed_as_such(xp, check):
    """issue 23, item 11: it showed as "rows are not independent" or a factor-0.5 gradient error."""
    x = numpy.random.default_rng(0).uniform(-1, 1, (4, 3))
    with pytest.raises(AssertionError, match=r"UnseededDropout\(\): .* cannot check it: two forward passes on the "
                                             r"same x, .*keep it as `self.rng`"):
        check(UnseededDropout(), x)
    assert_layer_gradients(Dropout(0.5, rng=0), x)                  # minigan's, with its rng: fine


class AccumulatingDense(Dense):
    """A PyTorch habit: grads accumulated (+=) instead of set, so two backward calls double them."""

    def backward(self, dy):
        old = {k: v.copy() for k, v in self.grads.items()}
        dx = super().backward(dy)
        for k, v in old.items():
            self.grads[k] = self.grads[k] + v
        return dx


def test_contracts_require_backward_to_overwrite_grads(xp):
    """issue 23, item 11: the contract that backward may run twice per forward and overwrites
    grads is stated and checked."""
    x = numpy.random.default_rng(0).uniform(-1, 1, (4, 3))
    with pytest.raises(AssertionError, match=r"a second backward\(dy\) changed grads\['W'\] of AccumulatingDense\(3→2\) "
                                             r"\(it accumulates into grads\?\)"):
        assert_contracts(AccumulatingDense(3, 2, 1.0, 0, "float64"), x)
    assert_contracts(Dense(3, 2, 1.0, 0, "float64"), x)


# ----- issue 23, item 11: what users of other layer libraries need ------------------------------
from minigan.losses import SoftmaxCrossEntropy  # noqa: E402
from minigan.testing import assume_away_from_kinks, index_batches  # noqa: E402


class MeanPool2x2:
    """(B, C, H, W) -> (B, C, H/2, W/2): the mean of each 2×2 block; ∂L/∂x = dy/4 on its block."""

    def __init__(self, forget_quarter=False):
        self.params, self.grads, self.forget_quarter = {}, {}, forget_quarter

    def forward(self, x, train=True):
        B, C, H, W = x.shape
        self.shape = x.shape
        return x.reshape(B, C, H // 2, 2, W // 2, 2).mean(axis=(3, 5))

    def backward(self, dy):
        xp = backend.xp
        dx = xp.repeat(xp.repeat(dy, 2, axis=2), 2, axis=3)            # each block gets its dy
        return dx if self.forget_quarter else dx / 4


class ChannelScale:
    """y = γ_c · x on channel c of (B, C, H, W); ∂L/∂γ_c = Σ_{b,h,w} dy · x, ∂L/∂x = γ_c · dy."""

    def __init__(self, channels, seed=0):
        g = numpy.random.default_rng(seed).uniform(0.5, 2, channels)
        self.params, self.grads = {"gamma": backend.asarray(g)}, {}

    def forward(self, x, train=True):
        self.x = x
        return x * self.params["gamma"][None, :, None, None]

    def backward(self, dy):
        self.grads["gamma"] = (dy * self.x).sum(axis=(0, 2, 3))
        return dy * self.params["gamma"][None, :, None, None]


@SETTINGS
@given(x=batches(max_rows=4, example_shape=(2, 4, 4)), seed=st.integers(0, 2**16))
def test_layers_on_image_batches_have_every_property(xp, x, seed):
    """Inputs of any rank: x (B, 2, 4, 4), as a convolution or pooling layer takes them."""
    assert x.shape[1:] == (2, 4, 4)
    check_layer_properties(MeanPool2x2(), x, seed=seed)
    check_layer_properties(ChannelScale(2, seed), x, seed=seed)
    check_layer_properties(Sequential([ChannelScale(2, seed), MeanPool2x2()]), x, seed=seed)


def test_a_pooling_backward_without_its_quarter_is_caught(xp):
    x = uniform((2, 3, 4, 4))
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x.*ratio:\s+4 "):
        assert_layer_gradients(MeanPool2x2(forget_quarter=True), x)


class Embedding:
    """y[b, t] = W[x[b, t]] for integer x (B, T): (B, T, D). ∂L/∂W_v = Σ over the (b, t) with
    x[b, t] = v of dy[b, t]: a repeated index adds. There is no ∂L/∂x: backward returns None."""

    def __init__(self, n_values, dim, seed=0, overwrite=False):
        w = numpy.random.default_rng(seed).normal(size=(n_values, dim))
        self.params, self.grads, self.overwrite = {"W": backend.asarray(w)}, {}, overwrite

    def forward(self, x, train=True):
        self.x = x
        return self.params["W"][x]

    def backward(self, dy):
        xp = backend.xp
        g = xp.zeros_like(self.params["W"])
        if self.overwrite:                       # the classic bug: a repeated index keeps one dy
            g[self.x] = dy
        else:
            for v, d in zip(backend.to_numpy(self.x).reshape(-1), dy.reshape(-1, dy.shape[-1])):
                g[int(v)] += d
        self.grads["W"] = g
        return None


@SETTINGS
@given(x=index_batches(5, example_shape=(3,), max_rows=6), seed=st.integers(0, 2**16))
def test_an_embedding_has_every_property(xp, x, seed):
    """Integer inputs: the kit checks ∂L/∂W only, and says so in the report's location."""
    assert x.dtype == numpy.int64 and 0 <= x.min() and x.max() < 5
    check_layer_properties(Embedding(5, 4, seed), x, seed=seed)
    report = assert_layer_gradients(Embedding(5, 4, seed), x, seed=seed)
    assert report.n_checked == 5 * 4 and not report.where.startswith("x")


def test_an_embedding_that_overwrites_repeated_indices_is_caught(xp):
    x = numpy.array([[0, 0, 1], [2, 0, 1]])          # index 0 three times, 1 twice
    with pytest.raises(AssertionError, match=r"(?s)Embedding\(\).*∂L/∂W"):
        assert_layer_gradients(Embedding(3, 2, overwrite=True), x)
    with pytest.raises(AssertionError, match="return None"):
        class Returns(Embedding):
            def backward(self, dy):
                super().backward(dy)
                return dy
        assert_contracts(Returns(3, 2), x)


class GaussianNLL:
    """L = (1/N) Σ ½ [s + (t − μ)² e^(−s)] for inputs (μ, s = log σ²):
    ∂L/∂μ = (μ − t) e^(−s) / N,  ∂L/∂s = ½ [1 − (t − μ)² e^(−s)] / N."""

    def __init__(self, half=True):
        self.half = half

    def forward(self, pred, target):
        self.mu, self.s = pred
        self.t = target
        return (0.5 * (self.s + (self.t - self.mu) ** 2 * backend.xp.exp(-self.s))).mean()

    def backward(self):
        xp, n = backend.xp, self.mu.size
        d_mu = (self.mu - self.t) * xp.exp(-self.s) / n
        d_s = (1 - (self.t - self.mu) ** 2 * xp.exp(-self.s)) / n
        return d_mu, (0.5 * d_s if self.half else d_s)


@SETTINGS
@given(mu=batches(width=3, max_rows=6), data=st.data())
def test_a_loss_of_two_inputs(xp, mu, data):
    s = data.draw(batches(min_rows=mu.shape[0], max_rows=mu.shape[0], width=3, low=-1, high=1))
    t = data.draw(batches(min_rows=mu.shape[0], max_rows=mu.shape[0], width=3))
    assert assert_loss_gradients(GaussianNLL(), (mu, s), t).n_checked == 2 * mu.size


def test_a_loss_of_two_inputs_names_the_wrong_one(xp):
    mu, s, t = uniform((3, 2), 0), uniform((3, 2), 1, -1, 1), uniform((3, 2), 2)
    with pytest.raises(AssertionError, match=r"(?s)worst entry:\s+∂L/∂pred1\[.*ratio:\s+2 "):
        assert_loss_gradients(GaussianNLL(half=False), (mu, s), t)


@SETTINGS
@given(data=logits_and_targets(targets="onehot"), soft=logits_and_targets(targets="simplex"))
def test_class_target_strategies_sum_to_one(xp, data, soft):
    """One-hot and simplex rows sum to 1, as SoftmaxCrossEntropy requires; both pass its check."""
    for a, t in (data, soft):
        assert numpy.allclose(t.sum(axis=1), 1, rtol=0, atol=1e-12) and (t >= 0).all()
        assert_loss_gradients(SoftmaxCrossEntropy(), a, t)
    assert set(numpy.unique(data[1])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="targets must be one of entries, onehot, simplex"):
        logits_and_targets(targets="soft")


@SETTINGS
@given(x=batches(max_width=6), seed=st.integers(0, 2**16))
def test_a_relu_after_a_dense_with_its_moving_kinks(xp, x, seed):
    """The ReLU's kinks sit where x W + b = 0; assume_away_from_kinks keeps x off them."""
    dense = Dense(x.shape[1], 5, irange=1.0, rng=seed, dtype="float64")
    randomize_bias(dense, seed)
    net = Sequential([dense, ReLU()])
    check_layer_properties(net, assume_away_from_kinks(net, x))
    assert gradcheck.network_kink_distance(net, x) > 1e-3


def test_a_failure_next_to_a_moving_kink_says_so(xp):
    """x W + b = 1e-7 at one ReLU input, closer than h·|W|: the central difference there
    averages the two slopes and the check fails; its message says how close the kink is."""
    dense = Dense(2, 1, irange=1.0, rng=0, dtype="float64")
    dense.params["W"][...] = backend.asarray([[1.0], [1.0]])
    dense.params["b"][...] = backend.asarray([-3.0 + 1e-7])
    with pytest.raises(AssertionError, match=r"note: x lies 1e-07 from a kink .*assume_away_from_kinks"):
        assert_layer_gradients(Sequential([dense, ReLU()]), numpy.array([[1.0, 2.0]]))


# ----- issue 23, item 18: mutation survivors pinned (python .ci/mutants.py minigan/testing.py) ---
from hypothesis import find  # noqa: E402

from minigan import testing  # noqa: E402
from minigan.testing import assert_double_backward  # noqa: E402


def reaches(strategy, condition):
    """True if hypothesis finds a drawn value meeting condition (up to 300 tries)."""
    from hypothesis.errors import NoSuchExample
    try:
        # derandomize: the same search on every run, so the test cannot flake
        find(strategy, condition, settings=testing.settings(max_examples=300, database=None, derandomize=True))
        return True
    except NoSuchExample:
        return False


def test_the_strategies_defaults_are_as_documented():
    """batches: B in 1..16, I in 1..32, values in [-2, 2]; logits in [-8, 8]; Dense 1..32 outputs;
    Maxout 1..32 units of 1..6 pieces. None is passed; the lower ones and the value bounds are reached."""
    for strategy, low, high in ((batches(), -2, 2), (logits_and_targets().map(lambda d: d[0]), -8, 8)):
        assert reaches(strategy, lambda x: x.shape == (1, 1))
        assert reaches(strategy, lambda x: x.max() == high) and reaches(strategy, lambda x: x.min() == low)
        assert not reaches(strategy, lambda x: x.shape[0] > 16 or x.shape[1] > 32 or x.max() > high or x.min() < low)
    assert reaches(dense_configs(), lambda c: c["n_out"] == 1) and reaches(dense_configs(), lambda c: c["n_out"] == 32)
    assert not reaches(dense_configs(), lambda c: not 1 <= c["n_out"] <= 32)
    m = maxout_configs()
    assert reaches(m, lambda c: (c["units"], c["pieces"]) == (1, 1)) and reaches(m, lambda c: c["units"] >= 30)
    assert reaches(m, lambda c: c["pieces"] == 6) and not reaches(m, lambda c: c["units"] > 32 or c["pieces"] > 6)


def test_the_step_and_kink_margin_defaults():
    """H is gradcheck's default step; an entry exactly on a kink moves up, by the default 0.01."""
    import inspect
    assert testing.H == inspect.signature(gradcheck.compare).parameters["h"].default == 1e-6
    assert away_from_kinks(numpy.array([[0.0, -0.0, 0.004, -0.004]])).tolist() == [[0.01, 0.01, 0.01, -0.01]]
    with pytest.raises(ValueError, match="margin must be > 0"):
        away_from_kinks(numpy.zeros((1, 1)), margin=0)
    with pytest.raises(ValueError, match="within 2·margin"):     # exactly 2·margin apart: refused
        away_from_kinks(numpy.zeros((1, 1)), kinks=(0.0, 0.5), margin=0.25)
    away_from_kinks(numpy.zeros((1, 1)), kinks=(0.0, 0.625), margin=0.25)     # 2.5·margin: fine


class Leaky:
    """y = s·(x + ε·roll(x, 1 row)): each output row gets ε of its neighbour's input, and the
    backward leaks the same way; s scales everything, so the leak is ε relative to |y|."""

    def __init__(self, eps, s=1.0, backward_only=False):
        self.params, self.grads, self.eps, self.s, self.backward_only = {}, {}, eps, s, backward_only

    def forward(self, x, train=True):
        xp = backend.xp
        return self.s * (x + (0 if self.backward_only else self.eps) * xp.roll(x, 1, axis=0))

    def backward(self, dy):
        return self.s * (dy + self.eps * backend.xp.roll(dy, -1, axis=0))


@pytest.mark.parametrize("s", [1e-6, 1.0, 1e6])
def test_rows_independent_judges_a_leak_against_the_outputs_scale(xp, s):
    """Two rows (B = 2, the smallest batch that can leak) at output scales 1e-6, 1 and 1e6: a leak
    of 1e-5 of the output fails, one of 1e-8 passes, in forward and in backward alike."""
    x = uniform((2, 3))
    for backward_only in (False, True):
        with pytest.raises(AssertionError, match="rows are not independent in " + ("backward" if backward_only else "forward")):
            assert_rows_independent(Leaky(1e-5, s, backward_only), x)
        assert_rows_independent(Leaky(1e-8, s, backward_only), x)


def test_small_gradients_are_judged_against_their_own_scale(xp):
    """A backward that is not linear by 1e-3 of its size fails, also when that size is 1e-4
    (an error judged as diff·scale, or against a scale of at least 1, would read 1e-11), and also
    for a one-entry gradient (B = I = 1)."""
    class Bent(ReLU):
        def backward(self, dy):
            return 1e-4 * (dy + 1e-3 * dy * dy)
    for shape in ((3, 4), (1, 1)):
        with pytest.raises(AssertionError, match="backward is not linear in dy"):
            assert_backward_linear(Bent(), uniform(shape))


def test_a_non_finite_entry_is_named_where_it_is(xp):
    class NaNAt(ReLU):
        def backward(self, dy):
            dx = super().backward(dy).copy()
            dx[1, 2] = numpy.nan
            return dx
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x\[1, 2\]: nan"):
        assert_backward_linear(NaNAt(), uniform((3, 4)))
    with pytest.raises(AssertionError, match=r"(?s)x\[1, 2\] \(not finite\).*division by zero"):
        assert_layer_gradients(NaNAt(), uniform((3, 4)))


def test_a_second_backward_that_changes_dx_is_caught(xp):
    class Drifting(ReLU):
        calls = 0
        def backward(self, dy):
            self.calls += 1
            return super().backward(dy) * self.calls
    with pytest.raises(AssertionError, match="a second backward\\(dy\\) after the same forward gave another ∂L/∂x"):
        assert_contracts(Drifting(), uniform((2, 3)))


def test_failures_name_the_parameter_and_the_layer(xp):
    class WrongW(Dense):
        def backward(self, dy, **kw):
            dx = super().backward(dy, **kw)
            self.grads["W"] = 2 * self.grads["W"]
            return dx
    with pytest.raises(AssertionError, match=r"worst entry:\s+∂L/∂W\["):
        assert_layer_gradients(WrongW(3, 2, 1.0, 0, "float64"), uniform((4, 3)))
    net = Sequential([Dense(3, 3, 1.0, 0, "float64"), Sigmoid(), WrongW(3, 2, 1.0, 1, "float64")])
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂2\.W\[.*WrongW\.backward of layer 2 or in a layer above it"):
        assert_layer_gradients(net, uniform((4, 3)))


def test_the_vjp_allowance_is_the_stated_formula(xp):
    """1.5 · ROUNDOFF_ULPS · ε · Σ|dy·y| / h relative to the larger side: read back from a failure."""
    class Doubled(ReLU):
        def backward(self, dy):
            return 2 * super().backward(dy)
    x = uniform((3, 4))
    with pytest.raises(AssertionError) as err:
        assert_vjp_identity(Doubled(), x)
    import re
    shown = float(re.search(r"round-off allowance ([0-9.e+-]+)\)", str(err.value)).group(1))
    y = ReLU().forward(xp.asarray(x))
    dy = numpy.random.default_rng(0).standard_normal(y.shape)
    lhs, rhs = re.findall(r":\s+(-?[0-9.]+(?:e[-+]?\d+)?)\n", str(err.value))[:2]
    scale = max(abs(float(lhs)), abs(float(rhs)))
    expected = 1.5 * gradcheck.ROUNDOFF_ULPS * numpy.finfo(float).eps * numpy.abs(dy * backend.to_numpy(y)).sum() / 1e-6
    assert shown == pytest.approx(expected / scale, rel=0.06)     # printed to 2 digits


def test_assert_double_backward_passes_right_layers_and_fails_a_wrong_one(xp):
    x = uniform((3, 4))
    dense = Dense(4, 3, 1.0, 0, "float64")
    randomize_bias(dense, 0)
    for layer in (dense, ReLU(), Sequential([Dense(4, 3, 1.0, 0, "float64"), ReLU(), Dense(3, 2, 1.0, 1, "float64")])):
        assert_double_backward(layer, x)

    class HalfDouble(ReLU):
        def double_backward(self, r, dy):
            return 0.5 * super().double_backward(r, dy)
    with pytest.raises(AssertionError, match=r"(?s)HalfDouble\(\) \(double_backward\).*ratio:\s+0\.5 "):
        assert_double_backward(HalfDouble(), x)


def test_index_batches_and_smooth_batches_bounds():
    """index_batches(n): every index 0..n − 1 can come (0 and n − 1 included: an embedding's
    first and last rows are where off-by-one bugs live), none outside, 1..16 rows; smooth_batches'
    default margin is 0.01, and it is reached."""
    s = index_batches(5, example_shape=(3,))
    assert reaches(s, lambda x: (x == 0).any()) and reaches(s, lambda x: (x == 4).any())
    assert reaches(s, lambda x: x.shape[0] == 1)
    assert not reaches(s, lambda x: x.min() < 0 or x.max() > 4 or x.shape[0] > 16 or x.shape[1:] != (3,))
    assert reaches(smooth_batches(), lambda x: (numpy.abs(x) == 0.01).any())
    assert not reaches(smooth_batches(), lambda x: (numpy.abs(x) < 0.01).any())
