"""Optimizers and schedules: hand-worked updates and the paper's schedule values."""
import math

import numpy
import pytest

from minigan import backend
from minigan.layers import Dense
from minigan.network import Sequential
from minigan.optim import SGD, Adam, Constant, ExponentialDecay, LinearMomentum, RMSProp, clip_


def one_param(xp, value, grad):
    p, g = xp.asarray([value]), xp.asarray([grad])
    return p, g, (lambda: [(p, g)])


def test_sgd_momentum_by_hand(xp):
    """η = 0.1, μ = 0.5, constant gradient g = 2, θ_0 = 1:
    step 1: v = 0.5·0 − 0.1·2 = −0.2,   θ = 0.8
    step 2: v = 0.5·(−0.2) − 0.2 = −0.3, θ = 0.5
    """
    p, g, pairs = one_param(xp, 1.0, 2.0)
    opt = SGD(pairs, lr=0.1, momentum=0.5)
    opt.step()
    assert float(p[0]) == pytest.approx(0.8)
    opt.step()
    assert float(p[0]) == pytest.approx(0.5)
    assert float(opt.velocity[0][0]) == pytest.approx(-0.3)


@pytest.mark.parametrize("lr", [0.1, 1e-6])
def test_sgd_in_place_update_equals_the_textbook_line(xp, lr):
    """SGD.step computes v ← μv − ηg as −η (g − (μ/η) v) in three in-place passes. It must give
    the textbook line v = μv − ηg to within a few float32 roundings of the terms' size (as the
    textbook line itself computed in float32 would), and leave g as it was (callers read
    gradients after the step)."""
    rng = numpy.random.default_rng(0)
    theta0, v0, g0 = (rng.normal(size=(50, 40)).astype(numpy.float32) for _ in range(3))
    p, g = xp.asarray(theta0.copy()), xp.asarray(g0.copy())
    opt = SGD(lambda: [(p, g)], lr=lr, momentum=0.7)
    opt.velocity = [xp.asarray(v0.copy())]
    opt.step()
    mu_v, eta_g = 0.7 * v0.astype(numpy.float64), lr * g0.astype(numpy.float64)
    tolerance = 4 * numpy.finfo(numpy.float32).eps * (abs(mu_v) + abs(eta_g))   # 4 roundings
    assert (abs(backend.to_numpy(opt.velocity[0]) - (mu_v - eta_g)) <= tolerance).all()
    assert (abs(backend.to_numpy(p) - (theta0 + mu_v - eta_g)) <= tolerance + 4e-7 * abs(theta0)).all()
    assert numpy.array_equal(backend.to_numpy(g), g0)


