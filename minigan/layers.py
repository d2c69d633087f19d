"""The layers of the paper's networks, each with its forward and backward pass side by side.

Shape vocabulary, used in every comment below:
    B  batch size (rows)             I  features in        O  features out
    U  maxout units                  K  maxout pieces per unit

Every layer has the same interface:

    y  = layer.forward(x, train=True)    # x: (B, I) -> y: (B, O)
    dx = layer.backward(dy)              # dy = ∂L/∂y (B, O) -> dx = ∂L/∂x (B, I)
    layer.params, layer.grads            # dicts with the same keys and shapes

``forward`` caches exactly what ``backward`` needs, under a named attribute;
``backward`` fills ``grads`` with ∂L/∂θ for the layer's parameters θ and returns
∂L/∂x so the chain rule can continue into the layer below (for the GAN: from D's
input into G's output). That is all a layer of your own needs (see
``examples/custom_layer.py``). Each formula is derived in docs/derivations.md.

Work-saving options, which change nothing else and which a layer of your own may leave out
(``Sequential.backward`` passes them only when it is asked to save work):
``backward(dy, rows=slice(B, None))``, on every layer here, says that dy covers only those
rows of the last forward batch, the others having zero gradient (G's signal reaches only
the generated half of D's batch [x; G(z)]). Layers with parameters also take
``param_grads=False``, to skip ∂L/∂θ (the pass through D on behalf of G needs only
∂L/∂x), and ``input_grad=False``, to skip ∂L/∂x and return None (nothing below the lowest
layer with parameters needs it).

The third pass, for the WGAN-GP's gradient penalty (docs/derivations.md#double-backprop):
``layer.double_backward(r, dy)``. Its backward pass mapped dy ↦ dx; for a penalty P computed
from that dx, r = ∂P/∂dx (B, I), and double_backward fills ``grads`` with ∂P/∂θ and returns
∂P/∂dy (B, O) for the layer above. It is given here for the piecewise-linear layers (Dense,
ReLU, Maxout, Dropout), whose backward is linear in dy with masks and winners that stay fixed
under small changes of θ; Sigmoid has none (its backward depends smoothly on x).

Dtypes: layers with parameters hold them in the dtype they were built with (float32 by
default, float64 for gradient checks) and expect inputs of that dtype; layers without
parameters take any floating dtype and return the same one. backward refuses a dy whose dtype
is not the forward input's (NumPy would promote a float32 layer's ∂L/∂x to float64 silently).

Initialisation follows the paper's released code (pylearn2): weights uniform in
[-irange, irange], biases zero. Weights are drawn on the host with NumPy so the
same seed gives the same network on both backends.
"""
import numpy

from . import backend

def _check_floating(layer, x):
    """Refuse a non-floating input (int, bool) with a message that says to cast it."""
    if not numpy.issubdtype(x.dtype, numpy.floating):
        raise TypeError(f"{layer!r}: expected a floating-point input, got {x.dtype}; cast it "
                        f"first, e.g. x.astype('float32') (or 'float64' for gradient checks)")


class Layer:
    """Base class: parameter bookkeeping and the input checks every layer shares.

    A layer with parameters is built with a dtype and checks that inputs have it; a layer
    without parameters (dtype=None) accepts any floating dtype.
    """

    def __init__(self, dtype=None):
        self.dtype = None if dtype is None else numpy.dtype(dtype)
        self.params = {}
        self.grads = {}

    def __repr__(self):
        return type(self).__name__ + "()"

    def _check_input(self, x, width=None):
        """Raise a clear error unless x is a 2-D floating array (of this layer's dtype and width)."""
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) != 2:
            raise ValueError(f"{self!r}: expected a 2-D input of shape (B, {width or 'I'}), "
                             f"got {'shape ' + str(shape) if shape is not None else type(x).__name__}")
        if width is not None and shape[1] != width:
            raise ValueError(f"{self!r}: expected input of shape (B, {width}), got {tuple(shape)}")
        _check_floating(self, x)
        if self.dtype is not None and x.dtype != self.dtype:
            raise TypeError(f"{self!r}: expected {self.dtype} input, got {x.dtype}; build the "
                            f"layer with dtype={x.dtype} or cast the input with .astype()")

    def _cached(self, attr, dy, width=None, rows=None):
        """Return the value forward() cached under ``attr`` (only ``rows`` of it, if given);
        check dy has shape (B, width). ``width`` defaults to the cached array's own width.
        """
        value = getattr(self, attr, None)
        if value is None:
            raise RuntimeError(f"{self!r}: backward() called before forward(x, train=True)")
        if rows is not None:
            value = value[rows]
        batch, width = value.shape[0], value.shape[1] if width is None else width
        if getattr(dy, "shape", None) != (batch, width):
            raise ValueError(f"{self!r}: expected dy of shape ({batch}, {width}) to match the "
                             f"last forward(), got {getattr(dy, 'shape', type(dy).__name__)}")
        # Every cached array has the forward input's dtype. A dy of another dtype would be
        # promoted silently (a float32 layer handing back float64 gradients): refuse it.
        if dy.dtype != value.dtype:
            raise TypeError(f"{self!r}: expected dy of dtype {value.dtype} to match the last "
                            f"forward(), got {dy.dtype}; cast it with dy.astype('{value.dtype}')")
        return value


