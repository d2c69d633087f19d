"""minigan benchmarks: one script, one table per question. Results go to BENCHMARKS.md.

    python benchmarks/bench.py                      # every backend available here
    python benchmarks/bench.py --backends numpy --steps 50 --no-torch
    python benchmarks/bench.py --backends numpy --step-only       # one round of an A/B comparison

What it measures (medians over --steps timed steps after --warmup untimed ones;
on the GPU the device is synchronised before every clock reading). minigan and
PyTorch are timed in alternating rounds, and their ratio is the median of the
per-round ratios, so that slow drifts of a shared machine's speed cancel out:
  1. the machine's float32 matrix-product ceiling (GFLOP/s);
  2. the paper's training step (batch 100, released-code update): minigan, and
     PyTorch eager with the same number of threads when torch is installed;
     FLOP count of the step and the time that count would take at the ceiling;
  3. where the step's time goes: each of its matrix products timed alone, and the rest;
  4. the full Parzen protocol (10,000 samples, σ search on 1,000 validation images,
     10,000 test images);
  5. step time and peak memory for batch sizes 100, 500, 1000, 5000;
  6. the scores beyond Parzen on 10,000 samples (issue 15): the classifier's pass,
     Inception Score, FID, precision/recall, and what --scores parzen,is,fid adds to
     an evaluation of a training run.
"""
import argparse
import os
import platform
import statistics
import time
import tracemalloc

import minigan  # noqa: F401  before NumPy, as in `minigan train`: it sets OpenBLAS's spin default
import numpy

from minigan import backend
from minigan.gans import gan
from minigan.evaluation import classifier, metrics, parzen, scores
from minigan.optim import SGD


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def blas_note(environ=os.environ):
    """The OpenBLAS settings found in the environment, which can change the ceiling twofold.

    OpenBLAS picks its kernels for the CPU it finds, unless OPENBLAS_CORETYPE names them:
    the machines this project is measured on pin Haswell (AVX2) kernels on an AVX-512 CPU,
    about half the matrix-product rate of the kernels OpenBLAS would pick by itself.
    """
    kernels = (f"OPENBLAS_CORETYPE={environ['OPENBLAS_CORETYPE']}" if "OPENBLAS_CORETYPE" in environ
               else "OpenBLAS kernels chosen by OpenBLAS (no OPENBLAS_CORETYPE set)")
    # the thread count, and how long idle threads spin (minigan/__init__.py sets a default)
    others = [f"{k}={environ[k]}" for k in ("OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT") if k in environ]
    return "; ".join([kernels, *others])


def timed(fn, steps, warmup, sync=backend.synchronize):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) if times else None


def matmul_ceiling(n=2048, repeats=5):
    xp = backend.xp
    a = xp.asarray(numpy.random.default_rng(0).random((n, n), dtype=numpy.float32))
    b = xp.asarray(numpy.random.default_rng(1).random((n, n), dtype=numpy.float32))
    seconds = timed(lambda: a @ b, repeats, 2)
    return 2 * n ** 3 / seconds / 1e9


def paper_config(batch=100, width=1.0):
    """The paper's configuration at batch ``batch``, with G's and D's widths times ``width``."""
    base = gan.Config()
    return gan.Config(batch_size=batch, g_hidden=max(1, round(base.g_hidden * width)),
                      d_units=max(1, round(base.d_units * width)))


def step_products(B, width=1.0):
    """The matrix products of minigan's released step at batch B: (part, (rows, inner, cols)) each.

    Z noise, H G's hidden width, X pixels, U maxout units, UK = U·K maxout pieces in all,
    from the paper's configuration (widths times ``width``). Only the products a step computes
    are listed (no ∂/∂z, no ∂/∂x for D's own update).
    """
    cfg = paper_config(B, width)
    Z, H, X, U, UK = cfg.noise_dim, cfg.g_hidden, 784, cfg.d_units, cfg.d_units * cfg.d_pieces
    return [("G forward", (B, Z, H)), ("G forward", (B, H, H)), ("G forward", (B, H, X)),
            ("D forward on [x; G(z)]", (2 * B, X, UK)), ("D forward on [x; G(z)]", (2 * B, U, UK)),
            ("D forward on [x; G(z)]", (2 * B, U, 1)),
            ("D backward for G (∂/∂G(z), fake rows)", (B, 1, U)),
            ("D backward for G (∂/∂G(z), fake rows)", (B, UK, U)),
            ("D backward for G (∂/∂G(z), fake rows)", (B, UK, X)),
            ("G backward ∂θ_g", (Z, B, H)), ("G backward ∂θ_g", (H, B, H)), ("G backward ∂θ_g", (H, B, X)),
            ("G backward ∂/∂h", (B, X, H)), ("G backward ∂/∂h", (B, H, H)),
            ("D backward ∂θ_d", (X, 2 * B, UK)), ("D backward ∂θ_d", (U, 2 * B, UK)),
            ("D backward ∂θ_d", (U, 2 * B, 1)),
            ("D backward ∂/∂h", (2 * B, 1, U)), ("D backward ∂/∂h", (2 * B, UK, U))]


