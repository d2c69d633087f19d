"""The Wasserstein GAN (Arjovsky, Chintala & Bottou, 2017), with weight clipping: the paper's Algorithm 1.

D becomes a *critic* f: the same network without the sigmoid, whose value is a score, not a
probability. By the Kantorovich–Rubinstein duality the Wasserstein-1 distance between p_data
and p_g is

    W(p_data, p_g) = max over 1-Lipschitz f of  E_{x~p_data}[f(x)] − E_{z~p_z}[f(G(z))],

so the critic ascends Ŵ = E[f(x)] − E[f(G(z))] (it descends d_obj = −Ŵ), and G descends
g_obj = −E[f(G(z))], which lowers the critic's estimate of the distance. The Lipschitz
constraint is kept, crudely, by clipping every critic weight to [−c, c] after each step.
The critic gets n_critic steps per generator step, so that Ŵ is close to W when G moves.

What is the original GAN's (minigan/gans/gan.py), so that a comparison changes only the
objective: G (its layers, its noise, its output bias), the critic's layers (D's two maxout
layers 240×5 and its output Dense, whose output was D's logit and is now f itself).
What departs, and why:
  * no sigmoid and no log: the objective is linear in f (docs/derivations.md#the-wasserstein-critic);
  * no dropout in the critic by default: Ŵ should be a function of x, and the WGAN paper's
    critics have none (--d-input-keep / --d-hidden-keep put it back);
  * RMSProp at α = 5·10⁻⁵ and minibatch 64 for both players, the paper's, in place of
    SGD with momentum (the paper reports momentum-based optimizers making the critic unstable).
Derivation: docs/derivations.md#the-wasserstein-gan
"""
from dataclasses import dataclass

import numpy

from .. import backend
from ..config import as_dict, param, require_field, validate_basics
from ..layers import Dense, Dropout, Maxout
from ..losses import WassersteinGeneratorLoss
from ..network import Sequential
from ..optim import Constant, RMSProp, clip_
from . import gan

MODEL = "wgan"
PAPER = "Arjovsky, Chintala & Bottou (2017), Wasserstein GAN"
CONDITIONAL = False
PAPER_NATS = PAPER_SE = None        # the WGAN paper reports no Parzen figure on MNIST
STATISTICS = ("d_obj", "g_obj")     # a step's statistics, summed per epoch (no accuracy: f is no classifier)

# The released code's schedule of critic steps (main.py: Diters = 100 if gen_iterations < 25
# or gen_iterations % 500 == 0, else n_critic): a critic near its optimum at the start, and
# again every 500 generator steps, so that Ŵ, the curve the paper plots, stays meaningful.
BOOST_STEPS, BOOST_FIRST, BOOST_EVERY = 100, 25, 500


@dataclass
class Config:
    """The WGAN paper's defaults (Algorithm 1), the original GAN's networks."""
    MODEL = MODEL
    # p_z and G: the original GAN's
    noise_dim: int = param(100, "dimension of z")
    noise: str = param("uniform", "p_z: 'uniform' on [−√3, √3] (the original GAN's) or 'gaussian'")
    g_hidden: int = param(1200, "width of G's two ReLU layers (the original GAN's)")
    g_irange: float = param(0.05, "G's weights start uniform in ±g_irange")
    g_bias_clip: float = param(1e-7, "G's output bias starts at logit(mean pixel), clipped to [c, 1 − c]")
    # the critic: the original D's layers, no sigmoid
    d_units: int = param(240, "maxout units per hidden layer of the critic (the original D's)")
    d_pieces: int = param(5, "pieces per maxout unit")
    d_irange: float = param(0.005, "the critic's weights start uniform in ±d_irange (inside ±clip)")
    d_input_keep: float = param(1.0, "dropout include probability on the critic's input (1: none, the paper's)")
    d_hidden_keep: float = param(1.0, "dropout include probability on the inputs of its other layers (1: none)")
    # data
    batch_size: int = param(64, "m, the minibatch size (the paper's)")
    n_train: int = param(50000, "training images used (0 … n_train − 1)")
    # optimisation: RMSProp for both players
    lr: float = param(5e-5, "α, RMSProp's learning rate (the paper's)")
    rms_decay: float = param(0.99, "ρ of RMSProp's running average of g² (PyTorch's default, as the paper's code)")
    rms_eps: float = param(1e-8, "ε added to √r (PyTorch's default)")
    # algorithm
    n_critic: int = param(5, "critic steps per generator step (the paper's)")
    clip: float = param(0.01, "c: every critic weight is clipped to [−c, c] after each critic step (the paper's)")
    critic_boost: str = param("on", "'on': 100 critic steps for the first 25 generator steps and every 500th "
                                    "(the paper's released code, which made its figures); 'off': n_critic always "
                                    "(Algorithm 1 as printed)")
    # bookkeeping
    seed: int = param(0, "seeds initialisation, data order, noise and dropout")
    epochs: int = param(200, "passes over the training images, n_critic per generator step "
                             "(200 epochs: about 31,000 generator steps)")
    parzen_every: int = param(10, "epochs between Parzen evaluations (0: never)")
    parzen_samples: int = param(10000, "samples from G for each Parzen evaluation (and for w_valid)")
    scores: str = param("parzen", "what each evaluation records: 'parzen' or 'parzen,is,fid' (see docs/metrics.md)")
    checkpoint_every: int = param(1, "epochs between checkpoints")

    CHOICES = {"noise": ("uniform", "gaussian"), "critic_boost": ("on", "off"), "scores": ("parzen", "parzen,is,fid")}
    COUNTS = ("noise_dim", "g_hidden", "d_units", "d_pieces", "parzen_samples", "n_critic")

    def validate(self):
        """Raise ValueError naming the field, the allowed values and the given one."""
        return validate_critic_game(self, ranged=(("clip", "weights are clipped to [−c, c]; 0 would zero the "
                                                           "critic, and there is no clip to turn off in --model wgan"),))

    def as_dict(self):
        return as_dict(self)


