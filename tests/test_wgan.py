"""The Wasserstein GAN (weight clipping): its critic, objective, step, schedule of critic steps, config."""
import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import backend, gradcheck
from minigan.gans import gan, wgan
from minigan.layers import Dropout, Sigmoid
from minigan.program import train
from minigan.testing import SETTINGS, TOL, batches, check_layer_properties


def small(**kw):
    """A critic of the original D's layer types, small enough for a full elementwise check."""
    cfg = wgan.Config(noise_dim=3, g_hidden=6, d_units=3, d_pieces=2, d_irange=0.7, **kw)
    return cfg, wgan.critic(cfg, rng=1, n_in=5, dtype="float64")


def test_the_critic_is_the_original_d_without_sigmoid_or_dropout():
    """The same maxout layers and parameter count as the original D; no sigmoid; dropout only on request."""
    cfg = wgan.Config()
    f, D = wgan.critic(cfg), gan.paper_discriminator(gan.Config())
    assert f.n_params() == D.n_params() == (784 * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)
    assert not any(isinstance(layer, (Sigmoid, Dropout)) for layer in f.layers)
    dropped = wgan.critic(wgan.Config(d_input_keep=0.8, d_hidden_keep=0.5))
    assert [layer.include_prob for layer in dropped.layers if isinstance(layer, Dropout)] == [0.8, 0.5, 0.5]
    G, _ = wgan.networks(cfg, None)
    assert G.n_params() == gan.paper_generator(gan.Config()).n_params()   # the original G


