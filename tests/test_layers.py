"""Layers: finite-difference checks of every backward pass, semantics, dtypes, misuse."""
import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.layers import Dense, Dropout, Maxout, ReLU, Sigmoid, sigmoid
from minigan.testing import SETTINGS, TOL, assert_double_backward, away_from_kinks, batches


def randomize_bias(layer, seed):
    """Non-zero biases, so that the bias gradient is exercised and maxout ties at x = 0 are broken."""
    rng = numpy.random.default_rng(seed)
    layer.params["b"][...] = backend.asarray(rng.uniform(-1, 1, layer.params["b"].shape))


@SETTINGS
@given(x=batches(), n_out=st.integers(1, 32), seed=st.integers(0, 2**16))
def test_dense_gradients(xp, x, n_out, seed):
    layer = Dense(x.shape[1], n_out, irange=1.0, rng=seed, dtype="float64")
    randomize_bias(layer, seed)
    report = gradcheck.check_layer(layer, xp.asarray(x), seed=seed)
    assert report.passed(TOL), report


@SETTINGS
@given(x=batches(), seed=st.integers(0, 2**16))
def test_relu_gradients(xp, x, seed):
    report = gradcheck.check_layer(ReLU(), xp.asarray(away_from_kinks(x)), seed=seed)
    assert report.passed(TOL), report


@SETTINGS
@given(x=batches(low=-6, high=6), seed=st.integers(0, 2**16))
def test_sigmoid_gradients(xp, x, seed):
    report = gradcheck.check_layer(Sigmoid(), xp.asarray(x), seed=seed)
    assert report.passed(TOL), report


@SETTINGS
@given(x=batches(), units=st.integers(1, 32), pieces=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_maxout_gradients(xp, x, units, pieces, seed):
    layer = Maxout(x.shape[1], units, pieces, irange=1.0, rng=seed, dtype="float64")
    randomize_bias(layer, seed)
    x = xp.asarray(x)
    # A perturbation of h = 1e-6 moves a piece by at most h·Σ|W| ≲ 3e-5: gaps above 1e-4 are safe.
    assume(gradcheck.kink_distance(layer, x) > 1e-4)
    report = gradcheck.check_layer(layer, x, seed=seed)
    assert report.passed(TOL), report


@SETTINGS
@given(x=batches(), p=st.sampled_from([0.2, 0.5, 0.8, 1.0]), seed=st.integers(0, 2**16))
def test_dropout_gradients(xp, x, p, seed):
    report = gradcheck.check_layer(Dropout(p), xp.asarray(x), seed=seed)
    assert report.passed(TOL), report


def test_hand_worked_maxout_and_dense(xp):
    """One tiny example worked by hand; every number below is checked on paper.

    Maxout with I = 2 inputs, U = 1 unit, K = 2 pieces, x = [1, 2]:
        W = [[1, 3],     z = x W + b = [1·1 + 2·(−1), 1·3 + 2·0] + [0, 0.5]
             [−1, 0]]                = [−1, 3.5]
        b = [0, 0.5]     y = max(−1, 3.5) = 3.5, piece 1 wins.
    Backward with dy = 2: dz = [0, 2] (only the winner), so
        ∂L/∂W = xᵀ dz = [[0, 2], [0, 4]],  ∂L/∂b = [0, 2],  ∂L/∂x = dz Wᵀ = [2·3, 2·0] = [6, 0].
    """
    layer = Maxout(2, 1, 2, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, 3.0], [-1.0, 0.0]])
    layer.params["b"][...] = xp.asarray([0.0, 0.5])
    y = layer.forward(xp.asarray([[1.0, 2.0]]))
    assert backend.to_numpy(y).tolist() == [[3.5]]
    dx = layer.backward(xp.asarray([[2.0]]))
    assert backend.to_numpy(dx).tolist() == [[6.0, 0.0]]
    assert backend.to_numpy(layer.grads["W"]).tolist() == [[0.0, 2.0], [0.0, 4.0]]
    assert backend.to_numpy(layer.grads["b"]).tolist() == [0.0, 2.0]


