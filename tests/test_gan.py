"""The paper's networks, configuration and training steps."""
import math

import numpy
import pytest

from minigan import backend, gradcheck
from minigan.gans import gan
from minigan.files import data
from minigan.losses import BCEWithLogits
from minigan.testing import TOL


def test_parameter_counts_of_the_paper():
    # G: (100·1200 + 1200) + (1200·1200 + 1200) + (1200·784 + 784)
    assert gan.paper_generator().n_params() == 2_503_984
    # D: (784·1200 + 1200) + (240·1200 + 1200) + (240·1 + 1); maxout has 240×5 = 1200 pieces a layer
    assert gan.paper_discriminator().n_params() == 1_231_441


def test_paper_networks_shapes_and_ranges(xp):
    G, D = gan.paper_generator(), gan.paper_discriminator()
    z = gan.sample_noise(backend.rng(0), 7, gan.Config())
    s = G.forward(z, train=False)
    assert s.shape == (7, 784) and float(s.min()) >= 0 and float(s.max()) <= 1
    assert D.forward(s).shape == (7, 1)
    W = backend.to_numpy(G.layers[0].params["W"])
    assert 0.049 < numpy.abs(W).max() <= 0.05
    assert numpy.abs(backend.to_numpy(D.layers[1].params["W"])).max() <= 0.005


def test_output_bias_from_marginals():
    images = numpy.array([[0.0, 0.5, 1.0], [0.0, 0.3, 1.0]], dtype=numpy.float32)
    b = gan.sigmoid_bias_from_marginals(images)
    assert 1 / (1 + math.exp(-b[1])) == pytest.approx(0.4)
    assert b[0] == pytest.approx(math.log(1e-7 / (1 - 1e-7)))        # never-lit pixel: clipped at pylearn2's 1e-7, finite
    assert numpy.isfinite(b.astype(numpy.float32)).all()
    assert b[2] == pytest.approx(-b[0])


def test_noise_distributions(xp):
    u = backend.to_numpy(gan.sample_noise(backend.rng(0), 2000, gan.Config()))
    assert u.shape == (2000, 100) and u.dtype == numpy.float32
    assert u.min() >= -math.sqrt(3) and u.max() <= math.sqrt(3)
    assert abs(u.var() - 1) < 0.02 and abs(u.mean()) < 0.01         # 200,000 draws
    g = backend.to_numpy(gan.sample_noise(backend.rng(0), 2000, gan.Config(noise="gaussian")))
    assert abs(g.var() - 1) < 0.02 and g.min() < -3


def test_config_validation_names_the_field():
    with pytest.raises(ValueError, match="update must be one of released, algorithm1; got 'adam'"):
        gan.Config(update="adam").validate()
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0 \(a learning rate of 0 never moves θ\), got -1"):
        gan.Config(lr=-1).validate()
    with pytest.raises(ValueError, match="batch_size must be in 1…n_train"):
        gan.Config(n_train=50, batch_size=100).validate()
    for bad in (dict(lr=0), dict(min_lr=0), dict(lr=float("inf"))):
        with pytest.raises(ValueError, match=rf"{next(iter(bad))} must be a finite number > 0"):
            gan.Config(**bad).validate()


def test_generator_loss_by_name():
    assert type(gan.generator_loss()).__name__ == "NonSaturatingGeneratorLoss"
    assert type(gan.generator_loss("minimax")).__name__ == "MinimaxGeneratorLoss"
    with pytest.raises(ValueError, match="g_objective must be one of nonsaturating, minimax; got 'saturating'"):
        gan.generator_loss("saturating")


def test_discriminator_objective_by_hand(xp):
    """Logits a = [0, ln 3 | 0, −ln 3] for B = 2 real and 2 generated rows.
    BCE(real, 1) = ½[softplus(0) + softplus(−ln 3)] = ½[ln 2 + ln(4/3)] = ½ ln(8/3);
    BCE(fake, 0) = ½[softplus(0) + softplus(−ln 3)] = ½ ln(8/3) too, so d_obj = ½ ln(8/3) ≈ 0.4904.
    ∂d_obj/∂a = ½ (σ(a) − t) / 2 = ¼ [½ − 1, ¾ − 1, ½ − 0, ¼ − 0] = [−1/8, −1/16, 1/8, 1/16]."""
    a = xp.asarray([[0.0], [math.log(3)], [0.0], [-math.log(3)]])
    d_obj, da = gan.discriminator_objective(a)
    assert float(d_obj) == pytest.approx(0.5 * math.log(8 / 3), rel=1e-14)
    assert backend.to_numpy(da).ravel() == pytest.approx([-1 / 8, -1 / 16, 1 / 8, 1 / 16], rel=1e-14)
    assert [int(n) for n in gan.d_accuracy(xp.asarray([[1.0], [-1.0], [-2.0], [0.5]]))] == [1, 1]


