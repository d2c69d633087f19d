"""Every example runs in its fast mode and writes the files it promises, and only there."""
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIGURES = ROOT / "docs" / "figures"
WRITES = {"toy_1d": ["toy_1d.png", "toy_1d.gif"], "optimal_d": ["optimal_d.png"],
          "ring_2d": ["ring_2d.png"], "saturation": ["saturation.png"],
          "metrics_disagree": ["metrics_disagree.png", "metrics_disagree.csv"], "conditional": ["conditional.png"],
          "critic_gradients": ["critic_gradients.png"], "loss_meaning": ["loss_meaning.png"]}
NEEDS_MNIST = ("saturation", "metrics_disagree", "conditional", "loss_meaning")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name, *argv):
    load_example(name).main(list(argv))


def test_toy_1d(tmp_path):
    run_example("toy_1d", "--fast", "--out", str(tmp_path))
    assert (tmp_path / "toy_1d.png").stat().st_size > 1000
    assert (tmp_path / "toy_1d.gif").read_bytes()[:6] == b"GIF89a"


def test_optimal_d(tmp_path, capsys):
    run_example("optimal_d", "--fast", "--out", str(tmp_path))
    assert (tmp_path / "optimal_d.png").is_file()
    assert "C(G) = −log 4 + 2·JSD" in capsys.readouterr().out


def test_critic_gradients(tmp_path, capsys):
    """The WGAN paper's Figure 2: at G's samples a trained D's slope has vanished, the critics'
    have not. main returns {net: (mean |∂/∂x| at G's samples, that / the net's steepest slope)}.
    Over seeds 0–11 of the --fast run (300 steps): critic / D ≥ 31, D's share ≤ 0.003, the
    critics' shares ≥ 0.34; the bounds below leave a factor ≥ 1.7 on each."""
    m = load_example("critic_gradients").main(["--fast", "--out", str(tmp_path), "--seed", "1"])
    assert (tmp_path / "critic_gradients.png").stat().st_size > 1000
    assert "WGAN critic / GAN D = " in capsys.readouterr().out
    assert m["clip"][0] > 10 * m["D"][0]
    assert m["D"][1] < 0.01 and m["clip"][1] > 0.2 and m["gp"][1] > 0.2
    with pytest.raises(SystemExit, match="critic_gradients.py: error: --clip must be a number > 0"):
        run_example("critic_gradients", "--clip", "0")


def test_ring_2d(tmp_path, capsys):
    run_example("ring_2d", "--fast", "--out", str(tmp_path), "--name", "r", "--k", "2")
    assert (tmp_path / "r.png").is_file()
    assert "modes covered" in capsys.readouterr().out


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_ring_2d_critic_models(model, tmp_path, capsys):
    """--model wgan / wgan-gp: the figure is named after the model (the GAN's ring_2d.png stays the GAN's)."""
    run_example("ring_2d", "--fast", "--out", str(tmp_path), "--model", model)
    assert sorted(f.name for f in tmp_path.iterdir()) == [f"ring_2d_{model}.png"]
    assert "modes covered" in capsys.readouterr().out


def test_ring_2d_compare_prints_a_row_per_model(tmp_path, capsys):
    run_example("ring_2d", "--fast", "--out", str(tmp_path), "--compare")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["ring_models.png"]
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| model | modes, seeds 0–1 |") and [r.split(" | ")[0] for r in rows[1:]] == [
        "| gan", "| wgan", "| wgan-gp"]


@pytest.mark.parametrize("argv, words", [
    (["--model", "wgan", "--objective", "minimax"], "--objective is an option of --model gan alone"),
    (["--model", "wgan-gp", "--clip", "0.1"], "--clip is an option of --model wgan alone"),
    (["--compare", "--lam", "1"], "--compare trains all three models"),
])
def test_ring_2d_refuses_options_of_another_model(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_example("ring_2d").parse_args(argv)
    assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_saturation(tmp_path, mnist_dir, capsys):
    run_example("saturation", "--fast", "--data", mnist_dir, "--out", str(tmp_path))
    assert (tmp_path / "saturation.png").is_file()
    assert "‖∇θ_g‖ minimax" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["toy_1d", "optimal_d", "ring_2d", "saturation"])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_example(name, "--help")
    assert exit_.value.code == 0 and "--fast" in capsys.readouterr().out


