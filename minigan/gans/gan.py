"""The paper's MNIST generator and discriminator, and the two ways of training them.

Notation (the paper's): z ~ p_z noise, x ~ p_data an image, G(z) a sample,
D(x) = σ(a(x)) the probability D assigns to "x is real", θ_g and θ_d the
parameters. Networks here return D's *logit* a; the final sigmoid of the paper's
D is folded into the losses (BCEWithLogits), exactly where the released code's
pylearn2 Sigmoid layer folded it, because log σ(a) computed from a is stable.

Two training steps:

* ``released_step`` — the update of the released code (pylearn2 AdversaryCost2):
  one forward pass of G and D per minibatch; both objectives are computed from
  that same pass (same dropout masks) and both players are updated together.
* ``algorithm1_step`` — Algorithm 1 as printed in the paper: k steps of D on
  fresh minibatches, then one step of G on fresh noise.

They differ in that the released step updates G against the *old* D (the D of
before this step's update), with D's dropout noise shared between the two
objectives, and always uses k = 1 with no extra forward passes; Algorithm 1
updates G against the D it has just improved, at the cost of a second forward pass.
"""
import math
from dataclasses import dataclass

import numpy

from .. import backend
from ..config import param, require_field, validate_sgd_game, as_dict
from ..layers import Dense, Dropout, Maxout, ReLU, Sigmoid
from ..losses import BCEWithLogits, MinimaxGeneratorLoss, NonSaturatingGeneratorLoss
from ..network import Sequential
from ..optim import SGD, Adam, ExponentialDecay, LinearMomentum

MODEL = "gan"           # the --model spelling (the default)
PAPER = "Goodfellow et al. (2014), Generative Adversarial Nets"
CONDITIONAL = False     # G and D see no class label
PAPER_NATS, PAPER_SE = 225.0, 2.0   # the paper's Table 1 for its MNIST GAN: 225 ± 2 nats
STATISTICS = ("d_obj", "g_obj", "d_right_real", "d_right_fake")   # a step's statistics, summed per epoch


# The generator's objectives, by the name Config.g_objective and --g-objective use.
GENERATOR_LOSSES = {"nonsaturating": NonSaturatingGeneratorLoss, "minimax": MinimaxGeneratorLoss}


@dataclass
class Config:
    """Every default is the paper's released MNIST setup (adversarial/mnist.yaml)."""
    MODEL = MODEL
    # p_z and G
    noise_dim: int = param(100, "dimension of z")
    noise: str = param("uniform", "p_z: 'uniform' on [−√3, √3] (unit variance) or 'gaussian'")
    g_hidden: int = param(1200, "width of G's two ReLU layers")
    g_irange: float = param(0.05, "G's weights start uniform in ±g_irange")
    g_bias_clip: float = param(1e-7, "pixel means are clipped to [c, 1 − c] before the logit "
                                     "(G's output bias; pylearn2's value)")
    # D
    d_units: int = param(240, "maxout units per hidden layer of D")
    d_pieces: int = param(5, "pieces per maxout unit")
    d_irange: float = param(0.005, "D's weights start uniform in ±d_irange")
    d_input_keep: float = param(0.8, "dropout include probability on D's input")
    d_input_scale: float = param(1.25, "scale of kept inputs there (1 / 0.8)")
    d_hidden_keep: float = param(0.5, "dropout include probability on the inputs of D's other layers")
    d_hidden_scale: float = param(2.0, "scale of kept inputs there (1 / 0.5)")
    # data
    batch_size: int = param(100, "m, the minibatch size (real and noise alike)")
    n_train: int = param(50000, "training images used (0 … n_train − 1)")
    # optimisation
    optimizer: str = param("sgd", "'sgd' (the paper's, with momentum) or 'adam'")
    lr: float = param(0.1, "η_0, initial learning rate")
    lr_decay: float = param(1.000004, "η is divided by this after every step")
    min_lr: float = param(1e-6, "floor of η")
    momentum: float = param(0.5, "μ at the start")
    final_momentum: float = param(0.7, "μ after the ramp")
    momentum_start: int = param(1, "epoch at which μ starts rising")
    momentum_saturate: int = param(250, "epoch at which μ reaches final_momentum")
    # algorithm
    update: str = param("released", "'released' (the code's joint update) or 'algorithm1' (the paper's listing)")
    k: int = param(1, "D steps per G step (algorithm1 only)")
    g_objective: str = param("nonsaturating", "'nonsaturating' (−log D(G(z)), recommended) "
                                              "or 'minimax' (log(1 − D(G(z))))")
    # bookkeeping
    seed: int = param(0, "seeds initialisation, data order, noise and dropout")
    epochs: int = param(1000, "passes over the training images (the released code set no limit)")
    parzen_every: int = param(10, "epochs between Parzen evaluations (0: never)")
    parzen_samples: int = param(10000, "samples from G for each Parzen evaluation")
    scores: str = param("parzen", "what each evaluation records: 'parzen' (the paper's) or 'parzen,is,fid' "
                                  "(also IS and FID of the same samples from minigan's MNIST classifier, "
                                  "trained on first use; off by default: see docs/metrics.md)")
    checkpoint_every: int = param(1, "epochs between checkpoints")

    CHOICES = {"noise": ("uniform", "gaussian"), "optimizer": ("sgd", "adam"),
               "update": ("released", "algorithm1"), "g_objective": tuple(GENERATOR_LOSSES),
               "scores": ("parzen", "parzen,is,fid")}

    # Integer fields that count things, so 0 means nothing: an empty layer of G or D, no
    # Parzen samples to score, or no D step per G step.
    COUNTS = ("noise_dim", "g_hidden", "d_units", "d_pieces", "parzen_samples", "k")

    def validate(self):
        """Raise ValueError naming the field, the allowed values and the given one (``config.validate_sgd_game``)."""
        validate_sgd_game(self, keeps=("d_input_keep", "d_hidden_keep"),
                          scales=("d_input_scale", "d_hidden_scale"), iranges=("g_irange", "d_irange"))
        # A step of Algorithm 1 draws k minibatches; more than an epoch holds would end epochs inside
        # one step, and the trainer writes a metrics row per step that ends one (rows would be skipped).
        per_epoch = self.n_train // self.batch_size
        require_field(self, "k", self.update != "algorithm1" or self.k <= per_epoch,
                      f"at most n_train // batch_size = {per_epoch}",
                      "the minibatches of one epoch: a step of Algorithm 1 draws k of them; lower --k or "
                      "raise --n-train")
        return self

    def as_dict(self):
        return as_dict(self)


