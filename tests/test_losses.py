"""Losses: gradients by finite differences, stability at extreme logits, agreement between forms."""
import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.losses import BCE, BCEWithLogits, MinimaxGeneratorLoss, NonSaturatingGeneratorLoss
from minigan.testing import SETTINGS, TOL, logits_and_targets


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
    loss = BCE(eps)
    p = xp.asarray([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    value = loss.forward(p, xp.asarray([1.0, 0.0, 0.0, 1.0], dtype=dtype))
    grad = backend.to_numpy(loss.backward())
    assert numpy.isfinite(float(value)) and numpy.isfinite(grad).all() and grad.dtype == dtype
    if dtype == "float64":
        assert float(value) == pytest.approx(-0.5 * (math.log(eps) + math.log1p(-eps)), rel=1e-8)
        assert grad == pytest.approx([-1 / (4 * eps), 1 / (4 * eps), 1 / (4 * (1 - eps)), -1 / (4 * (1 - eps))],
                                     rel=1e-8)
