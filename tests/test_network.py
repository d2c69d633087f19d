"""Sequential: chain rule through layers, and the GAN composition D(G(z)) with respect to θ_g."""
import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.gans.gan import Config, paper_discriminator, paper_generator
from minigan.layers import Dense, Dropout, Maxout, ReLU, Sigmoid
from minigan.losses import NonSaturatingGeneratorLoss
from minigan.network import Branches, Sequential
from minigan.testing import SETTINGS, TOL, assert_double_backward, check_layer_properties, smooth_batches


def small_gan(seed):
    """A G and D of the paper's layer types, small enough for a full elementwise check."""
    cfg = Config(noise_dim=4, g_hidden=6, d_units=5, d_pieces=3, g_irange=0.7, d_irange=0.7)
    G = paper_generator(cfg, rng=seed, n_out=7, dtype="float64")
    D = paper_discriminator(cfg, rng=seed + 1, n_in=7, dtype="float64")
    # Random biases: with zero biases a row whose ReLUs are all off feeds exactly 0 to the next
    # ReLU, which is its kink, and the finite difference there is not a derivative.
    rng = numpy.random.default_rng(seed)
    for _, p, _, key in [*G.named_params(), *D.named_params()]:
        if key == "b":
            p[...] = backend.asarray(rng.uniform(-0.5, 0.5, p.shape))
    return G, D


@SETTINGS
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 8))
def test_sequential_gradients(xp, seed, batch):
    rng = numpy.random.default_rng(seed)
    net = Sequential([Dropout(0.8), Dense(5, 6, 1.0, seed, "float64"), Sigmoid(),
                      Maxout(6, 3, 2, 1.0, seed + 1, "float64"), Dense(3, 2, 1.0, seed + 2, "float64")])
    x = xp.asarray(rng.uniform(-1, 1, (batch, 5)))
    report = gradcheck.check_network(net, x, seed=seed)
    assert report.passed(TOL), report


@SETTINGS
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 8))
def test_generator_gradient_flows_through_discriminator(xp, seed, batch):
    """∂/∂θ_g of −mean log D(G(z)): the loss gradient enters D's logit, D.backward returns
    ∂L/∂G(z), and G.backward turns that into ∂L/∂θ_g; D's dropout masks are held fixed."""
    G, D = small_gan(seed)
    z = xp.asarray(numpy.random.default_rng(seed).uniform(-1.7, 1.7, (batch, 4)))
    loss = NonSaturatingGeneratorLoss()
    assume(gradcheck.network_kink_distance(G, z) > 1e-4)
    assume(gradcheck.network_kink_distance(D, G.forward(z), seed=seed) > 1e-4)

    def f():
        gradcheck._reseed(D.layers, seed)
        return loss.forward(D.forward(G.forward(z)))

    f()
    G.backward(D.backward(loss.backward()))
    arrays = {name: p for name, p, _, _ in G.named_params()}
    grads = {name: layer.grads[key].copy() for name, _, layer, key in G.named_params()}
    report = gradcheck.compare(f, arrays, grads)
    assert report.passed(TOL), report


def test_backward_returns_input_gradient_shape(xp):
    net = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)])
    y = net.forward(xp.ones((5, 3), dtype=xp.float32))
    assert net.backward(xp.ones_like(y)).shape == (5, 3)


def test_state_dict_round_trip_and_errors(xp):
    a, b = Sequential([Dense(3, 4, rng=1), Dense(4, 2, rng=2)]), Sequential([Dense(3, 4, rng=3), Dense(4, 2, rng=4)])
    assert list(a.state_dict()) == ["0.W", "0.b", "1.W", "1.b"]
    b.load_state_dict({k: backend.to_numpy(v) for k, v in a.state_dict().items()})
    assert all(numpy.array_equal(backend.to_numpy(a.state_dict()[k]), backend.to_numpy(v))
               for k, v in b.state_dict().items())
    with pytest.raises(ValueError, match="parameter names differ"):
        b.load_state_dict({"0.W": numpy.zeros((3, 4))})
    bad = dict(a.state_dict(), **{"1.W": numpy.zeros((5, 2), dtype=numpy.float32)})
    with pytest.raises(ValueError, match=r"parameter 1.W: expected shape \(4, 2\), got \(5, 2\)"):
        b.load_state_dict(bad)


