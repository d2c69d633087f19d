"""One writer per run folder: a lock that a second `minigan train` on the same --out cannot take.

    with lock.exclusive(folder):
        train, writing into folder

The lock is ``flock`` on the file ``.minigan-lock`` in the folder, which also records the
holder's process id for the message a second writer gets. The kernel releases an flock when its
holder exits in any way, SIGKILL included, so a lock is never left stale: the file may stay, but
nobody holds it, and the next run takes it. (On a system without fcntl, Windows, there is no lock.)
"""
import os
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:          # Windows: no flock; minigan's runs are not guarded there
    fcntl = None

NAME = ".minigan-lock"


class FolderBusy(ValueError):
    """Another process holds the run folder's lock (a ValueError: the command line's one-line error)."""


@contextmanager
def exclusive(folder):
    """Hold the lock of ``folder`` (created if missing) for the block; FolderBusy if another process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(folder / NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FolderBusy(f"{folder} is in use by another minigan train (process {holder}); wait for it "
                             f"to finish or stop it, or give another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)             # closing the descriptor releases the lock
