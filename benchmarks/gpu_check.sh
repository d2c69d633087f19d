#!/usr/bin/env bash
# The one-command GPU check (issue 22, item 6). On a machine with one CUDA GPU and only python3,
# numpy, cupy, pytest, hypothesis and matplotlib (no pip install there), from the repository root:
#
#     PYTHONPATH=. MINIGAN_DATA=DIR bash benchmarks/gpu_check.sh OUT
#
# It runs, each under its own time limit so that the whole stays within 8 minutes:
#   1. the suite's CuPy copies (every test of the backend fixture, param 'cupy')   ≤ 300 s
#   2. bench.py on the cupy backend, batch 100 to 1,000, PyTorch on CUDA beside it
#      when torch is importable                                                    ≤ 100 s
#   3. a timed `minigan train --backend cupy` of 2 epochs with one Parzen evaluation ≤ 80 s
# and writes every result into OUT: pytest_cupy.txt, bench.md, train.txt (with the run folder
# train/), environment.txt, and summary.txt (each step's exit status and seconds).
# MINIGAN_DATA must name a folder with the four MNIST .gz files (for a lent device, copy them
# into an ignored folder of the checkout, e.g. .mnist/, and carry it).
#
#     bash benchmarks/gpu_check.sh --dry-run OUT
#
# checks the same steps on the CPU in seconds (NumPy, tiny sizes): tests/test_benchmarks.py runs it.
set -uo pipefail
dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
if [ $# -ne 1 ]; then
  echo "usage: bash benchmarks/gpu_check.sh [--dry-run] OUT   (OUT: a folder for the results)" >&2
  exit 2
fi
out="$1"
mkdir -p "$out" || { echo "gpu_check.sh: cannot create $out" >&2; exit 2; }
if [ -z "${MINIGAN_DATA:-}" ] || [ ! -f "$MINIGAN_DATA/train-images-idx3-ubyte.gz" ]; then
  echo "gpu_check.sh: MINIGAN_DATA must name a folder with the four MNIST .gz files (got '${MINIGAN_DATA:-}')" >&2
  exit 2
fi
export PYTHONPATH="${PYTHONPATH:-.}" MPLBACKEND=Agg
: > "$out/summary.txt"

step() {   # step NAME LIMIT_SECONDS OUTFILE COMMAND...: run it, record status and seconds
  local name="$1" limit="$2" file="$3"; shift 3
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$file" 2>&1
  local status=$?
  echo "$name: exit $status after $((SECONDS - start)) s (limit $limit s) -> $file" | tee -a "$out/summary.txt"
}

{
  date -u
  python3 -c "import sys, numpy; print('python', sys.version.split()[0], 'numpy', numpy.__version__)"
  python3 -c "import cupy; print('cupy', cupy.__version__, 'GPUs', cupy.cuda.runtime.getDeviceCount())" 2>&1
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tail -1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tail -n +1
} > "$out/environment.txt" 2>&1

if [ "$dry" = 1 ]; then
  step "pytest (CuPy copies)" 120 pytest_cupy.txt python3 -m pytest -q -p no:cacheprovider tests/test_backend.py -k "cupy or numpy"
  step "bench.py" 120 bench.md python3 benchmarks/bench.py --backends numpy --steps 2 --warmup 1 --batches 100 \
    --no-torch --score-samples 50 --data "$MINIGAN_DATA"
  step "minigan train" 120 train.txt python3 -m minigan train --backend numpy --data "$MINIGAN_DATA" \
    --out "$out/train" --n-train 200 --epochs 2 --parzen-every 2 --parzen-samples 100 --g-hidden 16 \
    --d-units 8 --d-pieces 2 --no-progress
else
  step "pytest (CuPy copies)" 300 pytest_cupy.txt python3 -m pytest -q -p no:cacheprovider -k "cupy and not sim" tests
  # bench.py compares with PyTorch on CUDA for the cupy backend, and says so when torch is absent
  step "bench.py" 100 bench.md python3 benchmarks/bench.py --backends cupy --batches 100 200 500 1000 \
    --data "$MINIGAN_DATA"
  step "minigan train" 80 train.txt python3 -m minigan train --backend cupy --data "$MINIGAN_DATA" \
    --out "$out/train" --epochs 2 --parzen-every 2 --no-progress
fi
cat "$out/summary.txt"
! grep -qv ": exit 0 " "$out/summary.txt"
