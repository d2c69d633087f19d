"""The conditional GAN (Mirza & Osindero, 2014, "Conditional Generative Adversarial Nets").

Both players are given the class label y, one-hot (10,): G draws an image *of digit y*,
G(z | y), and D judges a pair, D(x | y) = σ(a(x, y)). The game is the original one with y
added to both sides (the paper's equation 2):

    min_G max_D  V(D, G) = E_{x,y ~ p_data}[log D(x | y)] + E_{z ~ p_z, y ~ p_data}[log(1 − D(G(z | y) | y))]

Everything else is the original GAN's: D's objective and G's non-saturating objective
(``gan.discriminator_objective``, ``gan.generator_loss``), SGD with momentum and the
pylearn2 schedules, the joint update of the released code. The new piece of the engine is
``network.Branches``: G's first layer maps z and y through a layer each and concatenates
the two, and so does D's for x and y. Derivation: docs/derivations.md#the-conditional-gan

Notation and shapes: B batch, Z = 100 noise dimensions, C = 10 classes, P = 784 pixels.
G's input is the one array [z, y] (B, Z + C), D's the array [x, y] (B, P + C).
"""
from dataclasses import dataclass

import numpy

from .. import backend
from ..config import as_dict, param, validate_sgd_game
from ..layers import Dense, Dropout, Maxout, ReLU, Sigmoid
from ..network import Branches, Sequential
from ..optim import SGD
from . import gan
from .gan import d_accuracy, discriminator_objective, generator_loss

MODEL = "cgan"
PAPER = "Mirza & Osindero (2014), Conditional Generative Adversarial Nets"
CONDITIONAL = True
CLASSES = 10            # MNIST's digits 0–9: y is one-hot of this length
PAPER_NATS, PAPER_SE = 132.0, 1.8   # the paper's Table 1: 132 ± 1.8 nats on the MNIST test set
STATISTICS = gan.STATISTICS         # the original's: objectives and D's accuracy


