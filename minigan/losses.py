"""Binary cross-entropy and the paper's two generator objectives, with hand-derived gradients.

The value function of the paper is

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 − D(G(z)))].

D ascends V; equivalently it descends the binary cross-entropy of classifying
real data as 1 and samples as 0. Every loss here is a *mean* over all entries
and has the interface

    L  = loss.forward(pred, target)   # a 0-d array (stays on the GPU under CuPy)
    dp = loss.backward()              # ∂L/∂pred, same shape as pred

Shapes: pred is (B, 1) for a discriminator output, or any shape; N = pred.size.
Notation: D = σ(a), where a is D's logit (the input of its final sigmoid).
Every gradient below is derived in docs/derivations.md.
"""
from . import backend
from .layers import sigmoid


def _softplus(a):
    """log(1 + e^a), stably.

    Stability: e^a overflows for large a. Since log(1 + e^a) = max(a, 0) + log(1 + e^(−|a|))
    and e^(−|a|) ≤ 1, nothing overflows, and log1p keeps precision when e^(−|a|) is tiny.
    """
    xp = backend.xp
    # Naive:  xp.log(1 + xp.exp(a))
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


class _Loss:
    """Caching and shape checks shared by the losses."""

    def __repr__(self):
        return type(self).__name__ + "()"

    def _targets(self, pred, target):
        xp = backend.xp
        if not hasattr(pred, "shape") or pred.size == 0:
            raise ValueError(f"{self!r}: expected a non-empty array of predictions, got {pred!r}")
        target = xp.asarray(target, dtype=pred.dtype)
        if target.shape != pred.shape:
            try:
                target = xp.broadcast_to(target, pred.shape)
            except ValueError:
                raise ValueError(f"{self!r}: target of shape {target.shape} does not match "
                                 f"predictions of shape {pred.shape}") from None
        return target

    def _cached(self):
        if getattr(self, "pred", None) is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        return self.pred


class BCE(_Loss):
    """Binary cross-entropy on probabilities p = D(x) ∈ (0, 1):

        L = −(1/N) Σ [t log p + (1 − t) log(1 − p)]
        ∂L/∂p = (1/N) (p − t) / (p (1 − p)),  evaluated at the clipped p

    Stability: p is clipped to [eps, 1 − eps] so log(0) never occurs; prefer
    BCEWithLogits, which needs no clipping, whenever the logit is at hand.
    Derivation: docs/derivations.md#bce-on-probabilities
    """

    def __init__(self, eps=1e-7):
        self.eps = eps
        self.pred = self.target = None

    def forward(self, pred, target):
        xp = backend.xp
        self.target = self._targets(pred, target)
        # Naive: no clip, and log 0 = −inf at p = 0 or 1. Clipped to [eps, 1 − eps], each entry's
        # loss is at most −log(eps) (16.1 nats at the default 1e-7) and ∂L/∂p stays finite.
        self.pred = xp.clip(pred, self.eps, 1 - self.eps)     # (B, 1) or any shape
        p, t = self.pred, self.target
        return -(t * xp.log(p) + (1 - t) * xp.log(1 - p)).mean()

    def backward(self):
        p, t = self._cached(), self.target
        return (p - t) / (p * (1 - p)) / p.size


class BCEWithLogits(_Loss):
    """Binary cross-entropy on logits a, with D = σ(a):

        L = (1/N) Σ [softplus(a) − t a]           (= −[t log σ(a) + (1 − t) log(1 − σ(a))])
        ∂L/∂a = (1/N) (σ(a) − t)

    The sigmoid and the log cancel analytically, so the gradient is the simple
    difference σ(a) − t and stays finite for any logit, ±1e4 included.
    Derivation: docs/derivations.md#bce-on-logits
    """

    def __init__(self):
        self.pred = self.target = None

    def forward(self, pred, target):
        self.target = self._targets(pred, target)
        self.pred = pred                                        # (B, 1) logits a
        # Naive:  −(t log σ(a) + (1 − t) log(1 − σ(a))).mean(), which is −inf·0 for a ≈ ±100
        return (_softplus(pred) - self.target * pred).mean()

    def backward(self):
        a, t = self._cached(), self.target
        return (sigmoid(a) - t) / a.size


class MinimaxGeneratorLoss(_Loss):
    """The paper's generator objective as written in V(D, G), on D's logits a = logit D(G(z)):

        L_G = (1/N) Σ log(1 − D(G(z))) = −(1/N) Σ softplus(a)   (G *minimises* this)
        ∂L_G/∂a = −(1/N) σ(a) = −(1/N) D(G(z))

    Saturation: early in training D rejects samples confidently, D(G(z)) ≈ 0, and
    the gradient −D(G(z))/N vanishes: G learns nothing. The paper therefore
    recommends the non-saturating objective below; this one is kept to show why.
    ``target`` is accepted for interface symmetry and ignored.
    Derivation: docs/derivations.md#generator-objectives
    """

    def __init__(self):
        self.pred = None

    def forward(self, pred, target=None):
        self._targets(pred, 0)
        self.pred = pred                                        # (B, 1) logits a
        return -_softplus(pred).mean()

    def backward(self):
        a = self._cached()
        return -sigmoid(a) / a.size


class NonSaturatingGeneratorLoss(_Loss):
    """The generator objective the paper recommends (Section 3): maximise log D(G(z)).

        L_G = −(1/N) Σ log D(G(z)) = (1/N) Σ softplus(−a)
        ∂L_G/∂a = (1/N) (σ(a) − 1) = −(1/N) (1 − D(G(z)))

    Departure from V(D, G), as the paper itself suggests: it has the same fixed
    point as the minimax game, but when D(G(z)) ≈ 0 the gradient is ≈ −1/N,
    strong, exactly where the minimax objective's gradient vanishes. It equals
    BCEWithLogits with target 1, which is how the released code computed it.
    ``target`` is accepted for interface symmetry and ignored.
    Derivation: docs/derivations.md#generator-objectives
    """

    def __init__(self):
        self.pred = None

    def forward(self, pred, target=None):
        self._targets(pred, 1)
        self.pred = pred                                        # (B, 1) logits a
        return _softplus(-pred).mean()

    def backward(self):
        a = self._cached()
        return (sigmoid(a) - 1) / a.size
