"""Command line: help, one-line errors, and train → sample → evaluate on real data."""
import dataclasses
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from minigan.gans import gan
from minigan.program import cli


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sample", "--help"], ["evaluate", "--help"],
                                  ["classifier", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: minigan" in out
    if argv[0] == "train":
        assert "--g-objective {nonsaturating,minimax}" in out and "(default: 0.1)" in out
        assert "η_0, initial learning rate" in out              # help comes from the Config fields


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["train", "--update", "magic"], "invalid choice: 'magic'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
    # Counts are refused by the parser, before anything is read or written (issue 14, item 4).
    (["train", "--epochs", "-3"], "argument --epochs: expected an integer ≥ 0, got -3"),
    (["train", "--max-steps", "-1"], "argument --max-steps: expected an integer ≥ 0, got -1"),
    (["train", "--epochs", "1.5"], "argument --epochs: expected an integer ≥ 0, got '1.5'"),
    (["train", "--seed", "-1"], "argument --seed: expected an integer ≥ 0, got -1"),
    (["sample", "x.npz", "--rows", "0"], "argument --rows: expected an integer ≥ 1, got 0"),
    (["sample", "x.npz", "--cols", "-2"], "argument --cols: expected an integer ≥ 1, got -2"),
    (["evaluate", "x.npz", "--samples", "0"], "argument --samples: expected an integer ≥ 1, got 0"),
    (["evaluate", "x.npz", "--sigma", "-1"], "argument --sigma: expected a finite number > 0, got -1"),
    (["evaluate", "x.npz", "--sigma", "nan"], "argument --sigma: expected a finite number > 0, got nan"),
    (["train", "--backend", "gpu"], "argument --backend: invalid choice: 'gpu'"),
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
    assert "resumed" in capsys.readouterr().out                 # 6 steps of 3 a epoch: epoch 2
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    for zero_work, why in [(["--epochs", "2"], "already at epoch 2, and --epochs is 2"),
                           (["--epochs", "1"], "already at epoch 2, and --epochs is 1"),
                           (["--max-steps", "0"], "--max-steps 0 takes no step")]:
        assert cli.main(["train", *base, "--resume", *zero_work]) == 0
        said = capsys.readouterr().out
        assert said.startswith("nothing to train: ") and why in said and said.count("\n") == 1, said
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before          # nothing written
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
    from minigan import backend
    from minigan.gans import gan
    z = backend.to_numpy(cli.interpolation_noise(gan, gan.Config(), rows=2, cols=5, seed=0)).reshape(2, 5, 100)
    assert numpy.allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)        # midpoint
    assert numpy.allclose(z[:, 1] - z[:, 0], z[:, 4] - z[:, 3], atol=1e-6)    # equal steps
    assert not numpy.allclose(z[0, 0], z[1, 0])                                # rows differ


@pytest.mark.skipif(__import__("minigan.backend").backend.gpu_available(), reason="a GPU is present")
def test_cupy_without_gpu_is_one_line(tmp_path, capsys):
    assert cli.main(["train", "--backend", "cupy", "--out", str(tmp_path / "r"), "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minigan train: error: ") and "cupy" in err.lower() and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "x.npz"], "no checkpoint at"),
    (["evaluate", "x.npz", "--sigma", "0.2"], "no checkpoint at"),
    (["sample", "x.npz", "--rows", "2"], "no checkpoint at"),
])
def test_bad_values_are_one_line(argv, message, capsys):
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_sample_images_is_seeded_and_chunked():
    import numpy
    from minigan.gans import gan
    cfg = gan.Config(noise_dim=3, g_hidden=4)
    G = gan.paper_generator(cfg, n_out=5)
    a, b = gan.sample_images(G, cfg, 7, seed=1, chunk=3), gan.sample_images(G, cfg, 7, seed=1, chunk=1000)
    assert a.shape == (7, 5) and numpy.allclose(a, b)


# ----- issue 14: one-line errors, counts, zero work, --out and --data checked up front, help

def _train_parser():
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, cli.argparse._SubParsersAction))
    return sub.choices["train"]


def test_every_train_flag_has_a_help_text():
    for action in _train_parser()._actions:
        if action.option_strings:
            text = (action.help or "").split("(default:")[0].strip()
            assert text, f"{action.option_strings[0]} has no help text"


