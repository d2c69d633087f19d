"""Command line: help, one-line errors, and train → sample → evaluate on real data."""
import subprocess
import sys

import pytest

from minigan import cli


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sample", "--help"], ["evaluate", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: minigan" in out
    if argv[0] == "train":
        assert "--g-objective {nonsaturating,minimax}" in out and "(default: 0.1)" in out
        assert "η_0, initial learning rate" in out              # help comes from the Config comments


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["train", "--update", "magic"], "invalid choice: 'magic'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_arguments_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and err.count("\n") == 1


def test_missing_checkpoint_is_one_line(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "none.npz")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minigan evaluate: error: no checkpoint at") and err.count("\n") == 1


def test_train_sample_evaluate(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["--data", mnist_dir, "--out", str(out), "--no-progress"]
    assert cli.main(["train", *base, "--n-train", "300", "--max-steps", "4", "--parzen-every", "0"]) == 0
    assert "epochs completed: 1, steps: 4" in capsys.readouterr().out
    assert cli.main(["train", *base, "--max-steps", "1"]) == 1
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert cli.main(["train", *base, "--resume", "--lr", "0.5"]) == 1
    assert "cannot change lr" in capsys.readouterr().err
    assert cli.main(["train", *base, "--resume", "--max-steps", "2"]) == 0
    assert "resumed" in capsys.readouterr().out
    png = tmp_path / "fig.png"
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--data", mnist_dir, "--out", str(png),
                     "--rows", "3", "--cols", "4"]) == 0
    import matplotlib.pyplot as plt
    assert plt.imread(png).shape[:2] == (3 * 29 + 1, 5 * 29 + 1)      # 4 sample columns + nearest
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--out", str(png), "--interpolate",
                     "--rows", "2", "--cols", "7"]) == 0
    assert plt.imread(png).shape[:2] == (2 * 29 + 1, 7 * 29 + 1)
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "200"]) == 0
    assert "Table 1 row" in capsys.readouterr().out


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "minigan", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("minigan ")


def test_nearest_training_image():
    import numpy
    images = numpy.eye(4)
    assert numpy.array_equal(cli.nearest(numpy.array([[0.1, 0.9, 0, 0]]), images), images[[1]])


def test_interpolation_noise_is_a_straight_line():
    import numpy
    from minigan import backend, gan
    z = backend.to_numpy(cli.interpolation_noise(gan.Config(), rows=2, cols=5, seed=0)).reshape(2, 5, 100)
    assert numpy.allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)        # midpoint
    assert numpy.allclose(z[:, 1] - z[:, 0], z[:, 4] - z[:, 3], atol=1e-6)    # equal steps
    assert not numpy.allclose(z[0, 0], z[1, 0])                                # rows differ


@pytest.mark.skipif(__import__("minigan.backend").backend.gpu_available(), reason="a GPU is present")
def test_cupy_without_gpu_is_one_line(tmp_path, capsys):
    assert cli.main(["train", "--backend", "cupy", "--out", str(tmp_path / "r"), "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minigan train: error: ") and "cupy" in err.lower() and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "x.npz", "--samples", "0"], "--samples must be at least 1, got 0"),
    (["sample", "x.npz", "--rows", "0"], "--rows and --cols must be at least 1"),
    (["evaluate", "x.npz", "--sigma", "-1"], "no checkpoint at"),   # the checkpoint is checked first
])
def test_bad_values_are_one_line(argv, message, capsys):
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_sample_images_is_seeded_and_chunked():
    import numpy
    from minigan import gan
    cfg = gan.Config(noise_dim=3, g_hidden=4)
    G = gan.paper_generator(cfg, n_out=5)
    a, b = gan.sample_images(G, cfg, 7, seed=1, chunk=3), gan.sample_images(G, cfg, 7, seed=1, chunk=1000)
    assert a.shape == (7, 5) and numpy.allclose(a, b)