@dataclass
class Config:
    """The paper's MNIST setup (section 4.1). Where the paper is silent the choice is the
    original GAN's released setup, and the help says so ("paper silent")."""
    MODEL = MODEL
    # p_z and G
    noise_dim: int = param(100, "dimension of z, drawn uniform in the unit hypercube [0, 1)^Z (the paper's)")
    g_z_hidden: int = param(200, "width of G's ReLU layer on z")
    g_y_hidden: int = param(1000, "width of G's ReLU layer on y")
    g_hidden: int = param(1200, "width of G's joint ReLU layer on [h_z, h_y]")
    g_keep: float = param(0.5, "dropout include probability on the inputs of G's joint and output layers "
                               "(the paper's 0.5; where it sits: paper silent)")
    g_irange: float = param(0.05, "G's weights start uniform in ±g_irange (paper silent; the original GAN's)")
    g_bias_clip: float = param(1e-7, "G's output bias starts at logit(mean pixel), clipped to [c, 1 − c] "
                                     "(paper silent; the original GAN's)")
    # D
    d_x_units: int = param(240, "maxout units of D's layer on x")
    d_x_pieces: int = param(5, "pieces per maxout unit there")
    d_y_units: int = param(50, "maxout units of D's layer on y")
    d_y_pieces: int = param(5, "pieces per maxout unit there")
    d_units: int = param(240, "maxout units of D's joint layer")
    d_pieces: int = param(4, "pieces per maxout unit there")
    d_input_keep: float = param(0.8, "dropout include probability on the image x (paper silent; the original "
                                     "GAN's; y is never dropped)")
    d_keep: float = param(0.5, "dropout include probability on the inputs of D's joint and output layers "
                               "(the paper's 0.5)")
    d_irange: float = param(0.005, "D's weights start uniform in ±d_irange (paper silent; the original GAN's)")
    # data
    batch_size: int = param(100, "m, the minibatch size (real and generated alike)")
    n_train: int = param(50000, "training images used (0 … n_train − 1)")
    # optimisation
    lr: float = param(0.1, "η_0, initial learning rate")
    lr_decay: float = param(1.00004, "η is divided by this after every step (the paper's decay factor)")
    min_lr: float = param(1e-6, "floor of η (the paper's .000001)")
    momentum: float = param(0.5, "μ at the start")
    final_momentum: float = param(0.7, "μ after the ramp")
    momentum_start: int = param(1, "epoch at which μ starts rising (paper silent; the original GAN's)")
    momentum_saturate: int = param(250, "epoch at which μ reaches final_momentum (paper silent; the original GAN's)")
    g_objective: str = param("nonsaturating", "'nonsaturating' (−log D(G(z|y)|y)) or 'minimax'")
    d_label: str = param("y", "what D is shown of the label: 'y' (the paper's) or 'none' (zeros: an ablation, "
                              "not the paper's, that shows what breaks when D cannot check the digit)")
    # bookkeeping
    seed: int = param(0, "seeds initialisation, data order, noise and dropout")
    epochs: int = param(600, "passes over the training images (η reaches its floor after 576; the paper "
                             "stops at the best validation log-likelihood, which best.npz keeps)")
    parzen_every: int = param(10, "epochs between Parzen evaluations (0: never)")
    parzen_samples: int = param(10000, "samples from G for each Parzen evaluation, an equal number of each digit")
    scores: str = param("parzen", "what each evaluation records: 'parzen' or 'parzen,is,fid' (see docs/metrics.md)")
    checkpoint_every: int = param(1, "epochs between checkpoints")

    CHOICES = {"g_objective": tuple(gan.GENERATOR_LOSSES), "d_label": ("y", "none"),
               "scores": ("parzen", "parzen,is,fid")}
    COUNTS = ("noise_dim", "g_z_hidden", "g_y_hidden", "g_hidden", "d_x_units", "d_x_pieces", "d_y_units",
              "d_y_pieces", "d_units", "d_pieces", "parzen_samples")

    def validate(self):
        """Raise ValueError naming the field, the allowed values and the given one (``config.validate_sgd_game``)."""
        return validate_sgd_game(self, keeps=("g_keep", "d_input_keep", "d_keep"), scales=(),
                                 iranges=("g_irange", "d_irange"))

    def as_dict(self):
        return as_dict(self)


# ----- the networks ------------------------------------------------------------------------

def generator(cfg, rng=1, output_bias=None, dtype="float32"):
    """G: [z, y] (B, Z + C) -> [Dense 200 on z, Dense 1000 on y], ReLU -> [dropout] Dense 1200, ReLU
    -> [dropout] Dense 784, Sigmoid -> G(z | y) (B, 784).

    The paper gives the layers and "dropout 0.5 on G"; it is silent on where. Here it sits on
    the inputs of the two layers above the join, as the original D's dropout sits on the inputs
    of its upper layers: dropping entries of the one-hot y itself would hide from G which digit
    it is asked for. Samples keep this dropout on (``generate`` says why).
    """
    rng = numpy.random.default_rng(rng)
    r, h = cfg.g_irange, cfg.g_hidden
    out = Dense(h, 784, r, rng, dtype)
    if output_bias is not None:
        out.set_bias(output_bias)
    return Sequential([
        Branches(z=(cfg.noise_dim, Sequential([Dense(cfg.noise_dim, cfg.g_z_hidden, r, rng, dtype)])),
                 y=(CLASSES, Sequential([Dense(CLASSES, cfg.g_y_hidden, r, rng, dtype)]))),
        ReLU(),                                                   # ReLU of [h_z, h_y] = [ReLU h_z, ReLU h_y]
        Dropout(cfg.g_keep), Dense(cfg.g_z_hidden + cfg.g_y_hidden, h, r, rng, dtype), ReLU(),
        Dropout(cfg.g_keep), out, Sigmoid()])


