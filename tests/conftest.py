"""Shared fixtures: the backend under test, float64 data for gradient checks, MNIST."""
import os
from pathlib import Path

import numpy
import pytest

from minigan import backend

import devicesim

_GPU = backend.gpu_available()
NO_GPU = "CuPy backend: no CuPy installation with a visible CUDA GPU on this machine"


@pytest.fixture(params=["numpy", "cupy", "cupy-sim"])
def xp(request):
    """Run the test on NumPy; again on CuPy when a GPU is present; and, on a machine without one,
    on the CuPy stand-in (tests/devicesim.py), which catches host/device mix-ups on the CPU."""
    if request.param == "cupy" and not _GPU:
        pytest.skip(NO_GPU)
    if request.param == "cupy-sim" and _GPU:
        pytest.skip("the real CuPy is tested on this machine; the stand-in adds nothing")
    if request.param == "cupy-sim":
        with devicesim.active() as module:
            yield module
        return
    previous = backend.name
    yield backend.use(request.param)
    backend.use(previous)


def mnist_folder():
    """Folder with the four MNIST files: $MINIGAN_DATA (CI sets it), else ../shared/data/mnist,
    else minigan's own cache (where `minigan train` downloads them); None when none holds them."""
    from minigan.files import data
    given = os.environ.get("MINIGAN_DATA")
    candidates = [given] if given else [Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist",
                                        data.cache_dir()]
    for folder in candidates:
        if all((Path(folder) / name).is_file() for name in MNIST_FILES):
            return str(folder)
    return None


MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
NO_MNIST = ("MNIST not available: set MINIGAN_DATA to a folder with the four MNIST .gz files "
            "(or run `minigan train` once, which downloads them into its cache)")


@pytest.fixture
def mnist_dir():
    """The MNIST folder (``mnist_folder``); the test is skipped, saying why, without one."""
    folder = mnist_folder()
    if folder is None:
        pytest.skip(NO_MNIST)
    return folder


def draw(xp, rng, shape, low=-2.0, high=2.0):
    """A float64 array on the active backend, uniform in [low, high)."""
    return xp.asarray(numpy.random.default_rng(rng).uniform(low, high, shape))


def pytest_report_header(config):
    if _GPU:
        return "minigan backends under test: numpy, cupy (GPU found)"
    return ("minigan backends under test: numpy only; every CuPy copy of a test is skipped "
            "(no CuPy installation with a visible CUDA GPU)")


def pytest_terminal_summary(terminalreporter):
    """One line, just above the final count, that says why the s's are there when they are CuPy copies.

    The header says it too, but setup.cfg's `-q` hides the header, and a newcomer who sees a hundred
    unexplained skips should not need to know that. This line shows with or without -q, next to the
    count of skipped tests it explains. (Dropping -q instead would bring back the header, but
    among the platform and plugin lines and far above the count, where nobody looks for it.)"""
    mnist = [r for r in terminalreporter.stats.get("skipped", []) if "MNIST not available" in str(r.longrepr)]
    if mnist:
        terminalreporter.write_line(
            f"skipped: {len(mnist)} tests that need MNIST, which was not found: set MINIGAN_DATA to a folder "
            f"with the four MNIST .gz files (or run `minigan train` once, which downloads them into "
            f"{__import__('minigan.files.data', fromlist=['cache_dir']).cache_dir()})")
    cupy = [r for r in terminalreporter.stats.get("skipped", []) if NO_GPU in str(r.longrepr)]
    if cupy:
        terminalreporter.write_line(
            f"skipped: {len(cupy)} CuPy copies of tests (no CuPy installation with a visible CUDA GPU "
            "here, so NumPy and the CuPy stand-in tests/devicesim.py were tested; on a machine with a "
            "GPU, NumPy and CuPy are)")
