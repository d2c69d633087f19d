"""WGAN-GP (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville, 2017): the Wasserstein GAN with a
gradient penalty in place of weight clipping, the paper's Algorithm 1.

A differentiable f is 1-Lipschitz exactly when ‖∇ₓ f(x)‖ ≤ 1 everywhere, and the optimal critic
has ‖∇ₓ f‖ = 1 on the lines between the two distributions' points. So instead of clipping the
weights, the critic's objective gets a penalty on its gradient norm at random points of those
lines, x̂ = ε x + (1 − ε) G(z), ε ~ U[0, 1] per sample:

    L = (1/B) Σ [f(G(z)) − f(x)]  +  (λ/B) Σ (‖∇ₓ̂ f(x̂)‖ − 1)²

The penalty's gradient with respect to θ_f is the gradient of a gradient: ∇ₓ̂ f is the critic's
backward pass to its input, and ∂/∂θ_f of it differentiates that backward pass once more
(``Sequential.input_gradient`` then ``Sequential.double_backward``; each layer's third pass is
beside its forward and backward in minigan/layers.py). Derivation: docs/derivations.md#double-backprop

Networks, noise and everything else are the WGAN's (minigan/gans/wgan.py): the original GAN's
G and a critic of the original D's layers, no dropout, no sigmoid. The paper's optimizer is Adam
with α = 10⁻⁴, β1 = 0, β2 = 0.9 for both players; there is no clipping.
"""
from dataclasses import dataclass

from .. import backend
from ..config import as_dict, param
from ..losses import GradientPenalty
from ..optim import Adam
from . import wgan
from .wgan import critic_gradients, generator_update

MODEL = "wgan-gp"
PAPER = "Gulrajani et al. (2017), Improved Training of Wasserstein GANs"
CONDITIONAL = False
PAPER_NATS = PAPER_SE = None                   # no Parzen figure on MNIST in the paper
STATISTICS = ("d_obj", "g_obj", "penalty")     # summed per epoch; d_obj is −Ŵ, without the penalty


@dataclass
class Config:
    """The WGAN-GP paper's defaults (Algorithm 1), the original GAN's networks (as --model wgan)."""
    MODEL = MODEL
    noise_dim: int = param(100, "dimension of z")
    noise: str = param("uniform", "p_z: 'uniform' on [−√3, √3] (the original GAN's) or 'gaussian'")
    g_hidden: int = param(1200, "width of G's two ReLU layers (the original GAN's)")
    g_irange: float = param(0.05, "G's weights start uniform in ±g_irange")
    g_bias_clip: float = param(1e-7, "G's output bias starts at logit(mean pixel), clipped to [c, 1 − c]")
    d_units: int = param(240, "maxout units per hidden layer of the critic (the original D's)")
    d_pieces: int = param(5, "pieces per maxout unit")
    d_irange: float = param(0.005, "the critic's weights start uniform in ±d_irange")
    d_input_keep: float = param(1.0, "dropout include probability on the critic's input (1: none, the paper's)")
    d_hidden_keep: float = param(1.0, "dropout include probability on the inputs of its other layers (1: none)")
    batch_size: int = param(64, "m, the minibatch size (the paper's)")
    n_train: int = param(50000, "training images used (0 … n_train − 1)")
    lr: float = param(1e-4, "α, Adam's learning rate (the paper's)")
    beta1: float = param(0.0, "Adam's β1 (the paper's 0: no momentum)")
    beta2: float = param(0.9, "Adam's β2 (the paper's)")
    n_critic: int = param(5, "critic steps per generator step (the paper's)")
    lam: float = param(10.0, "λ, the weight of the gradient penalty (the paper's; 0 turns it off)")
    seed: int = param(0, "seeds initialisation, data order, noise, ε and dropout")
    epochs: int = param(200, "passes over the training images, n_critic per generator step "
                             "(200 epochs: about 31,000 generator steps)")
    parzen_every: int = param(10, "epochs between Parzen evaluations (0: never)")
    parzen_samples: int = param(10000, "samples from G for each Parzen evaluation (and for w_valid)")
    scores: str = param("parzen", "what each evaluation records: 'parzen' or 'parzen,is,fid' (see docs/metrics.md)")
    checkpoint_every: int = param(1, "epochs between checkpoints")

    CHOICES = {"noise": ("uniform", "gaussian"), "scores": ("parzen", "parzen,is,fid")}
    COUNTS = ("noise_dim", "g_hidden", "d_units", "d_pieces", "parzen_samples", "n_critic")

    def validate(self):
        """Raise ValueError naming the field, the allowed values and the given one."""
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1) (Adam's moving averages forget at rate 1 − β), "
                                 f"got {getattr(self, name)}")
        if not 0 <= self.lam < float("inf"):
            raise ValueError(f"lam must be a finite number ≥ 0 (λ weighs the gradient penalty), got {self.lam}")
        return wgan.validate_critic_game(self, ranged=())

    def as_dict(self):
        return as_dict(self)