def discriminator(cfg, rng=2, dtype="float32"):
    """D: [x, y] (B, 784 + C) -> [dropout, Maxout 240×5 on x; Maxout 50×5 on y] -> [dropout] Maxout 240×4
    -> [dropout] Dense 1: the logit a(x, y) (B, 1), D(x | y) = σ(a).

    The image keeps the original D's input dropout (keep 0.8; the paper is silent); the label is
    never dropped (a dropped one-hot y would tell D nothing of the class half the time).
    """
    rng = numpy.random.default_rng(rng)
    r = cfg.d_irange
    joint_in = cfg.d_x_units + cfg.d_y_units
    return Sequential([
        Branches(x=(784, Sequential([Dropout(cfg.d_input_keep), Maxout(784, cfg.d_x_units, cfg.d_x_pieces, r, rng, dtype)])),
                 y=(CLASSES, Sequential([Maxout(CLASSES, cfg.d_y_units, cfg.d_y_pieces, r, rng, dtype)]))),
        Dropout(cfg.d_keep), Maxout(joint_in, cfg.d_units, cfg.d_pieces, r, rng, dtype),
        Dropout(cfg.d_keep), Dense(cfg.d_units, 1, r, rng, dtype)])


def networks(cfg, train_images):
    """(G, D) as the trainer builds them: seeds [seed, 1] and [seed, 2], as the original GAN's."""
    bias = None if train_images is None else gan.sigmoid_bias_from_marginals(train_images, cfg.g_bias_clip)
    return generator(cfg, rng=[cfg.seed, 1], output_bias=bias), discriminator(cfg, rng=[cfg.seed, 2])


# η divided by lr_decay every step down to min_lr, μ ramped from momentum to final_momentum:
# the original GAN's pylearn2 schedules, with the CGAN paper's numbers in cfg.
schedules = gan.schedules


def optimizers(cfg, G, D):
    """SGD with momentum for both players (the paper's)."""
    return SGD(G.params_and_grads, cfg.lr, cfg.momentum), SGD(D.params_and_grads, cfg.lr, cfg.momentum)


# ----- inputs ------------------------------------------------------------------------------

def one_hot(labels, dtype="float32"):
    """y (B, C): row b is 1 in column labels[b] and 0 elsewhere."""
    labels = backend.asarray(labels)
    return (labels[:, None] == backend.xp.arange(CLASSES)).astype(dtype)


def sample_noise(rng, batch, cfg, dtype="float32"):
    """z ~ U[0, 1)^Z, "uniform within the unit hypercube" (the paper's)."""
    return rng.random((batch, cfg.noise_dim), dtype=dtype)                  # (B, Z)


def generator_input(z, y):
    """G's one input array [z, y] (B, Z + C) from noise z (B, Z) and one-hot labels y (B, C)."""
    return backend.xp.concatenate([z, y], axis=1)


def evaluation_labels(n):
    """The digits asked of G for an evaluation: 0, 1, …, 9, 0, 1, … (an equal share of each).

    The paper does not say which labels its Parzen samples carry. An equal mixture is the
    class grid's, needs no data, and is near MNIST's own: the test set holds 892–1,135 images
    of each digit per 10,000, so its weights differ from 1/10 by at most a factor 1.135, and
    log p(x) = log Σ_y p(y) p(x | y) by at most log 1.135 = 0.13 nats.
    """
    return numpy.arange(n) % CLASSES


def generate(G, inputs, gen):
    """G(z | y) for G's inputs [z, y] (B, Z + C), with G's dropout on, its masks drawn from ``gen``.

    Dropout sits inside G (the paper's "dropout 0.5 on G"), and G learns to use its masks as a
    source of noise as much as z: sampled without them, the G of our run after 3 epochs drew
    one image for every z and y (pixel standard deviation across samples 0.0015; Parzen −238
    nats on 2,000 samples), with them, varied digits (0.18; −35 nats). The masks are part of
    p_g, the distribution G was trained to produce, so samples keep them. G's own generator is
    put back afterwards: the trainer's stream of masks is not disturbed by an evaluation.
    """
    drops = [layer for layer in G.layers if isinstance(layer, Dropout)]
    kept = [layer.rng for layer in drops]
    G.set_rng(gen)
    try:
        return G.forward(inputs, train=True)                 # (B, 784)
    finally:
        for layer, rng in zip(drops, kept):
            layer.rng = rng


