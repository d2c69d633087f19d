"""Small GANs on toy distributions, for seeing the paper's ideas at work in seconds.

The networks are built from minigan's layers and trained with Algorithm 1
(``gan.discriminator_step`` k times, then ``gan.generator_step``), exactly the
functions the MNIST trainer offers as ``--update algorithm1``.
"""
import math

import numpy

from . import backend, gan
from .layers import Dense, ReLU
from .network import Sequential
from .optim import SGD, Adam


def mlp(sizes, rng=0, dtype="float32"):
    """Dense layers of the given widths with ReLU between them; weights uniform in ±1/√fan_in."""
    rng = numpy.random.default_rng(rng)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, irange=1 / math.sqrt(n_in), rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(layers)


def gaussian_1d(mean=1.0, std=0.6):
    """A sampler of p_data = N(mean, std²) in one dimension: (rng, n) -> (n, 1)."""
    return lambda rng, n: (mean + std * rng.standard_normal((n, 1))).astype(numpy.float32)


def ring_2d(modes=8, radius=2.0, std=0.05):
    """A sampler of a ring of ``modes`` Gaussians: (rng, n) -> (n, 2)."""
    def sample(rng, n):
        angle = 2 * math.pi * rng.integers(0, modes, n) / modes
        centre = radius * numpy.stack([numpy.cos(angle), numpy.sin(angle)], axis=1)
        return (centre + std * rng.standard_normal((n, 2))).astype(numpy.float32)
    return sample


def probability(D, x):
    """D(x) = σ(D's logit) for NumPy points x (N, d), as NumPy (N, 1); no dropout."""
    from .layers import sigmoid
    return backend.to_numpy(sigmoid(D.forward(backend.asarray(numpy.asarray(x, dtype=numpy.float32)), train=False)))


class ToyGAN:
    """G, D and Algorithm 1 on a sampler of p_data; z uniform on [−1, 1]^noise_dim."""

    def __init__(self, sample_data, data_dim, noise_dim=1, g_sizes=(16, 16), d_sizes=(32, 32), k=1,
                 lr_d=1e-3, lr_g=1e-3, objective="nonsaturating", optimizer="adam", batch=128, seed=0):
        self.sample_data, self.noise_dim, self.k, self.batch = sample_data, noise_dim, k, batch
        self.G = mlp([noise_dim, *g_sizes, data_dim], rng=[seed, 1])
        self.D = mlp([data_dim, *d_sizes, 1], rng=[seed, 2])
        make = (lambda net, lr: Adam(net.params_and_grads, lr, beta1=0.5)) if optimizer == "adam" \
            else (lambda net, lr: SGD(net.params_and_grads, lr, 0.5))
        self.opt_g, self.opt_d = make(self.G, lr_g), make(self.D, lr_d)
        self.g_loss = gan.generator_loss(objective)
        self.host = numpy.random.default_rng([seed, 3])
        self.steps = 0

    def noise(self, n):
        return backend.asarray(self.host.uniform(-1, 1, (n, self.noise_dim)).astype(numpy.float32))

    def data(self, n):
        return backend.asarray(self.sample_data(self.host, n))

    def train_discriminator(self, steps):
        """Only D learns (G fixed): Algorithm 1's inner loop on its own."""
        for _ in range(steps):
            gan.discriminator_step(self.G, self.D, self.data(self.batch), self.noise(self.batch), self.opt_d)

    def step(self):
        """One iteration of Algorithm 1: k steps of D, then one step of G (``gan.algorithm1_step``)."""
        xs, zs = zip(*[(self.data(self.batch), self.noise(self.batch)) for _ in range(self.k)])
        gan.algorithm1_step(self.G, self.D, xs, zs, self.noise(self.batch), self.opt_g, self.opt_d, self.g_loss)
        self.steps += 1

    def generate(self, z):
        return backend.to_numpy(self.G.forward(backend.asarray(numpy.asarray(z, dtype=numpy.float32)), train=False))

    def d_of(self, x):
        """D(x) = σ(D's logit), as NumPy."""
        return probability(self.D, x)


def train_discriminator_alone(sample_data, sample_g, data_dim=1, steps=3000, batch=256, lr=2e-3,
                              sizes=(64, 64), seed=0):
    """Train D by BCE to tell p_data (label 1) from a *fixed* p_g (label 0); return D(x) as a function.

    With fresh samples at every step this is stochastic gradient ascent on V(D, G) for
    fixed G, so D(x) should approach Proposition 1's D* = p_data / (p_data + p_g).
    """
    D = mlp([data_dim, *sizes, 1], rng=[seed, 4])
    opt = Adam(D.params_and_grads, lr, beta1=0.5)
    host = numpy.random.default_rng([seed, 5])
    for _ in range(steps):
        x, s = backend.asarray(sample_data(host, batch)), backend.asarray(sample_g(host, batch))
        gan.discriminator_update(D, x, s, opt)
    return lambda x: probability(D, x)


def modes_covered(samples, modes=8, radius=2.0, within=0.25, min_share=0.01):
    """How many of the ring's modes hold at least ``min_share`` of the samples within ``within``
    of their centre, and the share of samples that land near any mode (the rest are off the ring)."""
    angle = 2 * math.pi * numpy.arange(modes) / modes
    centres = radius * numpy.stack([numpy.cos(angle), numpy.sin(angle)], axis=1)      # (M, 2)
    dist = numpy.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)        # (N, M)
    near = dist.min(axis=1) < within
    counts = numpy.bincount(dist.argmin(axis=1)[near], minlength=modes)
    return int((counts >= min_share * len(samples)).sum()), float(near.mean())
