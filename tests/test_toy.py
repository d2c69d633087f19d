"""Toy GANs: Proposition 1 observed in training, Algorithm 1 learning a 1-D Gaussian, and the
WGAN and WGAN-GP games on the same toy networks."""
import numpy
import pytest

from minigan.gans import theory, toy
from minigan.losses import WassersteinGeneratorLoss


@pytest.mark.slow
def test_trained_discriminator_approaches_d_star(xp):
    """D trained alone against a fixed p_g must approach D* = p_data/(p_data + p_g).

    Tolerance 0.06 on the bulk [−2, 2.5] (where either density exceeds ~1% of its peak):
    the remaining gap is Adam's step noise at a constant learning rate plus the finite
    network; three seeds measured 0.019–0.030 after 3,000 steps, so 0.06 leaves 2× room
    while a D that had not learned (e.g. D ≡ ½, gap ≥ 0.4 here) fails clearly.
    """
    D = toy.train_discriminator_alone(toy.gaussian_1d(1.0, 0.6), toy.gaussian_1d(-0.5, 1.0), steps=3000)
    x = numpy.linspace(-2, 2.5, 181)
    d_star = theory.optimal_discriminator(theory.gaussian(x, 1.0, 0.6), theory.gaussian(x, -0.5, 1.0))
    assert numpy.abs(D(x[:, None])[:, 0] - d_star).max() < 0.06


def test_algorithm1_moves_p_g_towards_p_data(xp):
    gan = toy.ToyGAN(toy.gaussian_1d(1.0, 0.6), data_dim=1, seed=0, lr_d=2e-3, lr_g=1e-3)
    z = numpy.linspace(-1, 1, 2001)[:, None]
    start = gan.generate(z)[:, 0]
    for _ in range(600):
        gan.step()
    end = gan.generate(z)[:, 0]
    assert abs(end.mean() - 1.0) < abs(start.mean() - 1.0) / 2
    assert abs(end.std() - 0.6) < abs(start.std() - 0.6)


def test_ring_sampler():
    x = toy.ring_2d(modes=8, radius=2.0, std=0.0)(numpy.random.default_rng(0), 1000)
    assert x.shape == (1000, 2) and numpy.allclose(numpy.hypot(x[:, 0], x[:, 1]), 2.0, atol=1e-6)
    assert len(numpy.unique(numpy.round(x, 4), axis=0)) == 8


@pytest.mark.parametrize("objective", ["nonsaturating", "minimax", "critic"])
def test_generator_push_is_minus_the_gradient_of_g_obj(xp, objective):
    """toy.generator_push returns G(z) and −∂g_obj/∂G(z) from the hand-derived backward pass; a
    central difference of g_obj with respect to each generated point, in float64, must agree.
    'critic': the WGAN's g_obj = −mean f(G(z)) (losses.WassersteinGeneratorLoss)."""
    from types import SimpleNamespace

    from minigan import backend, gradcheck
    from minigan.gans import gan
    g_loss = WassersteinGeneratorLoss() if objective == "critic" else gan.generator_loss(objective)
    model = SimpleNamespace(G=toy.mlp([2, 8, 2], rng=0, dtype="float64"),
                            D=toy.mlp([2, 16, 16, 1], rng=1, dtype="float64"), g_loss=g_loss)
    z = numpy.random.default_rng(2).uniform(-1, 1, (6, 2))                         # (B, 2)
    s, push = toy.generator_push(model, z)
    assert s.shape == push.shape == (6, 2) and push.dtype == numpy.float64
    assert numpy.allclose(s, backend.to_numpy(model.G.forward(backend.asarray(z), train=False)))
    points = backend.asarray(s.copy())                                               # perturbed in place

    def g_obj():
        return model.g_loss.forward(model.D.forward(points, train=False))

    report = gradcheck.compare(g_obj, {"G(z)": points}, {"G(z)": -push})
    assert report.passed(), str(report)


