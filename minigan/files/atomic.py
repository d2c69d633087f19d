"""Write files so that a reader sees the old version or the new one, never a half-written one.

    with atomic_write("run/metrics.csv") as tmp:
        write everything to tmp

The content goes to a temporary file in the same folder, which is renamed over
the target only when the block finishes without an exception (a rename within
one file system is atomic). On an exception the temporary file is removed and
the target is left as it was. The temporary name ends like the target, so that
writers which pick a format from the file name (matplotlib) still do.

A process killed in the middle of a write (SIGKILL, a power cut) cannot remove
its temporary file. ``remove_stale_temporaries`` deletes such orphans; the
trainer calls it when it starts writing in a folder.
"""
import errno
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

# When this process started using minigan (this module is imported before any write).
# A temporary file last modified before then cannot belong to a write of this process.
PROCESS_STARTED = time.time()
# Where another process may be writing (a cache, a folder given to `minigan sample --out`), a
# temporary file is an orphan only once it is older than any write takes: an hour (a checkpoint
# write takes well under a second, the largest figure a few seconds).
ORPHAN_AGE = 3600

# The temporary name is mkstemp's: prefix + 8 random characters + suffix, e.g.
# ".minigan-tmp.checkpoint.npz.k3j_x9qa.npz" for checkpoint.npz. The fixed prefix is minigan's
# alone, so that the clean-up can never take a file of the user's for one of ours (without it,
# a ".notes.txt.abcdefgh.txt" of the user's matched). The 8 characters from a-z, 0-9 and "_" are
# CPython's tempfile._RandomNameSequence; tests/test_atomic.py checks that the names still match.
PREFIX = ".minigan-tmp."
_TEMPORARY = re.compile(re.escape(PREFIX) + r"(?P<target>.+(?P<suffix>\.[^.]+))\.[a-z0-9_]{8}(?P=suffix)")


def _default_mode():
    """The permissions a plain open() would give a new file (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_write(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{PREFIX}{path.name}.", suffix=path.suffix)
        os.close(fd)
        yield tmp
        os.chmod(tmp, _default_mode())      # mkstemp creates 0600; the result is an ordinary file
        os.replace(tmp, path)
    except OSError as err:
        if err.errno is None:            # not the file system's (a failed download inside the block)
            raise
        # The OS names the temporary file and says only "[Errno 28] No space left on device":
        # say which file could not be written, that its last version is intact, and what to do.
        raise OSError(err.errno, _write_failure(path, err)) from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def _write_failure(path, err):
    kept = f"{path} is as it was before" if path.exists() else f"{path} was not created"
    fix = {errno.ENOSPC: f"free space on the disk that holds {path.parent}",
           errno.EDQUOT: f"free space within your disk quota for {path.parent}",
           errno.EACCES: f"make {path.parent} writable, or write elsewhere",
           errno.EROFS: f"{path.parent} is on a read-only file system: write elsewhere"}.get(err.errno, "")
    return f"could not write {path} ({err.strerror or err}); {kept}" + (f"; {fix}" if fix else "")


def is_temporary(name):
    """True if ``name`` is a temporary name atomic_write makes (".minigan-tmp.NAME.XXXXXXXX.SUFFIX")."""
    return _TEMPORARY.fullmatch(name) is not None


def remove_stale_temporaries(folder, older_than=None):
    """Delete the orphaned temporary files of atomic_write in ``folder``; return their paths.

    Only plain files (no links, no folders) whose name is atomic_write's pattern and
    that were last modified before ``older_than`` (default: when this process started)
    are removed, so a write in progress in this process, or one that began after it,
    is never touched, and neither is any file of another program.
    """
    folder = Path(folder)
    older_than = PROCESS_STARTED if older_than is None else older_than
    if not folder.is_dir():
        return []
    removed = []
    for entry in os.scandir(folder):
        if not (is_temporary(entry.name) and entry.is_file(follow_symlinks=False)):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < older_than:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:
            pass                            # removed meanwhile (e.g. renamed by its writer): fine
    return removed