def test_maxout_groups_consecutive_columns_and_routes_to_argmax(xp):
    layer = Maxout(1, 2, 3, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, 5.0, 2.0, -1.0, -2.0, -3.0]])   # unit 0: cols 0-2, unit 1: 3-5
    y = layer.forward(xp.asarray([[1.0]]))
    assert backend.to_numpy(y).tolist() == [[5.0, -1.0]]
    layer.backward(xp.asarray([[1.0, 10.0]]))
    assert backend.to_numpy(layer.grads["b"]).tolist() == [0.0, 1.0, 0.0, 10.0, 0.0, 0.0]


@SETTINGS
@given(x=batches(low=-1, high=1), units=st.integers(1, 8), pieces=st.integers(1, 6),
       seed=st.integers(0, 2**16), rounded=st.booleans())
def test_maxout_max_by_pieces_equals_max_and_first_argmax(xp, x, units, pieces, seed, rounded):
    """The piece-by-piece loop computes exactly z.max(axis=2) and z.argmax(axis=2) (the first
    maximal piece); rounding the weights to 0 or ±1 makes ties common."""
    layer = Maxout(x.shape[1], units, pieces, irange=1.0, rng=seed, dtype="float64")
    if rounded:
        layer.params["W"][...] = xp.round(layer.params["W"])
        x = numpy.round(x)
    y = backend.to_numpy(layer.forward(xp.asarray(x)))
    z = backend.to_numpy(xp.asarray(x) @ layer.params["W"])            # (B, U·K), biases are 0
    z = z.reshape(x.shape[0], units, pieces)                           # (B, U, K)
    assert numpy.array_equal(y, z.max(axis=2))
    assert numpy.array_equal(backend.to_numpy(layer.winner), z.argmax(axis=2))


def test_maxout_tie_goes_to_first_piece(xp):
    layer = Maxout(1, 1, 3, dtype="float64")          # all weights set equal: a three-way tie
    layer.params["W"][...] = 1.0
    layer.forward(xp.asarray([[2.0]]))
    layer.backward(xp.asarray([[1.0]]))
    assert backend.to_numpy(layer.grads["b"]).tolist() == [1.0, 0.0, 0.0]


def test_relu_derivative_at_zero_is_zero(xp):
    layer = ReLU()
    layer.forward(xp.asarray([[0.0, -1.0, 2.0]]))
    assert backend.to_numpy(layer.backward(xp.ones((1, 3)))).tolist() == [[0.0, 0.0, 1.0]]


