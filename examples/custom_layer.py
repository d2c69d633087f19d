"""Write your own layer: a LeakyReLU and a Tanh, each backward derived by hand and checked by minigan.testing.

It shows, in a few seconds:
  1. both layers pass every property of minigan.testing on batches that hypothesis draws;
  2. the LeakyReLU works in a Sequential with minigan's own layers (Dense → LeakyReLU → Dense);
  3. a buggy LeakyReLU, whose backward uses slope 1 for negative inputs instead of α, is
     caught, and the printed report says which entry is wrong and by how much.

A layer is four things: forward(x, train=True) -> y, backward(dy) -> ∂L/∂x, and the dicts
params and grads (both empty here: these layers have no parameters).

    python examples/custom_layer.py                # 25 batches per check
    python examples/custom_layer.py --alpha 0.2 --seed 3
    python examples/custom_layer.py --fast         # 5 batches per check (what the tests run)

Run as a script it writes no files. Exits 0 when the right layers pass and the buggy one is caught.
"""
import argparse
import os
import tempfile
import time

import numpy
from hypothesis import given, seed, settings

from minigan import backend
from minigan.layers import Dense
from minigan.network import Sequential
from minigan.testing import SETTINGS, assert_layer_gradients, batches, check_layer_properties, smooth_batches


class LeakyReLU:
    """Leaky rectifier, elementwise: y = x for x > 0, y = αx otherwise (α = 0.01 by default).

    Backward, in index form. y_bi depends on x_bi alone, so
        ∂y_bi/∂x_cj = 0 unless (c, j) = (b, i),   ∂y_bi/∂x_bi = 1 if x_bi > 0, α if x_bi < 0,
    and the chain rule's sum over every output entry collapses to a single term:
        ∂L/∂x_bi = Σ_cj ∂L/∂y_cj · ∂y_cj/∂x_bi = dy_bi · (1 if x_bi > 0 else α).
    At x_bi = 0 there is a kink (slope α to the left, 1 to the right) and no derivative; any
    slope between α and 1 is a valid subgradient. We take α, the "otherwise" branch; for
    α = 0 that is ReLU's convention (0 at 0). Gradient checks keep x away from 0.
    """

    def __init__(self, alpha=0.01):
        self.alpha = alpha
        self.params, self.grads = {}, {}          # no parameters: nothing to learn, nothing to fill
        self.positive = None

    def __repr__(self):
        return f"{type(self).__name__}(α={self.alpha:g})"

    def forward(self, x, train=True):
        """y = x where x > 0, αx elsewhere."""
        self.positive = x > 0                                       # (B, I) bool: all backward needs
        return backend.xp.where(self.positive, x, self.alpha * x)   # (B, I), x's dtype

    def backward(self, dy):
        """∂L/∂x = dy where x > 0, α·dy elsewhere (α at 0 too)."""
        return backend.xp.where(self.positive, dy, self.alpha * dy)  # (B, I)


class Tanh:
    """y = tanh(x), elementwise.

    Backward: tanh'(x) = 1 − tanh²(x), so ∂L/∂x_bi = dy_bi · (1 − y_bi²): as for the
    sigmoid, the derivative reuses the output, and forward caches y rather than x.
    """

    def __init__(self):
        self.params, self.grads = {}, {}
        self.y = None

    def forward(self, x, train=True):
        """y = tanh(x)."""
        self.y = backend.xp.tanh(x)                                 # (B, I)
        return self.y

    def backward(self, dy):
        """∂L/∂x = dy · (1 − y²)."""
        return dy * (1 - self.y * self.y)                           # (B, I)


class BuggyLeakyReLU(LeakyReLU):
    """The bug to catch: backward forgets α and passes dy through for negative inputs too."""

    def backward(self, dy):
        return dy                                                   # should be α·dy where x ≤ 0


def first_failure(make_layer, inputs, checks):
    """Run check_layer_properties(make_layer(), x) on the batches x that hypothesis draws.

    Returns None when every batch passes, else (the AssertionError, the failing batch):
    hypothesis replays the smallest failing batch it found last, so that is the one kept.
    """
    failures = []

    @checks
    @given(x=inputs)
    def run(x):
        try:
            check_layer_properties(make_layer(), x)
        except AssertionError as err:
            failures.append((err, x))
            raise
    try:
        run()
    except AssertionError:
        return failures[-1]
    return None


def passes_every_property(make_layer, inputs, checks):
    """Raise the first property that fails on a drawn batch (hypothesis's smallest such batch)."""
    failure = first_failure(make_layer, inputs, checks)
    if failure is not None:
        raise failure[0]


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Write your own layer: a LeakyReLU and a Tanh with hand-derived backward passes, "
                    "property-tested with minigan.testing, and a buggy LeakyReLU (slope 1 instead of α "
                    "for negative inputs) that the checks catch. Runs in seconds and writes no files.",
        epilog="Exit status 0: the right layers passed and the buggy one was caught.")
    p.add_argument("--alpha", type=float, default=0.01, help="the LeakyReLU's slope for x ≤ 0 (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="seed of hypothesis's draws and of the network's weights")
    p.add_argument("--fast", action="store_true", help="5 batches per check instead of 25: a seconds-long check")
    args = p.parse_args(argv)
    if args.alpha == 1:
        p.error("--alpha 1 makes the LeakyReLU the identity, and the 'bug' (slope 1) no bug at all")
    start = time.perf_counter()
    n = 5 if args.fast else 25

    def checks(test):
        """minigan's test settings, with n batches, the same draws for the same --seed, and no
        database of failing examples written to disk."""
        return seed(args.seed)(settings(SETTINGS, max_examples=n, database=None)(test))

    print(f"1. Every property of minigan.testing, on {n} batches each (float64, B ≤ 16, I ≤ 32):")
    passes_every_property(lambda: LeakyReLU(args.alpha), smooth_batches(), checks)   # x kept ≥ 0.01 from the kink
    print(f"   {LeakyReLU(args.alpha)!r}: passed")
    passes_every_property(Tanh, batches(low=-3, high=3), checks)                   # smooth everywhere
    print("   Tanh(): passed")

    print("2. In a network with minigan's layers:")
    rng = numpy.random.default_rng(args.seed)
    net = Sequential([Dense(3, 4, irange=1.0, rng=rng, dtype="float64"), LeakyReLU(args.alpha),
                      Dense(4, 2, irange=1.0, rng=rng, dtype="float64")])
    x = rng.uniform(-2, 2, (5, 3))
    # The LeakyReLU sees x W + b (5 × 4 values): one of them within ~1e-6 of the kink at 0 is too rare to guard against.
    report = assert_layer_gradients(net, x)
    check_layer_properties(net, x)
    print(f"   {net!r}: passed; gradients: {report}")

    print("3. A buggy LeakyReLU (backward uses slope 1 for negative inputs instead of α):")
    failure = first_failure(lambda: BuggyLeakyReLU(args.alpha), smooth_batches(), checks)
    if failure is None:
        raise SystemExit(f"   the bug was NOT caught in {n} batches: try more (drop --fast)")
    err, x = failure
    print(f"   caught. hypothesis shrank the failing batch to x = {x.tolist()}, and the report reads:\n")
    print("   " + str(err).replace("\n", "\n   ") + "\n")
    print(f"done in {time.perf_counter() - start:.1f} s: the right layers pass, the bug is caught")


if __name__ == "__main__":
    # hypothesis caches what it learns about the code under test in ./.hypothesis; point it at
    # a temporary folder, removed on exit, so that this example leaves no files behind.
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", scratch)
        main()
