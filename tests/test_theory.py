"""Section 4 of the paper: D*, C(G) = −log 4 + 2·JSD, the global optimum; checked by quadrature."""
import math

import numpy
import pytest

from minigan.gans import theory

# Midpoints of 100,000 cells on [0, 4]: the breakpoints 0, 0.5, 1, 1.5, 2, 3 fall on cell edges,
# so piecewise-constant densities are integrated exactly (up to float round-off, ~1e-12).
EDGES = numpy.linspace(0, 4, 100_001)
X = (EDGES[:-1] + EDGES[1:]) / 2
DX = EDGES[1] - EDGES[0]


def uniform(a, b):
    return numpy.where((X > a) & (X < b), 1 / (b - a), 0.0)


def test_optimum_is_minus_log_4_when_p_g_equals_p_data():
    p = uniform(0, 1)
    assert theory.virtual_criterion(p, p, DX) == pytest.approx(-math.log(4), abs=1e-12)
    assert numpy.all(theory.optimal_discriminator(p, p)[p > 0] == 0.5)      # D* = ½ everywhere


def test_disjoint_supports_give_jsd_log_2():
    """p_data = U(0, 1), p_g = U(2, 3): JSD = log 2, so C(G) = −log 4 + 2 log 2 = 0."""
    p, q = uniform(0, 1), uniform(2, 3)
    assert theory.jsd(p, q, DX) == pytest.approx(math.log(2), abs=1e-12)
    assert theory.virtual_criterion(p, q, DX) == pytest.approx(0.0, abs=1e-12)


def test_half_overlap_by_hand():
    """p = U(0, 1), q = U(0.5, 1.5), m = (p + q)/2. On (0, ½) p = 1, m = ½: KL(p‖m) = ½ log 2;
    on (½, 1) p = q = m: nothing. So JSD = ½ log 2 and C(G) = −log 4 + log 2 = −log 2."""
    p, q = uniform(0, 1), uniform(0.5, 1.5)
    assert theory.jsd(p, q, DX) == pytest.approx(0.5 * math.log(2), abs=1e-12)
    assert theory.virtual_criterion(p, q, DX) == pytest.approx(-math.log(2), abs=1e-12)


@pytest.mark.parametrize("mean, std", [(1.0, 0.6), (1.2, 0.6), (0.0, 1.0), (3.0, 0.3)])
def test_theorem_1_for_gaussians(mean, std):
    """Smooth densities on a fine grid over [−6, 7]: both sides are sums of the same kind over
    the same points, so they agree to round-off (1e-9); C(G) ≥ −log 4 with equality only at p_g = p_data."""
    x = numpy.linspace(-6, 7, 130_001)
    dx = x[1] - x[0]
    p, q = theory.gaussian(x, 1.0, 0.6), theory.gaussian(x, mean, std)
    c = theory.virtual_criterion(p, q, dx)
    assert c == pytest.approx(-math.log(4) + 2 * theory.jsd(p, q, dx), abs=1e-9)
    if (mean, std) == (1.0, 0.6):
        assert c == pytest.approx(-math.log(4), abs=1e-9)
    else:
        assert c > -math.log(4) + 1e-3


def test_optimal_discriminator_by_hand():
    assert theory.optimal_discriminator(numpy.array([3.0, 0.0, 0.0]), numpy.array([1.0, 2.0, 0.0])).tolist() == [0.75, 0.0, 0.5]
