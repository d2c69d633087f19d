"""Checkpoints: round trip, no pickles, never half-written, and every kind of damage is one line."""
import json
import re
import zipfile

import numpy
import pytest

from minigan.files import checkpoint

# Kinds of damage a checkpoint file can suffer, and a word the one-line error must contain.
# tests/test_train.py puts each one through `minigan evaluate` and `minigan train --resume`.
DAMAGE = {"flipped byte in an array": "CRC-32", "truncated": "truncated",
          "changed signature": "not a zip archive", "object array": "Python objects",
          "missing meta": "missing key 'meta'", "missing array": "missing key 'G.0.W'",
          "garbage meta": "not JSON"}


def damage(path, kind):
    """Damage the checkpoint at ``path`` in place in the way named by ``kind`` (a DAMAGE key)."""
    raw = bytearray(path.read_bytes())
    if kind == "flipped byte in an array":
        with zipfile.ZipFile(path) as z:                 # the middle of the largest array's data
            info = max(z.infolist(), key=lambda i: i.file_size)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)   # APPNOTE 4.3.7
        raw[start + info.file_size // 2] ^= 0x01
        path.write_bytes(bytes(raw))
    elif kind == "truncated":
        path.write_bytes(bytes(raw[:len(raw) // 2]))
    elif kind == "changed signature":
        path.write_bytes(b"PK\x03\x05" + bytes(raw[4:]))
    else:
        with numpy.load(path) as f:
            arrays = {name: f[name] for name in f.files}
        if kind == "object array":
            arrays["G.0.W"] = numpy.array([{"a": 1}], dtype=object)
        elif kind == "missing meta":
            del arrays["meta"]
        elif kind == "missing array":
            del arrays["G.0.W"]
        elif kind == "garbage meta":
            arrays["meta"] = numpy.array('{"format": "minigan-checkpoint-1", "step": 1')
        else:
            raise ValueError(f"unknown kind of damage {kind!r}; one of {', '.join(DAMAGE)}")
        with open(path, "wb") as f:
            numpy.savez(f, **arrays)


def damaged_message(path):
    """The agreed one-line message for a damaged file, as a regular expression."""
    return rf"^{re.escape(str(path))} is damaged \([^\n]+\); use another checkpoint, e\.g\. best\.npz$"


def small_checkpoint(path):
    arrays = {"G.0.W": numpy.arange(600, dtype=numpy.float32).reshape(20, 30), "perm": numpy.arange(50)}
    checkpoint.save(path, arrays, {"step": 7})
    return arrays


def test_round_trip(tmp_path):
    arrays = {"G.0.W": numpy.arange(6, dtype=numpy.float32).reshape(2, 3), "perm": numpy.arange(5)}
    checkpoint.save(tmp_path / "c.npz", arrays, {"step": 7, "rng": {"state": 2 ** 100}})
    got, meta = checkpoint.load(tmp_path / "c.npz")
    assert meta["step"] == 7 and meta["rng"]["state"] == 2 ** 100
    assert set(got) == set(arrays) and numpy.array_equal(got["G.0.W"], arrays["G.0.W"])
    assert checkpoint.split(got, "G") == {"0.W": got["G.0.W"]}


def test_pickled_content_is_refused(tmp_path):
    numpy.savez(tmp_path / "evil.npz", meta=numpy.array("{}"), obj=numpy.array([{"a": 1}], dtype=object))
    with pytest.raises(checkpoint.CheckpointError, match=r"is damaged \(an array of Python objects"):
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
    with pytest.raises(checkpoint.CheckpointError, match=r"junk.npz is damaged \(not a zip archive"):
        checkpoint.load(tmp_path / "junk.npz")
    numpy.savez(tmp_path / "other.npz", meta=numpy.array('{"format": "something-else"}'))
    with pytest.raises(checkpoint.CheckpointError, match="unknown checkpoint format"):
        checkpoint.load(tmp_path / "other.npz")


@pytest.mark.parametrize("kind", [k for k in DAMAGE if k != "missing array"])   # that one: Trainer.load
def test_each_kind_of_damage_is_one_line_naming_the_file(tmp_path, kind):
    path = tmp_path / "checkpoint.npz"
    small_checkpoint(path)
    damage(path, kind)
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.load(path)
    assert re.match(damaged_message(path), str(err.value)) and DAMAGE[kind] in str(err.value), str(err.value)


def test_a_damaged_best_npz_points_at_checkpoint_npz(tmp_path):
    (tmp_path / "best.npz").write_bytes(b"junk")
    with pytest.raises(checkpoint.CheckpointError, match=r"use another checkpoint, e\.g\. checkpoint\.npz$"):
        checkpoint.load(tmp_path / "best.npz")


@pytest.mark.parametrize("meta", ["[1, 2]", "3", '"text"'])
def test_meta_that_is_json_but_not_an_object_is_damage(tmp_path, meta):
    numpy.savez(tmp_path / "c.npz", meta=numpy.array(meta))
    with pytest.raises(checkpoint.CheckpointError, match=r"is damaged \(its 'meta' entry is a JSON"):
        checkpoint.load(tmp_path / "c.npz")


def test_no_flipped_byte_or_truncation_escapes_as_another_error(tmp_path):
    """A flipped byte anywhere in a small checkpoint, or a truncation at any length, either loads
    the very same arrays (a byte zip does not check, such as a time stamp) or raises
    CheckpointError. 300 flips and 60 truncations, drawn with a fixed seed, keep it under ~1 s
    (all ~4,000 of each: 15 s; they were run once when the handled exceptions were chosen)."""
    good = tmp_path / "good.npz"
    arrays = small_checkpoint(good)
    raw, bad = good.read_bytes(), tmp_path / "bad.npz"
    good_meta = json.dumps(checkpoint.load(good)[1], sort_keys=True)
    pick = numpy.random.default_rng(14)                                      # 14: the number
    variants = [raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:] for i in pick.choice(len(raw), 300, replace=False)]
    variants += [raw[:n] for n in pick.choice(len(raw), 60, replace=False)]
    outcomes = {"loaded": 0, "refused": 0}
    for content in variants:
        bad.write_bytes(content)
        try:
            got, meta = checkpoint.load(bad)
        except checkpoint.CheckpointError as err:
            assert "\n" not in str(err)
            outcomes["refused"] += 1
            continue
        assert set(got) == set(arrays) and all(numpy.array_equal(got[k], arrays[k]) for k in arrays)
        assert json.dumps(meta, sort_keys=True) == good_meta
        outcomes["loaded"] += 1
    assert outcomes["refused"] > 0.8 * len(variants), outcomes


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_damage(tmp_path, value, capsys):
    """issue 23, item 8: NaN weights made `minigan evaluate` print "nan ± nan" and exit 0. minigan
    never saves a non-finite array, so loading one is damage, named in one line (and every
    command that loads a checkpoint says so)."""
    from pathlib import Path
    from minigan.program import cli
    arrays, meta = checkpoint.load(Path(__file__).parent / "data" / "v0_checkpoint.npz")
    name = next(k for k in arrays if k.startswith("G.") and arrays[k].dtype.kind == "f")
    arrays[name] = arrays[name].copy()
    arrays[name].flat[3] = value
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, arrays, meta)
    with pytest.raises(checkpoint.CheckpointError, match=rf"its array '{re.escape(name)}' holds NaN or inf"):
        checkpoint.load(path)
    assert cli.main(["evaluate", str(path), "--samples", "10"]) == 1
    err = capsys.readouterr().err
    assert "holds NaN or inf" in err and "use another checkpoint, e.g. best.npz" in err and err.count("\n") == 1


def test_a_missing_best_npz_beside_a_checkpoint_says_when_it_comes(tmp_path):
    """issue 23, item 14: `sample best.npz` of a young run said only "no checkpoint"."""
    checkpoint.save(tmp_path / "checkpoint.npz", {"a": numpy.zeros(1)}, {})
    with pytest.raises(checkpoint.CheckpointError, match=r"no .*best.npz yet: a run writes it at its first "
                                                         r"Parzen evaluation .* use .*checkpoint.npz meanwhile"):
        checkpoint.load(tmp_path / "best.npz")
    with pytest.raises(checkpoint.CheckpointError, match=r"^no checkpoint at "):
        checkpoint.load(tmp_path / "other" / "best.npz")


def test_load_meta_gives_loads_meta_from_the_meta_member_alone(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"a": numpy.arange(3.0)}, {"step": 4})
    read = []
    real = checkpoint._read
    monkeypatch.setattr(checkpoint, "_read", lambda p, keep=None: read.append(keep) or real(p, keep))
    assert checkpoint.load_meta(path) == checkpoint.load(path)[1] and read == [(), None]


def test_members_no_loader_asks_for_are_never_read(tmp_path):
    """load(path, keep): 'meta' and the arrays whose prefix is kept; an array of someone else's
    (here one with a damaged CRC would fail the read) is left unread."""
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"G.0.W": numpy.ones((2, 3)), "extra": numpy.arange(1000.0)}, {"step": 1})
    arrays, meta = checkpoint.load(path, keep=("G",))
    assert set(arrays) == {"G.0.W"} and meta["step"] == 1
    damage(path, "flipped byte in an array")            # the largest array: 'extra'
    assert set(checkpoint.load(path, keep=("G",))[0]) == {"G.0.W"}
    with pytest.raises(checkpoint.CheckpointError, match="CRC-32"):
        checkpoint.load(path)


def test_require_shapes_names_the_first_difference(tmp_path):
    arrays = {"G.0.W": numpy.ones((2, 3)), "G.0.b": numpy.ones(3)}
    checkpoint.require_shapes("c.npz", arrays, {"G.0.W": (2, 3), "G.0.b": (3,)})
    for expected, words in [({"G.0.W": (2, 300000), "G.0.b": (3,)},
                             r"its array G\.0\.W has shape \(2, 3\), but its configuration builds \(2, 300000\)"),
                            ({"G.0.W": (2, 3)}, "an unexpected array 'G.0.b'"),
                            ({"G.0.W": (2, 3), "G.0.b": (3,), "G.1.W": (3, 3)}, "missing key 'G.1.W'")]:
        with pytest.raises(checkpoint.CheckpointError, match=words):
            checkpoint.require_shapes("c.npz", arrays, expected)
