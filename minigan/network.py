"""Sequential and Branches: the chain rule through a list of layers, and through layers side by side.

For y = f_L(… f_2(f_1(x))), forward applies f_1 … f_L in order; backward walks
the list in reverse, each layer turning ∂L/∂(its output) into ∂L/∂(its input)
and filling its own ``grads`` on the way. The value returned, ∂L/∂x, is what
lets the gradient of D's objective flow on into G: ∂L/∂G(z) = D.backward(…).
"""
import numpy

from . import backend


class Sequential:
    """A network that is a chain of layers."""

    def __init__(self, layers):
        self.layers = list(layers)

    def __repr__(self):
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"

    def forward(self, x, train=True):
        """y = f_L(… f_1(x)); every layer caches what its backward needs."""
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def backward(self, dy, param_grads=True, input_grad=True, rows=None):
        """Given ∂L/∂y, fill every layer's grads and return ∂L/∂x: the chain rule, layer by layer.

        Textbook:  for layer in reversed(self.layers): dy = layer.backward(dy);  return dy

        Three options save work nobody reads (docs/derivations.md#sequential):
        param_grads=False: only ∂L/∂x is wanted; the layers' grads are left as they were.
        input_grad=False: ∂L/∂x is not wanted, and None is returned. Then the walk ends at
            the lowest layer with parameters, which skips its own ∂L/∂(input): nothing below
            it needs a gradient. (D starts with a Dropout; walking on down would compute the
            first Maxout's ∂/∂input, a (2B, U·K) × (U·K, 784) product, only to drop it.)
        rows: dy covers only these rows of the last forward batch (the rest have zero
            gradient); ∂L/∂x is returned for those rows only.
        A layer is passed only the options it is asked for, so a layer of your own that
        takes backward(dy) alone works in any Sequential that is not asked to save work.
        """
        if input_grad:
            lowest = 0                                 # walk all the way down
        elif param_grads:
            lowest = self._lowest_with_params()        # stop at the last layer with grads to fill
        else:
            lowest = len(self.layers)                  # nothing is wanted: no walk at all
        for i in range(len(self.layers) - 1, lowest - 1, -1):
            layer, options = self.layers[i], {}
            if rows is not None:
                options["rows"] = rows
            if layer.params and not param_grads:
                options["param_grads"] = False
            if layer.params and i == lowest and not input_grad:
                options["input_grad"] = False
            dy = layer.backward(dy, **options)
        return dy if input_grad else None

    def input_gradient(self, dy):
        """∂L/∂x by the backward pass alone (no ∂L/∂θ), keeping the dy each layer received, for
        ``double_backward``. With dy = 1 (B, 1) on a critic f, row b of the result is ∇ₓ f(x_b)."""
        self.dys = [None] * len(self.layers)                  # dys[i]: ∂L/∂(output of layer i)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            self.dys[i] = dy
            dy = layer.backward(dy, param_grads=False) if layer.params else layer.backward(dy)
        return dy

    def double_backward(self, r):
        """The third pass: r = ∂P/∂(the result of the last ``input_gradient``), for a penalty P of it.

        Fills every layer's grads with ∂P/∂θ, walking *up* the layers, because the backward pass
        walked down: layer i's backward turned dys[i] into the dy of layer i − 1, so its third
        pass turns ∂P/∂(its dx) into ∂P/∂dys[i], which is ∂P/∂(the dx of layer i + 1).
        Returns ∂P/∂dy of the top layer.  (docs/derivations.md#double-backprop)

        Order rule: nothing may run forward or input_gradient between the input_gradient whose
        result P was computed from and this call (both read the caches that they leave).
        """
        dys = getattr(self, "dys", None)
        if dys is None:
            raise RuntimeError(f"{self!r}: double_backward() called before input_gradient()")
        for layer, dy in zip(self.layers, dys):
            if not hasattr(layer, "double_backward"):
                raise TypeError(f"{layer!r} has no double_backward(r, dy): the gradient penalty is "
                                f"derived for piecewise-linear layers (Dense, ReLU, Maxout, Dropout); "
                                f"see docs/derivations.md#double-backprop")
            r = layer.double_backward(r, dy)
        return r

    def _lowest_with_params(self):
        """Index of the first layer that has parameters (len(layers) if none has)."""
        return next((i for i, layer in enumerate(self.layers) if layer.params), len(self.layers))

    def named_params(self):
        """Yield (name, param, layer, key) for every parameter, e.g. ('1.W', W, …)."""
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                yield f"{i}.{key}", layer.params[key], layer, key

    def params_and_grads(self):
        """Yield (param, grad) pairs, in a fixed order, for an optimizer step.

        grad is None until the first backward() has filled it.
        """
        for _, param, layer, key in self.named_params():
            yield param, layer.grads.get(key)

    def state_dict(self):
        """{name: array} of every parameter (arrays are the live ones, not copies)."""
        return {name: p for name, p, _, _ in self.named_params()}

    def load_state_dict(self, state):
        """Copy arrays into the parameters, checking names and shapes."""
        own = self.state_dict()
        if set(own) != set(state):
            raise ValueError(f"parameter names differ: expected {sorted(own)}, got {sorted(state)}")
        for name, p in own.items():
            if tuple(p.shape) != tuple(state[name].shape):
                raise ValueError(f"parameter {name}: expected shape {tuple(p.shape)}, "
                                 f"got {tuple(state[name].shape)}")
            p[...] = backend.asarray(state[name], dtype=p.dtype)

    def n_params(self):
        """Total number of scalar parameters."""
        return sum(int(p.size) for _, p, _, _ in self.named_params())

    def set_rng(self, rng):
        """Give every random layer (Dropout), inside Branches too, the generator ``rng``."""
        for layer in self.layers:
            if hasattr(layer, "set_rng"):
                layer.set_rng(rng)
            elif hasattr(layer, "rng"):
                layer.rng = rng


