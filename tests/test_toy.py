"""Toy GANs: Proposition 1 observed in training, and Algorithm 1 learning a 1-D Gaussian."""
import numpy
import pytest

from minigan.gans import theory, toy


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


@pytest.mark.parametrize("objective", ["nonsaturating", "minimax"])
def test_generator_push_is_minus_the_gradient_of_g_obj(xp, objective):
    """toy.generator_push returns G(z) and −∂g_obj/∂G(z) from the hand-derived backward pass; a
    central difference of g_obj with respect to each generated point, in float64, must agree."""
    from types import SimpleNamespace

    from minigan import backend, gradcheck
    from minigan.gans import gan
    model = SimpleNamespace(G=toy.mlp([2, 8, 2], rng=0, dtype="float64"),
                            D=toy.mlp([2, 16, 16, 1], rng=1, dtype="float64"), g_loss=gan.generator_loss(objective))
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
