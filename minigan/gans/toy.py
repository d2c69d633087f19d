"""Small GANs on toy distributions, for seeing the paper's ideas at work in seconds.

The networks are built from minigan's layers and trained with Algorithm 1
(``gan.discriminator_step`` k times, then ``gan.generator_step``), exactly the
functions the MNIST trainer offers as ``--update algorithm1``.

``ToyGAN(..., model=...)`` plays one of three games with the same G and the same D layers:
  'gan'      the original GAN: D(x) = σ(D's logit), Adam, G's non-saturating (or minimax) loss;
  'wgan'     the Wasserstein GAN: D is a critic f (no sigmoid) clipped to [−c, c], RMSProp,
             G descends −E f(G(z)); the steps are ``wgan.wgan_step``'s;
  'wgan-gp'  WGAN-GP: the critic gets a gradient penalty instead of clipping, Adam β1 = 0,
             β2 = 0.9; the steps are ``wgan_gp.wgan_gp_step``'s.
For a critic, "D's value" everywhere below (``d_of``, ``generator_push``, ``objectives``) is the
score f(x) itself, not a probability.
"""
import math

import numpy

from .. import backend
from . import gan, theory, wgan, wgan_gp
from ..layers import Dense, ReLU
from ..losses import WassersteinGeneratorLoss
from ..network import Sequential
from ..optim import SGD, Adam, RMSProp, clip_

MODELS = ("gan", "wgan", "wgan-gp")

# The defaults of each game on these small nets (2-D points, two hidden layers of 16–64 units,
# 4,000 generator steps in the examples), where the papers' MNIST/LSUN values do not carry over.
# The numbers quoted are "samples on a mode" (toy.modes_covered, 10,000 samples) on the ring after
# 4,000 G steps with examples/ring_2d.py's networks and batch 256, seeds 0 and 1:
#   'gan': the values ToyGAN always had: k = 1, Adam η = 1e-3 (β1 = 0.5, the DCGAN setting).
#   'wgan': n_critic = 5 (the paper's); RMSProp η = 1e-3 for both players and c = 0.1. The paper's
#       c = 0.01 with η = 5e-5 (its MNIST values, also those of the WGAN-GP authors' gan_toy.py, which
#       runs 100,000 steps) leaves G spread over the plane: 9–13% on a mode; c = 0.01 with η = 1e-3: 10–11%;
#       c = 0.1 with η = 1e-4: 40–44%; c = 0.5 with η = 1e-3: 78–80%; c = 0.1 with η = 1e-3: 88–91%.
#       c bounds every weight of the 2→64→64→1 critic; 0.1 is below the hidden layers' starting range
#       (±1/√64 = 0.125), so the clip binds from the first step, as in the paper. RMSProp's step is
#       about η per coordinate, so η/c = 1e-2 crosses a clipped weight's box in ~20 steps.
#   'wgan-gp': n_critic = 5 and λ = 10 (the paper's), Adam β1 = 0, β2 = 0.9 (the paper's), η = 1e-3
#       for both players: the paper's η = 1e-4 gives 6–7% on a mode in 4,000 steps, 3e-4 54–57%,
#       1e-3 61–86%. (The paper's own toy script uses λ = 0.1 and β1 = 0.5; λ = 10 is kept here as the
#       paper's Algorithm 1 has it, so the toy runs the same algorithm as the MNIST one.)
TOY_DEFAULTS = {"gan": {"k": 1, "lr": 1e-3},
                "wgan": {"k": 5, "lr": 1e-3, "clip": 0.1},
                "wgan-gp": {"k": 5, "lr": 1e-3, "lam": 10.0}}


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
    """D(x) = σ(D's logit) for NumPy points x (N, d), as NumPy (N, 1); no dropout. The GAN's D only:
    a critic's score is ``critic_value``."""
    from ..layers import sigmoid
    return backend.to_numpy(sigmoid(_output(D, x)))        # σ on the device, then to the host


def critic_value(D, x):
    """D's raw output for NumPy points x (N, d), as NumPy (N, 1); no dropout. For a WGAN critic this
    is f(x), the score itself; for the GAN's D it is the logit, which ``probability`` squashes."""
    return backend.to_numpy(_output(D, x))


def _output(D, x):
    """D's raw output for NumPy points x (N, d), on the device (N, 1); no dropout."""
    return D.forward(backend.asarray(numpy.asarray(x, dtype=numpy.float32)), train=False)


