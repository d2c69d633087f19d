"""atomic_write: all or nothing, and the result is an ordinary file."""
import os
import stat

import pytest

from minigan.files.atomic import atomic_write


def test_success_replaces_with_ordinary_permissions(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with atomic_write(target) as tmp:
        assert tmp.endswith(".csv") and os.path.dirname(tmp) == str(target.parent)
        open(tmp, "w").write("new")
    mask = os.umask(0)
    os.umask(mask)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask         # not mkstemp's 0600


def test_failure_leaves_the_old_file_and_no_litter(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def test_temporary_names_match_the_pattern_that_cleanup_looks_for(tmp_path):
    """remove_stale_temporaries recognises atomic_write's names (mkstemp's 8 random characters)."""
    from minigan.files.atomic import is_temporary
    for name in ("checkpoint.npz", "metrics.csv", "epoch_0001.png"):
        with atomic_write(tmp_path / name) as tmp:
            assert is_temporary(os.path.basename(tmp)), tmp
            open(tmp, "w").write("x")
    for name in ("checkpoint.npz", ".checkpoint.npz", ".checkpoint.npz.abc.npz", ".bashrc.abcdefgh",
                 ".checkpoint.npz.abcdefgh.csv", ".checkpoint.npz.ABCDEFGH.npz", "notes.txt"):
        assert not is_temporary(name), name


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    """Only plain files of atomic_write's pattern older than the given time go; links, other
    files, and a temporary file still being written (newer) stay."""
    from minigan.files.atomic import remove_stale_temporaries
    stale, fresh = tmp_path / ".checkpoint.npz.k3j_x9qa.npz", tmp_path / ".metrics.csv.a1b2c3d4.csv"
    keep = [tmp_path / "checkpoint.npz", tmp_path / ".checkpoint.npz.k3j_x9.npz", tmp_path / "notes.txt",
            fresh]
    for p in [stale, *keep]:
        p.write_text("x")
    link = tmp_path / ".best.npz.zzzzzzzz.npz"
    link.symlink_to(tmp_path / "notes.txt")
    (tmp_path / ".curves.png.qqqqqqqq.png").mkdir()                  # a folder with the pattern's name
    now = os.path.getmtime(fresh)
    for p in [stale, *keep[:-1]]:
        os.utime(p, (now - 3600, now - 3600))                         # an hour old
    assert remove_stale_temporaries(tmp_path, older_than=now - 1) == [stale]
    assert not stale.exists() and all(p.exists() for p in keep) and link.is_symlink()
    assert remove_stale_temporaries(tmp_path / "missing") == []
