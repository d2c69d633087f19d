"""Losses: gradients by finite differences, stability at extreme logits, agreement between forms."""
import math

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.losses import (BCE, BCEWithLogits, GradientPenalty, MinimaxGeneratorLoss, NonSaturatingGeneratorLoss,
                            WassersteinGeneratorLoss)
from minigan.testing import SETTINGS, TOL, batches, logits_and_targets


@SETTINGS
@given(data=logits_and_targets())
def test_bce_with_logits_gradient(xp, data):
    a, t = data
    report = gradcheck.check_loss(BCEWithLogits(), xp.asarray(a), xp.asarray(t))
    assert report.passed(TOL), report


@SETTINGS
@given(data=logits_and_targets(low=-4, high=4))
def test_bce_on_probabilities_gradient(xp, data):
    a, t = data
    p = 1 / (1 + numpy.exp(-a))          # probabilities in [0.018, 0.982], inside the clip range
    report = gradcheck.check_loss(BCE(), xp.asarray(p), xp.asarray(t))
    assert report.passed(TOL), report


@SETTINGS
@given(data=logits_and_targets(), which=st.sampled_from([MinimaxGeneratorLoss, NonSaturatingGeneratorLoss]))
def test_generator_objective_gradients(xp, data, which):
    a, _ = data
    report = gradcheck.check_loss(which(), xp.asarray(a), None)
    assert report.passed(TOL), report


def test_hand_worked_bce_with_logits(xp):
    """a = [0, ln 3], t = [1, 0], N = 2.
    softplus(0) = ln 2, softplus(ln 3) = ln(1 + 3) = ln 4.
    L = ½[(ln 2 − 1·0) + (ln 4 − 0·ln 3)] = ½ ln 8 = 1.5 ln 2 ≈ 1.0397.
    σ(0) = ½, σ(ln 3) = 3/4, so ∂L/∂a = ½[½ − 1, ¾ − 0] = [−¼, 3/8].
    """
    loss = BCEWithLogits()
    L = loss.forward(xp.asarray([0.0, math.log(3)]), xp.asarray([1.0, 0.0]))
    assert float(L) == pytest.approx(1.5 * math.log(2), rel=1e-15)
    assert backend.to_numpy(loss.backward()) == pytest.approx([-0.25, 0.375], rel=1e-15)