def test_n_params_and_optimizer_pairs(xp):
    net = Sequential([Dense(3, 4), ReLU(), Maxout(4, 2, 3)])
    assert net.n_params() == 3 * 4 + 4 + 4 * 6 + 6
    assert [g for _, g in net.params_and_grads()] == [None] * 4     # nothing until a backward pass


def test_sequential_switches(xp):
    net = Sequential([Dense(3, 4, 1.0, 0, "float64"), ReLU(), Dense(4, 2, 1.0, 1, "float64")])
    x = xp.asarray(numpy.random.default_rng(0).normal(size=(5, 3)))
    dy = xp.ones((5, 2))
    net.forward(x)
    dx = backend.to_numpy(net.backward(dy))
    grads = [backend.to_numpy(g).copy() for _, g in net.params_and_grads()]
    assert net.backward(dy, input_grad=False) is None
    assert all(numpy.array_equal(a, backend.to_numpy(b)) for a, (_, b) in zip(grads, net.params_and_grads()))
    assert numpy.array_equal(backend.to_numpy(net.backward(dy, param_grads=False)), dx)


def test_backward_stops_at_the_lowest_layer_with_params(xp):
    """With input_grad=False, a parameter-free layer below every parametrised one (D's input
    Dropout) is never visited, and the lowest Dense skips its own ∂/∂input; the gradients
    of the parameters are those of the full backward pass."""
    calls = []

    class Spy(Dense):
        def backward(self, dy, **switches):
            calls.append(switches.get("input_grad", True))
            return super().backward(dy, **switches)

    net = Sequential([Dropout(0.5, rng=0), Spy(3, 4, 1.0, 0, "float64"),
                      ReLU(), Dense(4, 2, 1.0, 1, "float64")])
    x = xp.asarray(numpy.random.default_rng(0).normal(size=(5, 3)))
    dy = xp.ones((5, 2))
    net.forward(x)
    net.backward(dy)
    full = [backend.to_numpy(g).copy() for _, g in net.params_and_grads()]
    net.layers[0].mask = None                       # the Dropout must not be asked for anything
    assert net.backward(dy, input_grad=False) is None
    assert calls == [True, False]
    assert all(numpy.array_equal(a, backend.to_numpy(b)) for a, (_, b) in zip(full, net.params_and_grads()))
    assert net.backward(dy, param_grads=False, input_grad=False) is None and calls == [True, False]


# ----- Branches: layers side by side ------------------------------------------------------

def two_branches(seed, dropout=False):
    """A Branches of the conditional GAN's shape, small: Dense on 3 columns, Maxout on 2."""
    left = [Dropout(0.8)] if dropout else []
    return Branches(z=(3, Sequential(left + [Dense(3, 4, 1.0, seed, "float64")])),
                    y=(2, Sequential([Maxout(2, 2, 3, 1.0, seed + 1, "float64")])))


@SETTINGS
@given(x=smooth_batches(width=5, max_rows=6), seed=st.integers(0, 2**16), dropout=st.booleans())
def test_branches_gradients(xp, x, seed, dropout):
    """∂L/∂x and every ∂L/∂θ of a Branches, through the testing kit users apply to their layers
    (a Dropout inside a branch is reseeded like any other)."""
    layer = two_branches(seed, dropout)
    assume(gradcheck.network_kink_distance(layer.nets[1], xp.asarray(x[:, 3:])) > 1e-4)
    check_layer_properties(layer, x)


def test_hand_worked_branches(xp):
    """Two 1-wide Dense branches: h = [2·x_1 + 1, −x_2], so for dy = [3, 5]:
    ∂L/∂x = [3·2, 5·(−1)] = [6, −5], ∂L/∂W_z = x_1·3, ∂L/∂b_z = 3, ∂L/∂W_y = x_2·5."""
    z, y = Dense(1, 1, dtype="float64"), Dense(1, 1, dtype="float64")
    z.params["W"][...], z.params["b"][...], y.params["W"][...] = 2.0, 1.0, -1.0
    layer = Branches(z=(1, Sequential([z])), y=(1, Sequential([y])))
    h = layer.forward(xp.asarray([[0.5, 4.0]]))
    assert backend.to_numpy(h).tolist() == [[2.0, -4.0]]                 # [2·0.5 + 1, −4]
    dx = layer.backward(xp.asarray([[3.0, 5.0]]))
    assert backend.to_numpy(dx).tolist() == [[6.0, -5.0]]
    grads = {k: backend.to_numpy(g).tolist() for k, g in layer.grads.items()}
    assert grads == {"z.0.W": [[1.5]], "z.0.b": [3.0], "y.0.W": [[20.0]], "y.0.b": [5.0]}


