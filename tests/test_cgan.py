"""The conditional GAN: its configuration, networks, inputs, sampling and training step."""
import math

import numpy
import pytest

from minigan import backend, gradcheck
from minigan.gans import cgan, gan
from minigan.losses import BCEWithLogits
from minigan.program import train
from minigan.testing import TOL, check_layer_properties


def small(**kw):
    """A conditional G and D of the paper's layer types, small enough for a full elementwise check."""
    cfg = cgan.Config(noise_dim=3, g_z_hidden=4, g_y_hidden=5, g_hidden=6, d_x_units=3, d_x_pieces=2,
                      d_y_units=2, d_y_pieces=2, d_units=3, d_pieces=2, g_irange=0.7, d_irange=0.7, **kw)
    G, D = cgan.generator(cfg, rng=0, dtype="float64"), cgan.discriminator(cfg, rng=1, dtype="float64")
    rng = numpy.random.default_rng(2)      # random biases: zero ones put whole rows on a ReLU's kink
    for _, p, _, key in [*G.named_params(), *D.named_params()]:
        if key.endswith("b"):
            p[...] = backend.asarray(rng.uniform(-0.5, 0.5, p.shape))
    return cfg, G, D


def test_parameter_counts_of_the_paper():
    cfg = cgan.Config()
    # G: (100·200 + 200) + (10·1000 + 1000) + (1200·1200 + 1200) + (1200·784 + 784)
    assert cgan.generator(cfg).n_params() == 20_200 + 11_000 + 1_441_200 + 941_584
    # D: (784·1200 + 1200) + (10·250 + 250) + (290·960 + 960) + (240 + 1); maxout u×k pieces a layer
    assert cgan.discriminator(cfg).n_params() == 942_000 + 2_750 + 279_360 + 241


def test_networks_shapes(xp):
    cfg = cgan.Config()
    G, D = cgan.generator(cfg), cgan.discriminator(cfg)
    z = cgan.sample_noise(backend.rng(0), 7, cfg)
    assert 0 <= float(z.min()) and float(z.max()) < 1                  # the unit hypercube
    s = G.forward(cgan.generator_input(z, cgan.one_hot(numpy.arange(7))), train=False)
    assert s.shape == (7, 784) and 0 <= float(s.min()) and float(s.max()) <= 1
    assert D.forward(xp.concatenate([s, cgan.one_hot(numpy.arange(7))], axis=1)).shape == (7, 1)


def test_one_hot_and_evaluation_labels(xp):
    y = backend.to_numpy(cgan.one_hot(numpy.array([3, 0, 9])))
    assert y.shape == (3, 10) and y.sum() == 3 and y[0, 3] == y[1, 0] == y[2, 9] == 1
    labels = cgan.evaluation_labels(10000)
    assert numpy.bincount(labels).tolist() == [1000] * 10              # an equal share of each digit


def test_generator_and_discriminator_gradients(xp):
    """Every ∂/∂θ and ∂/∂input of the conditional G and D against central differences, through
    the testing kit (dropout masks held fixed by reseeding)."""
    _, G, D = small()
    rng = numpy.random.default_rng(3)
    labels = numpy.eye(10)[rng.integers(10, size=4)]
    check_layer_properties(G, numpy.concatenate([rng.random((4, 3)), labels], axis=1))
    check_layer_properties(D, numpy.concatenate([rng.random((4, 784)), labels], axis=1))


class NoStep:
    def step(self):
        pass


def grads_of(net):
    return ({name: p for name, p, _, _ in net.named_params()},
            {name: layer.grads[key].copy() for name, _, layer, key in net.named_params()})


@pytest.mark.parametrize("objective", ["nonsaturating", "minimax"])
def test_conditional_step_gradients(xp, objective):
    """The one-pass update computes ∇θ_d d_obj and ∇θ_g g_obj exactly, with y on both sides."""
    cfg, G, D = small(g_objective=objective)
    rng = numpy.random.default_rng(0)
    x, z = xp.asarray(rng.random((4, 784))), xp.asarray(rng.random((4, 3)))
    y = xp.asarray(numpy.eye(10)[[1, 7, 7, 0]])
    gradcheck._reseed(G.layers + D.layers, 7)
    cgan.conditional_step(G, D, x, y, z, NoStep(), NoStep(), gan.generator_loss(objective))

    def objectives():
        gradcheck._reseed(G.layers + D.layers, 7)       # the masks of the step (G's are drawn first)
        s = G.forward(xp.concatenate([z, y], axis=1))
        a = D.forward(xp.concatenate([xp.concatenate([x, y], axis=1), xp.concatenate([s, y], axis=1)]))
        d_obj = 0.5 * (BCEWithLogits().forward(a[:4], 1) + BCEWithLogits().forward(a[4:], 0))
        return d_obj, gan.generator_loss(objective).forward(a[4:])

    report_g = gradcheck.compare(lambda: objectives()[1], *grads_of(G))
    report_d = gradcheck.compare(lambda: objectives()[0], *grads_of(D))
    assert report_g.passed(TOL), report_g
    assert report_d.passed(TOL), report_d


