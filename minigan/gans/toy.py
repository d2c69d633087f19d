"""Small GANs on toy distributions, for seeing the paper's ideas at work in seconds.

The networks are built from minigan's layers and trained with Algorithm 1
(``gan.discriminator_step`` k times, then ``gan.generator_step``), exactly the
functions the MNIST trainer offers as ``--update algorithm1``.
"""
import math

import numpy

from .. import backend
from . import gan, theory
from ..layers import Dense, ReLU
from ..network import Sequential
from ..optim import SGD, Adam


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
    from ..layers import sigmoid
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


def generator_push(model, z):
    """Where D's gradient pushes each generated point: (G(z), −∂g_obj/∂G(z)), both NumPy (B, d).

    ``model`` needs G, D and g_loss (a ToyGAN, or anything holding those three). The gradient is
    the hand-derived one G's update uses (``gan.generator_step``): D.forward(G(z)), then
    D.backward(g_loss.backward(), param_grads=False). g_obj is a mean over the B points, so each
    row is 1/B of that point's own push; nothing is updated. Both passes run with train=False
    (no dropout; toy D has none anyway). z (B, noise_dim) is cast to G's parameter dtype.
    """
    dtype = next(iter(model.G.state_dict().values())).dtype
    s = model.G.forward(backend.asarray(numpy.asarray(z), dtype=dtype), train=False)   # (B, d) G(z)
    model.g_loss.forward(model.D.forward(s, train=False))                               # g_obj on (B, 1) logits
    ds = model.D.backward(model.g_loss.backward(), param_grads=False)                   # (B, d) ∂g_obj/∂G(z)
    return backend.to_numpy(s), -backend.to_numpy(ds)


def histogram_2d(samples, bins=60, lim=3.0):
    """Density of 2-D samples (N, 2) on a bins × bins grid over [−lim, lim]²: (bins, bins), and the
    cell area dx. Points outside the square are counted in its edge cells (clipped), so the
    density integrates to exactly 1, as ``theory.jsd`` and C(G) = −log 4 + 2·JSD need."""
    edges = numpy.linspace(-lim, lim, bins + 1)
    inside = numpy.clip(numpy.asarray(samples, dtype=numpy.float64), -lim, lim)       # (N, 2)
    counts, _, _ = numpy.histogram2d(inside[:, 0], inside[:, 1], bins=[edges, edges])
    dx = (edges[1] - edges[0]) ** 2
    return counts / (counts.sum() * dx), dx


def jsd_estimate(samples_p, samples_q, bins=60, lim=3.0):
    """JSD(p ‖ q) from two sets of 2-D samples, by ``theory.jsd`` on their ``histogram_2d``s.

    No smoothing is needed: the mixture m = (p + q)/2 is positive wherever p or q is, so every
    term is finite. The estimate is biased upwards by sampling noise (two histograms of the same
    distribution differ); measure that bias with two independent sample sets of p_data.
    """
    p, dx = histogram_2d(samples_p, bins, lim)
    q, _ = histogram_2d(samples_q, bins, lim)
    return theory.jsd(p, q, dx)


def objectives(model, x, z):
    """The two players' objectives on real points x (B, d) and noise z (B, noise_dim) for a ToyGAN
    ``model``, with no update and no dropout: (d_obj, g_obj) as floats, as ``gan.algorithm1_step``
    defines them. d_obj = ½ [BCE(D(x), 1) + BCE(D(G(z)), 0)] = −½ V(D, G); g_obj is model.g_loss
    on D(G(z)).
    """
    s = model.G.forward(backend.asarray(z), train=False)                                  # (B, d) G(z)
    a = model.D.forward(backend.xp.concatenate([backend.asarray(x), s]), train=False)     # (2B, 1)
    d_obj, _ = gan.discriminator_objective(a)
    g_obj = model.g_loss.forward(a[len(x):])                                              # on the (B, 1) G(z) rows
    return float(backend.to_numpy(d_obj)), float(backend.to_numpy(g_obj))
