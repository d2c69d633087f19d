"""The benchmark script runs and prints its tables (numbers are not judged here: see BENCHMARKS.md)."""
import sys
from pathlib import Path

import numpy
import pytest

from minigan import layers

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_prints_every_table(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import bench
    bench.main(["--backends", "numpy", "cupy", "--steps", "3", "--warmup", "1", "--batches", "100", "200",
                "--no-torch", "--score-samples", "50"])
    out = capsys.readouterr().out
    assert "matrix-product ceiling" in out and "| minigan numpy |" in out
    assert "Parzen protocol" in out and "| 200 |" in out
    assert "| all matrix products |" in out and "| the rest of the step" in out
    assert "| scores beyond Parzen, 50 samples (numpy" in out and "| precision/recall (k = 3" in out
    assert ("backend cupy: not measured" in out) != ("## cupy" in out)       # one or the other


def test_flop_count_of_the_step():
    sys.path.insert(0, str(BENCH))
    import bench
    # G forward 0.50 + D forward 0.49 + G's pass through D (fake rows) 0.25 + G backward 0.98
    # + D backward 0.61 GFLOP, at batch 100.
    assert abs(bench.step_flops(100) / 1e9 - 2.82) < 0.01


@pytest.mark.parametrize("width", [1.0, 0.5, 2.0])
def test_flop_count_is_what_the_step_computes(monkeypatch, width):
    """Count the matrix products the layers really perform in one released step (from their
    shapes and backward switches) and compare with bench's count: a gradient computed and
    thrown away, like the first Maxout's ∂/∂input that this test was written after, fails it."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench
    flop = []

    def counting(cls):
        forward, backward = cls.forward, cls.backward

        def counted_forward(self, x, train=True):
            y = forward(self, x, train)
            flop.append(2 * x.shape[0] * self.params["W"].size)              # x W
            return y

        def counted_backward(self, dy, param_grads=True, input_grad=True, rows=None):
            rows_in = dy.shape[0]
            flop.append(2 * rows_in * self.params["W"].size * (param_grads + input_grad))  # xᵀdz, dz Wᵀ
            return backward(self, dy, param_grads=param_grads, input_grad=input_grad, rows=rows)

        monkeypatch.setattr(cls, "forward", counted_forward)
        monkeypatch.setattr(cls, "backward", counted_backward)

    counting(layers.Dense)
    counting(layers.Maxout)
    bench.MiniganStep(10, width)()                            # the step bench times, at batch 10
    assert sum(flop) == bench.step_flops(10, width)


def test_scaling_table_and_step_parts_print_their_rows(capsys, monkeypatch):
    """bench.py --scaling-only (batches, then widths, against the floor) and step_parts.py (each
    call of the step, its products alone, the rest) on tiny sizes."""
    monkeypatch.syspath_prepend(str(BENCH))
    import bench
    import step_parts
    bench.main(["--backends", "numpy", "--scaling-only", "--steps", "2", "--warmup", "0",
                "--batches", "10", "--widths", "0.05", "1"])
    out = capsys.readouterr().out
    assert "| step / floor |" in out and "| 10 | ×1 (G 1200, D 240×5) |" in out
    assert "| 100 | ×0.05 (G 60, D 12×5) |" in out and "×1 (G 1200, D 240×5) | 3.7 M" in out
    step_parts.main(["--steps", "2", "--batch", "10"])
    out = capsys.readouterr().out
    assert "| D[1] Maxout(784→240×5).backward | 2 |" in out and "SGD step of G" in out
    assert "**the whole step (median)**" in out and "| dropout mask" in out


def test_train_vs_torch_says_how_to_get_torch(monkeypatch):
    """Without PyTorch the independent check stops at once with the command that installs it."""
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setitem(sys.modules, "torch", None)          # makes `import torch` raise ImportError
    import train_vs_torch
    with pytest.raises(SystemExit) as stop:
        train_vs_torch.main(["--rounds", "1"])
    assert "pip install torch" in str(stop.value.code)


def test_bench_names_the_blas_kernels_it_ran_with(monkeypatch):
    # The OpenBLAS kernel choice halves or doubles every matrix-product number, so the table's
    # first line must say whether the environment pinned it.
    monkeypatch.syspath_prepend(str(BENCH))
    import bench
    assert bench.blas_note({"OPENBLAS_CORETYPE": "Haswell", "HOME": "/x"}) == "OPENBLAS_CORETYPE=Haswell"
    assert "no OPENBLAS_CORETYPE set" in bench.blas_note({"HOME": "/x"})


def test_update_blocking_computes_the_same_update_in_slices(monkeypatch):
    # The experiment compares times only if both variants do the same arithmetic.
    monkeypatch.syspath_prepend(str(BENCH))
    import update_blocking
    rng = numpy.random.default_rng(0)
    shapes = [(7, 5), (5,)]
    base = [[rng.standard_normal(s).astype(numpy.float32) for s in shapes] for _ in range(3)]
    whole, sliced = ([[a.copy() for a in group] for group in base] for _ in range(2))
    update_blocking.update(*whole, mu=0.7, lr=0.003)
    update_blocking.update(*sliced, mu=0.7, lr=0.003, chunk=4)
    for a, b in zip(whole[0] + whole[2], sliced[0] + sliced[2]):
        numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(whole[0][0], base[0][0])      # the parameters did move
    # θ_g and θ_d together: 2,503,984 + 1,231,441 numbers, as in the paper's networks.
    assert sum(int(numpy.prod(s)) for s in update_blocking.paper_shapes()) == 3_735_425


def test_gpu_check_dry_run_checks_every_step_on_the_cpu(mnist_dir, tmp_path):
    """benchmarks/gpu_check.sh --dry-run: the same three steps (tests, bench.py, a timed minigan
    train), NumPy-sized, each recorded with its exit status in summary.txt, every output in OUT."""
    import os
    import subprocess
    root = BENCH.parent
    env = dict(os.environ, MINIGAN_DATA=mnist_dir, PYTHONPATH=str(root))
    done = subprocess.run(["bash", str(BENCH / "gpu_check.sh"), "--dry-run", str(tmp_path / "out")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600)
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert done.returncode == 0, summary + done.stderr
    assert summary.count(": exit 0 after ") == 3
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"pytest_cupy.txt", "bench.md", "train.txt", "environment.txt", "summary.txt", "train"} <= files
    assert "| minigan numpy |" in (tmp_path / "out" / "bench.md").read_text()
    assert "epochs completed: 2" in (tmp_path / "out" / "train.txt").read_text()


def test_gpu_check_without_data_is_one_line(tmp_path):
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if k != "MINIGAN_DATA"}
    done = subprocess.run(["bash", str(BENCH / "gpu_check.sh"), str(tmp_path / "out")], cwd=BENCH.parent,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "MINIGAN_DATA must name" in done.stderr


def test_timings_needs_mnist_and_names_the_machine(monkeypatch, tmp_path):
    """benchmarks/timings.py (the times the docs quote): without MNIST, one usage line; cpu_model
    names the CPU that a quoted time is from."""
    import subprocess
    env = {k: v for k, v in __import__("os").environ.items() if k != "MINIGAN_DATA"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "timings.py")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 2 and "MNIST is needed: pass --data DIR or set MINIGAN_DATA" in done.stderr
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import timings
    assert isinstance(timings.cpu_model(), str) and timings.cpu_model()