class Branches:
    """Networks side by side: h = [f_1(x_1), …, f_n(x_n)] for the input x = [x_1, …, x_n].

    The conditional GAN's first layer: G maps z and y, D maps x and y, each through a layer
    of its own, and the layers above see the two outputs as one vector. The input arrives
    as one array of concatenated columns, x (B, I_1 + … + I_n), so a Branches is a layer like
    any other (the testing kit checks it unchanged); ``widths`` says where each part ends.

        forward:   h = [f_1(x[:, part 1]), …, f_n(x[:, part n])]            (B, O_1 + … + O_n)
        backward:  ∂L/∂x_j = backward_j(∂L/∂h[:, columns of f_j]),  ∂L/∂x = [∂L/∂x_1, …, ∂L/∂x_n]

    h_j depends on θ_j and x_j only, so the chain rule splits: each branch sees its own
    columns of ∂L/∂h and nothing else (docs/derivations.md#branches).
    """

    def __init__(self, **branches):
        """``Branches(z=(100, net_z), y=(10, net_y))``: each name gives (input width I_j, network)."""
        if not branches:
            raise ValueError("Branches: give at least one branch, e.g. Branches(x=(784, net))")
        self.names = list(branches)
        self.widths = [int(width) for width, _ in branches.values()]
        self.nets = [net for _, net in branches.values()]
        self.out_widths = None                     # (O_1, …, O_n), set by forward

    def __repr__(self):
        return "Branches(" + ", ".join(f"{n}={w}→{net!r}" for n, w, net in zip(self.names, self.widths, self.nets)) + ")"

    @property
    def params(self):
        """Every branch's parameters, named 'branch.layer.key' (e.g. 'z.0.W'); the live arrays."""
        return {f"{n}.{k}": p for n, net in zip(self.names, self.nets) for k, p in net.state_dict().items()}

    @property
    def grads(self):
        return {f"{n}.{i}.{key}": g for n, net in zip(self.names, self.nets)
                for i, layer in enumerate(net.layers) for key, g in layer.grads.items()}

    def forward(self, x, train=True):
        """h = [f_1(x_1), …, f_n(x_n)]: each branch on its own columns of x."""
        xp = backend.xp
        if getattr(x, "ndim", None) != 2 or x.shape[1] != sum(self.widths):
            raise ValueError(f"{self!r}: expected input of shape (B, {sum(self.widths)}) "
                             f"({' + '.join(map(str, self.widths))}), got {getattr(x, 'shape', type(x).__name__)}")
        ends = numpy.cumsum([0] + self.widths)
        outs = [net.forward(x[:, a:b], train=train) for net, a, b in zip(self.nets, ends[:-1], ends[1:])]
        self.out_widths = [o.shape[1] for o in outs]
        return xp.concatenate(outs, axis=1)                         # (B, O_1 + … + O_n)

    def backward(self, dh, param_grads=True, input_grad=True, rows=None):
        """∂L/∂x = [backward_1(∂L/∂h_1), …, backward_n(∂L/∂h_n)], ∂L/∂h_j the columns of f_j."""
        if self.out_widths is None:
            raise RuntimeError(f"{self!r}: backward() called before forward(x, train=True)")
        if getattr(dh, "ndim", None) != 2 or dh.shape[1] != sum(self.out_widths):
            raise ValueError(f"{self!r}: expected dy of width {sum(self.out_widths)} to match the last "
                             f"forward(), got {getattr(dh, 'shape', type(dh).__name__)}")
        ends = numpy.cumsum([0] + self.out_widths)
        dxs = [net.backward(dh[:, a:b], param_grads=param_grads, input_grad=input_grad, rows=rows)
               for net, a, b in zip(self.nets, ends[:-1], ends[1:])]
        return backend.xp.concatenate(dxs, axis=1) if input_grad else None   # (B, I_1 + … + I_n)

    def set_rng(self, rng):
        for net in self.nets:
            net.set_rng(rng)
