"""Checkpoints: round trip, no pickles, never half-written."""
import numpy
import pytest

from minigan import checkpoint


def test_round_trip(tmp_path):
    arrays = {"G.0.W": numpy.arange(6, dtype=numpy.float32).reshape(2, 3), "perm": numpy.arange(5)}
    checkpoint.save(tmp_path / "c.npz", arrays, {"step": 7, "rng": {"state": 2 ** 100}})
    got, meta = checkpoint.load(tmp_path / "c.npz")
    assert meta["step"] == 7 and meta["rng"]["state"] == 2 ** 100
    assert set(got) == set(arrays) and numpy.array_equal(got["G.0.W"], arrays["G.0.W"])
    assert checkpoint.split(got, "G") == {"0.W": got["G.0.W"]}


def test_pickled_content_is_refused(tmp_path):
    numpy.savez(tmp_path / "evil.npz", meta=numpy.array("{}"), obj=numpy.array([{"a": 1}], dtype=object))
    with pytest.raises(checkpoint.CheckpointError, match="not a readable minigan checkpoint"):
        checkpoint.load(tmp_path / "evil.npz")


def test_a_crash_while_writing_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"a": numpy.zeros(3)}, {"step": 1})

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(numpy, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(path, {"a": numpy.ones(3)}, {"step": 2})
    monkeypatch.undo()
    arrays, meta = checkpoint.load(path)
    assert meta["step"] == 1 and not arrays["a"].any()
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]      # no temporary file left behind


def test_errors_name_the_file(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(checkpoint.CheckpointError, match="junk.npz is not a readable"):
        checkpoint.load(tmp_path / "junk.npz")
    numpy.savez(tmp_path / "other.npz", meta=numpy.array('{"format": "something-else"}'))
    with pytest.raises(checkpoint.CheckpointError, match="unknown checkpoint format"):
        checkpoint.load(tmp_path / "other.npz")