@SETTINGS
@given(f=batches(min_rows=2, max_rows=16, width=1))
def test_critic_objective_and_its_gradient(xp, f):
    """d_obj = mean f(G(z)) − mean f(x), and ∂d_obj/∂f against central differences."""
    f = f[: 2 * (len(f) // 2)]
    f = xp.asarray(f)
    d_obj, df = wgan.critic_objective(f)
    B = f.shape[0] // 2
    assert float(d_obj) == pytest.approx(float(f[B:].mean() - f[:B].mean()))
    report = gradcheck.compare(lambda: wgan.critic_objective(f)[0], {"f": f}, {"f": df})
    assert report.passed(TOL), report


def test_hand_worked_critic_objective(xp):
    """f(x) = [1, 3], f(G(z)) = [0, −2]: d_obj = (0 − 2)/2 − (1 + 3)/2 = −1 − 2 = −3 (Ŵ = 3);
    ∂d_obj/∂f = [−½, −½, ½, ½]."""
    d_obj, df = wgan.critic_objective(xp.asarray([[1.0], [3.0], [0.0], [-2.0]]))
    assert float(d_obj) == -3.0
    assert backend.to_numpy(df).ravel().tolist() == [-0.5, -0.5, 0.5, 0.5]


def test_critic_gradients(xp):
    """Every ∂/∂θ and ∂/∂x of the critic against central differences, through the testing kit."""
    _, f = small()
    check_layer_properties(f, numpy.random.default_rng(0).normal(size=(4, 5)))


def test_a_critic_step_ascends_the_estimate_and_clips_every_weight(xp):
    """After each critic step every weight lies in [−c, c] (the initial ±0.7 ones too), and on a
    fixed batch the critic's Ŵ grows step by step."""
    cfg, f = small()
    opt = wgan.optimizers(cfg, f, f)[1]
    rng = numpy.random.default_rng(0)
    x, s = xp.asarray(rng.normal(1, 1, (8, 5))), xp.asarray(rng.normal(-1, 1, (8, 5)))
    w = [-float(wgan.critic_update(f, x, s, opt, cfg.clip)) for _ in range(20)]
    assert all(float(abs(p).max()) <= cfg.clip for p, _ in f.params_and_grads())
    assert w[-1] > w[1] > 0


def test_critic_steps_per_generator_step():
    """n_critic, but 100 for generator steps 0-24 and every 500th with critic_boost on (the released code)."""
    on, off = wgan.Config(), wgan.Config(critic_boost="off", n_critic=3)
    assert [wgan.batches_per_step(on, s) for s in (0, 24, 25, 499, 500, 501, 1000)] == [100, 100, 5, 5, 100, 5, 100]
    assert {wgan.batches_per_step(off, s) for s in (0, 24, 500)} == {3}


def test_steps_to_do_counts_boosted_steps():
    """An epoch of 781 minibatches (50,000 // 64) takes 8 boosted steps at the start (⌈781 / 100⌉);
    the first 5 epochs hold 25 boosted steps (2,500 minibatches), then 1,405 more at 5 each (281)."""
    cfg = wgan.Config()
    assert train.steps_to_do(cfg, 0, epochs=1) == 8
    assert train.steps_to_do(cfg, 0, epochs=5) == 25 + 281
    assert train.steps_to_do(cfg, 2500, epochs=5, step=25) == 281
    assert train.steps_to_do(cfg, 0, max_steps=3) == 3


@pytest.mark.parametrize("field, value, message", [
    ("clip", 0.0, r"clip must be a finite number > 0 \(weights are clipped to \[−c, c\]"),
    ("clip", float("nan"), r"clip must be a finite number > 0"),
    ("n_critic", 0, r"n_critic must be at least 1, got 0"),
    ("lr", 0.0, r"lr must be a finite number > 0"),
    ("critic_boost", "yes", r"critic_boost must be one of on, off; got 'yes'"),
    ("d_hidden_keep", 0.0, r"d_hidden_keep must be in \(0, 1\]"),
    ("batch_size", 0, r"batch_size must be in 1…n_train"),
])
def test_bad_values_are_one_clear_line(field, value, message):
    with pytest.raises(ValueError, match=message):
        wgan.Config(**{field: value}).validate()


def test_held_out_estimate_is_the_difference_of_mean_critic_values(xp):
    """Ŵ on held-out images: mean f over the images minus mean f over the samples, chunked or not."""
    _, f = small()
    rng = numpy.random.default_rng(0)
    x, s = rng.normal(size=(7, 5)), rng.normal(size=(5, 5))
    want = float(f.forward(xp.asarray(x), train=False).mean() - f.forward(xp.asarray(s), train=False).mean())
    assert wgan.held_out_estimate(f, x, s, chunk=3) == pytest.approx(want, rel=1e-12)


# ----- on the shared trainer -------------------------------------------------------------------

def noise_data(n=256):
    """Images that need no MNIST: uniform noise in [0, 1), as train, valid and test splits."""
    rng = numpy.random.default_rng(0)
    return {name: rng.random((n, 784), dtype=numpy.float32) for name in ("train", "valid", "test")}


TINY = dict(g_hidden=16, d_units=8, d_pieces=2, batch_size=16, n_train=256, parzen_every=1,
            parzen_samples=64)


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(tmp_path, model):
    """Stopped mid-epoch and resumed, a run ends with the same θ and metrics.csv as one that was not
    (16 minibatches an epoch; with critic_boost the first steps take 100 of them, across epochs)."""
    from minigan import gans
    cfg = gans.variant(model).Config(**TINY)
    whole = train.Trainer(cfg, noise_data(), tmp_path / "whole")
    whole.train(max_steps=30, progress=False)
    first = train.Trainer(cfg, noise_data(), tmp_path / "split")
    first.train(max_steps=27, progress=False)
    second = train.Trainer(cfg, noise_data(), tmp_path / "split")
    second.load(tmp_path / "split" / "checkpoint.npz")
    second.train(max_steps=3, progress=False)
    for net in ("G", "D"):
        a, b = getattr(whole, net).state_dict(), getattr(second, net).state_dict()
        assert all(numpy.array_equal(backend.to_numpy(a[k]), backend.to_numpy(b[k])) for k in a), net
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(whole.rows) == strip(second.rows) and len(whole.rows) >= 2
    assert all(isinstance(r["w_valid"], float) for r in whole.rows)
    assert "d_acc_real" not in whole.rows[0]                         # a critic has no accuracy


def test_an_epoch_row_holds_the_critic_statistics(tmp_path):
    cfg = wgan.Config(**TINY, critic_boost="off")
    t = train.Trainer(cfg, noise_data(), tmp_path)
    t.train(epochs=1, progress=False)
    row = t.rows[0]
    # 16 minibatches an epoch at 5 a step: the 4th step completes epoch 1 (and draws 4 of epoch 2's)
    assert row["step"] == 4 and row["momentum"] == "" and row["lr"] == 5e-5
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "w_valid" in header and "penalty" in header
    assert "critic's Ŵ on validation images" in (tmp_path / "report.txt").read_text()