def test_sigmoid_is_stable_and_exact(xp):
    a = xp.asarray([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=xp.float32)
    y = backend.to_numpy(sigmoid(a))
    assert numpy.isfinite(y).all()
    assert y.tolist()[0][2] == 0.5 and y[0, 0] == 0.0 and y[0, 4] == 1.0
    z = numpy.linspace(-20, 20, 41)
    assert numpy.allclose(backend.to_numpy(sigmoid(xp.asarray(z))), 1 / (1 + numpy.exp(-z)), rtol=1e-14)


def test_dropout_keeps_about_p_and_scales(xp):
    layer = Dropout(0.8, rng=0)                                  # scale defaults to 1/0.8 = 1.25
    y = backend.to_numpy(layer.forward(xp.ones((200, 500), dtype=xp.float32)))
    kept = y != 0
    assert set(numpy.unique(y).tolist()) == {0.0, 1.25}
    assert abs(kept.mean() - 0.8) < 0.01                         # 100,000 draws: sd of the mean is 0.0013
    assert abs(y.mean() - 1.0) < 0.02                            # E[y] = x


def test_dropout_custom_scale_and_eval_identity(xp):
    layer = Dropout(0.5, scale=3.0, rng=0)
    x = xp.ones((4, 8), dtype=xp.float32)
    assert set(numpy.unique(backend.to_numpy(layer.forward(x))).tolist()) <= {0.0, 3.0}
    assert layer.forward(x, train=False) is x


@pytest.mark.parametrize("make", [lambda d: Dense(3, 2, dtype=d), lambda d: ReLU(), lambda d: Sigmoid(),
                                  lambda d: Maxout(3, 2, 2, dtype=d), lambda d: Dropout(0.5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_preserve_dtype(xp, make, dtype):
    layer = make(dtype)
    y = layer.forward(xp.ones((2, 3), dtype=dtype))
    assert y.dtype == dtype
    assert layer.backward(xp.ones(y.shape, dtype=dtype)).dtype == dtype
    assert all(g.dtype == dtype for g in layer.grads.values())
    assert all(p.dtype == dtype for p in layer.params.values())


@pytest.mark.parametrize("make", [lambda: Dense(3, 2), ReLU, Sigmoid, lambda: Maxout(3, 2, 2), lambda: Dropout(0.5)],
                         ids=["Dense", "ReLU", "Sigmoid", "Maxout", "Dropout"])
def test_backward_refuses_a_dy_of_another_dtype(xp, make):
    """A float64 dy into a float32 layer used to come back as a float64 ∂L/∂x (NumPy promotes);
    now it is refused, naming both dtypes and the cast (issue 23, item 9)."""
    layer = make()
    y = layer.forward(xp.ones((2, 3), dtype="float32"))
    with pytest.raises(TypeError, match=r"expected dy of dtype float32 to match the last forward\(\), "
                                        r"got float64; cast it with dy.astype\('float32'\)"):
        layer.backward(xp.ones(y.shape, dtype="float64"))
    assert layer.backward(xp.ones(y.shape, dtype="float32")).dtype == "float32"


def test_initialisation_ranges_and_seed(xp):
    a, b = Dense(50, 60, irange=0.05, rng=3), Dense(50, 60, irange=0.05, rng=3)
    W = backend.to_numpy(a.params["W"])
    assert numpy.abs(W).max() <= 0.05 and numpy.abs(W).max() > 0.04      # fills the range
    assert numpy.array_equal(W, backend.to_numpy(b.params["W"]))          # same seed, same weights
    assert not backend.to_numpy(a.params["b"]).any()                      # biases start at zero
    a.set_bias(numpy.arange(60))
    assert backend.to_numpy(a.params["b"])[59] == 59
    with pytest.raises(ValueError, match="60 entries"):
        a.set_bias(numpy.zeros(3))


def test_wrong_width_names_layer_and_shapes(xp):
    with pytest.raises(ValueError, match=r"Dense\(4→2\): expected input of shape \(B, 4\), got \(3, 5\)"):
        Dense(4, 2).forward(xp.ones((3, 5), dtype=xp.float32))
    with pytest.raises(ValueError, match=r"Maxout\(4→2×3\).*\(B, 4\)"):
        Maxout(4, 2, 3).forward(xp.ones((3, 7), dtype=xp.float32))
    with pytest.raises(ValueError, match="2-D input"):
        ReLU().forward(xp.ones(5, dtype=xp.float32))


def test_wrong_dtype_says_how_to_fix(xp):
    with pytest.raises(TypeError, match="expected float32 input, got float64; build the layer with dtype"):
        Dense(2, 2).forward(xp.ones((1, 2)))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("make", [ReLU, Sigmoid, lambda: Dropout(0.5, rng=0)], ids=["ReLU", "Sigmoid", "Dropout"])
def test_layers_without_parameters_take_any_floating_dtype(xp, make, dtype):
    """Built with their defaults, ReLU(), Sigmoid() and Dropout(p) return the dtype they are given:
    float64 in, float64 out (what a gradient check needs)."""
    layer = make()
    x = xp.asarray(numpy.random.default_rng(0).normal(size=(4, 6)), dtype=dtype)
    y = layer.forward(x)
    assert y.dtype == dtype and y.shape == (4, 6)
    assert layer.backward(xp.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("make", [ReLU, Sigmoid, lambda: Dropout(0.5), lambda: Dense(3, 2), lambda: Maxout(3, 2, 2)],
                         ids=["ReLU", "Sigmoid", "Dropout", "Dense", "Maxout"])
def test_non_floating_input_says_to_cast(xp, make, dtype):
    with pytest.raises(TypeError, match=rf"expected a floating-point input, got {dtype}; cast it first"):
        make().forward(xp.ones((2, 3), dtype=dtype))


@pytest.mark.parametrize("pieces, beyond", [(200, 127), (300, 255)])
def test_maxout_works_for_many_pieces(xp, pieces, beyond):
    """More pieces than an int8 (the winner index once overflowed at K = 128) or a byte can count."""
    layer = Maxout(3, 2, pieces, irange=1.0, rng=0, dtype="float64")
    x = xp.asarray(numpy.random.default_rng(1).normal(size=(8, 3)))
    y = backend.to_numpy(layer.forward(x))
    z = backend.to_numpy(x @ layer.params["W"]).reshape(8, 2, pieces)   # biases are 0
    assert numpy.array_equal(y, z.max(axis=2))
    assert numpy.array_equal(backend.to_numpy(layer.winner), z.argmax(axis=2))
    assert backend.to_numpy(layer.winner).max() > beyond                # some winner beyond that type
    layer.backward(xp.ones((8, 2)))                                     # dy = 1: ∂L/∂b counts each piece's wins
    wins = numpy.zeros((2, pieces))
    for row in z.argmax(axis=2):
        wins[[0, 1], row] += 1
    assert numpy.array_equal(backend.to_numpy(layer.grads["b"]).reshape(2, pieces), wins)


@pytest.mark.parametrize("args, name", [((4, 3, 0), "pieces"), ((4, 0, 3), "units"), ((0, 3, 3), "n_in"),
                                        ((4, 2.5, 3), "units")])
def test_maxout_refuses_bad_sizes_at_construction(args, name):
    with pytest.raises(ValueError, match=rf"Maxout: {name} must be a whole number ≥ 1, got"):
        Maxout(*args)


def test_dense_refuses_bad_sizes_at_construction():
    with pytest.raises(ValueError, match=r"Dense: n_out must be a whole number ≥ 1, got 0"):
        Dense(3, 0)


@pytest.mark.parametrize("layer", [Dense(2, 2), ReLU(), Sigmoid(), Maxout(2, 2, 2), Dropout(0.5)],
                         ids=repr)
def test_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward"):
        layer.backward(numpy.ones((1, 2), dtype=numpy.float32))


def test_backward_shape_mismatch(xp):
    layer = Dense(3, 2)
    layer.forward(xp.ones((4, 3), dtype=xp.float32))
    with pytest.raises(ValueError, match=r"expected dy of shape \(4, 2\)"):
        layer.backward(xp.ones((5, 2), dtype=xp.float32))


def test_dropout_backward_after_eval_forward_is_an_error(xp):
    layer = Dropout(0.5)
    layer.forward(xp.ones((2, 2), dtype=xp.float32), train=False)
    with pytest.raises(RuntimeError, match="train=True"):
        layer.backward(xp.ones((2, 2), dtype=xp.float32))


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match=r"include_prob must be in \(0, 1\], got 1.5"):
        Dropout(1.5)


@pytest.mark.parametrize("make", [lambda: Dense(5, 4, 1.0, 0, "float64"), lambda: Maxout(5, 2, 3, 1.0, 0, "float64")],
                         ids=["Dense", "Maxout"])
def test_work_saving_switches_change_nothing_else(xp, make):
    layer = make()
    x = xp.asarray(numpy.random.default_rng(0).normal(size=(3, 5)))
    y = layer.forward(x)
    dy = xp.asarray(numpy.random.default_rng(1).normal(size=y.shape))
    dx = backend.to_numpy(layer.backward(dy))
    full = {k: backend.to_numpy(g).copy() for k, g in layer.grads.items()}
    for g in layer.grads.values():
        g[...] = 7.0                                          # poison: param_grads=False must not write
    assert numpy.array_equal(backend.to_numpy(layer.backward(dy, param_grads=False)), dx)
    assert all((backend.to_numpy(g) == 7.0).all() for g in layer.grads.values())
    assert layer.backward(dy, input_grad=False) is None
    assert all(numpy.array_equal(backend.to_numpy(layer.grads[k]), full[k]) for k in full)


@pytest.mark.parametrize("make", [lambda: Dense(5, 4, 1.0, 0, "float64"), lambda: Maxout(5, 2, 3, 1.0, 0, "float64"),
                                  lambda: ReLU(), lambda: Sigmoid(), lambda: Dropout(0.5, rng=0)],
                         ids=["Dense", "Maxout", "ReLU", "Sigmoid", "Dropout"])
def test_rows_switch_equals_zero_padding(xp, make):
    """backward(dy_rows, rows=slice(2, None)) is backward of dy with zeros in rows 0-1, restricted to rows 2-."""
    layer = make()
    y = layer.forward(xp.asarray(numpy.random.default_rng(0).normal(size=(5, 5))))
    dy = numpy.random.default_rng(1).normal(size=y.shape)
    dy[:2] = 0
    dx = backend.to_numpy(layer.backward(xp.asarray(dy)))
    full = {k: backend.to_numpy(g).copy() for k, g in layer.grads.items()}
    dx_rows = backend.to_numpy(layer.backward(xp.asarray(dy[2:]), rows=slice(2, None)))
    assert dx_rows.shape == (3, 5)
    assert numpy.allclose(dx_rows, dx[2:], rtol=1e-14, atol=0)
    assert all(numpy.allclose(backend.to_numpy(layer.grads[k]), full[k], rtol=1e-14, atol=1e-300) for k in full)
    with pytest.raises(ValueError, match=r"expected dy of shape \(3, "):
        layer.backward(xp.asarray(dy), rows=slice(2, None))


# ----- the third pass (double_backward), for the gradient penalty ---------------------------

@SETTINGS
@given(x=batches(), n_out=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_dense_double_backward(xp, x, n_out, seed):
    """Dense's third pass: ∂P/∂W = rᵀ dy, ∂P/∂b = 0, ∂P/∂dy = r W, against central differences."""
    layer = Dense(x.shape[1], n_out, irange=1.0, rng=seed, dtype="float64")
    randomize_bias(layer, seed)
    assert assert_double_backward(layer, xp.asarray(x), seed=seed).passed(TOL)


@SETTINGS
@given(x=batches(), seed=st.integers(0, 2**16))
def test_relu_and_dropout_double_backward(xp, x, seed):
    assert_double_backward(ReLU(), xp.asarray(away_from_kinks(x)), seed=seed)
    assert_double_backward(Dropout(0.5), xp.asarray(x), seed=seed)


@SETTINGS
@given(x=batches(max_width=16), units=st.integers(1, 8), pieces=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_maxout_double_backward(xp, x, units, pieces, seed):
    """Maxout's third pass. Its winners must not change under ±h: gaps above 1e-4, as for its backward."""
    layer = Maxout(x.shape[1], units, pieces, irange=1.0, rng=seed, dtype="float64")
    randomize_bias(layer, seed)
    x = xp.asarray(x)
    assume(gradcheck.kink_distance(layer, x) > 1e-4)
    assert_double_backward(layer, x, seed=seed)


def test_hand_worked_dense_double_backward(xp):
    """W = [[1, 2], [3, 4]] (I = O = 2), one row; backward maps dy = [1, −1] to dx = dy Wᵀ =
    [1·1 − 1·2, 1·3 − 1·4] = [−1, −1]. For P = Σ r · dx with r = [2, 0] (∂P/∂dx = r):
        ∂P/∂W = rᵀ dy = [[2·1, 2·(−1)], [0, 0]] = [[2, −2], [0, 0]]
        ∂P/∂dy = r W = [2·1 + 0·3, 2·2 + 0·4] = [2, 4],   ∂P/∂b = [0, 0]
    """
    layer = Dense(2, 2, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, 2.0], [3.0, 4.0]])
    layer.forward(xp.asarray([[0.5, 0.5]]))
    dy = xp.asarray([[1.0, -1.0]])
    assert backend.to_numpy(layer.backward(dy)).tolist() == [[-1.0, -1.0]]
    d_dy = layer.double_backward(xp.asarray([[2.0, 0.0]]), dy)
    assert backend.to_numpy(d_dy).tolist() == [[2.0, 4.0]]
    assert backend.to_numpy(layer.grads["W"]).tolist() == [[2.0, -2.0], [0.0, 0.0]]
    assert backend.to_numpy(layer.grads["b"]).tolist() == [0.0, 0.0]


def test_hand_worked_maxout_double_backward(xp):
    """One unit of K = 2 pieces on I = 1 input, W = [[1, −1]], x = [[2]]: z = [2, −2], the winner is
    piece 0. backward: dz = [dy, 0], dx = dz Wᵀ = dy·1. With dy = [3], r = [5]:
        ∂P/∂W = rᵀ dz = [[5·3, 5·0]] = [[15, 0]],  ∂P/∂dy = (r W) at the winner = 5·1 = 5
    """
    layer = Maxout(1, 1, 2, dtype="float64")
    layer.params["W"][...] = xp.asarray([[1.0, -1.0]])
    layer.forward(xp.asarray([[2.0]]))
    dy = xp.asarray([[3.0]])
    layer.backward(dy)
    assert backend.to_numpy(layer.double_backward(xp.asarray([[5.0]]), dy)).tolist() == [[5.0]]
    assert backend.to_numpy(layer.grads["W"]).tolist() == [[15.0, 0.0]]


def test_sigmoid_has_no_third_pass_and_the_kit_says_so(xp):
    """Sigmoid's backward depends smoothly on x: its third pass is not derived, and the kit refuses it."""
    assert not hasattr(Sigmoid(), "double_backward")
    with pytest.raises(TypeError, match=r"Sigmoid\(\) has no double_backward"):
        assert_double_backward(Sigmoid(), xp.asarray([[0.5]]))


def test_a_wrong_third_pass_is_caught(xp):
    """A planted bug (∂P/∂W = 2 rᵀ dy) fails the kit's check, naming the array."""
    class Wrong(Dense):
        def double_backward(self, r, dy):
            out = super().double_backward(r, dy)
            self.grads["W"] = 2 * self.grads["W"]
            return out
    with pytest.raises(AssertionError, match=r"double_backward.*\n.*W\["):
        assert_double_backward(Wrong(3, 2, 1.0, 0, "float64"), xp.asarray(numpy.ones((2, 3))))


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(2, 2, irange=float("nan")), r"irange must be a finite number ≥ 0 .*got nan"),
    (lambda: Maxout(2, 2, 2, irange=-1.0), r"irange must be a finite number ≥ 0 .*got -1.0"),
    (lambda: Dropout(0.5, scale=float("nan")), r"Dropout: scale must be a finite number > 0 .*got nan"),
    (lambda: Dropout(0.5, scale=-1), r"Dropout: scale must be a finite number > 0 .*got -1"),
])
def test_bad_initialisation_range_or_dropout_scale_is_refused_at_construction(make, message):
    """Issue 23, item 9: Dense(irange=nan) overflowed later, Dropout(scale=nan or −1) was accepted."""
    with pytest.raises(ValueError, match=message):
        make()


def test_an_irange_beyond_the_dtype_is_refused():
    """--g-irange 1e300 cast to float32 gave ±inf weights (and an overflow warning) before the
    first step; it is refused at construction, naming the limit."""
    with pytest.raises(ValueError, match=r"irange 1e\+300 is beyond the largest float32 number \(3.4e\+38\)"):
        Dense(3, 2, irange=1e300)
    Dense(3, 2, irange=1e300, dtype="float64")                   # fits float64


def test_a_dry_run_builds_shapes_without_memory():
    """backend.dry_run(): parameters are zero-stride placeholders (a 10⁶ × 10⁶ Dense would be 4 TB),
    so a loader can compare a file's shapes with its configuration before building (issue 23, item 6)."""
    with backend.dry_run():
        layer = Maxout(10**6, 10**3, 10**3)
        assert layer.params["W"].shape == (10**6, 10**6) and layer.params["W"].strides == (0, 0)
        assert layer.params["b"].shape == (10**6,) and layer.params["b"].strides == (0,)
    assert not backend.shapes_only                        # restored on the way out
    assert Dense(2, 3).params["W"].strides != (0, 0)