def sigmoid_bias_from_marginals(images, clip=1e-7):
    """Bias b with σ(b) = mean pixel value: logit(clip(mean, c, 1 − c)), as pylearn2 did.

    Starting G's output at the average digit lets it spend its first steps on
    shape rather than on brightness. Clipping keeps the logit finite for pixels
    that are 0 in every image (the border): logit(1e-7) ≈ −16.1, still an ordinary
    float32 number. pylearn2's ``init_sigmoid_bias_from_array`` clips at 1e-7 too.
    """
    mean = numpy.clip(backend.to_numpy(images).astype(numpy.float64).mean(axis=0), clip, 1 - clip)
    return numpy.log(mean) - numpy.log1p(-mean)


def paper_generator(cfg=None, rng=0, output_bias=None, n_out=784, dtype="float32"):
    """G: z (B, 100) -> Dense 1200, ReLU -> Dense 1200, ReLU -> Dense 784, Sigmoid -> G(z) (B, 784)."""
    cfg = cfg or Config()
    rng = numpy.random.default_rng(rng)
    h, r = cfg.g_hidden, cfg.g_irange
    out = Dense(h, n_out, r, rng, dtype)
    if output_bias is not None:
        out.set_bias(output_bias)
    return Sequential([Dense(cfg.noise_dim, h, r, rng, dtype), ReLU(),
                       Dense(h, h, r, rng, dtype), ReLU(),
                       out, Sigmoid()])


def paper_discriminator(cfg=None, rng=1, n_in=784, dtype="float32"):
    """D: x (B, 784) -> [dropout 0.8] Maxout 240×5 -> [dropout 0.5] Maxout 240×5 -> [dropout 0.5] Dense 1.

    Returns the logit a (B, 1); D(x) = σ(a). Dropout sits on the input of every
    layer, as in the released code's AdversaryCost2.
    """
    cfg = cfg or Config()
    rng = numpy.random.default_rng(rng)
    u, k, r = cfg.d_units, cfg.d_pieces, cfg.d_irange
    return Sequential([
        Dropout(cfg.d_input_keep, cfg.d_input_scale), Maxout(n_in, u, k, r, rng, dtype),
        Dropout(cfg.d_hidden_keep, cfg.d_hidden_scale), Maxout(u, u, k, r, rng, dtype),
        Dropout(cfg.d_hidden_keep, cfg.d_hidden_scale), Dense(u, 1, r, rng, dtype)])


def sample_noise(rng, batch, cfg, dtype="float32"):
    """z ~ p_z: (B, noise_dim). Uniform on [−√3, √3] has mean 0 and variance 1, like N(0, 1)."""
    if cfg.noise == "gaussian":
        return rng.standard_normal((batch, cfg.noise_dim), dtype=dtype)
    u = rng.random((batch, cfg.noise_dim), dtype=dtype)                     # (B, Z) in [0, 1)
    return (u * 2 - 1) * numpy.dtype(dtype).type(math.sqrt(3))            # (B, Z) in [−√3, √3)


