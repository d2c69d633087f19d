"""Every example runs in its fast mode and writes the files it promises."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, *argv):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(list(argv))


def test_toy_1d(tmp_path):
    run_example("toy_1d", "--fast", "--out", str(tmp_path))
    assert (tmp_path / "toy_1d.png").stat().st_size > 1000
    assert (tmp_path / "toy_1d.gif").read_bytes()[:6] == b"GIF89a"


def test_optimal_d(tmp_path, capsys):
    run_example("optimal_d", "--fast", "--out", str(tmp_path))
    assert (tmp_path / "optimal_d.png").is_file()
    assert "C(G) = −log 4 + 2·JSD" in capsys.readouterr().out


def test_ring_2d(tmp_path, capsys):
    run_example("ring_2d", "--fast", "--out", str(tmp_path), "--name", "r", "--k", "2")
    assert (tmp_path / "r.png").is_file()
    assert "modes covered" in capsys.readouterr().out


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
