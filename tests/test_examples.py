"""Every example runs in its fast mode and writes the files it promises."""
import importlib.util
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