def test_custom_layer(tmp_path, capsys):
    """The LeakyReLU and Tanh pass every property, work in a Sequential, the buggy LeakyReLU is
    caught with a readable report; run as a script it writes no files; --help names the flags."""
    run_example("custom_layer", "--fast")
    out = capsys.readouterr().out
    assert "LeakyReLU(α=0.01): passed" in out and "Tanh(): passed" in out
    assert "Sequential(Dense(3→4), LeakyReLU(α=0.01), Dense(4→2)): passed" in out
    assert "caught" in out and "relative error" in out and "BuggyLeakyReLU.backward" in out
    # As a user runs it, in a folder of its own (not even hypothesis's cache may stay behind).
    script = subprocess.run([sys.executable, str(EXAMPLES / "custom_layer.py"), "--fast", "--seed", "1"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert script.returncode == 0 and "the bug is caught" in script.stdout, script.stderr
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as exit_:
        run_example("custom_layer", "--help")
    help_text = capsys.readouterr().out
    assert exit_.value.code == 0 and "--fast" in help_text and "--alpha" in help_text


def checkout_state():
    """`git status --porcelain` of the checkout (None outside a git checkout) and a hash of
    every committed figure: an overwritten figure that was already modified shows in the hash."""
    status = None
    if shutil.which("git"):
        run = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                             capture_output=True, text=True, timeout=60)
        status = run.stdout if run.returncode == 0 else None
    figures = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(FIGURES.iterdir())}
    return status, figures


@pytest.mark.parametrize("name", sorted(WRITES))
def test_fast_run_writes_only_into_its_out_folder(name, tmp_path, request):
    """Run as a user runs it, from a folder of one's own: with no --out the figures land in
    ./runs/examples, with --out DIR in DIR, and the checkout (its committed figures included)
    is left exactly as it was."""
    data = ["--data", request.getfixturevalue("mnist_dir")] if name in NEEDS_MNIST else []
    env = dict(os.environ, MPLBACKEND="Agg")
    before = checkout_state()
    for out, argv in [(tmp_path / "runs" / "examples", []), (tmp_path / "chosen", ["--out", str(tmp_path / "chosen")])]:
        script = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--fast", *data, *argv],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert script.returncode == 0, script.stderr
        assert sorted(f.name for f in out.iterdir()) == sorted(WRITES[name])
    assert sorted(f.name for f in tmp_path.iterdir()) == ["chosen", "runs"]
    assert checkout_state() == before


@pytest.mark.parametrize("name", sorted(WRITES))
def test_figures_flag_means_the_committed_figures(name, capsys):
    """--figures is the one way to write into docs/figures, wherever the example is run from;
    it cannot be combined with --out, and --help explains both."""
    module = load_example(name)
    assert module.parse_args(["--figures"]).out == FIGURES
    assert module.parse_args([]).out == Path("runs/examples")
    assert module.parse_args(["--out", "x"]).out == Path("x")
    with pytest.raises(SystemExit) as exit_:
        module.parse_args(["--figures", "--out", "x"])
    assert exit_.value.code == 2 and "not allowed with" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        module.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--out DIR" in help_text and "runs/examples" in help_text and "docs/figures" in help_text


@pytest.mark.parametrize("name", NEEDS_MNIST)
@pytest.mark.parametrize("where", ["unset", "empty folder"])
def test_mnist_examples_without_mnist_are_one_line(where, name, tmp_path):
    """No MNIST anywhere (and no mirror answering): one line on stderr that says what is missing
    and how to provide it, a non-zero exit, no traceback, and nothing written."""
    env = dict(os.environ, MPLBACKEND="Agg", XDG_CACHE_HOME=str(tmp_path / "cache"),
               MINIGAN_MNIST_MIRRORS="http://127.0.0.1:9/")          # port 9 refuses at once
    env.pop("MINIGAN_DATA", None)
    if where == "empty folder":
        (tmp_path / "empty").mkdir()
        env["MINIGAN_DATA"] = str(tmp_path / "empty")
    script = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--fast"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    lines = script.stderr.strip().splitlines()
    assert script.returncode != 0 and "Traceback" not in script.stderr
    assert len(lines) == 1, script.stderr
    assert lines[0].startswith(f"{name}.py: error: this example ")
    assert "MNIST" in lines[0] and "not found" in lines[0] and "--data" in lines[0]
    assert not (tmp_path / "runs").exists()