def test_every_config_field_carries_its_help():
    for f in dataclasses.fields(gan.Config):
        assert f.metadata.get("help", "").strip(), f"Config.{f.name} has no help"


def test_help_does_not_read_source_files(monkeypatch, capsys):
    """Installed without sources (a zipapp, a frozen build) inspect.getsource fails: help must not care."""
    import inspect

    def no_source(obj):
        raise OSError("could not get source code")

    monkeypatch.setattr(inspect, "getsource", no_source)
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "η_0, initial learning rate (default: 0.1)" in out and "dimension of z (default: 100)" in out


def _run(*argv, env=None, cwd):
    """``python -m minigan ARGV`` in a fresh interpreter (the environment is read at start-up),
    from ``cwd``, so that the installed minigan is run rather than a folder that happens to be there."""
    return subprocess.run([sys.executable, "-m", "minigan", *argv], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), cwd=cwd)


def test_unknown_backend_in_environment_does_not_break_help_or_import(tmp_path):
    done = _run("train", "--help", env={"MINIGAN_BACKEND": "gpu"}, cwd=tmp_path)
    assert done.returncode == 0 and "usage: minigan train" in done.stdout, done.stderr
    imported = subprocess.run([sys.executable, "-c", "import minigan.program.train, minigan.program.cli; "
                               "from minigan import backend; print(backend.name)"], cwd=tmp_path,
                              capture_output=True, text=True, env=dict(os.environ, MINIGAN_BACKEND="gpu"))
    assert imported.returncode == 0 and imported.stdout.strip() == "numpy", imported.stderr


def test_unknown_backend_in_environment_is_one_line(tmp_path):
    done = _run("evaluate", "x.npz", env={"MINIGAN_BACKEND": "gpu"}, cwd=tmp_path)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert done.stderr == ("minigan evaluate: error: MINIGAN_BACKEND='gpu' is not a backend; "
                           "choose numpy or cupy (or unset it)\n")