class NoStep:
    def step(self):
        pass


def small(seed=0, **kw):
    cfg = gan.Config(noise_dim=5, g_hidden=7, d_units=6, d_pieces=3, g_irange=0.5, d_irange=0.5, **kw)
    return (cfg, gan.paper_generator(cfg, rng=seed, n_out=9, dtype="float64"),
            gan.paper_discriminator(cfg, rng=seed + 1, n_in=9, dtype="float64"))


def grads_of(net):
    arrays = {name: p for name, p, _, _ in net.named_params()}
    return arrays, {name: layer.grads[key].copy() for name, _, layer, key in net.named_params()}


@pytest.mark.parametrize("objective", ["nonsaturating", "minimax"])
def test_released_step_gradients(xp, objective):
    """The one-pass update computes ∇θ_d d_obj and ∇θ_g g_obj exactly (same dropout masks)."""
    cfg, G, D = small(g_objective=objective)
    rng = numpy.random.default_rng(0)
    x, z = xp.asarray(rng.random((4, 9))), xp.asarray(rng.uniform(-1.7, 1.7, (4, 5)))
    gradcheck._reseed(D.layers, 7)
    gan.released_step(G, D, x, z, NoStep(), NoStep(), gan.generator_loss(objective))

    def objectives():
        gradcheck._reseed(D.layers, 7)
        a = D.forward(xp.concatenate([x, G.forward(z)]))
        d_obj = 0.5 * (BCEWithLogits().forward(a[:4], 1) + BCEWithLogits().forward(a[4:], 0))
        return d_obj, gan.generator_loss(cfg.g_objective).forward(a[4:])

    report_g = gradcheck.compare(lambda: objectives()[1], *grads_of(G))
    report_d = gradcheck.compare(lambda: objectives()[0], *grads_of(D))
    assert report_g.passed(TOL), report_g
    assert report_d.passed(TOL), report_d


def test_algorithm1_generator_step_gradient(xp):
    cfg, G, D = small(g_objective="minimax")
    z = xp.asarray(numpy.random.default_rng(1).uniform(-1.7, 1.7, (3, 5)))
    gradcheck._reseed(D.layers, 3)
    gan.generator_step(G, D, z, NoStep(), gan.generator_loss(cfg.g_objective))

    def g_obj():
        gradcheck._reseed(D.layers, 3)
        return gan.generator_loss(cfg.g_objective).forward(D.forward(G.forward(z)))

    report = gradcheck.compare(g_obj, *grads_of(G))
    assert report.passed(TOL), report


def test_algorithm1_takes_k_discriminator_steps(xp):
    cfg, G, D = small(k=3)

    class Count:
        n = 0

        def step(self):
            self.n += 1

    opt_d, opt_g = Count(), Count()
    x = xp.asarray(numpy.random.default_rng(0).random((2, 9)))
    z = xp.asarray(numpy.random.default_rng(1).uniform(-1, 1, (2, 5)))
    stats = gan.algorithm1_step(G, D, [x] * 3, [z] * 3, z, opt_g, opt_d, gan.generator_loss())
    assert (opt_d.n, opt_g.n) == (3, 1)
    assert 0 <= int(stats["d_right_real"]) <= 6