def _positive(layer_name, **sizes):
    """Refuse sizes that are not whole numbers ≥ 1 at construction, naming the argument."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < 1:
            raise ValueError(f"{layer_name}: {name} must be a whole number ≥ 1, got {value!r}")


def _uniform(rng, irange, shape, dtype):
    """Weights uniform in [-irange, irange], drawn on the host, moved to the backend."""
    if not 0 <= irange < float("inf"):       # written so that NaN fails it too
        raise ValueError(f"irange must be a finite number ≥ 0 (weights start uniform in ±irange), got {irange}")
    if irange > float(numpy.finfo(dtype).max):   # the weights would start as ±inf (a float, so no cast warns)
        raise ValueError(f"irange {irange:g} is beyond the largest {numpy.dtype(dtype).name} number "
                         f"({float(numpy.finfo(dtype).max):.3g}): the weights would start at ±inf")
    if backend.shapes_only:                  # backend.dry_run(): the shape alone, no memory
        return backend.placeholder(shape, dtype)
    rng = numpy.random.default_rng(rng) if not isinstance(rng, numpy.random.Generator) else rng
    return backend.asarray(rng.uniform(-irange, irange, size=shape).astype(dtype))


def _zeros(shape, dtype):
    """Biases start at zero (the released code's)."""
    if backend.shapes_only:                  # backend.dry_run(): the shape alone, no memory
        return backend.placeholder(shape, dtype)
    return backend.xp.zeros(shape, dtype=dtype)


class Dense(Layer):
    """Affine map y = x W + b, with W (I, O) and b (O,).  Derivation: docs/derivations.md#dense"""

    def __init__(self, n_in, n_out, irange=0.05, rng=None, dtype="float32"):
        super().__init__(dtype)
        _positive(type(self).__name__, n_in=n_in, n_out=n_out)
        self.n_in, self.n_out = n_in, n_out
        self.params["W"] = _uniform(rng, irange, (n_in, n_out), self.dtype)    # (I, O)
        self.params["b"] = _zeros(n_out, self.dtype)                          # (O,)
        self.x = None

    def __repr__(self):
        return f"Dense({self.n_in}→{self.n_out})"

    def set_bias(self, b):
        """Overwrite b, e.g. with the logit of the data's mean for a sigmoid output."""
        b = backend.asarray(b, dtype=self.dtype).reshape(-1)
        if b.shape != (self.n_out,):
            raise ValueError(f"{self!r}: bias must have {self.n_out} entries, got {b.shape[0]}")
        self.params["b"][...] = b

    def forward(self, x, train=True):
        """y_bj = Σ_i x_bi W_ij + b_j."""
        self._check_input(x, self.n_in)
        self.x = x                                          # (B, I), for ∂L/∂W
        return x @ self.params["W"] + self.params["b"]      # (B, O)

    def backward(self, dy, param_grads=True, input_grad=True, rows=None):
        """∂L/∂W = xᵀ dy,  ∂L/∂b = Σ_b dy,  ∂L/∂x = dy Wᵀ.  (docs/derivations.md#dense)"""
        x = self._cached("x", dy, self.n_out, rows)        # (B, I)
        if param_grads:
            self.grads["W"] = x.T @ dy                      # (I, O) summed over the batch by the product
            self.grads["b"] = dy.sum(axis=0)                # (O,)
        return dy @ self.params["W"].T if input_grad else None   # (B, I)

    def double_backward(self, r, dy):
        """backward computed dx = dy Wᵀ; given r = ∂P/∂dx:  ∂P/∂W = rᵀ dy,  ∂P/∂b = 0,  ∂P/∂dy = r W.

        b does not appear in dx, so P does not depend on it through this layer.
        (docs/derivations.md#double-backprop)
        """
        self.grads["W"] = r.T @ dy                          # (I, O)
        self.grads["b"] = backend.xp.zeros_like(self.params["b"])   # (O,)
        return r @ self.params["W"]                         # (B, O)


class ReLU(Layer):
    """Rectified linear unit y = max(0, x), elementwise.  Derivation: docs/derivations.md#relu"""

    def __init__(self):
        super().__init__()
        self.y = None

    def forward(self, x, train=True):
        """y = max(0, x)."""
        self._check_input(x)
        self.y = backend.xp.maximum(x, 0)                   # (B, I), same dtype as x
        return self.y

    def backward(self, dy, rows=None):
        """∂L/∂x = dy · 1[x > 0]  (the derivative at x = 0 is taken to be 0).  (docs/derivations.md#relu)"""
        y = self._cached("y", dy, rows=rows)
        return dy * (y > 0)                                 # (B, I); y > 0 exactly where x > 0

    def double_backward(self, r, dy):
        """backward computed dx = dy · 1[x > 0], linear in dy with a fixed mask:  ∂P/∂dy = r · 1[x > 0].
        (docs/derivations.md#double-backprop)"""
        return r * (self._cached("y", r) > 0)               # (B, I)


class Sigmoid(Layer):
    """Logistic sigmoid y = σ(x) = 1 / (1 + e^(−x)), elementwise.  Derivation: docs/derivations.md#sigmoid"""

    def __init__(self):
        super().__init__()
        self.y = None

    def forward(self, x, train=True):
        """y = σ(x)."""
        self._check_input(x)
        self.y = sigmoid(x)                                 # (B, I)
        return self.y

    def backward(self, dy, rows=None):
        """∂L/∂x = dy · σ'(x) = dy · y (1 − y): the derivative reuses the output.  (docs/derivations.md#sigmoid)"""
        y = self._cached("y", dy, rows=rows)
        return dy * y * (1 - y)                             # (B, I)


def sigmoid(a):
    """σ(a) = 1 / (1 + e^(−a)), computed without overflow for any a.

    Stability: e^(−a) overflows for a ≲ −88 in float32. Multiplying 1/(1 + e^(−a)) by
    e^a/e^a for a < 0 gives σ(a) = e^(min(a, 0)) / (1 + e^(−|a|)) for every a: both
    exponents are ≤ 0, so nothing overflows, and for a ≪ 0 the tiny e^a keeps its full
    relative precision (1 − 1/(1 + e^(−a)) would round it to 0).
    One formula for both signs, rather than choosing between two with xp.where: on a CPU
    a choice on random signs costs a mispredicted branch per element.
    """
    xp = backend.xp
    # Naive:  1 / (1 + xp.exp(-a))
    return xp.exp(xp.minimum(a, 0)) / (1 + xp.exp(-xp.abs(a)))


class Maxout(Layer):
    """Maxout (Goodfellow et al., 2013): each of U units outputs the max of K affine pieces.

    z = x W + b with W (I, U·K), b (U·K,); the K pieces of unit u are the
    consecutive columns u·K … u·K + K − 1 (reshape to (B, U, K)); y_u = max_k z_{u,k}.
    Derivation: docs/derivations.md#maxout
    """

    def __init__(self, n_in, units, pieces, irange=0.005, rng=None, dtype="float32"):
        super().__init__(dtype)
        _positive(type(self).__name__, n_in=n_in, units=units, pieces=pieces)
        self.n_in, self.units, self.pieces = n_in, units, pieces
        self.params["W"] = _uniform(rng, irange, (n_in, units * pieces), self.dtype)  # (I, U·K)
        self.params["b"] = _zeros(units * pieces, self.dtype)                        # (U·K,)
        self.x = self.winner = None

    def __repr__(self):
        return f"Maxout({self.n_in}→{self.units}×{self.pieces})"

    def forward(self, x, train=True):
        """z = x W + b;  y_u = max_k z_{u,k};  k*_u = the first k that attains it."""
        xp = backend.xp
        self._check_input(x, self.n_in)
        z = x @ self.params["W"] + self.params["b"]           # (B, U·K)
        z = z.reshape(x.shape[0], self.units, self.pieces)    # (B, U, K)
        # Textbook:  winner = z.argmax(axis=2);  y = z.max(axis=2)
        # The same, piece by piece: NumPy's reductions along a short last axis are slow (argmax
        # and max of the paper's (200, 240, 5) take 2.6 ms, these K − 1 passes 0.3 ms; see
        # BENCHMARKS.md). tests/test_layers.py checks that both give identical y and winner.
        y = z[:, :, 0].copy()                                 # (B, U) the best piece so far
        # its index k*, in the smallest unsigned type that holds K − 1 (uint8 up to K = 256),
        # which saves 1.6% of the paper's step against intp (BENCHMARKS.md)
        winner = xp.zeros(y.shape, dtype=numpy.min_scalar_type(self.pieces - 1))   # (B, U)
        for k in range(1, self.pieces):
            better = z[:, :, k] > y                           # (B, U); strict, so a tie keeps the earlier piece
            # winner = xp.where(better, k, winner), branch-free: k exceeds every index so far
            xp.maximum(winner, better * winner.dtype.type(k), out=winner)
            xp.maximum(y, z[:, :, k], out=y)
        self.x = x                                            # (B, I), for ∂L/∂W
        self.winner = winner                                  # (B, U), for ∂L/∂z
        return y

    def backward(self, dy, param_grads=True, input_grad=True, rows=None):
        """∂L/∂z_{u,k} = dy_u · 1[k = k*_u]; then ∂L/∂W = xᵀ dz, ∂L/∂b = Σ_b dz, ∂L/∂x = dz Wᵀ.

        At a tie the first maximal piece takes the whole gradient (one valid subgradient).
        (docs/derivations.md#maxout)
        """
        xp = backend.xp
        x = self._cached("x", dy, self.units, rows)                      # (B, I)
        winner = self.winner if rows is None else self.winner[rows]      # (B, U)
        B, U, K = x.shape[0], self.units, self.pieces
        dz = xp.zeros((B, U, K), dtype=dy.dtype)                         # (B, U, K) zero but at the winners
        dz[xp.arange(B)[:, None], xp.arange(U), winner] = dy             # dz[b, u, k*_bu] = dy[b, u]
        dz = dz.reshape(B, U * K)                                        # (B, U·K), columns as in W
        if param_grads:
            self.grads["W"] = x.T @ dz                                   # (I, U·K)
            self.grads["b"] = dz.sum(axis=0)                             # (U·K,)
        return dz @ self.params["W"].T if input_grad else None           # (B, I)

    def double_backward(self, r, dy):
        """backward computed dx = dz Wᵀ with dz the scatter of dy to the winners; given r = ∂P/∂dx:

            ∂P/∂W = rᵀ dz,  ∂P/∂b = 0,  ∂P/∂dy_u = (r W)_{u,k*_u}  (the gather at the winners)

        (docs/derivations.md#double-backprop)
        """
        xp = backend.xp
        self._cached("x", dy, self.units)
        B, U, K = dy.shape[0], self.units, self.pieces
        rows, units = xp.arange(B)[:, None], xp.arange(U)
        dz = xp.zeros((B, U, K), dtype=dy.dtype)                         # (B, U, K)
        dz[rows, units, self.winner] = dy                                # as in backward
        self.grads["W"] = r.T @ dz.reshape(B, U * K)                     # (I, U·K)
        self.grads["b"] = xp.zeros_like(self.params["b"])                # (U·K,)
        rw = (r @ self.params["W"]).reshape(B, U, K)                     # (B, U, K)
        return rw[rows, units, self.winner]                              # (B, U)


class Dropout(Layer):
    """Dropout: keep each input with probability p (include_prob), scale kept inputs.

    Training: y = x · m with m_i = scale · Bernoulli(p), scale = 1/p by default so
    that E[y] = x. At train=False it is the identity (no mask, no scale).
    ``rng`` is a generator of the active backend; the trainer sets it so that
    masks are reproducible and checkpointed.  Derivation: docs/derivations.md#dropout
    """

    def __init__(self, include_prob, scale=None, rng=None):
        super().__init__()
        if not 0 < include_prob <= 1:
            raise ValueError(f"Dropout: include_prob must be in (0, 1], got {include_prob}")
        if scale is not None and not 0 < scale < float("inf"):   # NaN fails this too
            raise ValueError(f"Dropout: scale must be a finite number > 0 (kept inputs are multiplied by it; "
                             f"default 1 / include_prob), got {scale}")
        self.include_prob = include_prob
        self.scale = 1 / include_prob if scale is None else scale
        self.rng = backend.rng(rng) if rng is None or isinstance(rng, int) else rng
        self.mask = None

    def __repr__(self):
        return f"Dropout(p={self.include_prob}, scale={self.scale:g})"

    def forward(self, x, train=True):
        """y = x · m, m_i = scale · 1[u_i < p], u_i ~ U(0, 1)  (identity when train=False)."""
        self._check_input(x)
        if not train:
            self.mask = None
            return x
        # The generators draw float32 or float64 only; a float16 input compares float32 draws.
        draw = x.dtype if x.dtype in (numpy.float32, numpy.float64) else numpy.float32
        keep = self.rng.random(x.shape, dtype=draw) < self.include_prob   # (B, I) bool
        self.mask = keep * x.dtype.type(self.scale)                        # (B, I), x's dtype
        return x * self.mask

    def backward(self, dy, rows=None):
        """∂L/∂x = dy · m: a dropped input had no effect on L.  (docs/derivations.md#dropout)"""
        mask = self._cached("mask", dy, rows=rows)
        return dy * mask                                                  # (B, I)

    def double_backward(self, r, dy):
        """backward computed dx = dy · m, linear in dy:  ∂P/∂dy = r · m.  (docs/derivations.md#double-backprop)"""
        return r * self._cached("mask", r)                                # (B, I)