def test_backend_flag_overrides_environment(tmp_path):
    done = _run("evaluate", "x.npz", "--backend", "numpy", env={"MINIGAN_BACKEND": "cupy"}, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cupy" not in done.stderr.lower() and "no checkpoint at x.npz" in done.stderr


@pytest.mark.skipif(__import__("minigan.backend").backend.gpu_available(), reason="a GPU is present")
def test_cupy_from_environment_without_gpu_says_where_it_came_from(monkeypatch, capsys):
    monkeypatch.setenv("MINIGAN_BACKEND", "cupy")
    assert cli.main(["evaluate", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MINIGAN_BACKEND=cupy" in err and "--backend numpy" in err


@pytest.mark.parametrize("flags, why", [
    (["--epochs", "0"], "--epochs 0"),
    (["--max-steps", "0"], "--max-steps 0"),
])
def test_zero_work_on_a_new_run_writes_nothing(flags, why, tmp_path, capsys, monkeypatch):
    from minigan.files import data
    monkeypatch.setattr(data, "mnist_splits", lambda *a, **k: pytest.fail("zero work must not load MNIST"))
    out = tmp_path / "run"
    assert cli.main(["train", "--out", str(out), "--no-progress", *flags]) == 0
    said = capsys.readouterr()
    assert said.out.startswith("nothing to train: ") and why in said.out and said.out.count("\n") == 1
    assert said.err == "" and not out.exists()


def test_out_that_is_a_file_is_refused_before_loading_data(tmp_path, capsys, monkeypatch):
    from minigan.files import data
    monkeypatch.setattr(data, "mnist_splits", lambda *a, **k: pytest.fail("--out is checked first"))
    (tmp_path / "x").write_text("not a folder")
    assert cli.main(["train", "--out", str(tmp_path / "x"), "--max-steps", "1"]) == 1
    assert capsys.readouterr().err == f"minigan train: error: --out {tmp_path / 'x'} is a file; give a folder\n"
    # A folder that would have to be made inside a file: refused as well, and nothing is created.
    assert cli.main(["train", "--out", str(tmp_path / "x" / "a" / "b"), "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"is inside {tmp_path / 'x'}, which is a file; give a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write in any folder, so a read-only folder cannot be made here")
def test_out_in_a_read_only_folder_is_refused(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert cli.main(["train", "--out", str(locked / "run"), "--max-steps", "1"]) == 1
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write in {locked}: Permission denied" in err


def test_out_check_leaves_nothing_behind(tmp_path):
    cli.check_out_folder(tmp_path / "new" / "run")            # a writable place: no error
    assert list(tmp_path.iterdir()) == []                      # no folder made, no probe file left


def test_explicit_data_folder_that_does_not_exist_is_not_replaced(mnist_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", mnist_dir)             # a good folder that must NOT be used instead
    typo = tmp_path / "mnsit"
    argv = ["train", "--data", str(typo), "--out", str(tmp_path / "run"), "--no-progress",
            "--n-train", "100", "--max-steps", "1", "--parzen-every", "0"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"MNIST folder {typo} (--data) does not exist" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("error", [ValueError("first line\n  second line"), RuntimeError(""),
                                   zipfile.BadZipFile("File is not a zip file"), EOFError()])
def test_any_user_error_is_one_line(error, capsys, monkeypatch):
    from minigan.program import train

    def fail(path):
        raise error

    monkeypatch.setattr(train, "load_generator", fail)
    assert cli.main(["evaluate", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minigan evaluate: error: ") and err.count("\n") == 1 and len(err) > 30
    if "second" in str(error):
        assert "first line second line" in err


def test_programming_errors_keep_their_traceback(monkeypatch):
    from minigan.program import train
    monkeypatch.setattr(train, "load_generator", lambda path: {}["bug"])
    with pytest.raises(KeyError):
        cli.main(["evaluate", "x.npz"])


def test_interrupted_run_still_writes_its_report(mnist_dir, tmp_path, capsys, monkeypatch):
    """Ctrl-C after a checkpoint was saved: report.txt describes it, and the reason is one line."""
    from minigan.program import train
    original = train.Trainer.train

    def one_step_then_ctrl_c(self, max_steps=None, **kw):
        original(self, max_steps=1, **kw)          # one step, saved as a mid-epoch checkpoint
        raise KeyboardInterrupt

    monkeypatch.setattr(train.Trainer, "train", one_step_then_ctrl_c)
    out = tmp_path / "run"
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "200",
                     "--parzen-every", "0", "--g-hidden", "8", "--d-units", "4"]) == 130   # small: fast
    assert capsys.readouterr().err == (f"minigan train: interrupted; {out / 'checkpoint.npz'} holds the run "
                                       "up to its last completed step (continue with --resume)\n")
    assert "epochs completed: 0, steps: 1" in (out / "report.txt").read_text()


def test_interrupt_before_any_checkpoint_promises_none(tmp_path, capsys, monkeypatch):
    from minigan.files import data

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "mnist_splits", ctrl_c)       # Ctrl-C while MNIST is being read
    assert cli.main(["train", "--out", str(tmp_path / "run"), "--max-steps", "1"]) == 130
    assert capsys.readouterr().err == "minigan train: interrupted\n"


@pytest.mark.parametrize("flag, value, message", [
    ("--momentum", "1", "momentum must be in [0, 1)"),
    ("--d-input-keep", "0", "d_input_keep must be in (0, 1]"),
    ("--lr-decay", "0.5", "lr_decay must be a finite number ≥ 1"),
    ("--noise-dim", "0", "noise_dim must be at least 1, got 0"),
    ("--lr", "nan", "lr must be a finite number > 0 (a learning rate of 0 never moves θ), got nan"),
])
def test_config_values_are_refused_before_anything_is_written(flag, value, message, tmp_path, capsys):
    small = ["--n-train", "100", "--max-steps", "1", "--parzen-every", "0", "--no-progress"]  # if accepted
    assert cli.main(["train", "--out", str(tmp_path / "run"), *small, flag, value]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"minigan train: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


# A classifier small enough for a test (under a second): the scores need a fixed network,
# not a good one. Its accuracy is tested in test_classifier.py at another size.
SMALL_CLASSIFIER = ["--hidden", "16", "--epochs", "1", "--n-train", "300", "--no-progress"]
QUIET_CLASSIFIER = [*SMALL_CLASSIFIER, "--no-reference"]


def test_classifier_then_evaluate_every_metric(mnist_dir, tmp_path, capsys):
    out, clf = tmp_path / "run", tmp_path / "clf.npz"
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "300",
                     "--max-steps", "3", "--parzen-every", "0"]) == 0
    capsys.readouterr()
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(clf), *SMALL_CLASSIFIER]) == 0
    said = capsys.readouterr().out
    assert said.startswith("classifier: ") and f"% right on the 10,000 test images (trained in " in said
    assert "| the 10,000 test images, as if they were samples | " in said and "FID ↓" in said
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(clf), *QUIET_CLASSIFIER]) == 0
    assert f"(already trained, read from {clf})" in capsys.readouterr().out
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "200",
                     "--metrics", "all", "--classifier", str(clf)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cells = lambda line: [c.strip() for c in line.strip("|").split("|")]
    assert cells(lines[0]) == ["images", "Parzen (nats) ↑", "IS ↑", "FID ↓", "precision ↑ · recall ↑"]
    assert lines[2].startswith("| checkpoint.npz (200 samples) | ") and lines[2].count("|") == 6
    assert "FID against the 50,000 training images" in lines[3]
    assert lines[4].startswith("Table 1 row: | GAN (minigan, checkpoint.npz) | ")      # unchanged
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "200",
                     "--metrics", "fid", "--classifier", str(clf)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and "FID ↓" in lines[0] and "Parzen" not in lines[0]      # no Table 1 row


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "x.npz", "--metrics", "fid,bogus"], "--metrics: expected a comma-separated list of parzen, "
                                                      "is, fid, pr (or 'all'), got 'fid,bogus'"),
    (["classifier", "--hidden", "16"], "a classifier with another configuration needs its own --out FILE"),
    (["train", "--scores", "parzen,is,fid", "--parzen-every", "0"], "scores must be 'parzen' when parzen_every is 0"),
    (["classifier", "--epochs", "0", "--out", "c.npz"], "epochs must be at least 1, got 0"),
    (["classifier", "--hidden-keep", "1.5", "--out", "c.npz"], "hidden_keep must be in (0, 1]"),
])
def test_metric_and_classifier_errors_are_one_line_before_any_work(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []                       # nothing written, nothing read


def test_classifier_from_other_data_is_refused(mnist_dir, tmp_path, capsys):
    from minigan.files import checkpoint
    clf = tmp_path / "clf.npz"
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(clf), *QUIET_CLASSIFIER]) == 0
    arrays, meta = checkpoint.load(clf)
    checkpoint.save(clf, arrays, {**meta, "data_sha256": "0" * 64})
    capsys.readouterr()
    assert cli.main(["evaluate", "x.npz", "--metrics", "is", "--classifier", str(clf)]) == 1   # checkpoint first
    assert "no checkpoint at" in capsys.readouterr().err
    out = tmp_path / "run"
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "300",
                     "--max-steps", "3", "--parzen-every", "0"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--metrics", "is",
                     "--classifier", str(clf)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was trained on other data" in err and f"minigan classifier --out {clf}" in err


