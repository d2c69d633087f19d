"""Parzen window: the matrix-product form must equal the direct computation."""
import math

import numpy
import pytest

from minigan.evaluation import parzen


def direct(samples, data, sigma):
    """The definition, computed the slow way in float64: explicit differences, explicit log-mean-exp."""
    out = []
    for x in data:
        e = -((x - samples) ** 2).sum(axis=1) / (2 * sigma ** 2)
        top = e.max()
        out.append(top + math.log(numpy.exp(e - top).mean()) - samples.shape[1] * math.log(sigma * math.sqrt(2 * math.pi)))
    return numpy.array(out)


@pytest.mark.parametrize("sigma", [0.1, 0.2, 1.0])
def test_matches_direct_computation(xp, sigma):
    rng = numpy.random.default_rng(0)
    samples = rng.random((300, 784)).astype(numpy.float32)     # like G's outputs: float32 in [0, 1]
    data = rng.random((40, 784)).astype(numpy.float32)
    data[0] = samples[3]                                       # a zero distance, the worst case for round-off
    got = parzen.log_likelihood(samples, data, sigma, chunk=16)
    want = direct(samples.astype(numpy.float64), data.astype(numpy.float64), sigma)
    assert numpy.allclose(got, want, rtol=1e-6, atol=0)


def test_hand_worked_one_dimension():
    """d = 1, samples {0, 2}, x = 1, σ = 1: both at distance 1, so
    log p(1) = log N(1; 0, 1) = −½ − ½ log 2π ≈ −1.4189."""
    ll = parzen.log_likelihood(numpy.array([[0.0], [2.0]]), numpy.array([[1.0]]), 1.0)
    assert ll[0] == pytest.approx(-0.5 - 0.5 * math.log(2 * math.pi), rel=1e-14)


def test_chunking_does_not_change_results(xp):
    rng = numpy.random.default_rng(1)
    samples, data = rng.random((50, 20)), rng.random((33, 20))
    a = parzen.log_likelihoods(samples, data, [0.1, 0.5], chunk=5)
    b = parzen.log_likelihoods(samples, data, [0.1, 0.5], chunk=1000)
    assert a.shape == (2, 33) and numpy.allclose(a, b, rtol=1e-13)


def test_protocol_chooses_the_best_sigma_on_validation(xp):
    rng = numpy.random.default_rng(2)
    samples, valid, test = rng.random((200, 30)), rng.random((60, 30)), rng.random((50, 30))
    res = parzen.evaluate(samples, valid, test, n_valid=40)
    means = [direct(samples, valid[:40], s).mean() for s in parzen.SIGMAS]
    assert res.sigma == parzen.SIGMAS[int(numpy.argmax(means))]
    ll = direct(samples, test, res.sigma)
    assert res.mean == pytest.approx(ll.mean(), rel=1e-9)
    assert res.se == pytest.approx(ll.std() / math.sqrt(50), rel=1e-9)
    assert "± " in res.row() and res.n_test == 50


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"same d.*\(3, 4\) and \(2, 5\)"):
        parzen.log_likelihood(numpy.zeros((3, 4)), numpy.zeros((2, 5)), 0.1)
    with pytest.raises(ValueError, match="sigma must be positive"):
        parzen.log_likelihood(numpy.zeros((3, 4)), numpy.zeros((2, 4)), 0.0)


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), m=st.integers(1, 40), n=st.integers(1, 20), d=st.integers(1, 30),
       sigma=st.floats(0.05, 2.0))
def test_invariances(seed, m, n, d, sigma):
    """A kernel density estimate does not care about the order of its samples, and shifting
    samples and data by the same vector changes no distance; all to float64 round-off."""
    rng = numpy.random.default_rng(seed)
    samples, data, shift = rng.random((m, d)), rng.random((n, d)), rng.normal(size=d)
    base = parzen.log_likelihood(samples, data, sigma)
    assert numpy.allclose(parzen.log_likelihood(samples[rng.permutation(m)], data, sigma), base, rtol=1e-10)
    assert numpy.allclose(parzen.log_likelihood(samples + shift, data + shift, sigma), base, rtol=1e-8, atol=1e-8)
    assert numpy.allclose(base, direct(samples, data, sigma), rtol=1e-9)


def test_one_sample_is_a_gaussian_log_density():
    """M copies of one sample μ: log p(x) = log N(x; μ, σ²I) = −‖x − μ‖²/2σ² − d log(σ√2π)."""
    mu, x = numpy.array([[0.2, 0.4, 0.6]]), numpy.array([[0.5, 0.0, 1.0]])
    want = -((x - mu) ** 2).sum() / (2 * 0.3 ** 2) - 3 * math.log(0.3 * math.sqrt(2 * math.pi))
    assert parzen.log_likelihood(numpy.repeat(mu, 5, axis=0), x, 0.3)[0] == pytest.approx(want, rel=1e-13)


def test_protocol_uses_exactly_the_first_1000_validation_images():
    """The protocol picks σ on validation images 0–999, no more, no fewer, no other ones.

    Validation rows 0–999 lie close to the samples (noise 0.05), which favours a narrow window;
    rows 1000–1999 lie far from every sample, which favours the widest σ of the grid. So σ changes
    if evaluate reads past row 999, and the reported validation mean (every row is different)
    changes if it reads any other slice, even one row more or less.
    """
    rng = numpy.random.default_rng(0)
    samples = rng.random((50, 5))
    near = samples[rng.integers(0, 50, 1000)] + rng.normal(0, 0.05, (1000, 5))
    valid = numpy.concatenate([near, rng.random((1000, 5)) + 30.0])        # (2000, 5)
    test = rng.random((30, 5))
    sigma_first, _ = parzen.select_sigma(samples, valid[:1000])
    assert sigma_first != parzen.select_sigma(samples, valid[:1001])[0]     # the construction works
    assert sigma_first != parzen.select_sigma(samples, valid[1000:])[0]

    result = parzen.evaluate(samples, valid, test)
    assert result.sigma == sigma_first
    first_1000 = parzen.log_likelihood(samples, valid[:1000], sigma_first).mean()
    assert result.valid_mean == pytest.approx(first_1000, rel=1e-12)
    for other in (valid[:999], valid[1:1001]):
        assert parzen.log_likelihood(samples, other, sigma_first).mean() != pytest.approx(first_1000, rel=1e-9)
    assert result.n_test == 30 and result.n_samples == 50