def sample_images(G, cfg, n, seed, labels=None, chunk=1000):
    """n samples G(z | y) as a NumPy array (n, 784); y = ``labels`` (default ``evaluation_labels``),
    z and G's dropout masks from one generator seeded with ``seed``; drawn in chunks of 1,000."""
    labels = evaluation_labels(n) if labels is None else numpy.asarray(labels)
    gen = backend.rng(seed)
    out = []
    for i in range(0, n, chunk):
        z = sample_noise(gen, min(chunk, n - i), cfg)                          # (b, Z)
        out.append(backend.to_numpy(generate(G, generator_input(z, one_hot(labels[i:i + chunk])), gen)))
    return numpy.concatenate(out)


# ----- the step ----------------------------------------------------------------------------

def batches_per_step(cfg, step=0):
    """One minibatch per step, as the original's released step."""
    return 1


def conditional_step(G, D, x, y, z, opt_g, opt_d, g_loss, y_for_d=None):
    """One joint update, as the original's released step, with y on both sides.

    x (B, 784) real images, y (B, C) their one-hot labels, z (B, Z) noise. The generated
    images are asked to be the same digits as the real ones: y ~ p_data(y) for both terms of V.
    ``y_for_d``: what D is shown in place of y (default y itself; zeros for the d_label = 'none'
    ablation, where nothing in V rewards G for drawing the digit it was asked for).
    Returns the step's statistics (0-d arrays), as ``gan.released_step``.
    Derivation: docs/derivations.md#the-conditional-gan
    """
    xp, B, P = backend.xp, x.shape[0], x.shape[1]
    y_d = y if y_for_d is None else y_for_d                        # (B, C) the label D sees
    # 1. Generate: s = G(z | y), one image for each label of the real minibatch.
    s = G.forward(generator_input(z, y))                          # (B, 784)
    # 2. D scores each image with its label, real and generated in one pass: [x, y; s, y].
    a = D.forward(xp.concatenate([xp.concatenate([x, y_d], axis=1),
                                  xp.concatenate([s, y_d], axis=1)]))   # (2B, 1)
    # 3. Both objectives from this pass, as in the original: d_obj = ½ [BCE(D(x|y), 1) + BCE(D(s|y), 0)].
    d_obj, da = discriminator_objective(a)                         # da (2B, 1)
    g_obj = g_loss.forward(a[B:])
    # 4. ∇θ_g g_obj: back through D into its input [s, y], keep the image columns, then through G.
    #    ∂g_obj/∂y exists as numbers but y is data, not a parameter: its columns are dropped.
    #    Order rule: D.backward reads the cache of step 2; no D.forward may come between.
    dsy = D.backward(g_loss.backward(), param_grads=False, rows=slice(B, None))   # (B, 784 + C)
    G.backward(dsy[:, :P], input_grad=False)                                    # θ_g grads
    # 5. ∇θ_d d_obj on the same cache.
    D.backward(da, input_grad=False)                                            # θ_d grads
    # 6. Both step together. Order rule: both gradients are taken at the θ of step 1.
    opt_d.step()
    opt_g.step()
    right_real, right_fake = d_accuracy(a)
    return {"d_obj": d_obj, "g_obj": g_obj, "d_right_real": right_real, "d_right_fake": right_fake}


def train_step(t):
    """The trainer's step: ``t`` hands over G, D, opt_g, opt_d, cfg and the draws next_batch() -> (x, y), noise()."""
    x, y = t.next_batch()
    y_for_d = backend.xp.zeros_like(y) if t.cfg.d_label == "none" else None
    return conditional_step(t.G, t.D, x, y, t.noise(), t.opt_g, t.opt_d, generator_loss(t.cfg.g_objective), y_for_d)