def test_branches_in_a_sequential_name_and_reseed_their_parts():
    net = Sequential([two_branches(0, dropout=True), ReLU(), Dense(6, 1, 1.0, 2, "float64")])
    assert [name for name, *_ in net.named_params()] == ["0.z.1.W", "0.z.1.b", "0.y.0.W", "0.y.0.b", "2.W", "2.b"]
    gen = backend.rng(5)
    net.set_rng(gen)
    assert net.layers[0].nets[0].layers[0].rng is gen                    # the Dropout inside branch z
    state = {k: v.copy() for k, v in net.state_dict().items()}
    other = Sequential([two_branches(9, dropout=True), ReLU(), Dense(6, 1, 1.0, 3, "float64")])
    other.load_state_dict(state)
    x = backend.asarray(numpy.random.default_rng(0).uniform(-1, 1, (4, 5)))
    assert numpy.array_equal(backend.to_numpy(net.forward(x, train=False)), backend.to_numpy(other.forward(x, train=False)))


def test_branches_refuse_wrong_widths():
    layer = two_branches(0)
    with pytest.raises(ValueError, match=r"expected input of shape \(B, 5\) \(3 \+ 2\)"):
        layer.forward(backend.asarray(numpy.zeros((2, 4))))
    with pytest.raises(RuntimeError, match="before forward"):
        two_branches(0).backward(backend.asarray(numpy.zeros((2, 6))))
    layer.forward(backend.asarray(numpy.zeros((2, 5))))
    with pytest.raises(ValueError, match="width 6"):
        layer.backward(backend.asarray(numpy.zeros((2, 5))))
    with pytest.raises(ValueError, match="at least one branch"):
        Branches()


# ----- input_gradient and the third pass, through a whole critic ----------------------------

def _critic(seed, dropout=True):
    rng = numpy.random.default_rng(seed)
    layers = [Maxout(6, 4, 3, 1.0, rng, "float64"), ReLU(), Dense(4, 5, 1.0, rng, "float64"),
              ReLU(), Dense(5, 1, 1.0, rng, "float64")]
    return Sequential(([Dropout(0.8)] if dropout else []) + layers)


def test_input_gradient_equals_backward_and_keeps_the_dys(xp):
    """input_gradient(dy) is backward(dy)'s ∂L/∂x, and dys[i] is what layer i received."""
    net = _critic(0, dropout=False)
    x = xp.asarray(numpy.random.default_rng(1).normal(size=(4, 6)))
    dy = xp.ones((4, 1))
    net.forward(x)
    want = backend.to_numpy(net.backward(dy))
    assert numpy.array_equal(backend.to_numpy(net.input_gradient(dy)), want)
    assert net.dys[-1] is dy and net.dys[0].shape == (4, 12 // 3)


@SETTINGS
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 6))
def test_sequential_double_backward_against_finite_differences(xp, seed, rows):
    """The whole critic's third pass, every parameter, through dropout, maxout, ReLU and Dense."""
    net = _critic(seed)
    x = numpy.random.default_rng(seed + 1).normal(size=(rows, 6))
    assume(gradcheck.network_kink_distance(net, xp.asarray(x), seed=seed) > 1e-4)
    assert_double_backward(net, x, seed=seed)


def test_double_backward_refuses_a_layer_without_a_third_pass(xp):
    net = Sequential([Dense(2, 2, dtype="float64"), Sigmoid(), Dense(2, 1, dtype="float64")])
    net.forward(xp.ones((1, 2)))
    net.input_gradient(xp.ones((1, 1)))
    with pytest.raises(TypeError, match=r"Sigmoid\(\) has no double_backward.*piecewise-linear"):
        net.double_backward(xp.ones((1, 2)))
    with pytest.raises(RuntimeError, match="before input_gradient"):
        Sequential([Dense(2, 1)]).double_backward(xp.ones((1, 2)))
