"""The training loop: outputs, metrics and resume identity (on real MNIST, CI-sized)."""
import csv

import numpy
import pytest

from minigan import backend, data, gan, train


@pytest.fixture(scope="module")
def splits():
    import os
    from pathlib import Path
    folder = os.environ.get("MINIGAN_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    if not Path(folder, "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST not available: set MINIGAN_DATA")
    s = data.mnist_splits(folder, download=False, n_train=500)
    return {"train": s["train"], "valid": s["valid"][:200], "test": s["test"][:300]}


def cfg(**kw):
    return gan.Config(**{"n_train": 500, "parzen_every": 1, "parzen_samples": 300, **kw})


def test_outputs_of_a_short_run(splits, tmp_path):
    t = train.Trainer(cfg(), splits, tmp_path)
    t.train(max_steps=12, progress=False)                    # 2 full epochs of 5 steps, then 2 steps
    names = {p.name for p in tmp_path.iterdir()}
    assert {"checkpoint.npz", "best.npz", "metrics.csv", "curves.png", "samples"} <= names
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and rows[1]["step"] == "10"
    assert float(rows[0]["lr"]) == pytest.approx(0.1 / 1.000004 ** 5)
    assert float(rows[1]["parzen_sigma"]) > 0 and rows[1]["parzen_test"]
    meta = train.checkpoint.load(tmp_path / "checkpoint.npz")[1]
    assert meta["step"] == 12                                 # stopped mid-epoch: that place was saved
    report = train.write_report(t, tmp_path / "report.txt", 1.0)
    assert "epochs completed: 2, steps: 12" in report and "Parzen" in report
    assert "time to the paper's 225 nats: not reached yet" in report


def test_time_to_nats_sums_epoch_times_up_to_the_first_score_reaching_it():
    rows = [{"epoch": 1, "seconds": 10.0, "parzen_test": ""},
            {"epoch": 2, "seconds": 12.0, "parzen_test": 224.9},
            {"epoch": 3, "seconds": 11.0},
            {"epoch": 4, "seconds": 13.0, "parzen_test": 225.0},
            {"epoch": 5, "seconds": 9.0, "parzen_test": 230.0}]
    assert train.time_to_nats(rows, 225) == (4, 46.0)          # 10 + 12 + 11 + 13
    assert train.time_to_nats(rows, 231) is None


@pytest.mark.parametrize("update", ["released", "algorithm1"])
def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(splits, tmp_path, update):
    config = cfg(update=update, k=2)
    whole = train.Trainer(config, splits, tmp_path / "whole")
    whole.train(max_steps=13, progress=False)
    first = train.Trainer(config, splits, tmp_path / "split")
    first.train(max_steps=6, progress=False)                  # stops mid-epoch
    second = train.Trainer(config, splits, tmp_path / "split")
    second.load(tmp_path / "split" / "checkpoint.npz")
    second.train(max_steps=7, progress=False)
    for net in ("G", "D"):
        a, b = getattr(whole, net).state_dict(), getattr(second, net).state_dict()
        assert all(numpy.array_equal(backend.to_numpy(a[k]), backend.to_numpy(b[k])) for k in a), net
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(whole.rows) == strip(second.rows)


def test_load_generator(splits, tmp_path):
    t = train.Trainer(cfg(parzen_every=0), splits, tmp_path)
    t.train(max_steps=5, progress=False)
    G, config = train.load_generator(tmp_path / "checkpoint.npz")
    assert config.n_train == 500
    z = gan.sample_noise(backend.rng(0), 3, config)
    assert numpy.array_equal(backend.to_numpy(G.forward(z, train=False)), backend.to_numpy(t.G.forward(z, train=False)))


def test_ctrl_c_stops_at_a_step_boundary(splits, tmp_path, monkeypatch):
    """SIGINT during a step: the step completes, the checkpoint is consistent, then it stops."""
    import os
    import signal
    t = train.Trainer(cfg(parzen_every=0), splits, tmp_path)
    real_step = gan.released_step
    calls = []

    def step_with_interrupt(*args):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)          # arrives in the middle of step 3
        return real_step(*args)

    monkeypatch.setattr(gan, "released_step", step_with_interrupt)
    with pytest.raises(KeyboardInterrupt):
        t.train(max_steps=10, progress=False)
    meta = train.checkpoint.load(tmp_path / "checkpoint.npz")[1]
    assert (meta["step"], meta["batches"]) == (3, 3)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler      # handler restored