@pytest.mark.slow
def test_end_to_end_on_mnist_subset(xp, mnist_dir):
    """A few hundred real steps on 1,000 MNIST images: losses stay finite, parameters move,
    and D's accuracy changes as the game proceeds."""
    from minigan.program import train
    splits = data.mnist_splits(mnist_dir, download=False, n_train=1000)
    cfg = gan.Config(n_train=1000, parzen_every=0, seed=3)
    trainer = train.Trainer(cfg, splits)
    before = {k: backend.to_numpy(v).copy() for k, v in trainer.G.state_dict().items()}
    rows = trainer.train(max_steps=300, progress=False)
    assert len(rows) == 30
    assert all(math.isfinite(r["d_obj"]) and math.isfinite(r["g_obj"]) for r in rows)
    after = trainer.G.state_dict()
    assert all(not numpy.array_equal(before[k], backend.to_numpy(after[k])) for k in before)
    acc = [r["d_acc_fake"] for r in rows]
    assert max(acc) - min(acc) > 0.1
    assert rows[-1]["d_obj"] < rows[0]["d_obj"]         # D has learned something about real vs fake


def textbook_released_step(G, D, x, z, opt_g, opt_d, g_loss):
    """The released update with plain backward() calls everywhere: no work-saving switches."""
    xp, B = backend.xp, x.shape[0]
    a = D.forward(xp.concatenate([x, G.forward(z)]))
    real, fake = BCEWithLogits(), BCEWithLogits()
    real.forward(a[:B], 1), fake.forward(a[B:], 0), g_loss.forward(a[B:])
    G.backward(D.backward(xp.concatenate([xp.zeros_like(a[:B]), g_loss.backward()]))[B:])
    D.backward(xp.concatenate([0.5 * real.backward(), 0.5 * fake.backward()]))
    opt_d.step()
    opt_g.step()


def test_released_step_equals_the_textbook_version(xp):
    """The switches only skip results nobody reads. After 3 SGD steps D's parameters are
    identical bit for bit; G's differ by float32 round-off only, because the pass through D
    on G's behalf multiplies 100 rows instead of 200 (zero-padded), and BLAS may round a
    matrix product with another number of rows differently. Measured: ≤ 7e-8 of each
    array's largest entry (a few ulps); a wrong gradient would be off by far more than 1e-6."""
    from minigan.optim import SGD
    runs = []
    for step in (gan.released_step, textbook_released_step):
        cfg = gan.Config()
        G, D = gan.paper_generator(cfg, rng=0), gan.paper_discriminator(cfg, rng=1)
        D.set_rng(backend.rng(5))
        opt_g, opt_d = SGD(G.params_and_grads, 0.1, 0.5), SGD(D.params_and_grads, 0.1, 0.5)
        rng = backend.rng(6)
        for _ in range(3):
            x = rng.random((20, 784), dtype="float32")
            step(G, D, x, gan.sample_noise(rng, 20, cfg), opt_g, opt_d, gan.generator_loss())
        runs.append(([backend.to_numpy(p) for _, p, _, _ in G.named_params()],
                     [backend.to_numpy(p) for _, p, _, _ in D.named_params()]))
    (g_fast, d_fast), (g_book, d_book) = runs
    assert all(numpy.array_equal(a, b) for a, b in zip(d_fast, d_book))
    assert all(numpy.abs(a - b).max() <= 1e-6 * numpy.abs(b).max() for a, b in zip(g_fast, g_book))


def test_discriminator_update_gradients(xp):
    """Algorithm 1's D step computes ∇θ_d d_obj exactly, d_obj = ½[BCE(D(x), 1) + BCE(D(s), 0)].

    As in test_released_step_gradients: the optimizer does nothing, so θ_d stays where the
    gradients were taken, and D's dropout is reseeded before every pass, so that each finite
    difference sees the same masks as the update did."""
    cfg, G, D = small()
    rng = numpy.random.default_rng(2)
    x, s = xp.asarray(rng.random((4, 9))), xp.asarray(rng.random((4, 9)))   # real images, samples
    gradcheck.reseed(D.layers, 11)
    d_obj, right_real, right_fake = gan.discriminator_update(D, x, s, NoStep())

    def objective():
        gradcheck.reseed(D.layers, 11)
        a = D.forward(xp.concatenate([x, s]))                                # (8, 1)
        return 0.5 * (BCEWithLogits().forward(a[:4], 1) + BCEWithLogits().forward(a[4:], 0))

    assert float(d_obj) == pytest.approx(float(objective()), rel=1e-12)
    assert 0 <= int(right_real) <= 4 and 0 <= int(right_fake) <= 4
    report = gradcheck.compare(objective, *grads_of(D))
    assert report.passed(TOL), report


