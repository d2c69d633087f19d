"""Where the paper's step spends its time, call by call (issue 22, item 1).

    PYTHONPATH=. python benchmarks/step_parts.py [--steps 50] [--batch 100]

Runs the released-code step of bench.py (the paper's G and D, batch 100, SGD with momentum)
with a clock around every layer's forward and backward, the losses and both optimizer steps,
and prints, for each call, its median time inside the step; beside it, the same call's matrix
products timed alone on operands of the same shapes (warm in cache), and the difference: the
call's elementwise work, allocations and cache misses. What no call covers (the concatenation
of [x; G(z)], the accuracy count, Python) is the last row. Then each elementwise operation of
the step timed alone on arrays of its shape, which says what the differences are made of.
"""
import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import minigan  # noqa: F401  before NumPy, as in `minigan train`: it sets OpenBLAS's spin default
import numpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import MiniganStep, blas_note, cpu_name, timed       # noqa: E402
from minigan import backend                                        # noqa: E402
from minigan.optim import SGD                                      # noqa: E402


class Clock:
    """Per-call wall times: wrap(obj, method, name) times every later call of obj.method."""

    def __init__(self):
        self.times, self.shapes = defaultdict(list), {}

    def wrap(self, obj, method, name):
        inner = getattr(obj, method)

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            out = inner(*args, **kwargs)
            backend.synchronize()
            self.times[name].append(time.perf_counter() - start)
            self.shapes[name] = (obj, method, [getattr(a, "shape", None) for a in args], kwargs)
            return out
        setattr(obj, method, timed_call)


def products_alone(obj, method, shapes, kwargs, steps):
    """The matrix products that this layer call computes, timed alone on random operands."""
    W = getattr(obj, "params", {}).get("W")
    if W is None:
        return 0.0
    xp, rng = backend.xp, numpy.random.default_rng(0)

    def rand(*shape):
        return xp.asarray(rng.random(shape, dtype=numpy.float32))
    I, O = W.shape
    if method == "forward":
        x = rand(shapes[0][0], I)
        return timed(lambda: x @ W, steps, 3)
    B = shapes[0][0]
    total = 0.0
    dz = rand(B, O)
    if kwargs.get("param_grads", True):
        x = rand(B, I)
        total += timed(lambda: x.T @ dz, steps, 3)
    if kwargs.get("input_grad", True):
        total += timed(lambda: dz @ W.T, steps, 3)
    return total


def elementwise_ops(B, steps):
    """[(operation, shape, ms)]: the step's elementwise operations, each timed alone."""
    xp = backend.xp
    gen = backend.rng(0)
    f32 = numpy.float32

    def rand(*shape):
        return gen.random(shape, dtype=f32)
    H, X, UK, U, K, P = 1200, 784, 1200, 240, 5, 3_735_425
    a_h, a_x, z = rand(B, H), rand(B, X), rand(2 * B, U, K)
    y, x2, v, g, p = rand(2 * B, U), rand(2 * B, X), rand(P), rand(P), rand(P)
    b_h = rand(H)
    winner = xp.zeros((2 * B, U), dtype=numpy.uint8)
    rows, units = xp.arange(2 * B)[:, None], xp.arange(U)
    ops = [
        ("bias add, x W + b (a new array)", (B, H), lambda: a_h + b_h),
        ("ReLU forward max(x, 0)", (B, H), lambda: xp.maximum(a_h, 0)),
        ("ReLU backward dy · 1[y > 0]", (B, H), lambda: a_h * (a_h > 0)),
        ("sigmoid e^min(a,0) / (1 + e^−|a|)", (B, X), lambda: xp.exp(xp.minimum(a_x, 0)) / (1 + xp.exp(-xp.abs(a_x)))),
        ("concatenate [x; G(z)]", (2 * B, X), lambda: xp.concatenate([a_x, a_x])),
        ("dropout mask: draw u, 1[u < p] · scale", (2 * B, X), lambda: (gen.random((2 * B, X), dtype=f32) < 0.8) * f32(1.25)),
        ("dropout apply x · m", (2 * B, X), lambda: x2 * x2),
        ("maxout forward: K − 1 compare/max passes", (2 * B, U, K), lambda: maxout_passes(xp, z, winner)),
        ("maxout backward: zeros, scatter dz[b, u, k*] = dy", (2 * B, U, K), lambda: scatter(xp, z, rows, units, winner, y)),
        ("bias gradient Σ_b dz", (2 * B, UK), lambda: z.reshape(2 * B, UK).sum(axis=0)),
        ("SGD: v *= −μ/η; v += g; v *= −η; θ += v (all parameters)", (P,),
         lambda: SGD(None, lr=0.1, momentum=0.5)._update(p, g, v)),
    ]
    return [(name, shape, timed(fn, steps, 3) * 1e3) for name, shape, fn in ops]


def maxout_passes(xp, z, winner):
    y = z[:, :, 0].copy()
    for k in range(1, z.shape[2]):
        better = z[:, :, k] > y
        xp.maximum(winner, better * winner.dtype.type(k), out=winner)
        xp.maximum(y, z[:, :, k], out=y)
    return y


def scatter(xp, z, rows, units, winner, dy):
    dz = xp.zeros(z.shape, dtype=z.dtype)
    dz[rows, units, winner] = dy
    return dz


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=50, help="timed steps (default 50)")
    ap.add_argument("--batch", type=int, default=100, help="batch size (default 100, the paper's)")
    args = ap.parse_args(argv)
    step, clock = MiniganStep(args.batch), Clock()
    for net, who in ((step.G, "G"), (step.D, "D")):
        for i, layer in enumerate(net.layers):
            for method in ("forward", "backward"):
                clock.wrap(layer, method, f"{who}[{i}] {layer!r}.{method}")
    clock.wrap(step.opt_g, "step", "SGD step of G (momentum update)")
    clock.wrap(step.opt_d, "step", "SGD step of D (momentum update)")
    whole = []
    for i in range(args.steps + 5):
        start = time.perf_counter()
        step()
        backend.synchronize()
        if i >= 5:
            whole.append(time.perf_counter() - start)
        else:
            for times in clock.times.values():
                times.clear()
    print(f"# {cpu_name()}; {blas_note()}; numpy {numpy.__version__}; batch {args.batch}; {args.steps} steps")
    print("\n| call | calls a step | ms in the step | products alone, ms | rest, ms |\n|---|---|---|---|---|")
    covered = rest_sum = prod_sum = 0.0
    for name, times in clock.times.items():
        per_step = len(times) / args.steps
        ms = statistics.median(times) * 1e3 * per_step
        obj, method, shapes, kwargs = clock.shapes[name]
        prod = products_alone(obj, method, shapes, kwargs, 20) * 1e3 * per_step
        covered, prod_sum, rest_sum = covered + ms, prod_sum + prod, rest_sum + ms - prod
        print(f"| {name} | {per_step:g} | {ms:.2f} | {prod:.2f} | {ms - prod:.2f} |")
    total = statistics.median(whole) * 1e3
    print(f"| everything else (concatenate, loss, accuracy, Python) | | {total - covered:.2f} | | {total - covered:.2f} |")
    print(f"| **the whole step (median)** | | **{total:.2f}** | **{prod_sum:.2f}** | **{total - prod_sum:.2f}** |")
    print("\n| elementwise operation, timed alone | shape | ms |\n|---|---|---|")
    for name, shape, ms in elementwise_ops(args.batch, 20):
        print(f"| {name} | {shape} | {ms:.3f} |")


if __name__ == "__main__":
    main()