def test_train_with_scores_uses_the_classifier_given(mnist_dir, tmp_path, capsys):
    import csv
    clf, out = tmp_path / "clf.npz", tmp_path / "run"
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(clf), *QUIET_CLASSIFIER]) == 0
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "300",
                     "--max-steps", "3", "--parzen-every", "1", "--parzen-samples", "100",
                     "--scores", "parzen,is,fid", "--classifier", str(clf)]) == 0
    row = next(csv.DictReader(open(out / "metrics.csv")))
    assert float(row["fid"]) > 0 and 1 <= float(row["is_mean"]) <= 10 and float(row["parzen_test"])


def test_evaluate_trains_the_cached_classifier_on_first_use_only(mnist_dir, tmp_path, capsys, monkeypatch):
    from dataclasses import replace
    from minigan.evaluation import classifier
    tiny = replace(classifier.ClassifierConfig(), hidden=16, epochs=1, n_train=300)   # the default, shrunk
    monkeypatch.setattr(classifier, "default_config", lambda: tiny)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "300",
                     "--max-steps", "3", "--parzen-every", "0"]) == 0
    capsys.readouterr()
    argv = ["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "100", "--metrics", "is"]
    assert cli.main(argv) == 0
    said = capsys.readouterr()
    assert "training the MNIST classifier for IS, FID and precision/recall (once; cached in " in said.err
    assert "classifier: 100%" in said.err                                   # its progress bar
    assert (tmp_path / "cache" / "minigan" / "classifier" / "classifier.npz").is_file()
    assert cli.main(argv) == 0
    assert "training the MNIST classifier" not in capsys.readouterr().err  # read from the cache


# ----- issue 20: --model, the conditional GAN's sample and evaluate ----------------------------

CGAN_TINY = ["--model", "cgan", "--g-z-hidden", "4", "--g-y-hidden", "5", "--g-hidden", "6", "--d-x-units", "3",
             "--d-y-units", "2", "--d-units", "3", "--n-train", "300"]


def test_model_cgan_trains_samples_the_class_grid_and_evaluates_class_accuracy(mnist_dir, tmp_path, capsys):
    out, clf = tmp_path / "run", tmp_path / "clf.npz"
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--no-progress", *CGAN_TINY,
                     "--max-steps", "4", "--parzen-every", "1", "--parzen-samples", "100"]) == 0
    assert "time to the paper's 132 nats" in capsys.readouterr().out
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--data", mnist_dir, "--out", str(tmp_path / "grid.png")]) == 0
    assert "10×5 samples, row r asked to be digit r" in capsys.readouterr().out
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--digit", "7", "--no-nearest", "--out",
                     str(tmp_path / "sevens.png")]) == 0
    assert "6×5 samples, every one asked to be a 7" in capsys.readouterr().out
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(clf), *QUIET_CLASSIFIER, "--no-reference"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "200",
                     "--metrics", "parzen,is", "--classifier", str(clf)]) == 0
    said = capsys.readouterr().out
    assert "class accuracy: " in said and "% of the samples are the digit they were asked for (0: " in said
    assert "Table 1 row: | CGAN (minigan, checkpoint.npz) | " in said
    # Resuming keeps the model, and takes its flags without --model; another --model is refused in one line.
    assert cli.main(["train", "--out", str(out), "--resume", "--data", mnist_dir, "--no-progress",
                     "--max-steps", "1", "--g-y-hidden", "6"]) == 1
    assert "cannot change g_y_hidden" in capsys.readouterr().err
    assert cli.main(["train", "--out", str(out), "--resume", "--model", "gan", "--data", mnist_dir]) == 1
    assert "is a run of --model cgan, not gan" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message, status", [
    (["train", "--model", "vae"], "argument --model: invalid choice: 'vae'", 2),
    (["train", "--model", "wgan", "--clip", "0"], "clip must be a finite number > 0", 1),
    (["train", "--model", "wgan", "--n-critic", "0"], "n_critic must be at least 1, got 0", 1),
    (["train", "--model", "wgan-gp", "--lam", "-1"], "lam must be a finite number ≥ 0", 1),
    (["train", "--model", "wgan", "--lam", "10"], "unrecognized arguments: --lam 10", 2),
    (["train", "--model", "wgan-gp", "--clip", "0.01"], "unrecognized arguments: --clip 0.01", 2),
    (["train", "--model", "gan", "--n-critic", "5"], "unrecognized arguments: --n-critic 5", 2),
    (["train", "--model", "cgan", "--k", "2"], "unrecognized arguments: --k 2", 2),
    (["train", "--model", "cgan", "--g-keep", "0"], "g_keep must be in (0, 1]", 1),
])
def test_model_errors_are_one_line_before_any_work(argv, message, status, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        got = cli.main(argv)
    except SystemExit as stop:              # the parser's own errors
        got = stop.code
    err = capsys.readouterr().err
    assert got == status and message in err and err.count("\n") == 1 and not any(tmp_path.iterdir())


def test_model_help_lists_that_models_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--model", "cgan", "--help"])
    text = capsys.readouterr().out
    assert "--g-y-hidden" in text and "Mirza & Osindero" in text and "--k " not in text


def test_digit_on_an_unconditional_checkpoint_is_one_line(tmp_path, capsys):
    from pathlib import Path
    v0 = Path(__file__).parent / "data" / "v0_checkpoint.npz"
    assert cli.main(["sample", str(v0), "--digit", "3", "--out", str(tmp_path / "s.png")]) == 1
    err = capsys.readouterr().err
    assert "--digit needs a conditional model" in err and err.count("\n") == 1
    assert not (tmp_path / "s.png").exists()


# ----- issue 21: the Wasserstein GANs ------------------------------------------------------------

WGAN_TINY = ["--g-hidden", "8", "--d-units", "4", "--d-pieces", "2", "--n-train", "320", "--batch-size", "32"]


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_wgan_models_train_resume_sample_and_evaluate(model, mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", model, "--data", mnist_dir, "--out", str(out), "--no-progress",
                     *WGAN_TINY, "--max-steps", "3", "--parzen-every", "1", "--parzen-samples", "100"]) == 0
    said = capsys.readouterr().out
    assert "critic's Ŵ on validation images" in said and "time to the paper's" not in said   # no Parzen figure in its paper
    assert cli.main(["train", "--out", str(out), "--resume", "--data", mnist_dir, "--no-progress", "--max-steps", "1"]) == 0
    assert "resumed" in capsys.readouterr().out
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--data", mnist_dir, "--no-nearest",
                     "--out", str(tmp_path / "grid.png")]) == 0
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--data", mnist_dir, "--samples", "100"]) == 0
    assert f"Table 1 row: | {model.upper()} (minigan, checkpoint.npz) | " in capsys.readouterr().out


