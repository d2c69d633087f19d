"""The benchmark script runs and prints its tables (numbers are not judged here: see BENCHMARKS.md)."""
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_prints_every_table(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import bench
    bench.main(["--backends", "numpy", "cupy", "--steps", "3", "--warmup", "1", "--batches", "100", "200",
                "--no-torch"])
    out = capsys.readouterr().out
    assert "matrix-product ceiling" in out and "| minigan numpy |" in out
    assert "Parzen protocol" in out and "| 200 |" in out
    assert "| all matrix products |" in out and "| the rest of the step" in out
    assert ("backend cupy: not measured" in out) != ("## cupy" in out)       # one or the other


def test_flop_count_of_the_step():
    sys.path.insert(0, str(BENCH))
    import bench
    # G forward 0.50 + D forward 0.49 + G's pass through D (fake rows) 0.25 + G backward 0.98
    # + D backward 0.61 GFLOP, at batch 100.
    assert abs(bench.step_flops(100) / 1e9 - 2.82) < 0.01
