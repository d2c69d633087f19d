"""Sequential: the chain rule through a list of layers.

For y = f_L(… f_2(f_1(x))), forward applies f_1 … f_L in order; backward walks
the list in reverse, each layer turning ∂L/∂(its output) into ∂L/∂(its input)
and filling its own ``grads`` on the way. The value returned, ∂L/∂x, is what
lets the gradient of D's objective flow on into G: ∂L/∂G(z) = D.backward(…).
"""


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
        from . import backend
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
        """Give every random layer (Dropout) the generator ``rng``."""
        for layer in self.layers:
            if hasattr(layer, "rng"):
                layer.rng = rng
