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


def test_import_ignores_the_environment_variable(tmp_path):
    """MINIGAN_BACKEND is read when a command starts (``requested``), not at import: a bad or
    unusable value must not break ``import minigan``, and the import always starts on NumPy."""
    for value in ("jax", "cupy"):
        env = dict(os.environ, MINIGAN_BACKEND=value)
        out = subprocess.run([sys.executable, "-c", "from minigan import backend; print(backend.name, backend.xp.__name__)"],
                             env=env, capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0 and out.stdout.split() == ["numpy", "numpy"], out.stderr


def test_requested_prefers_the_flag_then_the_variable(monkeypatch):
    monkeypatch.delenv("MINIGAN_BACKEND", raising=False)
    assert backend.requested() is None                     # nothing asked: keep the active backend
    assert backend.requested("cupy") == "cupy"
    monkeypatch.setenv("MINIGAN_BACKEND", "cupy")
    assert backend.requested() == "cupy"
    assert backend.requested("numpy") == "numpy"           # --backend wins over the variable
    monkeypatch.setenv("MINIGAN_BACKEND", "")
    assert backend.requested() is None                     # set but empty counts as unset


def test_unknown_name_in_the_variable_says_how_to_fix_it(monkeypatch):
    monkeypatch.setenv("MINIGAN_BACKEND", "gpu")
    with pytest.raises(ValueError) as err:
        backend.requested()
    assert str(err.value) == "MINIGAN_BACKEND='gpu' is not a backend; choose numpy or cupy (or unset it)"
    assert backend.requested("numpy") == "numpy"           # a flag does not even look at it