class ToyGAN:
    """G, D and Algorithm 1 on a sampler of p_data; z uniform on [−1, 1]^noise_dim.

    ``model`` picks the game ('gan', 'wgan' or 'wgan-gp', see the module docstring). k is the number
    of D (or critic) steps per G step, n_critic for the critics. Left as None, k, lr_d, lr_g, clip
    and lam take the game's TOY_DEFAULTS. ``objective`` (G's loss: 'nonsaturating' or 'minimax')
    and ``optimizer`` ('adam' or 'sgd') are the GAN's choices; a critic's G has one objective,
    −E f(G(z)), and each critic game its paper's optimizer.
    """

    def __init__(self, sample_data, data_dim, noise_dim=1, g_sizes=(16, 16), d_sizes=(32, 32), k=None,
                 lr_d=None, lr_g=None, objective=None, optimizer=None, batch=128, seed=0,
                 model="gan", clip=None, lam=None):
        check_options(model, objective, optimizer, clip, lam)
        defaults = TOY_DEFAULTS[model]
        self.model, self.critic = model, model != "gan"
        self.k = defaults["k"] if k is None else k
        self.clip = defaults.get("clip") if clip is None else clip
        self.lam = defaults.get("lam") if lam is None else lam
        lr_d, lr_g = (defaults["lr"] if lr is None else lr for lr in (lr_d, lr_g))
        self.sample_data, self.noise_dim, self.batch = sample_data, noise_dim, batch
        self.G = mlp([noise_dim, *g_sizes, data_dim], rng=[seed, 1])
        self.D = mlp([data_dim, *d_sizes, 1], rng=[seed, 2])
        make = optimizer_maker(model, optimizer or "adam")
        self.opt_g, self.opt_d = make(self.G, lr_g), make(self.D, lr_d)
        self.objective = None if self.critic else objective or "nonsaturating"   # G's loss, the GAN's choice
        self.g_loss = WassersteinGeneratorLoss() if self.critic else gan.generator_loss(self.objective)
        if model == "wgan":
            # The critic starts inside the box, as every critic after a step is (wgan.critic_update).
            clip_([p for p, _ in self.D.params_and_grads()], self.clip)
        self.host = numpy.random.default_rng([seed, 3])
        self.steps = 0

    def noise(self, n):
        return backend.asarray(self.host.uniform(-1, 1, (n, self.noise_dim)).astype(numpy.float32))

    def data(self, n):
        return backend.asarray(self.sample_data(self.host, n))

    def eps(self, n):
        """WGAN-GP's ε ~ U[0, 1], one per sample: (n, 1), where x̂ = ε x + (1 − ε) G(z) lies."""
        return backend.asarray(self.host.random((n, 1)).astype(numpy.float32))

    def train_discriminator(self, steps):
        """Only D (or the critic) learns, G fixed: Algorithm 1's inner loop on its own."""
        B = self.batch
        for _ in range(steps):
            x, z = self.data(B), self.noise(B)
            if self.model == "gan":
                gan.discriminator_step(self.G, self.D, x, z, self.opt_d)
            elif self.model == "wgan":
                wgan.critic_update(self.D, x, self.G.forward(z, train=False), self.opt_d, self.clip)
            else:
                wgan_gp.critic_update(self.D, x, self.G.forward(z, train=False), self.eps(B), self.opt_d, self.lam)

    def step(self):
        """One iteration of the game's Algorithm 1: k steps of D (or the critic), then one step of G
        (``gan.algorithm1_step``, ``wgan.wgan_step`` or ``wgan_gp.wgan_gp_step``)."""
        B = self.batch
        if self.model == "gan":
            xs, zs = zip(*[(self.data(B), self.noise(B)) for _ in range(self.k)])
            gan.algorithm1_step(self.G, self.D, xs, zs, self.noise(B), self.opt_g, self.opt_d, self.g_loss)
        elif self.model == "wgan":
            draws = [(self.data(B), self.noise(B)) for _ in range(self.k)]
            wgan.wgan_step(self.G, self.D, draws, lambda: self.noise(B), self.opt_g, self.opt_d, self.clip)
        else:
            draws = [(self.data(B), self.noise(B), self.eps(B)) for _ in range(self.k)]
            wgan_gp.wgan_gp_step(self.G, self.D, draws, lambda: self.noise(B), self.opt_g, self.opt_d, self.lam)
        self.steps += 1

    def generate(self, z):
        return backend.to_numpy(self.G.forward(backend.asarray(numpy.asarray(z, dtype=numpy.float32)), train=False))

    def d_of(self, x):
        """D's value at NumPy points x (N, d), as NumPy (N, 1): D(x) = σ(D's logit), a probability,
        for the GAN; the critic's score f(x), any real number (no sigmoid), for 'wgan' and 'wgan-gp'."""
        return critic_value(self.D, x) if self.critic else probability(self.D, x)