@pytest.mark.parametrize("loss", [BCEWithLogits(), MinimaxGeneratorLoss(), NonSaturatingGeneratorLoss()], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_stay_finite(xp, loss, dtype):
    a = xp.asarray([[-1e4], [-100.0], [0.0], [100.0], [1e4]], dtype=dtype)
    value = loss.forward(a, xp.asarray([[1.0], [0.0], [1.0], [1.0], [0.0]], dtype=dtype))
    grad = backend.to_numpy(loss.backward())
    assert numpy.isfinite(float(value)) and numpy.isfinite(grad).all()
    assert grad.dtype == dtype


def test_bce_with_logits_huge_values_are_exact(xp):
    loss = BCEWithLogits()
    # a = −1e4 with target 1: −log σ(−1e4) = 1e4 exactly (softplus(1e4) = 1e4 + log1p(e^-1e4)).
    assert float(loss.forward(xp.asarray([-1e4]), xp.asarray([1.0]))) == 1e4
    assert backend.to_numpy(loss.backward()).tolist() == [-1.0]


def test_forms_agree(xp):
    a = xp.asarray(numpy.linspace(-6, 6, 25))
    p = 1 / (1 + xp.exp(-a))
    for t in (0.0, 1.0, 0.3):
        assert float(BCEWithLogits().forward(a, t)) == pytest.approx(float(BCE().forward(p, t)), rel=1e-12)
    # −log D(G(z)) is BCE against label 1; log(1 − D(G(z))) is minus BCE against label 0.
    assert float(NonSaturatingGeneratorLoss().forward(a)) == pytest.approx(float(BCEWithLogits().forward(a, 1)))
    assert float(MinimaxGeneratorLoss().forward(a)) == pytest.approx(-float(BCEWithLogits().forward(a, 0)))


def test_saturation_is_visible_in_the_gradients(xp):
    """When D confidently rejects a sample (D(G(z)) = σ(−10) ≈ 4.5e-5) the minimax gradient
    vanishes while the non-saturating one stays ≈ −1: the reason the paper recommends the latter."""
    a = xp.asarray([[-10.0]])
    mm, ns = MinimaxGeneratorLoss(), NonSaturatingGeneratorLoss()
    mm.forward(a), ns.forward(a)
    assert abs(float(mm.backward()[0, 0])) < 1e-4
    assert float(ns.backward()[0, 0]) == pytest.approx(-1, abs=1e-4)


def test_target_shape_mismatch_is_reported(xp):
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match predictions of shape \(2, 1\)"):
        BCEWithLogits().forward(xp.zeros((2, 1)), xp.zeros(3))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        BCE().backward()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_on_probabilities_at_exactly_0_and_1(xp, dtype):
    """p = [0, 1, 0, 1], t = [1, 0, 0, 1], N = 4: the two wrong answers first, then the two right ones.
    log 0 is −inf, so BCE clips p to [ε, 1 − ε] (ε = 1e-7) and evaluates everything there.
    Value: L = −¼[log ε + log(1 − (1 − ε)) + log(1 − ε) + log(1 − ε)]
             = −½[log ε + log(1 − ε)] = ½[16.1180957 + 1.0e-7] ≈ 8.0590479 nats.
    Gradient, the formula (p − t) / (p(1 − p)) / N at the clipped p:
        p = ε,     t = 1:  (ε − 1) / (ε(1 − ε)) / 4     = −1 / (4ε)       = −2.5e6
        p = 1 − ε, t = 0:  (1 − ε) / ((1 − ε)ε) / 4     = +1 / (4ε)       = +2.5e6
        p = ε,     t = 0:  ε / (ε(1 − ε)) / 4           = +1 / (4(1 − ε)) ≈ +0.25
        p = 1 − ε, t = 1:  −ε / ((1 − ε)ε) / 4          = −1 / (4(1 − ε)) ≈ −0.25
    The clipped function itself is flat outside [ε, 1 − ε], so a finite difference there would
    read 0; backward instead returns the formula at the clip, a large but finite push back towards
    the right answer. In float32, 1 − ε rounds to 1 − 1.19e-7, so only finiteness is checked there.
    """
    eps = 1e-7
    loss = BCE()                                   # ε = 1e-7 is the default
    p = xp.asarray([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    value = loss.forward(p, xp.asarray([1.0, 0.0, 0.0, 1.0], dtype=dtype))
    grad = backend.to_numpy(loss.backward())
    assert numpy.isfinite(float(value)) and numpy.isfinite(grad).all() and grad.dtype == dtype
    if dtype == "float64":
        assert float(value) == pytest.approx(-0.5 * (math.log(eps) + math.log1p(-eps)), rel=1e-8)
        assert grad == pytest.approx([-1 / (4 * eps), 1 / (4 * eps), 1 / (4 * (1 - eps)), -1 / (4 * (1 - eps))],
                                     rel=1e-8)


# ----- SoftmaxCrossEntropy ---------------------------------------------------------------------

from hypothesis.extra.numpy import arrays

from minigan.losses import SoftmaxCrossEntropy
from minigan.testing import assert_loss_gradients


@st.composite
def logits_and_class_targets(draw, max_rows=12, max_classes=10):
    """Float64 logits (B, C) in [−8, 8] and either integer labels (B,) or probability rows (B, C)."""
    B, C = draw(st.integers(1, max_rows)), draw(st.integers(1, max_classes))
    a = draw(arrays(numpy.float64, (B, C), elements=st.floats(-8, 8)))
    if draw(st.booleans()):
        return a, draw(arrays(numpy.int64, (B,), elements=st.integers(0, C - 1)))
    w = draw(arrays(numpy.float64, (B, C), elements=st.floats(0, 1))) + 1e-3
    return a, w / w.sum(axis=1, keepdims=True)


@SETTINGS
@given(data=logits_and_class_targets())
def test_softmax_cross_entropy_gradient(xp, data):
    a, t = data
    assert_loss_gradients(SoftmaxCrossEntropy(), xp.asarray(a), xp.asarray(t))


def test_hand_worked_softmax_cross_entropy(xp):
    """The example worked in SoftmaxCrossEntropy's docstring: a = [[0, ln 3], [0, 0]], labels [1, 0].
    s = [[¼, ¾], [½, ½]];  L = ½(−log ¾ − log ½) = ½ ln(8/3);  ∂L/∂a = ½(s − t) = [[⅛, −⅛], [−¼, ¼]]."""
    loss = SoftmaxCrossEntropy()
    L = loss.forward(xp.asarray([[0.0, math.log(3)], [0.0, 0.0]]), xp.asarray([1, 0]))
    assert L.shape == ()
    assert float(L) == pytest.approx(0.5 * math.log(8 / 3), rel=1e-14)
    assert backend.to_numpy(loss.backward()) == pytest.approx(numpy.array([[0.125, -0.125], [-0.25, 0.25]]),
                                                              rel=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_extreme_logits(xp, dtype):
    a = xp.asarray([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    loss = SoftmaxCrossEntropy()
    value = loss.forward(a, xp.asarray([1, 2, 0]))
    grad = backend.to_numpy(loss.backward())
    assert numpy.isfinite(float(value)) and numpy.isfinite(grad).all() and grad.dtype == dtype
    # row 1 is wrong by 2e4 nats, row 2 right (0), row 3 a tie of two: ln 2.
    assert float(value) == pytest.approx((2e4 + 0 + math.log(2)) / 3, rel=1e-6)
    assert grad == pytest.approx(numpy.array([[1, -1, 0], [0, 0, 0], [-0.5, 0.5, 0]]) / 3, abs=1e-6)


def test_softmax_cross_entropy_labels_equal_one_hot(xp):
    a = xp.asarray(numpy.random.default_rng(0).normal(0, 3, (7, 5)))
    labels = numpy.array([0, 4, 2, 2, 1, 3, 0])
    by_label, by_row = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    L1 = float(by_label.forward(a, xp.asarray(labels)))
    L2 = float(by_row.forward(a, xp.asarray(numpy.eye(5)[labels])))
    assert L1 == pytest.approx(L2, rel=1e-15)
    assert backend.to_numpy(by_label.backward()) == pytest.approx(backend.to_numpy(by_row.backward()), rel=1e-15)


def test_softmax_cross_entropy_rejects_bad_targets(xp):
    loss = SoftmaxCrossEntropy()
    a = xp.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.3 for 4 classes, got 4"):
        loss.forward(a, xp.asarray([0, 4, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.3 for 4 classes, got -1"):
        loss.forward(a, xp.asarray([0, -1, 1]))
    with pytest.raises(TypeError, match="must be integers, got float64"):
        loss.forward(a, xp.asarray([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target must be integer labels of shape \(3,\) or rows of shape \(3, 4\)"):
        loss.forward(a, xp.zeros((3, 5)))
    with pytest.raises(ValueError, match="each target row must sum to 1.*row 0 sums to 2"):
        loss.forward(a, xp.full((3, 4), 0.5))


@pytest.mark.parametrize("good, bad", [(1 + 5e-5, 0.5), (1 - 5e-5, 1.5)])
def test_softmax_cross_entropy_finds_the_worst_row(xp, good, bad):
    """Every row is checked, and the one named is the one farthest from 1, not the largest or the
    smallest sum: row 0 is inside the 1e-4 allowance, row 1 far outside. A row 1.5e-4 off is refused, 0.5e-4 off accepted."""
    loss, a = SoftmaxCrossEntropy(), xp.zeros((2, 2))
    rows = xp.asarray([[good / 2, good / 2], [bad / 2, bad / 2]])
    with pytest.raises(ValueError, match=f"row 1 sums to {bad:g}"):
        loss.forward(a, rows)
    assert numpy.isfinite(float(loss.forward(a, xp.asarray([[good / 2, good / 2], [0.5, 0.5]]))))
    with pytest.raises(ValueError, match="row 1 sums to 1.00015"):
        loss.forward(a, xp.asarray([[0.5, 0.5], [0.5, 0.5 + 1.5e-4]]))
    with pytest.raises(ValueError, match=r"expected logits of shape \(B, C\)"):
        loss.forward(xp.zeros(4), xp.asarray([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match="before forward"):
        SoftmaxCrossEntropy().backward()


@SETTINGS
@given(g=batches(low=-3, high=3), lam=st.sampled_from([1.0, 10.0]))
def test_gradient_penalty_gradient(xp, g, lam):
    """∂P/∂g of P = (λ/B) Σ (‖g_b‖ − 1)², against central differences (‖g_b‖ kept away from its kink at 0)."""
    assume(numpy.linalg.norm(g, axis=1).min() > 1e-3)
    report = gradcheck.check_loss(GradientPenalty(lam), xp.asarray(g), None)
    assert report.passed(TOL), report


def test_hand_worked_gradient_penalty(xp):
    """λ = 10, g = [[3, 4]]: ‖g‖ = 5, P = 10·(5 − 1)² = 160, ∂P/∂g = 2·10·4·[3, 4]/5 = [48, 64].
    λ = 10 is also the default: the WGAN-GP paper's Algorithm 1."""
    loss = GradientPenalty()
    assert float(loss.forward(xp.asarray([[3.0, 4.0]]))) == pytest.approx(160.0)
    assert backend.to_numpy(loss.backward())[0].tolist() == pytest.approx([48.0, 64.0])


def test_gradient_penalty_at_a_zero_gradient_is_finite(xp):
    """g = 0: P = λ (the norm is 0, one away from 1) and the subgradient 0 is returned, not 0/0 = NaN."""
    loss = GradientPenalty(10.0)
    assert float(loss.forward(xp.zeros((2, 3)))) == pytest.approx(10.0)
    assert (backend.to_numpy(loss.backward()) == 0).all()


@SETTINGS
@given(data=logits_and_targets())
def test_wasserstein_generator_loss_gradient(xp, data):
    """L_G = −mean f, ∂L_G/∂f = −1/N, against central differences (exact: L_G is linear)."""
    f, _ = data
    report = gradcheck.check_loss(WassersteinGeneratorLoss(), xp.asarray(f), None)
    assert report.passed(TOL), report
