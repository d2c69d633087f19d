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


class SoftmaxCrossEntropy(_Loss):
    """Softmax cross-entropy on logits a (B, C), for a C-way classifier:

        s_bc = softmax(a)_bc = e^(a_bc) / Σ_k e^(a_bk)
        L = −(1/B) Σ_b Σ_c t_bc log s_bc
        ∂L/∂a_bj = (1/B) (s_bj − t_bj)

    target: integer labels y (B,) in 0..C−1, read as one-hot rows t_bc = 1[c = y_b], or
    rows t (B, C) of probabilities (one-hot or soft), each summing to 1.

    Derivation, one chain-rule step per line (row b fixed, its index dropped):
        log s_c = a_c − log Σ_k e^(a_k)
        ∂ log s_c/∂a_j = δ_cj − e^(a_j) / Σ_k e^(a_k) = δ_cj − s_j
        ∂L/∂a_j = −(1/B) Σ_c t_c ∂ log s_c/∂a_j
                = −(1/B) Σ_c t_c (δ_cj − s_j)
                = −(1/B) (t_j − s_j Σ_c t_c)
                = (1/B) (s_j − t_j)                     because Σ_c t_c = 1
    Like BCEWithLogits, the log and the exponential cancel, so the gradient is a plain
    difference of probabilities and stays finite for any logit, ±1e4 included.
    Derivation: docs/derivations.md#softmax-cross-entropy

    Hand-worked (tests/test_losses.py::test_hand_worked_softmax_cross_entropy):
    a = [[0, ln 3], [0, 0]], labels [1, 0], B = 2.
        row 1: s = [1/(1 + 3), 3/(1 + 3)] = [¼, ¾];  −log s_1 = −log ¾ = ln 4 − ln 3
        row 2: s = [½, ½];                          −log s_0 = ln 2
        L = ½ (ln 4 − ln 3 + ln 2) = ½ ln(8/3) ≈ 0.4904
        ∂L/∂a = ½ [[¼ − 0, ¾ − 1], [½ − 1, ½ − 0]] = [[⅛, −⅛], [−¼, ¼]]
    """

    def __init__(self):
        self.pred = self.target = self.log_s = None

    def _onehot(self, pred, target):
        """Targets as (B, C) rows of pred's dtype; clear errors for anything else."""
        xp = backend.xp
        if getattr(pred, "ndim", None) != 2 or pred.size == 0:
            raise ValueError(f"{self!r}: expected logits of shape (B, C) with B, C ≥ 1, "
                             f"got {'shape ' + str(pred.shape) if hasattr(pred, 'shape') else type(pred).__name__}")
        B, C = pred.shape
        target = xp.asarray(target)
        if target.shape == (B,):                                # integer labels
            if target.dtype.kind not in "iu":
                raise TypeError(f"{self!r}: labels of shape ({B},) must be integers, got {target.dtype}; "
                                f"pass one-hot or probability rows of shape ({B}, {C}) for soft targets")
            bad = (target < 0) | (target >= C)
            if bool(bad.any()):
                raise ValueError(f"{self!r}: labels must lie in 0..{C - 1} for {C} classes, "
                                 f"got {int(target[bad][0])}")
            return (target[:, None] == xp.arange(C)).astype(pred.dtype)   # (B, C) one-hot
        if target.shape == (B, C):                              # one-hot or probability rows
            target = target.astype(pred.dtype)
            # backward's (s − t)/B assumes Σ_c t_bc = 1; any other row would get a wrong gradient
            sums = target.sum(axis=1)                           # (B,)
            worst = int(xp.abs(sums - 1).argmax())
            # 1e-4: float32 probability rows carry round-off of about C·ε₃₂ (1.2e-6 for C = 10),
            # so this allows rows renormalised in float32, yet refuses one that is 0.01% off.
            if not abs(float(sums[worst]) - 1) <= 1e-4:
                raise ValueError(f"{self!r}: each target row must sum to 1 (one-hot or probabilities); "
                                 f"row {worst} sums to {float(sums[worst]):g}")
            return target
        raise ValueError(f"{self!r}: target must be integer labels of shape ({B},) or rows of "
                         f"shape ({B}, {C}) for logits of shape ({B}, {C}), got shape {target.shape}")

    def forward(self, pred, target):
        xp = backend.xp
        self.target = self._onehot(pred, target)                # (B, C)
        self.pred = pred                                        # (B, C) logits a
        # Naive:  log_s = xp.log(xp.exp(a) / xp.exp(a).sum(axis=1, keepdims=True)),
        # which overflows to inf/inf = NaN for a ≳ 89 (float32) and gives log 0 = −inf for a ≪ 0.
        # Stable: softmax is unchanged by subtracting the row's maximum m, so
        # log s_c = (a_c − m) − log Σ_k e^(a_k − m); every exponent is ≤ 0 and one is exactly 0,
        # so the sum lies in [1, C]: nothing overflows and the log never sees 0.
        shifted = pred - pred.max(axis=1, keepdims=True)        # (B, C), ≤ 0
        self.log_s = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        # log s ≥ (a_c − m) − log C is always finite, so a target of 0 contributes exactly 0.
        return -(self.target * self.log_s).sum() / pred.shape[0]

    def backward(self):
        self._cached()
        s = backend.xp.exp(self.log_s)                          # (B, C) softmax(a)
        return (s - self.target) / self.pred.shape[0]