def heat_map(model, grid):
    """The values a heat map of D draws on NumPy grid points (N, d), with their colour range:
    D(x) in [0, 1] for the GAN; for a critic, f(x) minus its mean over the grid, in ± its largest
    deviation (only differences of f matter: the objectives are unchanged by f + constant)."""
    d = model.d_of(grid)[:, 0]                                                  # (N,)
    if not model.critic:
        return d, 0, 1
    d = d - d.mean()
    top = max(numpy.abs(d).max(), 1e-12)          # a constant f (a tiny run's start) stays white, no 0/0
    return d, -top, top


def check_options(model, objective, optimizer, clip, lam):
    """One-line ValueErrors for a model that does not exist and for options of another game."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if model != "gan" and (objective is not None or optimizer is not None):
        raise ValueError(f"objective and optimizer are the GAN's options; model {model!r} has its G descend "
                         f"−E f(G(z)) with its paper's optimizer "
                         f"(got objective={objective!r}, optimizer={optimizer!r})")
    if optimizer not in (None, "adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}")
    if clip is not None and model != "wgan":
        raise ValueError(f"clip is the WGAN's weight clipping; model {model!r} has none (got clip={clip})")
    if lam is not None and model != "wgan-gp":
        raise ValueError(f"lam weighs WGAN-GP's gradient penalty; model {model!r} has none (got lam={lam})")


def optimizer_maker(model, optimizer):
    """(net, η) -> the game's optimizer: for the GAN, Adam (β1 = 0.5) or SGD (momentum 0.5); for the
    WGAN, RMSProp (ρ = 0.99, the paper's code's); for WGAN-GP, Adam with β1 = 0, β2 = 0.9 (the paper's)."""
    if model == "wgan":
        return lambda net, lr: RMSProp(net.params_and_grads, lr, rho=0.99)
    if model == "wgan-gp":
        return lambda net, lr: Adam(net.params_and_grads, lr, beta1=0.0, beta2=0.9)
    if optimizer == "adam":
        return lambda net, lr: Adam(net.params_and_grads, lr, beta1=0.5)
    return lambda net, lr: SGD(net.params_and_grads, lr, 0.5)


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
    the hand-derived one G's update uses (``gan.generator_step``, or ``wgan.generator_update`` for
    a critic, whose g_loss is ``losses.WassersteinGeneratorLoss``: then the push is ∇ₓ f(G(z)) / B, uphill on
    the critic's surface): D.forward(G(z)), then D.backward(g_loss.backward(), param_grads=False).
    g_obj is a mean over the B points, so each row is 1/B of that point's own push; nothing is
    updated. Both passes run with train=False (no dropout; toy D has none anyway). z (B, noise_dim)
    is cast to G's parameter dtype.
    """
    dtype = next(iter(model.G.state_dict().values())).dtype
    s = model.G.forward(backend.asarray(numpy.asarray(z), dtype=dtype), train=False)   # (B, d) G(z)
    model.g_loss.forward(model.D.forward(s, train=False))                               # g_obj on (B, 1) logits or f
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
    ``model``, with no update and no dropout: (d_obj, g_obj) as floats, as the game's step defines them.

    GAN (``gan.algorithm1_step``): d_obj = ½ [BCE(D(x), 1) + BCE(D(G(z)), 0)] = −½ V(D, G); g_obj is
    model.g_loss on D(G(z)). Critic (``wgan.critic_objective``): d_obj = mean f(G(z)) − mean f(x) = −Ŵ,
    the critic's estimate of the Wasserstein distance with its sign turned (WGAN-GP's penalty is
    not in it); g_obj = −mean f(G(z)).
    """
    s = model.G.forward(backend.asarray(z), train=False)                                  # (B, d) G(z)
    a = model.D.forward(backend.xp.concatenate([backend.asarray(x), s]), train=False)     # (2B, 1) logits or f
    d_obj, _ = (wgan.critic_objective if getattr(model, "critic", False) else gan.discriminator_objective)(a)
    g_obj = model.g_loss.forward(a[len(x):])                                              # on the (B, 1) G(z) rows
    return float(backend.to_numpy(d_obj)), float(backend.to_numpy(g_obj))
