"""atomic_write: all or nothing, and the result is an ordinary file."""
import os
import stat

import pytest

from minigan.atomic import atomic_write


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