# ----- Config validation (issue 14)
# Every value outside its meaning is refused by Config.validate, in one line that names the
# field, the allowed range and the value given. Each row: a field, a bad value, the message.

_BAD_CONFIG = [
    ("momentum", 1.0, "momentum must be in [0, 1)"),
    ("momentum", -0.1, "momentum must be in [0, 1)"),
    ("final_momentum", 1.5, "final_momentum must be in [0, 1)"),
    ("d_input_keep", 0.0, "d_input_keep must be in (0, 1]"),
    ("d_hidden_keep", 1.2, "d_hidden_keep must be in (0, 1]"),
    ("d_input_scale", 0.0, "d_input_scale must be a finite number > 0"),
    ("d_hidden_scale", math.inf, "d_hidden_scale must be a finite number > 0"),
    ("lr_decay", 0.99, "lr_decay must be a finite number ≥ 1 (η is divided by it after every step"),
    ("lr_decay", math.inf, "lr_decay must be a finite number ≥ 1"),
    ("g_irange", math.inf, "g_irange must be a finite number ≥ 0"),
    ("d_irange", -0.1, "d_irange must be a finite number ≥ 0"),
    ("g_bias_clip", 0.0, "g_bias_clip must be in (0, 0.5)"),
    ("g_bias_clip", 0.5, "g_bias_clip must be in (0, 0.5)"),
    ("noise_dim", 0, "noise_dim must be at least 1"),
    ("g_hidden", 0, "g_hidden must be at least 1"),
    ("d_units", 0, "d_units must be at least 1"),
    ("d_pieces", 0, "d_pieces must be at least 1"),
    ("parzen_samples", 0, "parzen_samples must be at least 1"),
    ("batch_size", 0, "batch_size must be in 1…n_train"),
    ("k", 0, "k must be at least 1"),
    ("momentum_saturate", 0, "momentum_saturate must be at least momentum_start = 1"),
]


def test_algorithm1_refuses_a_k_larger_than_an_epoch():
    """issue 23, item 8: --k above the minibatches of an epoch ended epochs inside one step, and
    metrics.csv skipped them. 500 images of batch 100 make 5 minibatches an epoch."""
    with pytest.raises(ValueError, match=r"^k must be at most n_train // batch_size = 5 .*lower --k or raise "
                                         r"--n-train\), got 6$"):
        gan.Config(update="algorithm1", k=6, n_train=500).validate()
    gan.Config(update="algorithm1", k=5, n_train=500).validate()         # an epoch's worth is fine
    gan.Config(update="released", k=6, n_train=500).validate()           # k is Algorithm 1's only


@pytest.mark.parametrize("name, value, message", _BAD_CONFIG)
def test_config_refuses_values_outside_their_meaning(name, value, message):
    with pytest.raises(ValueError) as err:
        gan.Config(**{name: value}).validate()
    text = str(err.value)
    assert text.startswith(message) and text.endswith(f", got {value}") and "\n" not in text


def test_config_refuses_nan_in_every_number():
    import dataclasses
    numbers = [f.name for f in dataclasses.fields(gan.Config) if f.type in (int, float)]
    assert len(numbers) == 26                                 # all but the four string choices
    for name in numbers:
        with pytest.raises(ValueError, match=rf"^{name} must be .*, got nan$"):
            gan.Config(**{name: math.nan}).validate()


def test_config_accepts_the_edges_of_each_range():
    gan.Config(momentum=0.0, final_momentum=0.0, d_input_keep=1.0, d_hidden_keep=1.0,
               g_irange=0.0, d_irange=0.0, lr_decay=1.0, momentum_start=7, momentum_saturate=7,
               epochs=0, parzen_every=0, checkpoint_every=0, seed=0).validate()
    gan.Config(g_bias_clip=0.49, d_input_scale=1e-3, noise_dim=1, g_hidden=1, d_units=1, d_pieces=1,
               batch_size=1, parzen_samples=1).validate()


def test_config_defaults_are_valid_and_every_field_has_a_help_text():
    import dataclasses
    assert gan.Config().validate() == gan.Config()
    for f in dataclasses.fields(gan.Config):
        assert f.metadata["help"].strip(), f.name
    assert dataclasses.fields(gan.Config)[0].metadata["help"] == "dimension of z"