def test_jsd_estimate_bias_and_range():
    """Two independent histograms of p_data give JSD ≈ 0 (the estimator's bias, measured 0.0015–0.0019
    at these settings); disjoint samples give log 2; the density integrates to 1 even when points
    fall outside the square (they are counted in its edge cells)."""
    ring = toy.ring_2d()
    bias = toy.jsd_estimate(ring(numpy.random.default_rng(0), 20000), ring(numpy.random.default_rng(1), 20000))
    assert 0 < bias < 0.005
    far = numpy.zeros((20000, 2))                                                  # all at the centre
    assert abs(toy.jsd_estimate(ring(numpy.random.default_rng(0), 20000), far) - numpy.log(2)) < 1e-9
    p, dx = toy.histogram_2d(numpy.array([[10.0, -10.0], [0.0, 0.0]]), bins=10, lim=1.0)
    assert p.shape == (10, 10) and abs(p.sum() * dx - 1) < 1e-12 and p[-1, 0] == p.max()


def test_objectives_are_those_of_algorithm1():
    """d_obj = −½ V(D, G) and g_obj = −mean log D(G(z)) (non-saturating), from D(x) directly."""
    model = toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, seed=0)
    rng = numpy.random.default_rng(3)
    x, z = toy.ring_2d()(rng, 256), rng.uniform(-1, 1, (256, 2)).astype(numpy.float32)
    d_obj, g_obj = toy.objectives(model, x, z)
    d_real, d_fake = model.d_of(x)[:, 0].astype(float), model.d_of(model.generate(z))[:, 0].astype(float)
    v = numpy.log(d_real).mean() + numpy.log(1 - d_fake).mean()
    assert abs(d_obj - (-v / 2)) < 1e-5 and abs(g_obj - (-numpy.log(d_fake).mean())) < 1e-5


# ----- the critics' games: ToyGAN(model='wgan' | 'wgan-gp') ------------------------------------

def ring_model(model, seed=0, **options):
    """The ring's small networks (examples/ring_2d.py's, narrower to keep the tests fast)."""
    return toy.ToyGAN(toy.ring_2d(), data_dim=2, noise_dim=2, g_sizes=(16, 16), d_sizes=(16, 16), batch=64,
                      seed=seed, model=model, **options)


def params(net):
    """Copies of a network's parameters, as NumPy arrays."""
    from minigan import backend
    return [backend.to_numpy(p).copy() for p, _ in net.params_and_grads()]


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_critic_games_train_on_a_tiny_budget(xp, model, monkeypatch):
    """Three steps of each critic game: both players move, everything stays finite, and k critic
    steps (the game's own critic_update, from wgan.py / wgan_gp.py) come before each G step."""
    from minigan.gans import wgan, wgan_gp
    module = wgan if model == "wgan" else wgan_gp
    gan = ring_model(model, k=2)
    g0, d0 = params(gan.G), params(gan.D)
    calls, real_update = [], module.critic_update

    def counted(*args):
        calls.append(gan.steps)                     # the G steps taken before this critic step
        return real_update(*args)
    monkeypatch.setattr(module, "critic_update", counted)
    for _ in range(3):
        gan.step()
    monkeypatch.undo()
    assert calls == [0, 0, 1, 1, 2, 2]
    for before, after in ((g0, params(gan.G)), (d0, params(gan.D))):
        assert all(numpy.isfinite(a).all() for a in after)
        assert any(not numpy.array_equal(b, a) for b, a in zip(before, after))
    gan.train_discriminator(2)
    x = numpy.random.default_rng(0).uniform(-3, 3, (50, 2))
    assert gan.d_of(x).shape == (50, 1) and numpy.isfinite(gan.d_of(x)).all()


