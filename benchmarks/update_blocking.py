"""Would cache blocking speed up the momentum update?  (An experiment; BENCHMARKS.md quotes it.)

    python benchmarks/update_blocking.py

Times v ← μv − ηg, θ ← θ + v (SGD's three passes over v, then one over θ) on arrays of the
paper's parameter shapes, once over each whole array and once in slices of C numbers, so that
a slice of v stays in L2 cache across its passes. Caches are flushed (64 MB written) before
each run; the median of 15 runs is printed in milliseconds.
"""
import time

import numpy

from minigan.gans import gan


def paper_shapes():
    """The shapes of θ_g and θ_d, read off the paper's networks themselves."""
    nets = (gan.paper_generator(), gan.paper_discriminator())
    return [tuple(p.shape) for net in nets for _, p, _, _ in net.named_params()]


def update(params, grads, velocities, mu, lr, chunk=None):
    for p, g, v in zip(params, grads, velocities):
        p, g, v = p.reshape(-1), g.reshape(-1), v.reshape(-1)
        step = chunk or p.size
        for s in range(0, p.size, step):
            ps, gs, vs = p[s:s + step], g[s:s + step], v[s:s + step]
            vs *= -mu / lr
            vs += gs
            vs *= -lr
            ps += vs


def main():
    rng = numpy.random.default_rng(0)
    arrays = [[rng.standard_normal(s).astype(numpy.float32) for s in paper_shapes()] for _ in range(3)]
    variants = [None, 16384, 32768, 65536, 131072]
    times = {c: [] for c in variants}
    for _ in range(15):
        for chunk in variants:
            flush = numpy.ones(16_000_000, numpy.float32)
            flush += 1
            start = time.perf_counter()
            update(*arrays, mu=0.7, lr=0.003, chunk=chunk)
            times[chunk].append(time.perf_counter() - start)
    for chunk in variants:
        print(f"{'whole arrays' if chunk is None else f'slices of {chunk}':>16}: "
              f"{numpy.median(times[chunk]) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
