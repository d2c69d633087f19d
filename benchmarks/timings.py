"""Re-measure every time the README and the docs state, on this machine, with each command.

    python benchmarks/timings.py --data ../shared/data/mnist      # about 6 minutes on 2 cores

Each line gives the command as a user types it (run in a temporary folder, so nothing lands in
the checkout), its wall-clock time, and the machine's CPU model (from /proc/cpuinfo), so that a
figure quoted in the docs can carry the command and the machine beside it. Timings vary with
load: run it on an idle machine and quote a range over two runs.

What is measured, and where the docs quote it:
  epoch          seconds of epoch 2 of the paper's run (metrics.csv's 'seconds'; epoch 1 includes
                 start-up)                                                 README Quick start
  parzen         minigan evaluate's own figure in brackets                README Table 1 block
  classifier     OPENBLAS_NUM_THREADS=1 minigan classifier                README, docs/metrics.md
  toy_1d, game_2d, saturation   each example at its defaults          README Figures
  tour           every cell of notebooks/tour.py through nbclient         tests/test_notebook.py
and with --docs also the times docs/ quotes (about 6 minutes more): ring_2d (one run, and with
--k 5), game_2d for both critics, critic_gradients (docs/mode_collapse.md, docs/wgan.md) and
metrics_disagree with the classifier cached (docs/metrics.md, the README).
"""
import argparse
import csv
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_model():
    """The CPU's model name as /proc/cpuinfo gives it (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed(command, cwd, env=None):
    """Run command (a list) in cwd; return (seconds, stdout). A failure stops the script."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"timings.py: {' '.join(command)} failed (exit {done.returncode}): "
                 f"{done.stderr.strip().splitlines()[-1:] or ''}")
    return seconds, done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("MINIGAN_DATA"),
                        help="folder with the four MNIST .gz files (default: $MINIGAN_DATA)")
    parser.add_argument("--skip", default="", help="comma-separated names not to measure, e.g. classifier")
    parser.add_argument("--docs", action="store_true", help="also the examples whose times docs/ quotes")
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("MNIST is needed: pass --data DIR or set MINIGAN_DATA")
    data = str(Path(args.data).resolve())
    skip = set(filter(None, args.skip.split(",")))
    py = sys.executable
    cli = [py, "-m", "minigan"]
    env = {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        if "epoch" not in skip or "parzen" not in skip:
            run = Path(tmp) / "run"
            timed(cli + ["train", "--out", str(run), "--data", data, "--epochs", "2", "--no-progress"], tmp, env)
            with open(run / "metrics.csv") as f:
                seconds = float(list(csv.DictReader(f))[1]["seconds"])
            print(f"epoch       {seconds:7.1f} s   minigan train --out runs/mnist (epoch 2 of metrics.csv)")
            _, out = timed(cli + ["evaluate", str(run / "checkpoint.npz"), "--data", data], tmp, env)
            own = re.search(r"images, ([0-9.]+) s\]", out)
            print(f"parzen      {float(own.group(1)):7.1f} s   minigan evaluate CHECKPOINT (its own figure)")
        if "classifier" not in skip:
            seconds, _ = timed(cli + ["classifier", "--retrain", "--out", str(Path(tmp) / "c.npz"),
                                      "--data", data, "--no-progress"], tmp,
                               {**env, "OPENBLAS_NUM_THREADS": "1"})
            print(f"classifier  {seconds:7.1f} s   OPENBLAS_NUM_THREADS=1 minigan classifier")
        quiet = ["--no-progress"]
        examples = [("toy_1d", quiet), ("game_2d", quiet), ("saturation", ["--data", data] + quiet)]
        if args.docs:
            examples += [("ring_2d", ["--seed", "0"]), ("ring_2d", ["--seed", "0", "--k", "5"]),
                         ("game_2d", ["--model", "wgan"] + quiet), ("game_2d", ["--model", "wgan-gp"] + quiet),
                         ("critic_gradients", []), ("metrics_disagree", ["--data", data] + quiet)]
        # metrics_disagree's time is quoted with the classifier cached: the one trained above is
        # the default classifier, so a cache folder holding it is the cache
        cache = Path(tmp) / "cache"
        if (Path(tmp) / "c.npz").exists():
            (cache / "minigan" / "classifier").mkdir(parents=True)
            shutil.copy(Path(tmp) / "c.npz", cache / "minigan" / "classifier" / "classifier.npz")
        for name, extra in examples:
            if name in skip:
                continue
            seconds, _ = timed([py, str(ROOT / "examples" / f"{name}.py"), "--out", tmp] + extra, tmp,
                               {**env, "XDG_CACHE_HOME": str(cache)})
            shown = " ".join(a for a in extra if a not in quiet and a != data).replace("--data", "--data DIR")
            print(f"{name:11s} {seconds:7.1f} s   python examples/{name}.py {shown}".rstrip())
        if "tour" not in skip:
            import jupytext
            from nbclient import NotebookClient
            nb = jupytext.read(ROOT / "notebooks" / "tour.py")
            os.environ.update(env, MINIGAN_DATA=data)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": tmp}}).execute()
            print(f"tour        {time.perf_counter() - start:7.1f} s   notebooks/tour.py, every cell (nbclient)")


if __name__ == "__main__":
    main()