def sample_images(G, cfg, n, seed, labels=None, chunk=1000):
    """n samples G(z) as a NumPy array (n, 784), z from one generator seeded with ``seed``;
    drawn in chunks of 1,000 to bound memory; no dropout in G. ``labels`` is refused: the
    original G draws no particular digit (that is the conditional GAN's, ``cgan.sample_images``)."""
    if labels is not None:
        raise ValueError("the original GAN's G takes no digit: --digit needs a conditional model (--model cgan)")
    gen = backend.rng(seed)
    return numpy.concatenate([backend.to_numpy(G.forward(sample_noise(gen, min(chunk, n - i), cfg), train=False))
                              for i in range(0, n, chunk)])


def generator_loss(objective="nonsaturating"):
    """The generator's loss object for ``Config.g_objective``: 'nonsaturating' (−log D(G(z)),
    the paper's recommendation) or 'minimax' (log(1 − D(G(z))), V(D, G) as written)."""
    if objective not in GENERATOR_LOSSES:
        raise ValueError(f"g_objective must be one of {', '.join(GENERATOR_LOSSES)}; got {objective!r}")
    return GENERATOR_LOSSES[objective]()


def discriminator_objective(a):
    """D's objective on the stacked logits a = [a(x); a(G(z))] (2B, 1), and its gradient.

        d_obj = ½ [BCE(D(x), 1) + BCE(D(G(z)), 0)]      (= −½ V(D, G) per sample)
        ∂d_obj/∂a = ½ (σ(a) − t) / B,   t = 1 on the real rows, 0 on the generated ones

    Returns (d_obj, ∂d_obj/∂a (2B, 1)).  Derivation: docs/derivations.md#the-gan-step
    """
    xp, B = backend.xp, a.shape[0] // 2
    real, fake = BCEWithLogits(), BCEWithLogits()
    d_obj = 0.5 * (real.forward(a[:B], 1) + fake.forward(a[B:], 0))
    return d_obj, xp.concatenate([0.5 * real.backward(), 0.5 * fake.backward()])   # (2B, 1)


def d_accuracy(a):
    """How many real rows D calls real (a > 0, i.e. D(x) > ½) and generated rows it calls fake."""
    B = a.shape[0] // 2
    return (a[:B] > 0).sum(), (a[B:] < 0).sum()


def released_step(G, D, x, z, opt_g, opt_d, g_loss):
    """One update of the released code. x (B, 784) real images, z (B, 100) noise,
    g_loss the generator's loss object (``generator_loss(cfg.g_objective)``).

    Returns the step's statistics (0-d arrays): d_obj, g_obj, and the number of
    real and fake images D classified correctly.  Derivation: docs/derivations.md#the-gan-step
    """
    xp, B = backend.xp, x.shape[0]
    # 1. Forward: sample G(z); let D score real and generated images in one pass.
    s = G.forward(z)                                        # (B, 784)   G(z)
    a = D.forward(xp.concatenate([x, s]))                   # (2B, 1)    logits of D on [x; G(z)]
    # 2. Both objectives from this one pass (the same dropout masks), as in the released code:
    #    d_obj = ½ [BCE(D(x), 1) + BCE(D(G(z)), 0)]; g_obj by default −log D(G(z)).
    d_obj, da = discriminator_objective(a)                  # da (2B, 1) = ∂d_obj/∂a
    g_obj = g_loss.forward(a[B:])
    # 3. ∇θ_g g_obj: back through D into G(z), then through G. g_obj depends on the generated
    #    rows only, and D is not updated on g_obj, so this pass wants ∂/∂G(z) and no ∂/∂θ_d.
    #    Order rule: D.backward reads the cache of step 1, so no other D.forward may come between.
    ds = D.backward(g_loss.backward(), param_grads=False, rows=slice(B, None))   # (B, 784) ∂g_obj/∂G(z)
    G.backward(ds, input_grad=False)                                             # θ_g grads
    # 4. ∇θ_d d_obj: back through D again, on the same cache, now for its parameters.
    D.backward(da, input_grad=False)                                             # θ_d grads
    # 5. Both players step together. Order rule: both gradients above are taken at the θ_d and
    #    θ_g of step 1; stepping D before step 3 would give G the gradient of a D that never
    #    scored these samples.
    opt_d.step()
    opt_g.step()
    right_real, right_fake = d_accuracy(a)
    return {"d_obj": d_obj, "g_obj": g_obj, "d_right_real": right_real, "d_right_fake": right_fake}