def test_saturation_help_says_it_needs_mnist(capsys):
    with pytest.raises(SystemExit):
        run_example("saturation", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Trains on MNIST" in help_text and "--data DIR" in help_text and "$MINIGAN_DATA" in help_text


def test_saturation_shows_progress(tmp_path, mnist_dir, capsys):
    run_example("saturation", "--fast", "--data", mnist_dir, "--out", str(tmp_path))
    err = capsys.readouterr().err
    assert "minimax objective" in err and "nonsaturating objective" in err and "5/5" in err


def test_game_2d(tmp_path, capsys):
    run_example("game_2d", "--fast", "--out", str(tmp_path), "--no-progress")   # the flag every example takes
    assert (tmp_path / "game_2d.png").stat().st_size > 1000
    assert (tmp_path / "game_2d.gif").read_bytes()[:6] == b"GIF89a"
    out = capsys.readouterr().out
    assert "JSD" in out and "estimator bias" in out and "C(G)" in out


@pytest.mark.parametrize("model", ["wgan", "wgan-gp"])
def test_game_2d_critic_models(model, tmp_path, capsys):
    """--model wgan / wgan-gp: game_2d_MODEL.png and .gif (not the GAN's names), and the critic's
    numbers (Ŵ = −d_obj), not the GAN's V(D, G) and C(G)."""
    run_example("game_2d", "--fast", "--out", str(tmp_path), "--model", model)
    assert sorted(f.name for f in tmp_path.iterdir()) == [f"game_2d_{model}.gif", f"game_2d_{model}.png"]
    assert (tmp_path / f"game_2d_{model}.gif").read_bytes()[:6] == b"GIF89a"
    out = capsys.readouterr().out
    assert "Ŵ = −d_obj" in out and "JSD" in out and "C(G)" not in out
    with pytest.raises(SystemExit) as exit_:
        run_example("game_2d", "--model", model, "--objective", "minimax")
    assert exit_.value.code == 2 and "--objective is an option of --model gan alone" in capsys.readouterr().err


def test_game_2d_fast_run_writes_only_into_its_out_folder(tmp_path):
    """As test_fast_run_writes_only_into_its_out_folder, for game_2d: with no --out into
    ./runs/examples, with --out DIR into DIR, and the checkout left exactly as it was."""
    env = dict(os.environ, MPLBACKEND="Agg")
    before = checkout_state()
    for out, argv in [(tmp_path / "runs" / "examples", []), (tmp_path / "chosen", ["--out", str(tmp_path / "chosen")])]:
        script = subprocess.run([sys.executable, str(EXAMPLES / "game_2d.py"), "--fast", *argv],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert script.returncode == 0, script.stderr
        assert sorted(f.name for f in out.iterdir()) == ["game_2d.gif", "game_2d.png"]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["chosen", "runs"]
    assert checkout_state() == before


def test_game_2d_figures_flag_and_help(capsys):
    test_figures_flag_means_the_committed_figures("game_2d", capsys)
    with pytest.raises(SystemExit) as exit_:
        run_example("game_2d", "--help")
    assert exit_.value.code == 0 and "--fast" in capsys.readouterr().out


def test_metrics_disagree_help_says_it_needs_mnist_and_the_classifier(capsys):
    with pytest.raises(SystemExit):
        run_example("metrics_disagree", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Needs MNIST" in help_text and "--data DIR" in help_text and "--classifier FILE" in help_text
    assert "--late CHECKPOINT" in help_text


def test_metrics_disagree_facts_that_hold_for_any_classifier(tmp_path, mnist_dir, capsys):
    """The fast run's classifier is barely trained, so its IS and FID mean little; these facts
    follow from the definitions whatever the network:
    - every memorized image is a point of precision's real set, inside its own ball: precision 1;
    - the mean image N times gets one prediction N times: IS exactly 1; and its k-NN balls have
      radius 0 around a point no real image equals: recall 0;
    - uniform noise is the least likely set under a Parzen window fitted to digits."""
    import csv
    run_example("metrics_disagree", "--fast", "--data", mnist_dir, "--out", str(tmp_path), "--no-progress")
    out = capsys.readouterr().out
    assert out.startswith("SMOKE TEST (--fast): ") and "\n| images " in out and "best to worst:" in out
    rows = {r["images"]: r for r in csv.DictReader(open(tmp_path / "metrics_disagree.csv"))}
    assert list(rows)[:6] == ["real", "memorizer", "digits 0–4", "blurred", "noise", "mean image"]
    assert [k.split(" (")[0] for k in list(rows)[6:]] == ["G early", "G late"]
    assert all(r["n"] == "200" for r in rows.values())
    assert float(rows["memorizer"]["precision"]) == 1.0
    assert float(rows["mean image"]["is_mean"]) == pytest.approx(1.0, abs=1e-9)
    assert float(rows["mean image"]["recall"]) == 0.0
    assert min(rows, key=lambda k: float(rows[k]["parzen"])) == "noise"


def test_blur_by_hand():
    """One lit pixel becomes the outer product of the 5 taps g(u) g(v), g ∝ exp(−u²/2),
    u = −2…2: g = (0.0545, 0.2442, 0.4026, 0.2442, 0.0545); a flat image stays flat
    where the kernel is inside it, and the total is kept away from the border."""
    blur = load_example("metrics_disagree").blur
    g = numpy.exp(-numpy.arange(-2, 3) ** 2 / 2)
    g /= g.sum()
    assert g[2] == pytest.approx(0.4026, abs=1e-4)
    impulse = numpy.zeros((1, 28, 28), numpy.float32)
    impulse[0, 10, 12] = 1
    out = blur(impulse.reshape(1, 784)).reshape(28, 28)
    numpy.testing.assert_allclose(out[8:13, 10:15], numpy.outer(g, g), rtol=1e-6)
    assert out.sum() == pytest.approx(1, rel=1e-6)
    flat = blur(numpy.full((1, 784), 0.5, numpy.float32)).reshape(28, 28)
    numpy.testing.assert_allclose(flat[2:-2, 2:-2], 0.5, rtol=1e-6)


@pytest.mark.parametrize("argv, words", [
    (["--samples", "9000"], "is more than the 4,"),
    (["--late", "nowhere.npz"], "--late nowhere.npz: "),
])
def test_metrics_disagree_bad_input_is_one_line_before_any_work(argv, words, mnist_dir, tmp_path):
    script = subprocess.run([sys.executable, str(EXAMPLES / "metrics_disagree.py"), "--data", mnist_dir,
                             "--out", str(tmp_path / "out"), *argv], cwd=tmp_path,
                            env=dict(os.environ, MPLBACKEND="Agg", XDG_CACHE_HOME=str(tmp_path / "cache")),
                            capture_output=True, text=True, timeout=120)
    lines = script.stderr.strip().splitlines()
    assert script.returncode == 1 and len(lines) == 1 and words in lines[0], script.stderr
    assert lines[0].startswith("metrics_disagree.py: error: ")
    assert not (tmp_path / "out").exists()                                  # nothing written,
    assert not (tmp_path / "cache" / "minigan").exists()                    # no classifier trained


def test_conditional_prints_the_class_accuracy_of_each_run(tmp_path, mnist_dir, capsys):
    run_example("conditional", "--fast", "--data", mnist_dir, "--out", str(tmp_path))
    out = capsys.readouterr().out
    assert "| D sees y | " in out and "| D blind to y | " in out
    assert "finds the image's own digit the most real of the 10 labels" in out
    assert (tmp_path / "conditional.png").stat().st_size > 1000


def test_conditional_refuses_an_unconditional_checkpoint_in_one_line(tmp_path, mnist_dir):
    v0 = Path(__file__).parent / "data" / "v0_checkpoint.npz"
    script = subprocess.run([sys.executable, str(EXAMPLES / "conditional.py"), str(v0), "--data", mnist_dir,
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert script.returncode != 0 and "is a run of --model gan; give a run of --model cgan" in script.stderr
    assert script.stderr.count("\n") == 1 and not any(tmp_path.iterdir())


def test_loss_meaning_reads_runs_and_correlates_each_estimate_with_fid(tmp_path, capsys):
    """Three run folders with known metrics: a critic whose Ŵ falls with FID (ρ = +1), one whose Ŵ
    rises as FID falls (ρ = −1), and a GAN whose estimate log 2 − d_obj is read from d_obj."""
    import csv
    header = ["epoch", "d_obj", "fid", "w_valid"]
    runs = {"falls": [(1, -3.0, 300, 3.0), (2, -2.0, 200, 2.0), (3, -1.0, 100, 1.0)],
            "rises": [(1, -1.0, 300, 1.0), (2, -2.0, 200, 2.0), (3, -3.0, 100, 3.0)],
            # log 2 − d_obj: 0.69 − 0.1, − 0.5, − 0.3: ranks 3, 1, 2 against FID ranks 3, 2, 1: ρ = 0.5
            "gan": [(1, 0.1, 300, ""), (2, 0.5, 200, ""), (3, 0.3, 100, "")]}
    for name, rows in runs.items():
        (tmp_path / name).mkdir()
        with open(tmp_path / name / "metrics.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
    rhos = load_example("loss_meaning").main([str(tmp_path / n) for n in runs] + ["--out", str(tmp_path / "out")])
    assert rhos == pytest.approx({"falls": 1.0, "rises": -1.0, "gan": 0.5})
    said = capsys.readouterr().out
    assert "log 2 − d_obj (training batches)" in said and (tmp_path / "out" / "loss_meaning.png").is_file()


def test_loss_meaning_refuses_a_folder_without_metrics_in_one_line(tmp_path):
    script = subprocess.run([sys.executable, str(EXAMPLES / "loss_meaning.py"), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert script.returncode == 1 and script.stderr.count("\n") == 1 and "no metrics.csv in" in script.stderr