def test_sgd_in_two_threads_is_bit_for_bit_the_plain_loop(xp, monkeypatch):
    """SGD.step updates large arrays in two halves on two threads (optim.in_two_threads). Arrays
    above and below optim.SPLIT_ABOVE, of odd sizes, and one that is not contiguous (updated
    whole): every θ and v must equal, to the bit, the textbook loop of SGD._update over whole
    arrays, on one core as on two."""
    from minigan import optim
    rng = numpy.random.default_rng(1)
    big = optim.SPLIT_ABOVE
    shapes = [(big + 1,), (3, big // 2 + 7), (5,), (7, 11), (big // 64, 130)]
    base = [[rng.normal(size=s).astype(numpy.float32) for s in shapes] for _ in range(3)]

    def run(threaded, cores):
        theta, g, v = ([xp.asarray(a.copy()) for a in arrays] for arrays in base)
        theta[-1], g[-1], v[-1] = theta[-1][:, ::2], g[-1][:, ::2], v[-1][:, ::2]   # strided views
        opt = SGD(lambda: list(zip(theta, g)), lr=0.05, momentum=0.6)
        opt.velocity = v
        monkeypatch.setattr(optim, "_cores", lambda: cores)
        for _ in range(3):
            if threaded:
                opt.step()
            else:                                     # the textbook loop the comment in step() names
                for p, grad, vel in zip(theta, g, opt.velocity):
                    opt._update(p, grad, vel)
        return [backend.to_numpy(a) for a in theta + opt.velocity]

    plain = run(False, 1)
    for cores in (1, 2):
        assert all(numpy.array_equal(a, b) for a, b in zip(run(True, cores), plain))


def test_in_two_threads_gives_each_thread_one_half_of_every_large_array(monkeypatch):
    """The split happens: a large array's two halves go to two threads, a small array goes whole,
    and on one core everything runs in the calling thread."""
    import threading
    from minigan import optim
    a, b = numpy.zeros(optim.SPLIT_ABOVE * 2 + 1), numpy.zeros(3)
    for cores, threads in ((2, 2), (1, 1)):
        seen = []
        monkeypatch.setattr(optim, "_cores", lambda: cores)
        optim.in_two_threads(lambda x: seen.append((x.size, threading.get_ident())), [(b,), (a,)])
        assert sorted(size for size, _ in seen) == [3, optim.SPLIT_ABOVE, optim.SPLIT_ABOVE + 1]
        assert len({ident for _, ident in seen}) == threads
        big = [ident for size, ident in seen if size > 3]
        assert len(set(big)) == threads                  # the two halves: one thread each (on two cores)


def test_importing_minigan_first_sets_openblas_spin_default_and_never_overrides(tmp_path):
    """minigan/__init__.py shortens OpenBLAS's idle spin when NumPy is not loaded yet, and leaves
    a value the user set, or an already loaded NumPy, alone."""
    import os
    import subprocess
    import sys
    show = "import os; {} import minigan; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    for env, first, expected in (({}, "", "16"), ({"OPENBLAS_THREAD_TIMEOUT": "28"}, "", "28"),
                                 ({}, "import numpy;", "None")):
        environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
        out = subprocess.run([sys.executable, "-c", show.format(first)], env={**environ, **env},
                             capture_output=True, text=True, cwd=tmp_path)
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_sgd_refuses_a_learning_rate_that_is_not_positive(xp, lr):
    p, g, pairs = one_param(xp, 1.0, 2.0)
    with pytest.raises(ValueError, match=r"SGD: the learning rate η must be > 0, got"):
        SGD(pairs, lr=lr, momentum=0.5).step()
    assert float(p[0]) == 1.0                                   # nothing was changed


def test_adam_equals_the_formula_after_three_steps(xp):
    """Three Adam steps on a constant g = 2, η = 0.1, β1 = 0.5, β2 = 0.999, ε = 1e-8: with a constant
    gradient m̂ = g and v̂ = g² exactly at every t (the bias corrections undo the zero start), so
    each step moves θ by −η g / (|g| + ε) = −0.1 · 2 / (2 + 1e-8) ≈ −0.1, and θ = 1 − 0.3."""
    p, g, pairs = one_param(xp, 1.0, 2.0)
    opt = Adam(pairs, lr=0.1, beta1=0.5, beta2=0.999, eps=1e-8)
    for _ in range(3):
        opt.step()
    assert float(p[0]) == pytest.approx(1 - 3 * 0.1 * 2 / (2 + 1e-8), rel=1e-12)


def test_adam_first_step_is_lr_times_sign(xp):
    """After one step m̂ = g and v̂ = g², so the update is −η g/(|g| + ε) ≈ −η sign(g)."""
    p, g, pairs = one_param(xp, 1.0, -3.0)
    Adam(pairs, lr=0.01).step()
    assert float(p[0]) == pytest.approx(1.01, abs=1e-8)


@pytest.mark.parametrize("make", [lambda pairs: SGD(pairs, 0.05, 0.9), lambda pairs: Adam(pairs, 0.05)])
def test_optimizers_minimise_a_quadratic(xp, make):
    """f(θ) = ½‖θ − c‖², ∇f = θ − c: both optimizers should approach c."""
    c = xp.asarray([1.0, -2.0, 3.0])
    p = xp.zeros(3)
    g = xp.zeros(3)
    opt = make(lambda: [(p, g)])
    for _ in range(500):
        g[...] = p - c
        opt.step()
    assert numpy.allclose(backend.to_numpy(p), [1, -2, 3], atol=1e-3)


def test_optimizer_state_round_trip(xp):
    net = Sequential([Dense(2, 2, rng=0)])
    net.forward(xp.ones((1, 2), dtype=xp.float32))
    net.backward(xp.ones((1, 2), dtype=xp.float32))
    for make in (lambda: SGD(net.params_and_grads, 0.1, 0.5), lambda: Adam(net.params_and_grads)):
        a = make()
        a.step()
        b = make()
        b.load_state({k: backend.to_numpy(v) for k, v in a.state().items()})
        assert sorted(a.state()) == sorted(b.state())
        assert all(numpy.array_equal(backend.to_numpy(a.state()[k]), backend.to_numpy(b.state()[k])) for k in a.state())


def test_exponential_decay_matches_the_paper():
    sched = ExponentialDecay(0.1, 1.000004, 1e-6)
    assert sched(0) == 0.1
    assert sched(500) == pytest.approx(0.1 / 1.000004 ** 500)
    assert sched(250_000) == pytest.approx(0.1 * math.exp(-250_000 * math.log(1.000004)))   # ≈ 0.0368 after 500 epochs
    assert sched(10 ** 8) == 1e-6               # the floor
    assert sched(10 ** 12) == 1e-6              # no overflow far beyond it


def test_linear_momentum_ramp():
    sched = LinearMomentum(0.5, 0.7, start=1, saturate=250)
    assert sched(0) == sched(1) == 0.5
    assert sched(125.5) == pytest.approx(0.6)
    assert sched(250) == sched(1000) == pytest.approx(0.7)
    assert LinearMomentum(0.5, 0.7, 3, 3)(2) == 0.5 and LinearMomentum(0.5, 0.7, 3, 3)(3) == 0.7


def test_rmsprop_by_hand(xp):
    """η = 0.01, ρ = 0.99, ε = 0, constant g = 2, θ_0 = 1 (r starts at 0 and is not bias-corrected):
    step 1: r = 0.01·4 = 0.04,             θ = 1 − 0.01·2/0.2 = 0.9       (10 η: the zero start)
    step 2: r = 0.99·0.04 + 0.04 = 0.0796, θ = 0.9 − 0.01·2/√0.0796 ≈ 0.9 − 0.070888
    """
    p, g, pairs = one_param(xp, 1.0, 2.0)
    opt = RMSProp(pairs, lr=0.01, rho=0.99, eps=0.0)
    opt.step()
    assert float(p[0]) == pytest.approx(0.9, rel=1e-12)
    opt.step()
    assert float(opt.r[0][0]) == pytest.approx(0.0796, rel=1e-12)
    assert float(p[0]) == pytest.approx(0.9 - 0.02 / math.sqrt(0.0796), rel=1e-12)


def test_rmsprop_state_round_trip_continues_identically(xp):
    """Saving r and loading it into a fresh optimizer continues the same trajectory (resume)."""
    p, g, pairs = one_param(xp, 1.0, 2.0)
    opt = RMSProp(pairs, lr=0.01)
    opt.step()
    q, h, pairs_q = one_param(xp, float(p[0]), 2.0)
    twin = RMSProp(pairs_q, lr=0.01)
    twin.load_state({k: backend.to_numpy(v) for k, v in opt.state().items()})
    opt.step()
    twin.step()
    assert float(q[0]) == float(p[0])


def test_clip_is_the_projection_onto_the_box(xp):
    """clip_ moves each entry to the nearest point of [−c, c]; entries inside stay exactly as they were."""
    a = xp.asarray([-0.5, -0.01, 0.003, 0.01, 2.0])
    b = xp.asarray([[1e-3, -1e-9]])
    clip_([a, b], 0.01)
    assert backend.to_numpy(a).tolist() == [-0.01, -0.01, 0.003, 0.01, 0.01]
    assert backend.to_numpy(b).tolist() == [[1e-3, -1e-9]]


def test_constant_schedule():
    assert Constant(5e-5)(0) == Constant(5e-5)(10**9) == 5e-5
