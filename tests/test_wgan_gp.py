"""WGAN-GP: the gradient penalty's hand-derived gradient (double backprop) for every critic
parameter against finite differences of the penalty itself, the critic step, the config."""
import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.gans import wgan, wgan_gp
from minigan.losses import GradientPenalty
from minigan.testing import SETTINGS, TOL


def small_critic(seed, n_in=5, units=3, pieces=2, dropout=False):
    """A critic of the paper's layer types (maxout, maxout, Dense), float64, random biases."""
    keep = 0.8 if dropout else 1.0
    cfg = wgan_gp.Config(d_units=units, d_pieces=pieces, d_irange=0.7, d_input_keep=keep, d_hidden_keep=keep)
    f = wgan.critic(cfg, rng=seed, n_in=n_in, dtype="float64")
    rng = numpy.random.default_rng(seed + 1)        # zero biases put ties between pieces at x = 0
    for _, p, _, key in f.named_params():
        if key == "b":
            p[...] = backend.asarray(rng.uniform(-0.5, 0.5, p.shape))
    return cfg, f


def penalty_of(f, x_hat, lam):
    """P computed from scratch: forward, the backward pass to the input, the penalty of its norms."""
    out = f.forward(x_hat)
    return GradientPenalty(lam).forward(f.backward(backend.xp.ones_like(out)))


@SETTINGS
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 8), n_in=st.integers(1, 8),
       units=st.integers(1, 4), pieces=st.integers(1, 3), lam=st.sampled_from([1.0, 10.0]),
       dropout=st.booleans())
def test_penalty_gradient_of_every_parameter_against_finite_differences(xp, seed, rows, n_in, units, pieces,
                                                                        lam, dropout):
    """∂P/∂θ from the third pass against central differences of P, recomputed through the
    hand-derived ∇ₓ f, for every entry of every parameter (the biases' are exactly 0).
    Draws whose maxout winners could flip under ±h are skipped (gaps below 1e-4), as for backward."""
    _, f = small_critic(seed, n_in, units, pieces, dropout)
    x_hat = xp.asarray(numpy.random.default_rng(seed + 2).normal(size=(rows, n_in)))
    assume(gradcheck.network_kink_distance(f, x_hat, seed=seed) > 1e-4)
    gradcheck.reseed(f.layers, seed)
    wgan_gp.penalty_gradients(f, x_hat, lam)
    grads = {name: layer.grads[key] for name, _, layer, key in f.named_params()}
    params = {name: p for name, p, _, _ in f.named_params()}

    def P():
        gradcheck.reseed(f.layers, seed)                  # the same dropout masks every time
        return penalty_of(f, x_hat, lam)
    report = gradcheck.compare(P, params, grads)
    assert report.passed(TOL), report


def test_hand_worked_penalty_gradient(xp):
    """A one-layer critic f(x) = x W + b, W = [[3], [4]]: ∇ₓ f = Wᵀ = [3, 4] for every x, ‖∇ₓ f‖ = 5.
    P = λ (5 − 1)² = 160 at λ = 10; ∂P/∂g = [48, 64] (tests/test_losses.py), and the third pass of
    Dense with dy = 1 gives ∂P/∂W = rᵀ dy = [[48], [64]], ∂P/∂b = 0 (b never reaches the gradient).
    Check by hand: P(W) = λ (‖W‖ − 1)², ∂P/∂W = 2λ (‖W‖ − 1) W / ‖W‖ = 2·10·4·[3, 4]/5 = [48, 64]."""
    from minigan.layers import Dense
    from minigan.network import Sequential
    f = Sequential([Dense(2, 1, dtype="float64")])
    f.layers[0].params["W"][...] = xp.asarray([[3.0], [4.0]])
    p = wgan_gp.penalty_gradients(f, xp.asarray([[0.1, -0.2]]), 10.0)
    assert float(p) == pytest.approx(160.0)
    assert backend.to_numpy(f.layers[0].grads["W"]).ravel().tolist() == pytest.approx([48.0, 64.0])
    assert backend.to_numpy(f.layers[0].grads["b"]).tolist() == [0.0]


def test_the_critic_step_uses_the_sum_of_both_gradients(xp):
    """critic_update's gradient is ∂/∂θ of (1/B) Σ [f(s) − f(x)] + P, against central differences of
    that whole loss (plain SGD of step 1, so the update reveals the gradient: θ' = θ − g)."""
    from minigan.optim import SGD
    _, f = small_critic(3)
    rng = numpy.random.default_rng(4)
    x, s, eps = (xp.asarray(rng.normal(size=shape)) for shape in ((4, 5), (4, 5), (4, 1)))
    x_hat = eps * x + (1 - eps) * s
    assert gradcheck.network_kink_distance(f, xp.concatenate([x, s, x_hat])) > 1e-4   # these seeds: no kink near
    before = {name: p.copy() for name, p, _, _ in f.named_params()}

    def loss():
        return wgan.critic_objective(f.forward(xp.concatenate([x, s])))[0] + penalty_of(f, x_hat, 10.0)
    numeric = {name: gradcheck.numerical_gradient(loss, p) for name, p, _, _ in f.named_params()}
    d_obj, p = wgan_gp.critic_update(f, x, s, eps, SGD(f.params_and_grads, lr=1.0), 10.0)
    for name, param, _, _ in f.named_params():
        step = backend.to_numpy(before[name] - param)       # = the gradient used
        assert numpy.allclose(step, numeric[name], rtol=1e-6, atol=1e-7), name


def test_the_penalty_alone_drives_the_gradient_norms_to_one(xp):
    """With s = x the Wasserstein term and its gradient are exactly 0, so the critic steps descend
    the penalty alone: ‖∇ₓ̂ f‖ goes to 1 and P to (nearly) 0. Deterministic: fixed seeds, float64."""
    cfg, f = small_critic(0)
    opt = wgan_gp.optimizers(cfg, f, f)[1]
    opt.lr = 1e-2                                   # a toy's rate: the paper's 1e-4 is for MNIST's 1,000s of steps
    rng = numpy.random.default_rng(0)
    x = xp.asarray(rng.normal(0, 1, (16, 5)))
    eps = xp.asarray(rng.random((16, 1)))
    penalties = [float(wgan_gp.critic_update(f, x, x, eps, opt, 10.0)[1]) for _ in range(300)]
    assert penalties[-1] < 0.01 * penalties[0]


@pytest.mark.parametrize("field, value, message", [
    ("lam", -1.0, r"lam must be a finite number ≥ 0 \(λ weighs the gradient penalty\), got -1.0"),
    ("beta2", 1.0, r"beta2 must be in \[0, 1\)"),
    ("n_critic", 0, r"n_critic must be at least 1, got 0"),
    ("lr", -1.0, r"lr must be a finite number > 0"),
])
def test_bad_values_are_one_clear_line(field, value, message):
    with pytest.raises(ValueError, match=message):
        wgan_gp.Config(**{field: value}).validate()


def test_wgan_gp_has_no_clipping_and_wgan_no_penalty():
    """Each variant's flags are its paper's: --clip belongs to wgan, --lam to wgan-gp."""
    assert "clip" not in wgan_gp.Config().as_dict() and "lam" in wgan_gp.Config().as_dict()
    assert "lam" not in wgan.Config().as_dict() and "clip" in wgan.Config().as_dict()