def step_flops(B, width=1.0):
    """Floating-point operations of minigan's released step (2 per multiply-add, matrix products only)."""
    return sum(2 * m * k * n for _, (m, k, n) in step_products(B, width))


def products_time(B, steps, warmup):
    """{part: (seconds, FLOP)}: each of the step's matrix products timed alone (operands warm in cache)."""
    xp, rng, parts = backend.xp, numpy.random.default_rng(0), {}
    for part, (m, k, n) in step_products(B):
        a = xp.asarray(rng.random((m, k), dtype=numpy.float32))
        b = xp.asarray(rng.random((k, n), dtype=numpy.float32))
        seconds, flop = parts.get(part, (0.0, 0))
        parts[part] = (seconds + timed(lambda: a @ b, steps, warmup), flop + 2 * m * k * n)
    return parts


class MiniganStep:
    def __init__(self, batch, width=1.0):
        cfg = paper_config(batch, width)
        self.cfg, self.G, self.D = cfg, gan.paper_generator(cfg), gan.paper_discriminator(cfg)
        self.rng = backend.rng(0)
        self.D.set_rng(self.rng)
        self.opt_g, self.opt_d = SGD(self.G.params_and_grads, 0.1, 0.5), SGD(self.D.params_and_grads, 0.1, 0.5)
        self.x = self.rng.random((batch, 784), dtype="float32")
        self.g_loss = gan.generator_loss(cfg.g_objective)

    def __call__(self):
        z = gan.sample_noise(self.rng, self.cfg.batch_size, self.cfg)
        gan.released_step(self.G, self.D, self.x, z, self.opt_g, self.opt_d, self.g_loss)


def peak_memory_mb(fn):
    """Peak memory allocated while fn() runs, beyond what was allocated before (MB)."""
    if backend.name == "cupy":
        pool = backend.xp.get_default_memory_pool()
        pool.free_all_blocks()
        before = pool.total_bytes()
        fn()
        backend.synchronize()
        return (pool.total_bytes() - before) / 2 ** 20
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def torch_step(batch, device, threads):
    """A PyTorch step function and its description, or (None, why not)."""
    try:
        import torch
    except ImportError:
        return None, "PyTorch not installed (pip install torch): comparison skipped"
    if device == "cuda" and not torch.cuda.is_available():
        return None, "PyTorch has no CUDA device here"
    from torch_step import TorchStep
    torch.set_num_threads(threads)
    return TorchStep(batch, device), f"torch {torch.__version__}, {threads} threads"