def test_samples_keep_dropout_and_leave_the_trainers_stream_alone(xp):
    cfg, _, _ = small()
    G = cgan.generator(cfg, rng=0)                                        # float32, as the trainer's
    own = backend.rng(11)
    G.set_rng(own)
    a = cgan.sample_images(G, cfg, 30, seed=4)
    assert all(layer.rng is own for layer in G.layers if hasattr(layer, "rng"))
    assert numpy.array_equal(a, cgan.sample_images(G, cfg, 30, seed=4))          # seeded: reproducible
    assert not numpy.array_equal(a, cgan.sample_images(G, cfg, 30, seed=5))
    # The masks are drawn: the same z and y with G's dropout off give other images.
    z = cgan.sample_noise(backend.rng(4), 30, cfg)
    off = backend.to_numpy(G.forward(cgan.generator_input(z, cgan.one_hot(cgan.evaluation_labels(30))), train=False))
    assert not numpy.allclose(a, off)
    sevens = cgan.sample_images(G, cfg, 5, seed=4, labels=[7] * 5)
    assert sevens.shape == (5, 784)


def test_config_defaults_validation_and_help():
    cfg = cgan.Config()
    assert cfg.validate() == cfg and cfg.MODEL == "cgan"
    assert (cfg.lr, cfg.lr_decay, cfg.min_lr, cfg.momentum, cfg.final_momentum) == (0.1, 1.00004, 1e-6, 0.5, 0.7)
    assert (cfg.g_keep, cfg.d_keep, cfg.batch_size) == (0.5, 0.5, 100)
    from dataclasses import fields
    assert all(f.metadata.get("help") for f in fields(cgan.Config))
    for bad, message in [({"g_keep": 0.0}, "g_keep must be in \\(0, 1\\]"), ({"d_units": 0}, "d_units must be at least 1"),
                         ({"lr": math.nan}, "lr must be"), ({"lr_decay": 0.5}, "lr_decay must be"),
                         ({"g_objective": "wasserstein"}, "g_objective must be one of")]:
        with pytest.raises(ValueError, match=message):
            cgan.Config(**bad).validate()


def random_labelled_data(n=60):
    rng = numpy.random.default_rng(0)
    return {"train": rng.random((n, 784), dtype=numpy.float32), "train_labels": rng.integers(10, size=n),
            "valid": rng.random((20, 784), dtype=numpy.float32), "test": rng.random((20, 784), dtype=numpy.float32)}


TINY = dict(noise_dim=3, g_z_hidden=4, g_y_hidden=5, g_hidden=6, d_x_units=3, d_x_pieces=2, d_y_units=2,
            d_y_pieces=2, d_units=3, d_pieces=2, batch_size=10, n_train=50, parzen_every=1, parzen_samples=20)


def test_trainer_runs_a_conditional_variant_and_resumes_it_bit_for_bit(tmp_path):
    """The shared trainer, unchanged, runs the CGAN; resume is exact, checkpoints name the model."""
    config = cgan.Config(**TINY)
    whole = train.Trainer(config, random_labelled_data(), tmp_path / "whole")
    whole.train(max_steps=13, progress=False)
    first = train.Trainer(config, random_labelled_data(), tmp_path / "split")
    first.train(max_steps=6, progress=False)
    second = train.Trainer(config, random_labelled_data(), tmp_path / "split")
    second.load(tmp_path / "split" / "checkpoint.npz")
    second.train(max_steps=7, progress=False)
    for net in ("G", "D"):
        a, b = getattr(whole, net).state_dict(), getattr(second, net).state_dict()
        assert all(numpy.array_equal(backend.to_numpy(a[k]), backend.to_numpy(b[k])) for k in a), net
    assert train.config_from_checkpoint(tmp_path / "whole" / "checkpoint.npz") == config
    G, _ = train.load_generator(tmp_path / "whole" / "best.npz")
    assert cgan.sample_images(G, config, 4, 0).shape == (4, 784)
    assert "time to the paper's 132 nats" in (tmp_path / "whole" / "report.txt").read_text()


def test_trainer_refuses_data_without_labels():
    data = random_labelled_data()
    del data["train_labels"]
    with pytest.raises(ValueError, match="conditional: its data needs 'train_labels'"):
        train.Trainer(cgan.Config(**TINY), data)


def test_d_label_none_hides_the_label_from_d(xp):
    """The ablation: D is shown zeros, so its y-branch weights get exactly no gradient (xᵀ dz with x = 0)."""
    cfg, G, D = small(d_label="none")
    rng = numpy.random.default_rng(0)

    class T:                                 # what the trainer hands a step
        pass
    t = T()
    t.G, t.D, t.opt_g, t.opt_d, t.cfg = G, D, NoStep(), NoStep(), cfg
    t.next_batch = lambda: (xp.asarray(rng.random((4, 784))), xp.asarray(numpy.eye(10)[[1, 2, 3, 4]]))
    t.noise = lambda: xp.asarray(rng.random((4, 3)))
    cgan.train_step(t)
    y_branch = D.layers[0].nets[1].layers[0]
    assert float(abs(y_branch.grads["W"]).max()) == 0.0
    assert float(abs(D.layers[0].nets[0].layers[1].grads["W"]).max()) > 0      # the image branch learns