def test_wgan_critic_weights_stay_within_the_clip():
    """Every critic weight and bias is in [−c, c] from the start and after every critic step
    (Algorithm 1's clipping), and the clip binds: some weights sit at ±c."""
    for c in (toy.TOY_DEFAULTS["wgan"]["clip"], 0.03):
        gan = ring_model("wgan", clip=c, k=3)
        for _ in range(4):
            assert all(numpy.abs(p).max() <= c for p in params(gan.D))
            gan.step()
        gan.train_discriminator(2)
        weights = numpy.concatenate([p.ravel() for p in params(gan.D)])
        assert numpy.abs(weights).max() <= c and (numpy.abs(weights) == numpy.float32(c)).any()


def test_a_critic_has_no_sigmoid():
    """d_of is the critic's raw score f(x) (the network's output, unbounded), and objectives are the
    WGAN's: d_obj = mean f(G(z)) − mean f(x) = −Ŵ, g_obj = −mean f(G(z))."""
    gan = ring_model("wgan-gp")
    for _ in range(5):
        gan.step()
    rng = numpy.random.default_rng(3)
    x, z = toy.ring_2d()(rng, 256), rng.uniform(-1, 1, (256, 2)).astype(numpy.float32)
    f_real, f_fake = gan.d_of(x)[:, 0].astype(float), gan.d_of(gan.generate(z))[:, 0].astype(float)
    assert numpy.array_equal(gan.d_of(x), toy.critic_value(gan.D, x))
    d_obj, g_obj = toy.objectives(gan, x, z)
    assert abs(d_obj - (f_fake.mean() - f_real.mean())) < 1e-5 and abs(g_obj + f_fake.mean()) < 1e-5


@pytest.mark.parametrize("options, words", [
    ({"model": "lsgan"}, "model must be one of gan, wgan, wgan-gp"),
    ({"model": "wgan", "objective": "minimax"}, "objective and optimizer are the GAN's options"),
    ({"model": "wgan-gp", "optimizer": "sgd"}, "objective and optimizer are the GAN's options"),
    ({"model": "wgan-gp", "clip": 0.1}, "clip is the WGAN's weight clipping"),
    ({"model": "gan", "lam": 10.0}, "lam weighs WGAN-GP's gradient penalty"),
    ({"optimizer": "adagrad"}, "optimizer must be 'adam' or 'sgd'"),
])
def test_options_of_another_game_are_one_clear_error(options, words):
    with pytest.raises(ValueError, match=words):
        toy.ToyGAN(toy.ring_2d(), data_dim=2, **options)


def test_the_gradient_penalty_brings_the_critics_slope_to_one():
    """WGAN-GP's claim on its own, with G fixed: the penalty λ (‖∇ₓ̂ f(x̂)‖ − 1)² drives the critic's
    gradient norm towards 1 at points x̂ between real and generated samples.

    The toy critic starts nearly flat there (mean |‖∇f‖ − 1| measured 0.89–0.95 over seeds 0–7);
    after 300 critic steps alone it was 0.10–0.17 over the same seeds, so 0.3 leaves 2× room and a
    penalty that did nothing (or pushed the wrong way) fails clearly."""
    from minigan import backend
    gan = ring_model("wgan-gp", seed=0)
    rng = numpy.random.default_rng(7)
    x, s, eps = toy.ring_2d()(rng, 1000), gan.generate(rng.uniform(-1, 1, (1000, 2))), rng.random((1000, 1))
    x_hat = (eps * x + (1 - eps) * s).astype(numpy.float32)                        # (1000, 2)

    def slope_error():
        f = gan.D.forward(backend.asarray(x_hat), train=False)                      # (1000, 1)
        grad = backend.to_numpy(gan.D.backward(backend.xp.ones_like(f), param_grads=False))   # (1000, 2) ∇f(x̂)
        return numpy.abs(numpy.linalg.norm(grad, axis=1) - 1).mean()
    assert slope_error() > 0.5
    gan.train_discriminator(300)
    assert slope_error() < 0.3
