"""Independent check of bench.py's CPU ratio: the whole `minigan train` command against PyTorch.

    MINIGAN_DATA=../shared/data/mnist python benchmarks/train_vs_torch.py --rounds 3

Each round times, as separate processes: `minigan train --max-steps 50` and `--max-steps 450`
(no Parzen, no progress bar; the difference of the two is 400 steps of real training, with data
batches, without the start-up and the final checkpoint), then 400 steps of
benchmarks/torch_step.py. Rounds alternate so that a drift of the machine's speed hits both.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": ROOT})
    return time.perf_counter() - start


def minigan_ms_per_step(data, short, long):
    with tempfile.TemporaryDirectory() as out:
        train = [sys.executable, "-m", "minigan", "train", "--parzen-every", "0", "--no-progress"]
        if data:
            train += ["--data", data]
        a = wall(train + ["--out", os.path.join(out, "a"), "--max-steps", str(short)])
        b = wall(train + ["--out", os.path.join(out, "b"), "--max-steps", str(long)])
    return (b - a) / (long - short) * 1e3


def torch_ms_per_step(steps):
    result = subprocess.run([sys.executable, os.path.join(HERE, "torch_step.py"), "--steps", str(steps)],
                            check=True, capture_output=True, text=True)
    return float(result.stdout.rsplit(",", 1)[1].split()[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--data", default=os.environ.get("MINIGAN_DATA"), help="MNIST folder (default $MINIGAN_DATA)")
    args = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("PyTorch is not installed (pip install torch): nothing to compare against")
    ratios = []
    print("| round | minigan train, ms a step | PyTorch, ms a step | ratio |\n|---|---|---|---|")
    for i in range(1, args.rounds + 1):
        ours, theirs = minigan_ms_per_step(args.data, 50, 450), torch_ms_per_step(400)
        ratios.append(ours / theirs)
        print(f"| {i} | {ours:.1f} | {theirs:.1f} | {ratios[-1]:.2f}× |")
    print(f"\nmedian ratio: {statistics.median(ratios):.2f}×")


if __name__ == "__main__":
    main()