class WassersteinGeneratorLoss(_Loss):
    """The WGAN generator's objective on the critic's scores f = f(G(z)) (B, 1):

        L_G = −(1/N) Σ f(G(z)),   ∂L_G/∂f = −1/N for every entry

    Linear in f: the signal G gets does not shrink when the critic is sure of itself (there is
    no sigmoid to saturate). ``target`` is accepted for interface symmetry and ignored.
    Derivation: docs/derivations.md#the-wasserstein-gan
    """

    def __init__(self):
        self.pred = None

    def forward(self, pred, target=None):
        self._targets(pred, 0)
        self.pred = pred                                        # (B, 1) scores f
        return -pred.mean()

    def backward(self):
        f = self._cached()
        return -backend.xp.ones_like(f) / f.size

class GradientPenalty(_Loss):
    """WGAN-GP's penalty (Gulrajani et al., 2017) on the critic's input gradients g (B, I), g_b = ∇ₓ f(x̂_b):

        P = (λ/B) Σ_b (‖g_b‖ − 1)²
        ∂P/∂g_b = (2λ/B) (‖g_b‖ − 1) g_b / ‖g_b‖

    It pulls the critic's gradient norm towards 1 at points x̂ between the real and generated
    images, the soft form of "f is 1-Lipschitz". ∂P/∂g is what ``Sequential.double_backward``
    turns into ∂P/∂θ. Derivation: docs/derivations.md#the-gradient-penalty

    Hand-worked (tests/test_losses.py::test_hand_worked_gradient_penalty): λ = 10, g = [[3, 4]]:
        ‖g‖ = 5,  P = 10 · (5 − 1)² = 160,  ∂P/∂g = 2 · 10 · 4 · [3, 4] / 5 = [48, 64]
    """

    def __init__(self, lam=10.0):
        self.lam = lam
        self.pred = None

    def forward(self, g, target=None):
        xp = backend.xp
        self._targets(g, 0)
        self.pred = g                                           # (B, I)
        self.norm = xp.sqrt((g * g).sum(axis=1, keepdims=True))   # (B, 1) ‖g_b‖
        return self.lam * ((self.norm - 1) ** 2).mean()

    def backward(self):
        xp = backend.xp
        g = self._cached()
        # g / ‖g‖ is undefined at g = 0 (‖·‖ has a kink there); dividing by max(‖g‖, tiny) gives 0
        # for that row, a valid (Clarke) subgradient, where the naive g / ‖g‖ would give 0/0 = NaN.
        tiny = xp.finfo(g.dtype).tiny                           # smallest normal float of g's dtype
        unit = g / xp.maximum(self.norm, tiny)                  # (B, I) g_b / ‖g_b‖
        return (2 * self.lam / g.shape[0]) * (self.norm - 1) * unit