def compare_steps(ours, theirs, steps, warmup, rounds=5):
    """Alternate rounds of minigan and PyTorch steps: (our median, their median, median ratio, ceiling)."""
    per_round = max(3, steps // rounds)
    mine, other, ratios, ceilings = [], [], [], []
    timed(ours, 0, warmup)
    if theirs:
        timed(theirs, 0, warmup, theirs.synchronize)
    for _ in range(rounds):
        ceilings.append(matmul_ceiling(repeats=3))
        mine.append(timed(ours, per_round, 1))
        if theirs:
            other.append(timed(theirs, per_round, 1, theirs.synchronize))
            ratios.append(mine[-1] / other[-1])
    med = statistics.median
    return med(mine), (med(other) if other else None), (med(ratios) if ratios else None), max(ceilings)


def parzen_time(data_dir):
    rng = numpy.random.default_rng(0)
    samples = rng.random((10000, 784), dtype=numpy.float32)
    try:
        from minigan.files import data
        s = data.mnist_splits(data_dir, download=False)
        valid, test, source = s["valid"], s["test"], "MNIST"
    except Exception:
        valid, test, source = rng.random((10000, 784), dtype=numpy.float32), rng.random((10000, 784), dtype=numpy.float32), "random"
    start = time.perf_counter()
    parzen.evaluate(samples, valid, test)
    backend.synchronize()
    return time.perf_counter() - start, source


def scores_time(data_dir, n=10000):
    """[(what, seconds)] for the scores on n samples, with a classifier of the default shape.

    The network is untrained: the time depends on its shape only, and training one here
    would take minutes. Samples are MNIST test images (random pixels without MNIST); FID's
    reference is the 50,000 training images, precision/recall's the first 10,000.
    """
    rng = numpy.random.default_rng(0)
    try:
        from minigan.files import data
        s = data.mnist_splits(data_dir, download=False)
        source = "MNIST"
    except Exception:
        s = {k: rng.random((m, 784), dtype=numpy.float32) for k, m in (("train", 5 * n), ("valid", n),
                                                                        ("test", n))}
        source = "random"
    net = classifier.build_classifier(classifier.ClassifierConfig())
    images, out = s["test"][:n], []

    def clock(what, fn):
        start = time.perf_counter()
        value = fn()
        backend.synchronize()
        out.append((what, time.perf_counter() - start))
        return value

    scorer = scores.Scorer(s, net)
    clock("reference: features, mean and covariance of the 50,000 training images (once per run)",
          scorer.train_stats)
    clock("reference: features of training images 0–9,999 (once)", scorer.real_features)
    probs = clock(f"classifier: p(y|x) of {n:,} samples", lambda: classifier.probabilities(net, images))
    feats = clock(f"classifier: features of {n:,} samples", lambda: classifier.features(net, images))
    clock("Inception Score (10 splits)", lambda: metrics.inception_score(probs))
    clock("FID: mean, covariance, Fréchet distance", lambda: metrics.frechet_distance(
        *metrics.mean_cov(feats), *scorer.train_stats()))
    clock(f"precision/recall (k = 3, {min(n, scores.PR_REAL):,} real)", lambda: metrics.precision_recall(
        scorer.real_features(), feats, k=scores.PR_K))
    clock("Parzen protocol, for comparison", lambda: parzen.evaluate(images, s["valid"], s["test"]))
    clock("what --scores parzen,is,fid adds to an evaluation (IS and FID of its samples)",
          lambda: scorer.score(images, ("is", "fid")))
    return out, source


def main(argv=None):
    p = argparse.ArgumentParser(description="minigan benchmarks (prints Markdown tables)")
    p.add_argument("--backends", nargs="+", default=["numpy", "cupy"], choices=["numpy", "cupy"])
    p.add_argument("--steps", type=int, default=30, help="timed steps per measurement (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--batches", type=int, nargs="+", default=[100, 500, 1000, 5000])
    p.add_argument("--data", help="MNIST folder for the Parzen timing (default $MINIGAN_DATA)")
    p.add_argument("--step-only", action="store_true",
                   help="print only the median of the paper's step (no PyTorch, products, Parzen or batch table): "
                        "one round of an A/B comparison between two versions of minigan, alternated by the caller")
    p.add_argument("--scaling-only", action="store_true",
                   help="print only the scaling table: --batches at the paper's widths, --widths at batch 100")
    p.add_argument("--widths", type=float, nargs="+", default=[0.5, 1, 2, 4],
                   help="width factors of G's hidden layers and D's maxout units for --scaling-only")
    p.add_argument("--scores-only", action="store_true", help="print only the table of the scores beyond Parzen")
    p.add_argument("--score-samples", type=int, default=10000,
                   help="samples (and real images) for that table (default 10000, as the issue asks)")
    args = p.parse_args(argv)
    threads = len(os.sched_getaffinity(0))
    print(f"machine: {cpu_name()}, {threads} cores; numpy {numpy.__version__}; {blas_note()}; "
          f"{time.strftime('%Y-%m-%d')}\n")
    rows = []
    for name in args.backends:
        try:
            backend.use(name)
        except backend.BackendError as err:
            print(f"backend {name}: not measured ({str(err).split('.')[0]})\n")
            continue
        if args.scores_only:
            print_scores(name, args.data, args.score_samples)
            continue
        if args.scaling_only:
            print_scaling(args.batches, args.widths, args.steps, args.warmup)
            continue
        if args.step_only:
            ours = compare_steps(MiniganStep(100), None, args.steps, args.warmup)[0]
            print(f"minigan {name} step (batch 100): {ours * 1e3:.2f} ms (median)")
            rows.append((name, ours, None))
            continue
        flops = step_flops(100)
        step_fn, note = (None, "skipped (--no-torch)") if args.no_torch else \
            torch_step(100, "cpu" if name == "numpy" else "cuda", threads)
        ours, theirs, ratio, ceiling = compare_steps(MiniganStep(100), step_fn, args.steps, args.warmup)
        floor = flops / ceiling / 1e9
        print(f"## {name}\n\nfloat32 matrix-product ceiling (best of 5 rounds): {ceiling:.0f} GFLOP/s; step: "
              f"{flops / 1e9:.2f} GFLOP -> floor {floor * 1e3:.1f} ms at the ceiling\n")
        print("| step (batch 100) | median ms | vs PyTorch (median of 5 rounds) | vs floor |\n|---|---|---|---|")
        print(f"| minigan {name} | {ours * 1e3:.1f} | {'%.2f×' % ratio if ratio else '—'} | {ours / floor:.2f}× |")
        print(f"| PyTorch eager ({note}) | {theirs * 1e3:.1f} | 1.00× | {theirs / floor:.2f}× |"
              if theirs else f"| PyTorch eager | — ({note}) | | |")
        parts = products_time(100, args.steps, args.warmup)
        print("\n| where the step's time goes (matrix products timed alone) | ms | GFLOP/s |\n|---|---|---|")
        for part, (sec, flop) in parts.items():
            print(f"| {part} | {sec * 1e3:.2f} | {flop / 1e9 / sec:.0f} |")
        alone = sum(sec for sec, _ in parts.values())
        print(f"| all matrix products | {alone * 1e3:.2f} | {flops / 1e9 / alone:.0f} |")
        print(f"| the rest of the step (elementwise work, dropout masks, momentum update, cold caches) "
              f"| {(ours - alone) * 1e3:.2f} | |")
        seconds, source = parzen_time(args.data)
        print(f"\nParzen protocol (10,000 samples; σ on 1,000 valid; 10,000 test; {source} data): {seconds:.2f} s\n")
        print("| batch | step ms | ms per 100 images | peak memory during a step (MB) |\n|---|---|---|---|")
        for batch in args.batches:
            step = MiniganStep(batch)
            ms = timed(step, max(3, args.steps // max(1, batch // 100)), 2) * 1e3
            print(f"| {batch} | {ms:.1f} | {ms * 100 / batch:.1f} | {peak_memory_mb(step):.0f} |")
        print()
        print_scores(name, args.data, args.score_samples)
        rows.append((name, ours, theirs))
    return rows


def print_scaling(batches, widths, steps, warmup):
    """Step time and peak memory as the work grows, against the floor (the step's FLOP at the
    ceiling): batch sizes at the paper's widths, then widths ×w (G's hidden layers and D's maxout
    units) at the paper's batch 100."""
    ceiling = max(matmul_ceiling(repeats=3) for _ in range(3)) * 1e9
    print(f"float32 matrix-product ceiling (best of 3 × 3 rounds): {ceiling / 1e9:.0f} GFLOP/s\n")
    print("| batch | widths | parameters | GFLOP a step | step ms | floor ms | step / floor "
          "| ms per 100 images | peak memory during a step (MB) |\n|---|---|---|---|---|---|---|---|---|")
    for batch, width in [(b, 1.0) for b in batches] + [(100, w) for w in widths if w != 1.0]:
        step = MiniganStep(batch, width)
        n = sum(p.size for net in (step.G, step.D) for p, _ in net.params_and_grads())
        flops = step_flops(batch, width)
        ms = timed(step, max(3, int(steps * 100 / max(batch * width ** 2, 100))), warmup) * 1e3
        floor = flops / ceiling * 1e3
        print(f"| {batch} | ×{width:g} (G {step.cfg.g_hidden}, D {step.cfg.d_units}×{step.cfg.d_pieces}) | "
              f"{n / 1e6:.1f} M | {flops / 1e9:.2f} | {ms:.1f} | {floor:.1f} | {ms / floor:.2f}× | "
              f"{ms * 100 / batch:.1f} | {peak_memory_mb(step):.0f} |")
    print()


def print_scores(name, data_dir, n):
    parts, source = scores_time(data_dir, n)
    print(f"| scores beyond Parzen, {n:,} samples ({name}, {source} images) | seconds |\n|---|---|")
    for what, sec in parts:
        print(f"| {what} | {sec:.2f} |")
    whole = sum(sec for what, sec in parts if not what.startswith(("Parzen", "what")))
    print(f"| the whole set (IS, FID, precision/recall, references included) | {whole:.2f} |\n")


if __name__ == "__main__":
    main()