networks, sample_noise, generator_input, generate, sample_images = (
    wgan.networks, wgan.sample_noise, wgan.generator_input, wgan.generate, wgan.sample_images)
epoch_statistics = wgan.epoch_statistics


def optimizers(cfg, G, D):
    """Adam with β1 = 0, β2 = 0.9 for both players (the paper's)."""
    return (Adam(G.params_and_grads, cfg.lr, cfg.beta1, cfg.beta2),
            Adam(D.params_and_grads, cfg.lr, cfg.beta1, cfg.beta2))


# A constant α and no momentum, as the WGAN's.
schedules = wgan.schedules


def penalty_gradients(D, x_hat, lam):
    """P = (λ/B) Σ (‖∇ₓ̂ f(x̂)‖ − 1)² and, in D's grads, ∂P/∂θ_f: three passes through the critic.

    1. forward on x̂ (B, 784);  2. backward with ∂f/∂f = 1 to the input: g = ∇ₓ̂ f (B, 784);
    3. the third pass, up the layers, from ∂P/∂g to ∂P/∂θ_f.  Returns P.
    (docs/derivations.md#double-backprop)"""
    f = D.forward(x_hat)                                             # (B, 1)
    g = D.input_gradient(backend.xp.ones_like(f))                    # (B, 784) row b: ∇ₓ f(x̂_b)
    penalty = GradientPenalty(lam)
    p = penalty.forward(g)
    D.double_backward(penalty.backward())                            # grads: ∂P/∂θ_f
    return p


def critic_update(D, x, s, eps, opt_d, lam):
    """One critic step (Algorithm 1, lines 3–9): descend (1/B) Σ [f(s) − f(x)] + P at
    x̂ = ε x + (1 − ε) s, for real images x, samples s (B, 784) and ε (B, 1). Returns (d_obj, P)."""
    x_hat = eps * x + (1 - eps) * s                                  # (B, 784) between x and s
    p = penalty_gradients(D, x_hat, lam)
    grads_p = [g for _, g in D.params_and_grads()]                   # ∂P/∂θ_f (backward replaces, never reuses, them)
    # Order rule: the penalty's passes are finished before this forward replaces their caches.
    d_obj = critic_gradients(D, x, s)                                # grads: ∂d_obj/∂θ_f
    for (_, g), g_p in zip(D.params_and_grads(), grads_p):
        g += g_p                                                     # ∂L/∂θ_f = ∂d_obj/∂θ_f + ∂P/∂θ_f
    opt_d.step()
    return d_obj, p


def wgan_gp_step(G, D, draws, noise, opt_g, opt_d, lam):
    """Algorithm 1 of the WGAN-GP paper: a critic step on each (x, z, ε) of ``draws``, then a generator
    step (the WGAN's) on fresh noise ``noise()``. Order rule: G steps against the critic just trained."""
    for x, z, eps in draws:
        d_obj, p = critic_update(D, x, G.forward(z, train=False), eps, opt_d, lam)
    g_obj = generator_update(G, D, noise(), opt_g)
    return {"d_obj": d_obj, "g_obj": g_obj, "penalty": p}


def batches_per_step(cfg, step=0):
    """n_critic: the paper's Algorithm 1 has no boosted steps."""
    return cfg.n_critic


def train_step(t):
    """The trainer's step. Order rule for exact reproduction: each critic step draws its minibatch,
    its noise, then its ε; the generator's noise comes last."""
    B = t.cfg.batch_size
    draws = ((t.next_batch(), t.noise(), t.rng.random((B, 1), dtype="float32")) for _ in range(t.cfg.n_critic))
    return wgan_gp_step(t.G, t.D, draws, t.noise, t.opt_g, t.opt_d, t.cfg.lam)
