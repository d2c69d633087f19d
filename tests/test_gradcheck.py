"""gradcheck must catch wrong gradients, not only pass right ones."""
import numpy
import pytest

from minigan import backend, gradcheck
from minigan.layers import Dense, Maxout, ReLU
from minigan.losses import BCE


class WrongDense(Dense):
    """A classic bug: the bias gradient forgets to sum over the batch (takes row 0 only)."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"] = dy[0]
        return dx


class WrongScale(ReLU):
    """Another: a factor of 2 too much in ∂L/∂x."""

    def backward(self, dy):
        return 2 * super().backward(dy)


def test_full_check_finds_the_wrong_entry(xp):
    layer = WrongDense(3, 2, irange=1.0, rng=0, dtype="float64")
    report = gradcheck.check_layer(layer, xp.asarray(numpy.random.default_rng(0).uniform(-1, 1, (4, 3))))
    assert not report.passed(1e-6)
    assert report.where.startswith("0.b")
    assert report.max_rel_error > 0.1


@pytest.mark.parametrize("mode", ["full", "random"])
def test_both_modes_reject_a_wrong_scale(xp, mode):
    x = xp.asarray(numpy.random.default_rng(1).uniform(0.1, 1, (3, 4)))
    assert not gradcheck.check_layer(WrongScale(), x, mode=mode).passed(1e-6)
    assert gradcheck.check_layer(ReLU(), x, mode=mode).passed(1e-6)


def test_random_mode_passes_a_right_layer_cheaply(xp):
    layer = Dense(30, 20, irange=1.0, rng=0, dtype="float64")
    report = gradcheck.check_layer(layer, xp.asarray(numpy.random.default_rng(2).normal(size=(8, 30))), mode="random")
    assert report.passed(1e-6) and report.n_checked == 4


def test_numerical_gradient_of_a_known_function(xp):
    x = xp.asarray([1.0, -2.0, 0.5])
    grad = gradcheck.numerical_gradient(lambda: (x ** 3).sum(), x)
    assert numpy.allclose(grad, [3.0, 12.0, 0.75], rtol=1e-9)
    assert backend.to_numpy(x).tolist() == [1.0, -2.0, 0.5]        # restored exactly


def test_numerical_gradient_of_a_transposed_array(xp):
    """A non-contiguous x (here a transpose) must be perturbed in place too, not a copy of it."""
    x = xp.asarray([[1.0, -2.0], [0.5, 3.0]]).T                    # (2, 2), Fortran order
    grad = gradcheck.numerical_gradient(lambda: (x ** 3).sum(), x)
    assert numpy.allclose(grad, 3 * backend.to_numpy(x) ** 2, rtol=1e-9)


def test_float32_is_refused(xp):
    with pytest.raises(TypeError, match="float64"):
        gradcheck.check_layer(Dense(2, 2), xp.ones((1, 2), dtype=xp.float32))


def test_kink_distance(xp):
    assert gradcheck.kink_distance(ReLU(), xp.asarray([[0.3, -0.2]])) == pytest.approx(0.2)
    layer = Maxout(1, 1, 2, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, 1.5]])
    assert gradcheck.kink_distance(layer, xp.asarray([[2.0]])) == pytest.approx(1.0)
    assert gradcheck.kink_distance(Dense(1, 1, dtype="float64"), xp.zeros((1, 1))) == float("inf")


def test_report_reads_well():
    r = gradcheck.Report(2e-3, "0.W[1, 2]", 1.5, 1.503, 10)
    assert "max relative error 2.00e-03 at 0.W[1, 2]" in str(r) and not r.passed()


class HalfBCE(BCE):
    """A wrong BCE gradient: half of ∂L/∂p."""

    def backward(self):
        return super().backward() / 2


@pytest.mark.parametrize("mode", ["full", "random"])
def test_a_gradient_near_zero_everywhere_is_judged_beyond_round_off(xp, mode):
    """Found by hypothesis: BCE at p = ½ with t just below ½, a loss near its minimum.
    ∂L/∂p = (p − t) / (p(1 − p)) / N = 1.2283e-4 / 0.25 / 8 ≈ 6.14e-5 for every entry, so the
    gradient's whole scale is 6e-5, while round-off in L ≈ ln 2 moves a central difference by
    ~ε · 0.69 / 1e-6 ≈ 1.5e-10: 2.5e-6 of that scale. Round-off must not fail the right
    gradient, and a wrong one (half of it, 3e-5 off) must still fail."""
    p, t = xp.full((1, 8), 0.5), xp.full((1, 8), 0.49987716944900307)   # the exact failing value
    right = gradcheck.check_loss(BCE(), p, t, mode=mode)
    assert right.passed(1e-6) and right.roundoff < 1e-3
    wrong = gradcheck.check_loss(HalfBCE(), p, t, mode=mode)       # error ½ of the scale
    assert not wrong.passed(1e-6) and wrong.max_rel_error > 0.4


class NaNGradient(ReLU):
    """A backward whose ∂L/∂x has one NaN entry (e.g. a 0/0 at a kink)."""

    def backward(self, dy):
        dx = super().backward(dy)
        dx[0, 1] = float("nan")
        return dx


class DividesByTheMask(Dense):
    """Dividing by a mask with zeros instead of multiplying: inf entries in the weight gradient."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"][0, 1] = float("inf")                         # what W / mask gives at a 0 of the mask
        return dx


