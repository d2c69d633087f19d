"""The CuPy stand-in (tests/devicesim.py) and minigan run end to end on it (issue 22, item 5).

First the stand-in itself: it must refuse exactly the host/device mix-ups CuPy refuses, and
accept what CuPy accepts, or it would find bugs that are not there (or miss those that are).
Then every command a user runs (train with Parzen, IS and FID, resume, sample, evaluate, the
classifier) on it, in process, for every variant: the paths the ``xp`` fixture's unit tests
do not reach (the trainer's bookkeeping, checkpoints, figures, the evaluation) meet CuPy's
rules there.
"""
import json

import numpy
import pytest

import devicesim
from conftest import NO_MNIST, mnist_folder
from minigan import backend, gans

sim = devicesim.cupy


@pytest.fixture
def on_sim():
    with devicesim.active() as module:
        yield module


def test_device_arrays_refuse_implicit_conversion_to_numpy():
    a = sim.asarray([1.0, 2.0])
    import matplotlib.pyplot as plt
    for convert in (numpy.asarray, numpy.array, plt.plot):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            convert(a)
    assert isinstance(a.get(), numpy.ndarray) and backend.to_numpy(a).tolist() == [1.0, 2.0]
    assert sim.asnumpy(a).tolist() == [1.0, 2.0]


def test_host_arrays_are_refused_inside_device_computations_and_scalars_are_not():
    a, host = sim.asarray([1.0, 2.0]), numpy.array([1.0, 2.0])
    for mix in (lambda: a + host, lambda: host + a, lambda: sim.dot(host, a), lambda: sim.exp(host),
                lambda: sim.maximum(a, host), lambda: numpy.stack([host, a])):
        with pytest.raises(TypeError, match="Unsupported type"):
            mix()
    for fine in (a + 1, numpy.float32(2) * a, a * numpy.float64(0.5), sim.maximum(a, 0)):
        assert isinstance(fine, sim.ndarray)
    with pytest.raises(TypeError, match="cannot be used for fill"):
        a[:] = host                                           # slice assignment of a host array
    a[numpy.array([0])] = numpy.array([5.0])                  # a gather/scatter index: CuPy copies it over
    assert a[numpy.array([0, 1])].tolist() == [5.0, 2.0]


def test_reductions_and_elements_are_0d_device_arrays_which_python_converts_explicitly():
    a = sim.asarray([[1.0, 2.0], [3.0, 4.0]])
    for value in (a.sum(), a[0, 1], sim.mean(a), numpy.mean(a)):      # numpy.mean dispatches to the device
        assert isinstance(value, sim.ndarray) and value.shape == ()
    s = a.sum()
    assert float(s) == 10.0 and int(s) == 10 and bool(s) and f"{s:.1f}" == "10.0"
    with pytest.raises(TypeError):
        range(int(s))[s]                                       # no __index__: CuPy's arrays have none
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({"d_obj": s})                               # where NumPy's float64 would pass


def test_the_device_generator_offers_cupys_methods_only():
    gen = sim.random.default_rng(0)
    assert isinstance(gen.random((2, 3), dtype=numpy.float32), sim.ndarray)
    assert isinstance(gen.standard_normal(4), sim.ndarray)
    with pytest.raises(AttributeError, match="has no method 'permutation'"):
        gen.permutation(5)
    assert sim.random.default_rng(3).random(4).tolist() == sim.random.default_rng(3).random(4).tolist()


def test_names_cupy_lacks_are_missing_here_too():
    pytest.importorskip("cupy", reason="CuPy is not installed: the stand-in cannot know its names")
    with pytest.raises(AttributeError, match="has no attribute 'errstate'"):
        sim.errstate                                           # NumPy has it; CuPy does not
    with pytest.raises(AttributeError):
        sim.asarray([1.0]).resize                              # an ndarray method CuPy lacks


# ----- every command, in process, on the stand-in ----------------------------------------------

SIZES = {"gan": ["--g-hidden", "16", "--d-units", "8", "--d-pieces", "2"],
         "cgan": ["--g-z-hidden", "8", "--g-y-hidden", "4", "--g-hidden", "16", "--d-x-units", "8",
                  "--d-y-units", "4", "--d-units", "8"],
         "wgan": ["--g-hidden", "16", "--d-units", "8", "--d-pieces", "2", "--critic-boost", "off"],
         "wgan-gp": ["--g-hidden", "16", "--d-units", "8", "--d-pieces", "2"]}


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A small classifier trained on the stand-in (the classifier's own device path)."""
    from minigan.program import cli
    mnist_dir = mnist_folder()
    if mnist_dir is None:
        pytest.skip(NO_MNIST)
    out = tmp_path_factory.mktemp("classifier") / "classifier.npz"
    with devicesim.active():
        assert cli.main(["classifier", "--data", mnist_dir, "--out", str(out), "--hidden", "16",
                         "--epochs", "1", "--n-train", "2000", "--no-progress"]) == 0
    return out


@pytest.mark.parametrize("model", list(gans.VARIANTS))
def test_every_command_runs_on_the_stand_in(model, mnist_dir, tiny_classifier, tmp_path, on_sim, capsys):
    from minigan.program import cli
    out = tmp_path / "run"
    base = ["--data", mnist_dir, "--out", str(out), "--no-progress", "--model", model, *SIZES[model],
            "--n-train", "200", "--parzen-samples", "100", "--parzen-every", "1",
            "--scores", "parzen,is,fid", "--classifier", str(tiny_classifier)]
    batches = 2 if model.startswith("wgan") else 1          # a critic step takes n_critic batches
    assert cli.main(["train", *base, "--max-steps", str(4 // batches)]) == 0, capsys.readouterr().err
    assert cli.main(["train", *base, "--resume", "--max-steps", "1"]) == 0, capsys.readouterr().err
    assert {"checkpoint.npz", "metrics.csv", "curves.png", "report.txt"} <= {p.name for p in out.iterdir()}
    assert "backend: cupy" in (out / "report.txt").read_text()           # it ran on the stand-in
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--data", mnist_dir,
                     "--out", str(tmp_path / "grid.png")]) == 0, capsys.readouterr().err
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "200",
                     "--metrics", "parzen,is,fid,pr", "--classifier", str(tiny_classifier)]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / "grid.png").is_file() and "FID" in capsys.readouterr().out
