"""The paper's theory (Section 4), computed by quadrature on a grid.

Proposition 1: for a fixed G, the discriminator that maximises V(D, G) is
    D*(x) = p_data(x) / (p_data(x) + p_g(x)).
Theorem 1: with that D*, the virtual training criterion
    C(G) = max_D V(D, G) = E_{p_data}[log D*(x)] + E_{p_g}[log(1 − D*(x))]
         = −log 4 + 2 · JSD(p_data ‖ p_g),
whose global minimum −log 4 is reached exactly when p_g = p_data.

Densities are given as values on an evenly spaced grid of cell width dx;
integrals are midpoint sums Σ f(x_i) dx. The grid must hold (almost) all the
mass of both densities: the identity C(G) = −log 4 + 2·JSD uses ∫ p = 1. Everything is NumPy float64: this is
analysis, not training.
"""
import numpy


def gaussian(x, mean, std):
    return numpy.exp(-0.5 * ((x - mean) / std) ** 2) / (std * numpy.sqrt(2 * numpy.pi))


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data / (p_data + p_g); 0/0 (outside both supports) is defined as ½."""
    total = p_data + p_g
    return numpy.divide(p_data, total, out=numpy.full_like(total, 0.5), where=total > 0)


def _p_log_ratio(p, q):
    """p log(p / q), with 0 log 0 = 0 (the limit), so empty regions contribute nothing.

    Stability: computed as p (log p − log q), never as log of a quotient that could round
    to 0 or 1: where p_g ≪ p_data, 1 − D* = p_g / (p_data + p_g) underflows to exactly 0,
    but log p_g − log(p_data + p_g) stays finite.
    """
    safe = p > 0
    return numpy.where(safe, p * (numpy.log(numpy.where(safe, p, 1.0)) - numpy.log(numpy.where(safe, q, 1.0))), 0.0)


def virtual_criterion(p_data, p_g, dx):
    """C(G) = ∫ p_data log D* + ∫ p_g log(1 − D*), with D* from Proposition 1.

    D* = p_data / (p_data + p_g) and 1 − D* = p_g / (p_data + p_g).
    """
    total = p_data + p_g
    return float((_p_log_ratio(p_data, total) + _p_log_ratio(p_g, total)).sum() * dx)


def kl(p, q, dx):
    """KL(p ‖ q) = ∫ p log(p / q)."""
    return float(_p_log_ratio(p, q).sum() * dx)


def jsd(p, q, dx):
    """Jensen–Shannon divergence ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2; in [0, log 2]."""
    m = (p + q) / 2
    return 0.5 * kl(p, m, dx) + 0.5 * kl(q, m, dx)