@pytest.mark.parametrize("make", [NaNGradient, lambda: DividesByTheMask(3, 2, irange=1.0, rng=0, dtype="float64")],
                         ids=["nan", "inf"])
@pytest.mark.parametrize("mode", ["full", "random"])
def test_a_non_finite_analytic_gradient_fails_and_names_its_entry(xp, make, mode):
    """issue 23, item 17: a NaN never compared as the worst error, and one inf entry made the scale
    inf and every error 0, so both passed with error 0.0."""
    layer = make()                                  # built on the backend under test
    x = xp.asarray(numpy.random.default_rng(3).uniform(0.1, 1, (4, 3)))
    report = gradcheck.check_layer(layer, x, mode=mode)
    assert not report.passed(1e-6) and report.max_rel_error == float("inf")
    assert "not finite" in report.where
    if mode == "full":
        assert "[0, 1] (not finite)" in report.where, report.where


def test_the_kit_names_a_non_finite_entry_and_hints_at_its_cause(xp):
    from minigan.testing import assert_layer_gradients
    x = numpy.random.default_rng(3).uniform(0.1, 1, (4, 3))
    with pytest.raises(AssertionError, match=r"(?s)∂L/∂x\[0, 1\] \(not finite\).*analytic:\s+nan.*"
                                             r"relative error:\s+inf.*division by zero"):
        assert_layer_gradients(NaNGradient(), x)


def test_a_non_finite_function_value_fails_and_says_so(xp):
    a = xp.asarray(numpy.array([1.0, 2.0]))
    report = gradcheck.compare(lambda: (a * float("nan")).sum(), {"a": a}, {"a": a})
    assert not report.passed(1e-6) and "the function itself (f() = nan)" in str(report)


class ReturnsNothing(ReLU):
    def backward(self, dy):
        super().backward(dy)                       # forgets to return ∂L/∂x


class FlatOutput(ReLU):
    def forward(self, x, train=True):
        return super().forward(x, train).sum(axis=1)              # (B,), not (B, O)


class NoGrads(Dense):
    def backward(self, dy):
        return dy @ self.params["W"].T                             # ∂L/∂x only: grads never set


class WrongShapeGrad(Dense):
    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"] = self.grads["W"].T
        return dx


@pytest.mark.parametrize("make, words", [
    (ReturnsNothing, r"ReturnsNothing\(\): backward\(dy\), ∂L/∂x, must have shape \(4, 3\); got NoneType"),
    (FlatOutput, r"FlatOutput\(\): forward must return a 2-D array \(B, O\) \(or \(B, \.\.\.\) with more axes\) with B = 4 input rows; got shape \(4,\)"),
    (lambda: NoGrads(3, 2, 1.0, 0, "float64"), r"Dense\(3→2\): backward left no grads\['W'\]"),
    (lambda: WrongShapeGrad(3, 2, 1.0, 0, "float64"), r"Dense\(3→2\): grads\['W'\] must have shape \(3, 2\); "
                                                      r"got shape \(2, 3\)"),
])
def test_check_layer_names_a_broken_interface_in_one_line(xp, make, words):
    """issue 23, item 9: these gave raw AttributeError, KeyError or reshape errors (and a (B,)
    forward passed silently)."""
    x = xp.asarray(numpy.random.default_rng(0).uniform(0.1, 1, (4, 3)))
    with pytest.raises(ValueError, match=words):
        gradcheck.check_layer(make(), x)


def test_tolerance_and_step_are_checked(xp):
    x = xp.asarray(numpy.random.default_rng(0).uniform(0.1, 1, (2, 3)))
    report = gradcheck.check_layer(ReLU(), x)
    for tol in (-1e-6, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tol must be a finite number ≥ 0"):
            report.passed(tol)
    for h in (0.0, -1e-6, float("nan")):
        with pytest.raises(ValueError, match="h must be a finite step > 0"):
            gradcheck.check_layer(ReLU(), x, h=h)