def validate_critic_game(cfg, ranged):
    """The checks WGAN and WGAN-GP share; ``ranged`` names the fields that must be finite and > 0, with why."""
    for name in ("d_input_keep", "d_hidden_keep"):
        require_field(cfg, name, 0 < getattr(cfg, name) <= 1, "in (0, 1]", "the probability that dropout keeps a unit")
    for name in ("g_irange", "d_irange"):
        require_field(cfg, name, 0 <= getattr(cfg, name) < numpy.inf, "a finite number ≥ 0",
                      "weights start uniform in ±irange")
    for name, why in (("lr", "a learning rate of 0 never moves θ"),) + tuple(ranged):
        require_field(cfg, name, 0 < getattr(cfg, name) < numpy.inf, "a finite number > 0", why)
    require_field(cfg, "g_bias_clip", 0 < cfg.g_bias_clip < 0.5, "in (0, 0.5)",
                  "pixel means are clipped to [c, 1 − c], which needs 0 < c < 1 − c")
    return validate_basics(cfg)


# ----- the networks ------------------------------------------------------------------------

def critic(cfg, rng=2, n_in=784, dtype="float32"):
    """f: x (B, 784) -> Maxout 240×5 -> Maxout 240×5 -> Dense 1 -> f(x) (B, 1), a score in ℝ.

    The original D's layers; its logit, which a sigmoid turned into D(x), is now the critic's
    value itself. Dropout sits where D's did, only if its include probability is below 1.
    """
    rng = numpy.random.default_rng(rng)
    u, k, r = cfg.d_units, cfg.d_pieces, cfg.d_irange

    def dropout(keep):
        return [Dropout(keep)] if keep < 1 else []
    return Sequential([*dropout(cfg.d_input_keep), Maxout(n_in, u, k, r, rng, dtype),
                       *dropout(cfg.d_hidden_keep), Maxout(u, u, k, r, rng, dtype),
                       *dropout(cfg.d_hidden_keep), Dense(u, 1, r, rng, dtype)])


def networks(cfg, train_images):
    """(G, f): the original G (seed [seed, 1], output bias from the images' mean) and the critic ([seed, 2])."""
    bias = None if train_images is None else gan.sigmoid_bias_from_marginals(train_images, cfg.g_bias_clip)
    return gan.paper_generator(cfg, rng=[cfg.seed, 1], output_bias=bias), critic(cfg, rng=[cfg.seed, 2])


def optimizers(cfg, G, D):
    """RMSProp for both players (the paper's)."""
    return (RMSProp(G.params_and_grads, cfg.lr, cfg.rms_decay, cfg.rms_eps),
            RMSProp(D.params_and_grads, cfg.lr, cfg.rms_decay, cfg.rms_eps))


def schedules(cfg):
    """A constant α and no momentum (the paper's)."""
    return Constant(cfg.lr), None


# The original G: its noise, its inputs, its sampling (it has no dropout).
sample_noise = gan.sample_noise
generator_input = gan.generator_input
generate = gan.generate
sample_images = gan.sample_images


# ----- the objective and the step ------------------------------------------------------------