def test_wgan_help_names_its_paper_and_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--model", "wgan-gp", "--help"])
    text = capsys.readouterr().out
    assert "--lam" in text and "Gulrajani" in text and "--clip" not in text and "--momentum" not in text


@pytest.mark.parametrize("argv, said", [
    (["train", "--epoch", "2"], "minigan train: error: unrecognized arguments: --epoch 2; did you mean --epochs? "
                                "(see minigan train --help)"),
    (["sample", "x.npz", "--row", "3"], "did you mean --rows? (see minigan sample --help)"),
    (["train", "--learning-rate", "0.1"], "did you mean --lr?"),
    (["train", "--model", "wgan", "--lam", "1"], "; --lam is a flag of --model wgan-gp (see minigan train --help)"),
    (["train", "--bogus", "1"], "unrecognized arguments: --bogus 1 (see minigan train --help)"),
])
def test_unknown_and_abbreviated_flags_name_the_commands_help_and_a_close_match(argv, said, capsys):
    """Issue 23, item 8: argparse took --epoch for --epochs silently; an unknown flag said 'see
    minigan --help' and suggested nothing."""
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and said in err


@pytest.mark.parametrize("argv, said", [
    (["train", "--out", "", "--max-steps", "1"], "--out is empty, which would mean the current folder"),
    (["train", "--classifier", "clf.npz", "--max-steps", "1"], "--classifier clf.npz is read only for IS and FID: "
                                                               "add --scores parzen,is,fid"),
])
def test_train_refuses_an_empty_out_and_an_unused_classifier(argv, said, tmp_path, capsys, monkeypatch):
    """Issue 23, items 5 and 8: --out '' wrote into the current folder; --classifier without
    --scores parzen,is,fid was ignored silently. Both are one line, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and not any(tmp_path.iterdir())


def test_resume_help_and_readme_say_a_cupy_resume_is_not_bitwise(capsys):
    """CuPy's generators cannot save their state, so a resumed GPU run re-seeds them: users read
    that where they read about --resume (issue 22, item 7)."""
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "on NumPy bit for bit the uninterrupted run; on CuPy" in help_text
    assert "only statistically the same" in help_text
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert "the same run bit for bit on NumPy, only statistically on CuPy" in readme


def test_scores_help_shows_its_two_choices(capsys):
    """argparse joins choices with commas, so --scores read {parzen,parzen,is,fid} (issue 23, item 8)."""
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--scores {parzen | parzen,is,fid}" in out and "parzen,parzen" not in out


V0_CHECKPOINT = Path(__file__).parent / "data" / "v0_checkpoint.npz"


@pytest.mark.parametrize("out, words", [
    ("", "--out: expected an image file name such as samples.png, got ''"),
    (".", "is a folder; name a file in it, e.g."),
    ("grid", "expected an image file name ending in one of .avif"),
    ("grid.xyz", "(the extension chooses the format), e.g. grid.png"),
])
def test_sample_refuses_an_out_that_cannot_be_an_image_in_one_line(out, words, tmp_path, monkeypatch, capsys):
    """issue 23, item 7: these raised KeyError from matplotlib (it read the format from the
    temporary file's random suffix) after G had been sampled."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sample", str(V0_CHECKPOINT), "--out", out, "--no-nearest"]) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []                                  # nothing written


def test_sample_writes_the_format_its_extension_names(tmp_path, capsys):
    for name, magic in (("grid.JPG", b"\xff\xd8"), ("grid.pdf", b"%PDF"), ("grid.png", b"\x89PNG")):
        assert cli.main(["sample", str(V0_CHECKPOINT), "--out", str(tmp_path / name), "--no-nearest"]) == 0
        assert (tmp_path / name).read_bytes().startswith(magic)


def test_a_real_ctrl_c_during_training_is_one_line_and_the_run_resumes(mnist_dir, tmp_path):
    """The signal itself, sent to a running `minigan train` once its first checkpoint exists:
    exit 130 with one line and no traceback, and a checkpoint that --resume continues. Nothing
    here depends on timing: the signal may land in any step, and every step boundary is valid."""
    import signal
    import time
    out = tmp_path / "run"
    flags = ["--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "300",
             "--parzen-every", "0", "--g-hidden", "16", "--d-units", "8", "--d-pieces", "2"]
    run = subprocess.Popen([sys.executable, "-m", "minigan", "train", *flags, "--epochs", "100000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").is_file() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert stderr.strip().startswith("minigan train: interrupted") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    resumed = subprocess.run([sys.executable, "-m", "minigan", "train", *flags, "--resume", "--max-steps", "2"],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and "resumed" in resumed.stdout, resumed.stderr


def test_a_run_remembers_its_data_folder_for_resume_sample_and_evaluate(mnist_dir, tmp_path, monkeypatch, capsys):
    """issue 23, item 13: the README's commands after the first failed offline unless they repeated
    --data. The checkpoint keeps the folder a run was trained on; resume, sample and evaluate read
    it there when neither --data nor $MINIGAN_DATA says otherwise (an empty cache stands in for
    being offline: without the remembered folder they would try to download)."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    from minigan.files import data
    monkeypatch.setattr(data, "MIRRORS", ())                 # offline: any download attempt fails
    out = tmp_path / "run"
    small = ["--no-progress", "--n-train", "200", "--parzen-every", "0", "--g-hidden", "8", "--d-units", "4"]
    assert cli.main(["train", "--data", mnist_dir, "--out", str(out), "--max-steps", "2", *small]) == 0
    assert train_checkpoint_meta(out)["data"] == str(Path(mnist_dir).resolve())
    assert cli.main(["train", "--out", str(out), "--resume", "--max-steps", "1", "--no-progress"]) == 0
    assert cli.main(["sample", str(out / "checkpoint.npz"), "--out", str(tmp_path / "s.png")]) == 0
    assert cli.main(["evaluate", str(out / "checkpoint.npz"), "--samples", "50"]) == 0
    capsys.readouterr()


def train_checkpoint_meta(out):
    from minigan.files import checkpoint
    return checkpoint.load(out / "checkpoint.npz")[1]


def test_resume_refuses_another_classifier_than_the_one_that_scored_the_run(mnist_dir, tmp_path, capsys):
    """issue 23, item 5: --resume --classifier OTHER silently mixed two classifiers' FIDs in one
    column. The checkpoint records the classifier's fingerprint; another one is refused in one line."""
    tiny = ["--hidden", "16", "--epochs", "1", "--n-train", "2000", "--no-progress", "--no-reference"]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(a), *tiny]) == 0
    assert cli.main(["classifier", "--data", mnist_dir, "--out", str(b), *tiny, "--seed", "1"]) == 0
    out = tmp_path / "run"
    run = ["--data", mnist_dir, "--out", str(out), "--no-progress", "--n-train", "200", "--parzen-every", "1",
           "--parzen-samples", "50", "--scores", "parzen,is,fid", "--g-hidden", "8", "--d-units", "4"]
    assert cli.main(["train", *run, "--classifier", str(a), "--max-steps", "2"]) == 0
    capsys.readouterr()
    assert cli.main(["train", *run, "--classifier", str(b), "--resume", "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert "were scored by classifier" in err and f"--classifier {b} is another" in err and err.count("\n") == 1
    assert cli.main(["train", *run, "--classifier", str(a), "--resume", "--max-steps", "1"]) == 0


def test_no_file_is_overwritten_by_surprise(tmp_path, capsys, monkeypatch):
    """issue 23, item 4: `classifier --out FILE` overwrote any file (a GAN checkpoint, a text), and
    `train --out DIR` overwrote another run's metrics.csv and report.txt when DIR had no checkpoint.
    The first is refused in one line and the file stays as it was; the second is announced."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    gan_checkpoint = tmp_path / "gan.npz"
    gan_checkpoint.write_bytes(V0_CHECKPOINT.read_bytes())
    for target, why in ((notes, "not a zip archive"), (gan_checkpoint, "a minigan checkpoint, but not a classifier's")):
        before = target.read_bytes()
        assert cli.main(["classifier", "--out", str(target)]) == 1
        err = capsys.readouterr().err
        assert f"--out {target} exists and is not a minigan classifier ({why}" in err and err.count("\n") == 1
        assert target.read_bytes() == before
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch\n1\n")
    (run / "report.txt").write_text("a report")
    # Not refused: a run killed before its first checkpoint leaves these too, and the same command
    # restarts it (the SIGKILL test in test_train.py). Announced, before anything is written.
    monkeypatch.setattr(sys.modules["minigan.files.data"], "mnist_splits",
                        lambda *a, **k: (_ for _ in ()).throw(ValueError("stop here")))
    assert cli.main(["train", "--out", str(run), "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"note: {run} holds metrics.csv, report.txt but no checkpoint.npz to resume; this new "
                          "run will replace them (Ctrl-C now and choose another --out to keep them)\n")
    assert (run / "metrics.csv").read_text() == "epoch\n1\n"


def test_a_dangling_symlink_out_is_refused_before_any_work(tmp_path, capsys):
    """issue 23, item 8: a dangling-symlink --out failed after the first epoch."""
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "nowhere" / "abc")
    assert cli.main(["train", "--out", str(link), "--max-steps", "1"]) == 1
    err = capsys.readouterr().err
    assert f"--out {link} is a symbolic link to {tmp_path / 'nowhere' / 'abc'}, which does not exist" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("argv, words", [
    (["evaluate", str(V0_CHECKPOINT), "--samples", "5", "--metrics", "is"],
     "--samples 5 is too few for is: the Inception Score cuts them into 10 parts, so it needs at least 10"),
    (["evaluate", str(V0_CHECKPOINT), "--samples", "1", "--metrics", "fid"], "--samples 1 is too few for fid"),
    (["evaluate", str(V0_CHECKPOINT), "--samples", "3", "--metrics", "pr"], "--samples 3 is too few for pr"),
    (["train", "--out", "never", "--scores", "parzen,is,fid", "--parzen-samples", "4"],
     "--parzen-samples 4 is too few for is"),
])
def test_too_few_samples_are_named_in_the_command_lines_words(argv, words, tmp_path, monkeypatch, capsys):
    """issue 23, item 8: said in library words ("probs: ... a smaller splits") after sampling."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and not (tmp_path / "never").exists()


def test_ctrl_c_while_starting_is_one_line(monkeypatch, capsys):
    """issue 23, item 7: a SIGINT during start-up (the imports, the parser) was a traceback."""
    import builtins
    from minigan import __main__ as entry

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["train"]) == 130
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: interrupted() if name == "program.cli"
                        or name.endswith("program.cli") else real_import(name, *a, **k))
    assert entry.run() == 130
    err = capsys.readouterr().err
    assert err == "minigan: interrupted while starting; nothing was done\n" * 2
