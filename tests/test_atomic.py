"""atomic_write: all or nothing, and the result is an ordinary file."""
import os
import re
from pathlib import Path
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
    for name in ("checkpoint.npz", ".checkpoint.npz", ".minigan-tmp.checkpoint.npz.abc.npz", ".bashrc.abcdefgh",
                 ".minigan-tmp.checkpoint.npz.abcdefgh.csv", ".minigan-tmp.checkpoint.npz.ABCDEFGH.npz", "notes.txt",
                 ".notes.txt.abcdefgh.txt", ".checkpoint.npz.k3j_x9qa.npz"):   # the last two: a user's names
        assert not is_temporary(name), name


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    """Only plain files of atomic_write's pattern older than the given time go; links, other
    files, and a temporary file still being written (newer) stay."""
    from minigan.files.atomic import remove_stale_temporaries
    stale, fresh = tmp_path / ".minigan-tmp.checkpoint.npz.k3j_x9qa.npz", tmp_path / ".minigan-tmp.metrics.csv.a1b2c3d4.csv"
    keep = [tmp_path / "checkpoint.npz", tmp_path / ".minigan-tmp.checkpoint.npz.k3j_x9.npz", tmp_path / "notes.txt",
            tmp_path / ".notes.txt.abcdefgh.txt", fresh]     # a user's file in the old, prefix-less pattern stays
    for p in [stale, *keep]:
        p.write_text("x")
    link = tmp_path / ".minigan-tmp.best.npz.zzzzzzzz.npz"
    link.symlink_to(tmp_path / "notes.txt")
    (tmp_path / ".minigan-tmp.curves.png.qqqqqqqq.png").mkdir()                  # a folder with the pattern's name
    now = os.path.getmtime(fresh)
    for p in [stale, *keep[:-1]]:
        os.utime(p, (now - 3600, now - 3600))                         # an hour old
    assert remove_stale_temporaries(tmp_path, older_than=now - 1) == [stale]
    assert not stale.exists() and all(p.exists() for p in keep) and link.is_symlink()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_sample_and_the_classifier_clean_their_folders_of_old_orphans_only(tmp_path, monkeypatch):
    """issue 23, item 4: orphans of killed writes were cleaned in run folders only. sample --out's
    folder and the classifier cache are cleaned too, of minigan's temporaries older than an hour
    (another process may be writing there now), and never of a user's file."""
    import time
    from minigan.program import cli
    v0 = Path(__file__).parent / "data" / "v0_checkpoint.npz"
    old, young = tmp_path / ".minigan-tmp.grid.png.abcdefgh.png", tmp_path / ".minigan-tmp.x.png.abcdefgi.png"
    users = tmp_path / ".notes.txt.abcdefgh.txt"
    for p in (old, young, users):
        p.write_text("x")
    os.utime(old, (time.time() - 7200,) * 2)
    os.utime(users, (time.time() - 7200,) * 2)
    assert cli.main(["sample", str(v0), "--out", str(tmp_path / "grid.png"), "--no-nearest"]) == 0
    assert not old.exists() and young.exists() and users.exists()


def test_a_failed_write_names_the_target_says_it_is_intact_and_what_to_free(tmp_path):
    """issue 23, item 8: a full disk gave only "[Errno 28] No space left on device", and a
    permission error named the temporary file instead of the target."""
    import errno
    target = tmp_path / "checkpoint.npz"
    target.write_text("old")
    with pytest.raises(OSError) as err:
        with atomic_write(target) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", tmp)
    assert err.value.errno == errno.ENOSPC
    assert str(err.value).endswith(f"could not write {target} (No space left on device); {target} is as it was "
                                   f"before; free space on the disk that holds {tmp_path}")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["checkpoint.npz"]
    with pytest.raises(OSError, match=rf"could not write {re.escape(str(tmp_path / 'new.csv'))} \(Permission denied\); "
                                      r".* was not created; make .* writable"):
        with atomic_write(tmp_path / "new.csv"):
            raise PermissionError(errno.EACCES, "Permission denied")
