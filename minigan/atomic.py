"""Write files so that a reader sees the old version or the new one, never a half-written one.

    with atomic_write("run/metrics.csv") as tmp:
        write everything to tmp

The content goes to a temporary file in the same folder, which is renamed over
the target only when the block finishes without an exception (a rename within
one file system is atomic). On an exception the temporary file is removed and
the target is left as it was. The temporary name ends like the target, so that
writers which pick a format from the file name (matplotlib) still do.
"""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _default_mode():
    """The permissions a plain open() would give a new file (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_write(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _default_mode())      # mkstemp creates 0600; the result is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