def discriminator_update(D, x, s, opt_d):
    """One step of D on real images x (B, 784) against samples s (B, 784), whatever made them:
    descend d_obj = ½ [BCE(D(x), 1) + BCE(D(s), 0)], i.e. ascend V(D, G) for fixed G."""
    a = D.forward(backend.xp.concatenate([x, s]))           # (2B, 1)
    d_obj, da = discriminator_objective(a)
    D.backward(da, input_grad=False)                        # θ_d grads
    opt_d.step()
    return (d_obj, *d_accuracy(a))


def discriminator_step(G, D, x, z, opt_d):
    """Algorithm 1, inner loop: ascend ∇θ_d (1/m) Σ [log D(x) + log(1 − D(G(z)))]."""
    return discriminator_update(D, x, G.forward(z, train=False), opt_d)   # G(z) (B, 784), G held fixed


def generator_step(G, D, z, opt_g, g_loss):
    """Algorithm 1, outer step: descend ∇θ_g (1/m) Σ log(1 − D(G(z))), or the non-saturating
    −log D(G(z)), whichever ``g_loss`` is."""
    s = G.forward(z)                                        # (B, 784)
    a = D.forward(s)                                        # (B, 1)
    g_obj = g_loss.forward(a)
    ds = D.backward(g_loss.backward(), param_grads=False)   # (B, 784) ∂g_obj/∂G(z); D is not updated
    G.backward(ds, input_grad=False)                        # θ_g grads
    opt_g.step()
    return g_obj


def algorithm1_step(G, D, xs, zs, z_g, opt_g, opt_d, g_loss):
    """Algorithm 1: for k steps update D on (xs[i], zs[i]); then update G on fresh noise z_g.

    Order rule: G steps against the D that has just been updated, unlike ``released_step``."""
    right_real = right_fake = 0
    for x, z in zip(xs, zs):
        d_obj, rr, rf = discriminator_step(G, D, x, z, opt_d)
        right_real, right_fake = right_real + rr, right_fake + rf
    g_obj = generator_step(G, D, z_g, opt_g, g_loss)
    return {"d_obj": d_obj, "g_obj": g_obj, "d_right_real": right_real, "d_right_fake": right_fake}


# ----- what the shared trainer asks of a variant (minigan/gans/__init__.py) ------------------

def networks(cfg, train_images):
    """(G, D) as the trainer builds them: G's output bias from the training images' mean
    (none when ``train_images`` is None, as for loading a checkpoint), seeds [seed, 1] for G and
    [seed, 2] for D."""
    bias = None if train_images is None else sigmoid_bias_from_marginals(train_images, cfg.g_bias_clip)
    return paper_generator(cfg, rng=[cfg.seed, 1], output_bias=bias), paper_discriminator(cfg, rng=[cfg.seed, 2])


def optimizers(cfg, G, D):
    """(opt_g, opt_d): SGD with momentum (the paper's), or Adam with cfg.optimizer = 'adam'."""
    if cfg.optimizer == "sgd":
        return SGD(G.params_and_grads, cfg.lr, cfg.momentum), SGD(D.params_and_grads, cfg.lr, cfg.momentum)
    return Adam(G.params_and_grads, cfg.lr), Adam(D.params_and_grads, cfg.lr)


def schedules(cfg):
    """(η at step t, μ at epoch e): pylearn2's ExponentialDecay and MomentumAdjustor."""
    return (ExponentialDecay(cfg.lr, cfg.lr_decay, cfg.min_lr),
            LinearMomentum(cfg.momentum, cfg.final_momentum, cfg.momentum_start, cfg.momentum_saturate))


def generate(G, z, gen=None):
    """G(z) for noise z (B, Z): G has no dropout, so nothing is drawn from ``gen``."""
    return G.forward(z, train=False)


def generator_input(z, y=None):
    """G's input: the noise z itself (the original G sees no label)."""
    return z


def batches_per_step(cfg, step=0):
    """Minibatches of real images one step draws: k for Algorithm 1, one for the released step."""
    return cfg.k if cfg.update == "algorithm1" else 1


def train_step(t):
    """The trainer's step: ``t`` hands over G, D, opt_g, opt_d, cfg and the draws next_batch(), noise().

    Order rule for exact reproduction: the released step draws its minibatch before its noise;
    Algorithm 1 draws k (minibatch, noise) pairs, then G's noise."""
    cfg, g_loss = t.cfg, generator_loss(t.cfg.g_objective)
    if cfg.update == "released":
        return released_step(t.G, t.D, t.next_batch(), t.noise(), t.opt_g, t.opt_d, g_loss)
    xs, zs = zip(*[(t.next_batch(), t.noise()) for _ in range(cfg.k)])
    return algorithm1_step(t.G, t.D, xs, zs, t.noise(), t.opt_g, t.opt_d, g_loss)