def critic_objective(f):
    """The critic's objective on its values f = [f(x); f(G(z))] (2B, 1), and its gradient:

        d_obj = (1/B) Σ f(G(z)) − (1/B) Σ f(x)   (= −Ŵ: descending it ascends the estimate of W)
        ∂d_obj/∂f = −1/B on the real rows, +1/B on the generated ones

    Returns (d_obj, ∂d_obj/∂f (2B, 1)).  Derivation: docs/derivations.md#the-wasserstein-critic
    """
    xp, B = backend.xp, f.shape[0] // 2
    d_obj = f[B:].mean() - f[:B].mean()
    ones = xp.ones((B, 1), dtype=f.dtype) / B                     # (B, 1)
    return d_obj, xp.concatenate([-ones, ones])                   # (2B, 1)


def critic_gradients(D, x, s):
    """d_obj on real images x (B, 784) and samples s (B, 784), and ∂d_obj/∂θ_f in D's grads: one
    forward pass of the critic on [x; s], one backward pass for its parameters. Returns d_obj."""
    f = D.forward(backend.xp.concatenate([x, s]))                  # (2B, 1)
    d_obj, df = critic_objective(f)
    D.backward(df, input_grad=False)                               # θ_f grads
    return d_obj


def critic_update(D, x, s, opt_d, clip):
    """One critic step on real images x (B, 784) against samples s (B, 784): descend d_obj,
    then clip every weight to [−c, c] (Algorithm 1, lines 2–7). Returns d_obj."""
    d_obj = critic_gradients(D, x, s)
    opt_d.step()
    # Order rule: clip after the step, so the critic that scores the next batch is in the box.
    clip_([p for p, _ in D.params_and_grads()], clip)
    return d_obj


def generator_update(G, D, z, opt_g):
    """One generator step: descend g_obj = −(1/B) Σ f(G(z)) (Algorithm 1, lines 9–11). Returns g_obj.

    ∂g_obj/∂f = −1/B for every row (``losses.WassersteinGeneratorLoss``); back through the critic
    (no ∂/∂θ_f: the critic is not updated here) into G(z), then through G."""
    g_loss = WassersteinGeneratorLoss()
    s = G.forward(z)                                               # (B, 784)
    g_obj = g_loss.forward(D.forward(s))                           # on f(G(z)) (B, 1)
    ds = D.backward(g_loss.backward(), param_grads=False)          # (B, 784) ∂g_obj/∂G(z)
    G.backward(ds, input_grad=False)                               # θ_g grads
    opt_g.step()
    return g_obj


def wgan_step(G, D, draws, noise, opt_g, opt_d, clip):
    """Algorithm 1 of the WGAN paper: a critic step on each (x, z) of ``draws``, then a generator
    step on fresh noise ``noise()``. Order rule: G steps against the critic just trained."""
    for x, z in draws:
        d_obj = critic_update(D, x, G.forward(z, train=False), opt_d, clip)   # G(z) (B, 784), G held fixed
    g_obj = generator_update(G, D, noise(), opt_g)
    return {"d_obj": d_obj, "g_obj": g_obj}


def batches_per_step(cfg, step=0):
    """Critic steps (each on a minibatch of real images) in generator step ``step`` (0-based):
    n_critic, or 100 in the released code's boosted steps (``critic_boost``)."""
    boosted = cfg.critic_boost == "on" and (step < BOOST_FIRST or step % BOOST_EVERY == 0)
    return BOOST_STEPS if boosted else cfg.n_critic


def train_step(t):
    """The trainer's step. Order rule for exact reproduction: each critic step draws its minibatch,
    then its noise; the generator's noise comes last."""
    draws = ((t.next_batch(), t.noise()) for _ in range(batches_per_step(t.cfg, t.step)))
    return wgan_step(t.G, t.D, draws, t.noise, t.opt_g, t.opt_d, t.cfg.clip)


# ----- what the paper's first claim watches ------------------------------------------------

def held_out_estimate(D, images, samples, chunk=1000):
    """Ŵ = mean f(x) over held-out images − mean f(s) over samples, with the current critic (no
    dropout): the paper's estimate of the Wasserstein distance, on images it never trained on."""
    def mean_f(a):
        return sum(float(D.forward(backend.asarray(a[i:i + chunk]), train=False).sum())
                   for i in range(0, len(a), chunk)) / len(a)
    return mean_f(images) - mean_f(samples)


def epoch_statistics(t, samples):
    """Per-epoch columns: w_valid, Ŵ between the validation images and the epoch's evaluation
    ``samples`` (None when the run has no validation images: then no column)."""
    if samples is None:
        return {}
    return {"w_valid": held_out_estimate(t.D, t.valid, samples)}
