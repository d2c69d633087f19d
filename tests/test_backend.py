"""Backend switch: names, errors that say how to fix them, conversions, seeded generators."""
import os
import subprocess
import sys

import numpy
import pytest

from minigan import backend


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match=r"unknown backend 'torch'; choose one of: numpy, cupy"):
        backend.use("torch")


@pytest.mark.skipif(backend.gpu_available(), reason="a GPU is present: the missing-CuPy error cannot occur")
def test_cupy_without_gpu_says_what_is_missing():
    with pytest.raises(backend.BackendError) as err:
        backend.use("cupy")
    msg = str(err.value)
    assert ("not installed" in msg and "pip install" in msg) or "no CUDA GPU is visible" in msg
    assert backend.name == "numpy" and backend.xp is numpy       # a failed switch changes nothing


def test_to_numpy_and_asarray(xp):
    a = backend.asarray([1.0, 2.0], dtype="float32")
    assert isinstance(a, xp.ndarray) and a.dtype == numpy.float32
    assert isinstance(backend.to_numpy(a), numpy.ndarray)
    assert backend.to_numpy(a).tolist() == [1.0, 2.0]


def test_generators_are_seeded(xp):
    a, b = backend.rng(5).random(4), backend.rng(5).random(4)
    assert numpy.array_equal(backend.to_numpy(a), backend.to_numpy(b))
    assert not numpy.array_equal(backend.to_numpy(a), backend.to_numpy(backend.rng(6).random(4)))


def test_environment_variable_selects_backend():
    env = dict(os.environ, MINIGAN_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", "from minigan import backend; print(backend.name)"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
    env["MINIGAN_BACKEND"] = "jax"
    bad = subprocess.run([sys.executable, "-c", "import minigan.backend"], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown backend 'jax'; choose one of: numpy, cupy" in bad.stderr
