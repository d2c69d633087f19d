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
    (lambda: NoGrads(3, 2, 1.0, 0, "float64"), r"NoGrads\(3→2\): backward left no grads\['W'\]"),
    (lambda: WrongShapeGrad(3, 2, 1.0, 0, "float64"), r"WrongShapeGrad\(3→2\): grads\['W'\] must have shape \(3, 2\); "
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


# ----- issue 23, item 18: mutation survivors pinned (python .ci/mutants.py minigan/gradcheck.py) --
from minigan.layers import Sigmoid  # noqa: E402
from minigan.network import Sequential  # noqa: E402


def test_passed_sits_exactly_at_its_edges():
    """Passes at error = tol + allowance exactly, fails one ulp above; tol = 0 is allowed; the
    default tol is 1e-6."""
    at = gradcheck.Report(1e-6 + 1e-9, "x[0]", 1.0, 1.0, 1, roundoff=1e-9)
    assert at.passed(1e-6) and not gradcheck.Report(numpy.nextafter(1e-6, 1), "x[0]", 1, 1, 1).passed(1e-6)
    assert gradcheck.Report(0.0, "x[0]", 1, 1, 1).passed(0)
    assert gradcheck.Report(0.9e-6, "x[0]", 1, 1, 1).passed() and not gradcheck.Report(1.5e-6, "x[0]", 1, 1, 1).passed()


def test_the_default_step_is_1e_minus_6_everywhere():
    import inspect
    for f in (gradcheck.numerical_gradient, gradcheck.compare, gradcheck.check_network, gradcheck.check_loss):
        assert inspect.signature(f).parameters["h"].default == 1e-6, f.__name__
    with pytest.raises(ValueError, match="h must be a finite step > 0"):
        gradcheck.compare(lambda: 0.0, {}, {}, h=float("inf"))


def test_the_round_off_allowance_is_the_stated_formula(xp):
    """r = C · ε · |f| / h with C = 64 (the module docstring's), on the gradient's scale: here
    f = Σ c·x = 10 with ∂f/∂x = c, whose largest entry is 4, in both modes."""
    x, c = xp.asarray([1.0, 2.0]), xp.asarray([2.0, 4.0])
    for mode in ("full", "random"):
        report = gradcheck.compare(lambda: (c * x).sum(), {"x": x}, {"x": c}, mode=mode, n_directions=1)
        scale = 4.0 if mode == "full" else max(abs(report.analytic), abs(report.numeric))
        assert report.roundoff == pytest.approx(64 * numpy.finfo(float).eps * 10 / 1e-6 / scale, rel=1e-9)
    assert gradcheck.ROUNDOFF_ULPS == 64


def test_full_mode_counts_every_entry_and_checks_one_entry_arrays(xp):
    layer = Dense(3, 1, 1.0, 0, "float64")                  # b has a single entry
    x = xp.asarray(numpy.random.default_rng(0).uniform(-1, 1, (2, 3)))
    assert gradcheck.check_layer(layer, x).n_checked == 2 * 3 + 3 * 1 + 1

    class WrongBias(Dense):
        def backward(self, dy, **kw):
            dx = super().backward(dy, **kw)
            self.grads["b"] = 3 * self.grads["b"]
            return dx
    report = gradcheck.check_layer(WrongBias(3, 1, 1.0, 0, "float64"), x)
    assert not report.passed() and report.where == "0.b[0]"


def test_an_exact_and_an_all_zero_gradient(xp):
    """f = 2x₀ + 3x₁ (exact differences): error 0 and an entry named; f = 0: error 0, passed."""
    x = xp.asarray([1.0, 1.0])
    exact = gradcheck.compare(lambda: 2 * x[0] + 3 * x[1], {"x": x}, {"x": xp.asarray([2.0, 3.0])})
    assert exact.max_rel_error < 1e-9 and exact.where.startswith("x[") and exact.passed()
    zero = gradcheck.compare(lambda: 0 * x.sum(), {"x": x}, {"x": xp.zeros(2)})
    assert zero.max_rel_error == 0 and zero.roundoff == 0 and zero.passed() and zero.where.startswith("x[")
    bad = gradcheck.compare(lambda: float("nan"), {"x": x}, {"x": xp.zeros(2)})
    assert bad.n_checked == 0 and bad.roundoff == 0 and not bad.passed()


def test_random_mode_reports_its_worst_direction(xp):
    """One entry of 50 is wrong: directions differ in how much they see of it, and the report must
    be the one furthest beyond its allowance, computed here from the same directions."""
    c = numpy.random.default_rng(1).uniform(1, 2, 50)
    x = xp.asarray(numpy.ones(50))
    wrong = c.copy()
    wrong[7] += 0.5
    report = gradcheck.compare(lambda: (xp.asarray(c) * x).sum(), {"x": x}, {"x": xp.asarray(wrong)},
                               mode="random", n_directions=4, seed=3)
    rng = numpy.random.default_rng(3)
    errors = []
    for _ in range(4):
        u = rng.standard_normal(50)
        ana, num = (wrong * u).sum(), (c * u).sum()
        errors.append(abs(ana - num) / max(abs(ana), abs(num)))
    assert report.where == f"direction {int(numpy.argmax(errors))}"
    assert report.max_rel_error == pytest.approx(max(errors), rel=1e-6)


def test_layer_name_of_a_layer_without_its_own_repr():
    class Plain:
        pass
    assert gradcheck.layer_name(Plain()) == "Plain()" and gradcheck.layer_name(Dense(2, 3)) == "Dense(2→3)"

    class SlippedDense(Dense):           # inherits Dense's repr: named by its own class
        pass
    assert gradcheck.layer_name(SlippedDense(2, 3)) == "SlippedDense(2→3)"


def test_a_loss_of_two_inputs_must_return_two_gradients(xp):
    class OneGrad:
        def forward(self, pred, target):
            self.pred = pred
            return (pred[0] * pred[1]).sum()

        def backward(self):
            return self.pred[1]
    class Product(OneGrad):                  # L = Σ a·b: ∂L/∂a = b, ∂L/∂b = a, as a tuple
        def backward(self):
            return self.pred[1], self.pred[0]
    a = xp.ones((2, 2))
    report = gradcheck.check_loss(Product(), (a, 2 * a), None)
    assert report.passed() and report.n_checked == 8
    with pytest.raises(ValueError, match=r"OneGrad\(\): forward took 2 inputs \(a tuple\), so backward must return a "
                                         r"tuple of 2 gradients in the same order; got ndarray"):
        gradcheck.check_loss(OneGrad(), (a, a.copy()), None)


def test_kink_distances_by_hand(xp):
    """Maxout with a bias, 2 rows, 3 pieces: z = x W + b; the gap between the best two pieces.
    Row 0, x = 1: z = [1 + 0.5, 2 − 1, 4 + 0] = [1.5, 1, 4]: best two 4 and 1.5, gap 2.5.
    Row 1, x = 2: z = [2.5, 3, 8]: gap 5. Smallest: 2.5 (the third piece must not count)."""
    layer = Maxout(1, 1, 3, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, 2.0, 4.0]])
    layer.params["b"][...] = xp.asarray([0.5, -1.0, 0.0])
    assert gradcheck.kink_distance(layer, xp.asarray([[1.0], [2.0]])) == pytest.approx(2.5)
    # A network's distance is the smallest over its layers: the ReLU reads x W + b = 0.05 and 2.05.
    dense = Dense(1, 1, 1.0, 0, "float64")
    dense.params["W"][...] = xp.asarray([[1.0]])
    dense.params["b"][...] = xp.asarray([-0.95])
    net = Sequential([dense, ReLU(), Sigmoid()])
    assert gradcheck.network_kink_distance(net, xp.asarray([[1.0], [3.0]])) == pytest.approx(0.05)
