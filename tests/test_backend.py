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


# ----- issue 22, item 4: the CuPy API, checked on a machine without a GPU ------------------------
# CuPy installs and imports without a GPU (only creating arrays needs one), so a name minigan
# calls that CuPy lacks fails here, on a laptop, not on the first GPU. CI installs cupy-cuda12x.

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
XP_NAME = __import__("re").compile(r"\b(?:backend\.)?xp\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def xp_names():
    """Every dotted name used as xp.<name> (or backend.xp.<name>) in the package, the examples,
    the benchmarks and the notebook's source, with one file that uses it."""
    found = {}
    for folder in ("minigan", "examples", "benchmarks", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".ipynb"):
                for name in XP_NAME.findall(path.read_text(encoding="utf-8")):
                    found.setdefault(name, path.relative_to(ROOT).as_posix())
    return found


def test_every_xp_name_minigan_uses_exists_in_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed here (CI installs cupy-cuda12x)")
    names = xp_names()
    assert "maximum" in names and "random.default_rng" in names        # the scan finds the layers' names
    missing = []
    for name, where in names.items():
        obj = cupy
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append(f"xp.{name} (in {where})")
    assert not missing, f"CuPy {cupy.__version__} has no {', '.join(missing)}"


class RecordingGenerator:
    """A NumPy generator that records each method called on it and the keywords it was given."""

    def __init__(self, gen, calls):
        self._gen, self._calls = gen, calls

    def __getattr__(self, name):
        method = getattr(self._gen, name)

        def record(*args, **kwargs):
            self._calls.add((name, len(args), tuple(sorted(kwargs))))
            return method(*args, **kwargs)
        return record


def test_every_method_called_on_a_device_generator_exists_in_cupy_with_its_keywords(monkeypatch, tmp_path):
    """Train two steps of every variant, sample from it, and record what is asked of the device
    generators (noise, dropout masks, WGAN-GP's ε): each method must exist on CuPy's Generator
    and take the positional and keyword arguments used (CuPy's Generator has no permutation)."""
    import inspect
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed here (CI installs cupy-cuda12x)")
    from minigan import gans
    from minigan.program import train
    calls = set()
    real = backend.rng
    monkeypatch.setattr(backend, "rng", lambda seed=None: RecordingGenerator(real(seed), calls))
    rng = numpy.random.default_rng(0)
    splits = {"train": rng.random((64, 784), dtype=numpy.float32), "train_labels": rng.integers(0, 10, 64)}
    small = {"gan": dict(g_hidden=8, d_units=4, d_pieces=2), "cgan": dict(g_z_hidden=4, g_y_hidden=4, g_hidden=8,
             d_x_units=4, d_y_units=2, d_units=4), "wgan": dict(g_hidden=8, d_units=4, d_pieces=2, d_input_keep=0.8),
             "wgan-gp": dict(g_hidden=8, d_units=4, d_pieces=2, d_hidden_keep=0.5)}
    for model, sizes in small.items():
        cfg = gans.variant(model).Config(**sizes, batch_size=16, n_train=64, parzen_every=0)
        t = train.Trainer(cfg, splits)
        t.train(max_steps=2, progress=False)
        t.variant.sample_images(t.G, cfg, 3, seed=1)
    assert {name for name, _, _ in calls} >= {"random"}
    for name, n_args, keywords in sorted(calls):
        method = getattr(cupy.random.Generator, name, None)
        assert method is not None, f"minigan calls {name}() on a device generator; CuPy's Generator has none"
        params = list(inspect.signature(method).parameters)[1:]          # without self
        assert n_args <= len(params) and set(keywords) <= set(params), (
            f"{name}: called with {n_args} positional arguments and keywords {keywords}; CuPy takes {params}")
